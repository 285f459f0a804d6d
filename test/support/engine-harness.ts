// Builds an engine with the simulated venue over hand-written bars, and a strategy scripted per bar, for
// tests of orders, brackets, risk and the ledger. Prices in the bar rows are decimals with priceScale 2.
import {
  Engine, SimulatedVenue, SeededRng, Strategy, type BarColumns, type BarView, type FillView, type Instrument, type OrderView,
  type RiskLimits, type SimulatedVenueOptions, type StrategyContext,
} from '../../engine/index.ts';

export type BarRow = readonly [open: number, high: number, low: number, close: number, volume?: number];

export const MINUTE_US = 60_000_000;
/** 2024-03-15 14:30 UTC (10:30 New York), a Friday. */
export const T0_US = 1_710_513_000_000_000;

export function instrument(symbol = 'TEST', priceScale = 2): Instrument {
  return { symbol, priceScale, lotScale: 0, calendar: 'us-equity' };
}

/** Bars one minute apart from `startUs`; a row may carry its own minute offset as a sixth element. */
export function barChunk(rows: readonly BarRow[], options: { startUs?: number; symbolIndex?: number; priceScale?: number; minuteOffsets?: readonly number[] } = {}): BarColumns {
  const n = rows.length;
  const scale = 10 ** (options.priceScale ?? 2);
  const chunk = {
    kind: 'bars' as const, length: n, intervalUs: MINUTE_US, symbolIndex: new Int32Array(n).fill(options.symbolIndex ?? 0),
    startUs: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n),
  };
  rows.forEach(([open, high, low, close, volume], i) => {
    chunk.startUs[i] = (options.startUs ?? T0_US) + (options.minuteOffsets?.[i] ?? i) * MINUTE_US;
    chunk.open[i] = Math.round(open * scale);
    chunk.high[i] = Math.round(high * scale);
    chunk.low[i] = Math.round(low * scale);
    chunk.close[i] = Math.round(close * scale);
    chunk.volume[i] = volume ?? 1_000_000;
  });
  return chunk;
}

export type BarScript = (ctx: StrategyContext, bar: BarView, index: number) => void;

export class ScriptedStrategy extends Strategy {
  override readonly historyBars = 64;
  index = 0;
  readonly fills: FillView[] = [];
  readonly updates: OrderView[] = [];
  constructor(private readonly script: BarScript, private readonly timerScript?: (ctx: StrategyContext, name: string) => void) {
    super();
  }
  override onTimer(ctx: StrategyContext, name: string): void {
    this.timerScript?.(ctx, name);
  }
  override onBar(ctx: StrategyContext, bar: BarView): void {
    this.script(ctx, bar, this.index++);
  }
  override onFill(_ctx: StrategyContext, fill: FillView): void {
    this.fills.push(fill);
  }
  override onOrderUpdate(_ctx: StrategyContext, order: OrderView): void {
    this.updates.push(order);
  }
}

export interface HarnessOptions {
  venue?: Partial<SimulatedVenueOptions>;
  risk?: RiskLimits;
  instruments?: Instrument[];
  seed?: number;
  cash?: number;
  startUs?: number;
  onTimer?: (ctx: StrategyContext, name: string) => void;
  minuteOffsets?: readonly number[];
}

export function makeEngine(script: BarScript, options: HarnessOptions = {}) {
  const strategy = new ScriptedStrategy(script, options.onTimer);
  const engine = new Engine({
    runId: 'test', strategyId: 'scripted', instruments: options.instruments ?? [instrument()], initialCash: options.cash ?? 100_000,
    risk: options.risk ?? {}, checkLedger: true,
  }, strategy);
  const venue = new SimulatedVenue(engine.scales, options.venue ?? {}, new SeededRng(options.seed ?? 1));
  engine.connect(venue, venue);
  return { engine, venue, strategy };
}

/** Run bars through a fresh engine and return it. */
export function run(rows: readonly BarRow[], script: BarScript, options: HarnessOptions = {}) {
  const built = makeEngine(script, options);
  const chunk = barChunk(rows, { startUs: options.startUs, minuteOffsets: options.minuteOffsets });
  built.engine.start(chunk.startUs[0]);
  built.engine.processBars(chunk);
  built.engine.stop();
  return built;
}

export function fillsOf(engine: Engine): { id: string; side: string; quantity: number; price: number; fee: number }[] {
  return engine.log.events.filter((e) => e.type === 'order.filled').map((e) => ({
    id: String(e.fields.id), side: String(e.fields.side), quantity: Number(e.fields.quantity), price: Number(e.fields.price), fee: Number(e.fields.fee),
  }));
}
