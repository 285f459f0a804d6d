// The engine: one deterministic kernel shared by replay, paper and live. It owns the clock (advanced by the
// data and events it is fed), the event queue, the order book as the engine sees it, brackets and OCO pairs,
// pre-trade risk, the portfolio and the ordered event log. Venues and data sources are ports: replay feeds
// column chunks; a live runner feeds one message at a time with the message's own timestamp, so a recorded
// session replays to the same events.
import type {
  BarColumns, ExecutionPort, ExecutionReport, ExecutionSink, Instrument, OrderRequest, OrderType, Side, TickColumns, TimeInForce,
} from './types.ts';
import { scalesOf, toTicks, fromTicks, type InstrumentScales, CASH_UNITS_PER_CURRENCY } from './core/instruments.ts';
import { EventQueue } from './core/event-queue.ts';
import { SequentialIdSource } from './core/ids.ts';
import { calendarFor, type TradingCalendar } from './core/time.ts';
import { Order, oppositeSide, type OrderRole } from './orders/order.ts';
import { Portfolio } from './portfolio/portfolio.ts';
import { RiskEngine, type RiskLimits, type RiskView, type TradingState } from './risk/risk-engine.ts';
import type { SimulatedVenue } from './venue/simulated-venue.ts';
import type {
  BarHistory, BarView, BracketIds, BracketSpec, FillView, LogFields, OrderOptions, OrderView, PortfolioView, Strategy, StrategyContext, TickView,
} from './strategy/strategy.ts';
import { EventLog } from './event-log.ts';
import { SimError, invariant, invariantFailed } from './errors.ts';

export interface EngineConfig {
  /** Short stable id of the run: part of every client order id. */
  readonly runId: string;
  readonly strategyId: string;
  readonly instruments: readonly Instrument[];
  /** Starting cash in currency units (e.g. 100000 for $100,000). */
  readonly initialCash: number;
  readonly risk: RiskLimits;
  /**
   * Bars kept per symbol for `ctx.history`. Default: the strategy's `historyBars`. Zero keeps none and skips the
   * copy on the hot path.
   */
  readonly historyCapacity?: number;
  /** Kill switch: also flatten positions (default true). */
  readonly killSwitchFlattens?: boolean;
  /** Check the ledger identity after every fill (tests; default false). */
  readonly checkLedger?: boolean;
  /** In tick mode, ticks are also aggregated into bars of this interval for `onBar` (default 60 s; 0: none). */
  readonly tickBarIntervalUs?: number;
}

/**
 * The equity curve, sampled once per distinct bar time (or minute of ticks), stored in fixed blocks so that
 * growing it never copies what is already there. `columns()` joins the blocks once, at the end of a run.
 */
export class EquityCurve {
  private static readonly BLOCK = 65_536;
  length = 0;
  /** Samples with a nonzero position. */
  exposedSamples = 0;
  private readonly timeBlocks: Float64Array[] = [];
  private readonly equityBlocks: Float64Array[] = [];
  private readonly dayBlocks: Int32Array[] = [];
  // The current block and the next free slot in it. Public so that the engine's bar loop can write a sample
  // without a call: a call that is not inlined would box its double arguments (a heap number per bar).
  time = new Float64Array(0);
  equity = new Float64Array(0);
  day = new Int32Array(0);
  offset = EquityCurve.BLOCK;

  push(timeUs: number, equityCash: number, dayIndex: number, exposed: boolean): void {
    if (this.offset === EquityCurve.BLOCK) this.addBlock();
    const i = this.offset++;
    this.time[i] = timeUs;
    this.equity[i] = equityCash;
    this.day[i] = dayIndex;
    this.length++;
    if (exposed) this.exposedSamples++;
  }

  addBlock(): void {
    this.time = new Float64Array(EquityCurve.BLOCK);
    this.equity = new Float64Array(EquityCurve.BLOCK);
    this.day = new Int32Array(EquityCurve.BLOCK);
    this.timeBlocks.push(this.time);
    this.equityBlocks.push(this.equity);
    this.dayBlocks.push(this.day);
    this.offset = 0;
  }

  /** Contiguous copies of the samples. */
  columns(): { timeUs: Float64Array; equityCash: Float64Array; dayIndex: Int32Array } {
    const join = <T extends Float64Array | Int32Array>(blocks: T[], make: (n: number) => T): T => {
      const out = make(this.length);
      blocks.forEach((block, b) => {
        const from = b * EquityCurve.BLOCK;
        out.set(block.subarray(0, Math.min(EquityCurve.BLOCK, this.length - from)), from);
      });
      return out;
    };
    return {
      timeUs: join(this.timeBlocks, (n) => new Float64Array(n)),
      equityCash: join(this.equityBlocks, (n) => new Float64Array(n)),
      dayIndex: join(this.dayBlocks, (n) => new Int32Array(n)),
    };
  }
}

class RingHistory implements BarHistory {
  private count = 0;
  private head = -1;
  readonly openTicks: Float64Array;
  readonly highTicks: Float64Array;
  readonly lowTicks: Float64Array;
  readonly closeTicksRing: Float64Array;
  readonly volumeRing: Float64Array;
  readonly startRing: Float64Array;

  constructor(private readonly capacity: number, private readonly ticksPerUnit: number, private readonly lotsPerUnit: number) {
    this.openTicks = new Float64Array(capacity);
    this.highTicks = new Float64Array(capacity);
    this.lowTicks = new Float64Array(capacity);
    this.closeTicksRing = new Float64Array(capacity);
    this.volumeRing = new Float64Array(capacity);
    this.startRing = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(startUs: number, open: number, high: number, low: number, close: number, volume: number): void {
    const i = this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.startRing[i] = startUs;
    this.openTicks[i] = open;
    this.highTicks[i] = high;
    this.lowTicks[i] = low;
    this.closeTicksRing[i] = close;
    this.volumeRing[i] = volume;
    if (this.count < this.capacity) this.count++;
  }

  private slot(ago: number): number {
    if (!(ago >= 0) || !Number.isInteger(ago)) {
      throw new SimError('LOOKAHEAD', `expected a completed bar (ago >= 0, a whole number), found ago ${ago}: reads past the current time are refused`);
    }
    if (ago >= this.count) {
      if (ago >= this.capacity) throw new SimError('HISTORY_TOO_SHORT', `expected ago < ${this.capacity} (the history capacity), found ${ago}`);
      return -1;
    }
    const i = this.head - ago;
    return i < 0 ? i + this.capacity : i;
  }

  open(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.openTicks[i] / this.ticksPerUnit; }
  high(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.highTicks[i] / this.ticksPerUnit; }
  low(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.lowTicks[i] / this.ticksPerUnit; }
  close(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.closeTicksRing[i] / this.ticksPerUnit; }
  closeTicks(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.closeTicksRing[i]; }
  volume(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.volumeRing[i] / this.lotsPerUnit; }
  startUs(ago = 0): number { const i = this.slot(ago); return i < 0 ? NaN : this.startRing[i]; }
}

/** A reusable cursor over one row of a bar chunk. */
class BarCursor implements BarView {
  chunk!: BarColumns;
  index = 0;
  constructor(private readonly scales: readonly InstrumentScales[]) {}
  get symbolIndex(): number { return this.chunk.symbolIndex[this.index]; }
  get symbol(): string { return this.scales[this.chunk.symbolIndex[this.index]].instrument.symbol; }
  get startUs(): number { return this.chunk.startUs[this.index]; }
  get endUs(): number { return this.chunk.startUs[this.index] + this.chunk.intervalUs; }
  get openTicks(): number { return this.chunk.open[this.index]; }
  get highTicks(): number { return this.chunk.high[this.index]; }
  get lowTicks(): number { return this.chunk.low[this.index]; }
  get closeTicks(): number { return this.chunk.close[this.index]; }
  get open(): number { return this.chunk.open[this.index] / this.scales[this.chunk.symbolIndex[this.index]].ticksPerUnit; }
  get high(): number { return this.chunk.high[this.index] / this.scales[this.chunk.symbolIndex[this.index]].ticksPerUnit; }
  get low(): number { return this.chunk.low[this.index] / this.scales[this.chunk.symbolIndex[this.index]].ticksPerUnit; }
  get close(): number { return this.chunk.close[this.index] / this.scales[this.chunk.symbolIndex[this.index]].ticksPerUnit; }
  get volume(): number { return this.chunk.volume[this.index] / this.scales[this.chunk.symbolIndex[this.index]].lotsPerUnit; }
}

/**
 * The open orders, in an array with swap-removal: each order knows its slot, so adding and removing allocate
 * nothing (a Set that empties and fills again with every order reallocates its table).
 */
class OpenOrders {
  private readonly orders: Order[] = [];

  get size(): number {
    return this.orders.length;
  }

  add(order: Order): void {
    order.openSlot = this.orders.length;
    this.orders.push(order);
  }

  /** Removes an open order; false when it was not open. */
  remove(order: Order): boolean {
    const slot = order.openSlot;
    if (slot < 0) return false;
    const last = this.orders.pop()!;
    if (last !== order) {
      this.orders[slot] = last;
      last.openSlot = slot;
    }
    order.openSlot = -1;
    return true;
  }

  /** A copy in sending order (callers may change the set while they walk it). */
  list(): Order[] {
    return [...this.orders].sort((a, b) => a.sequence - b.sequence);
  }
}

/** A reusable view of one order for callbacks: valid during the callback only (use ctx.order for a snapshot). */
class OrderCursor implements OrderView {
  order!: Order;
  scales!: InstrumentScales;
  point(order: Order, scales: InstrumentScales): this { this.order = order; this.scales = scales; return this; }
  get clientOrderId(): string { return this.order.clientOrderId; }
  get symbol(): string { return this.order.symbol; }
  get side(): Side { return this.order.side; }
  get type(): OrderType { return this.order.type; }
  get status(): OrderView['status'] { return this.order.status; }
  get role(): OrderRole { return this.order.role; }
  get quantity(): number { return this.order.quantity / this.scales.lotsPerUnit; }
  get filledQuantity(): number { return this.order.filledQuantity / this.scales.lotsPerUnit; }
  get limitPrice(): number | undefined { return this.order.limitPriceTicks === undefined ? undefined : this.order.limitPriceTicks / this.scales.ticksPerUnit; }
  get stopPrice(): number | undefined { return this.order.stopPriceTicks === undefined ? undefined : this.order.stopPriceTicks / this.scales.ticksPerUnit; }
  get reason(): string | undefined { return this.order.reason; }
  get tag(): string | undefined { return this.order.tag; }
}

/** A reusable view of one fill for callbacks: valid during the callback only. */
class FillCursor implements FillView {
  order!: Order;
  scales!: InstrumentScales;
  side: Side = 'buy';
  quantityLots = 0;
  priceTicks = 0;
  feeCash = 0;
  timeUs = 0;
  get clientOrderId(): string { return this.order.clientOrderId; }
  get symbol(): string { return this.order.symbol; }
  get role(): OrderRole { return this.order.role; }
  get quantity(): number { return this.quantityLots / this.scales.lotsPerUnit; }
  get price(): number { return this.priceTicks / this.scales.ticksPerUnit; }
  get fee(): number { return this.feeCash / CASH_UNITS_PER_CURRENCY; }
}

class TickCursor implements TickView {
  chunk!: TickColumns;
  index = 0;
  constructor(private readonly scales: readonly InstrumentScales[]) {}
  get symbolIndex(): number { return this.chunk.symbolIndex[this.index]; }
  get symbol(): string { return this.scales[this.chunk.symbolIndex[this.index]].instrument.symbol; }
  get timeUs(): number { return this.chunk.timeUs[this.index]; }
  get priceTicks(): number { return this.chunk.price[this.index]; }
  get price(): number { return this.chunk.price[this.index] / this.scales[this.chunk.symbolIndex[this.index]].ticksPerUnit; }
  get size(): number { return this.chunk.size[this.index] / this.scales[this.chunk.symbolIndex[this.index]].lotsPerUnit; }
}

export class Engine implements ExecutionSink {
  readonly config: EngineConfig;
  readonly scales: readonly InstrumentScales[];
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly log = new EventLog();
  readonly equity = new EquityCurve();
  readonly orders = new Map<string, Order>();
  /** Fencing epoch attached to every outgoing order (set by the live runtime's leader lock). */
  epoch = 0;
  private clockUs = -Infinity;
  private readonly queue = new EventQueue();
  private readonly ids = new SequentialIdSource();
  private readonly idPrefix: string;
  private readonly symbolIndexBySymbol = new Map<string, number>();
  private readonly histories: RingHistory[];
  private readonly calendar: TradingCalendar;
  private readonly barCursor: BarCursor;
  private readonly tickCursor: TickCursor;
  private readonly orderCursor = new OrderCursor();
  private readonly fillCursor = new FillCursor();
  private readonly context: StrategyContext;
  private venue!: ExecutionPort;
  private matcher: SimulatedVenue | null = null;
  private started = false;
  private stopped = false;
  private dayIndex = -1;
  private nextDayBoundaryUs = -Infinity;
  private dayStartEquityCash = 0;
  private lastDataUs = -Infinity;
  private lastEquitySampleUs = -Infinity;
  private readonly historyEnabled: boolean;
  /** Tick mode: the bar being built per symbol from trade prints (NaN start: none yet). */
  private readonly tickBars: BarColumns;
  private readonly tickBarIntervalUs: number;
  private nextTickBarCloseUs = Infinity;
  private readonly tickBarScratch: BarColumns;
  /** Copied from the risk limits so the per-bar check is one comparison (Infinity: no limit). */
  private readonly dailyLossLimitCash: number;
  /** Orders working at the venue or on their way there, kept incrementally (never a scan of all orders). */
  private readonly open = new OpenOrders();
  /** Remaining quantity of open, non-reduce-only orders per symbol and side: [buy0, sell0, buy1, sell1, ...]. */
  private readonly working: Float64Array;

  constructor(config: EngineConfig, readonly strategy: Strategy) {
    invariant(config.instruments.length > 0, 'an engine needs at least one instrument');
    this.config = config;
    this.scales = config.instruments.map(scalesOf);
    config.instruments.forEach((instrument, i) => this.symbolIndexBySymbol.set(instrument.symbol, i));
    const initialCash = Math.round(config.initialCash * CASH_UNITS_PER_CURRENCY);
    this.portfolio = new Portfolio(initialCash, this.scales);
    this.dayStartEquityCash = initialCash;
    this.risk = new RiskEngine(config.risk);
    const capacity = config.historyCapacity ?? strategy.historyBars;
    this.historyEnabled = capacity > 0;
    this.histories = this.scales.map((s) => new RingHistory(Math.max(1, capacity), s.ticksPerUnit, s.lotsPerUnit));
    this.dailyLossLimitCash = config.risk.dailyLossLimitCash ?? Infinity;
    this.calendar = calendarFor(config.instruments[0].calendar);
    this.barCursor = new BarCursor(this.scales);
    this.tickCursor = new TickCursor(this.scales);
    this.idPrefix = `${config.runId}-${config.strategyId}`;
    this.context = new EngineContext(this);
    this.working = new Float64Array(2 * config.instruments.length);
    const n = config.instruments.length;
    this.tickBarIntervalUs = config.tickBarIntervalUs ?? 60_000_000;
    const columns = (length: number, interval: number): BarColumns => ({
      kind: 'bars', length, intervalUs: interval, symbolIndex: Int32Array.from({ length }, (_, i) => i), startUs: new Float64Array(length).fill(NaN),
      open: new Float64Array(length), high: new Float64Array(length), low: new Float64Array(length), close: new Float64Array(length), volume: new Float64Array(length),
    });
    this.tickBars = columns(n, this.tickBarIntervalUs);
    this.tickBarScratch = columns(1, this.tickBarIntervalUs);
  }

  private trackWorking(order: Order, deltaLots: number): void {
    if (!order.reduceOnly) this.working[2 * order.symbolIndex + (order.side === 'buy' ? 0 : 1)] += deltaLots;
  }

  /** An open order reached a terminal state: it no longer counts as open or working. */
  private closeOrder(order: Order): void {
    if (this.open.remove(order)) this.trackWorking(order, -order.remainingQuantity);
  }

  /** Connect the execution port. A simulated venue is also the matcher fed with market data. */
  connect(venue: ExecutionPort, matcher: SimulatedVenue | null): void {
    this.venue = venue;
    this.matcher = matcher;
    matcher?.attach(this, { nowUs: () => this.clockUs, schedule: (timeUs, run) => { this.queue.push(timeUs, run); } });
  }

  nowUs(): number {
    return this.clockUs;
  }

  get ctx(): StrategyContext {
    return this.context;
  }

  /** Time of the next scheduled event (timer, order arrival, expiry), or +Infinity. */
  nextEventUs(): number {
    return this.queue.peekTimeUs();
  }

  schedule(timeUs: number, run: () => void): void {
    this.queue.push(timeUs, run);
  }

  start(timeUs: number): void {
    invariant(!this.started, 'engine started twice');
    invariant(this.venue !== undefined, 'engine started before connect()');
    this.started = true;
    this.clockUs = timeUs;
    this.log.append(timeUs, 'run.start', { runId: this.config.runId, strategy: this.config.strategyId, symbols: this.config.instruments.map((i) => i.symbol).join(',') });
    this.strategy.onStart(this.context);
  }

  /** Run everything scheduled up to and including `timeUs`, then hold the clock there. */
  advanceTo(timeUs: number): void {
    const queue = this.queue;
    while (queue.nextTimeUs <= timeUs) {
      const event = queue.pop()!;
      if (event.timeUs > this.clockUs) this.clockUs = event.timeUs;
      event.run();
    }
    if (timeUs > this.clockUs) this.clockUs = timeUs;
  }

  private rollDay(timeUs: number): void {
    const day = this.calendar.tradingDay(timeUs);
    this.nextDayBoundaryUs = this.calendar.dayEndUs(day);
    this.dayIndex++;
    this.dayStartEquityCash = this.portfolio.equityCashValue();
    if (this.risk.onNewDay()) this.log.append(timeUs, 'risk.state', { state: this.risk.state, reason: 'new-day' });
  }

  /**
   * Replay a chunk of bars. The hot path: per bar group a few comparisons, the matcher's fast path when
   * nothing is working, the mark, the history ring and the strategy callback; nothing is allocated.
   */
  processBars(chunk: BarColumns): void {
    const n = chunk.length;
    const { startUs, symbolIndex, open, high, low, close, volume } = chunk;
    const intervalUs = chunk.intervalUs;
    const matcher = this.matcher;
    const portfolio = this.portfolio;
    const histories = this.histories;
    const historyEnabled = this.historyEnabled;
    const strategy = this.strategy;
    const context = this.context;
    const cursor = this.barCursor;
    const queue = this.queue;
    const equity = this.equity;
    const dailyLossLimitCash = this.dailyLossLimitCash;
    cursor.chunk = chunk;
    let i = 0;
    while (i < n) {
      const t = startUs[i];
      let j = i + 1;
      while (j < n && startUs[j] === t) j++;
      if (queue.nextTimeUs <= t) this.advanceTo(t);
      if (t > this.clockUs) this.clockUs = t;
      if (t >= this.nextDayBoundaryUs) this.rollDay(t);
      if (matcher !== null) {
        // Most bars meet an empty book: then only the last price moves, without a call.
        const books = matcher.books;
        const lastPrice = matcher.lastPriceTicks;
        for (let k = i; k < j; k++) {
          const s = symbolIndex[k];
          if (books[s].length === 0) lastPrice[s] = close[k];
          else matcher.onBar(s, t, open[k], high[k], low[k], close[k], volume[k]);
        }
      }
      const closeUs = t + intervalUs;
      if (queue.nextTimeUs <= closeUs) this.advanceTo(closeUs);
      this.clockUs = closeUs;
      this.lastDataUs = closeUs;
      for (let k = i; k < j; k++) {
        const s = symbolIndex[k];
        portfolio.mark(s, close[k]);
        if (historyEnabled) histories[s].push(t, open[k], high[k], low[k], close[k], volume[k]);
      }
      const equityCash = portfolio.cashCash + portfolio.positionValueCash;
      if (this.dayStartEquityCash - equityCash >= dailyLossLimitCash) this.afterMark(closeUs);
      for (let k = i; k < j; k++) {
        cursor.index = k;
        strategy.onBar(context, cursor);
      }
      if (queue.nextTimeUs <= closeUs) this.advanceTo(closeUs);
      // The equity sample, written in place (see EquityCurve).
      if (equity.offset === 65_536) equity.addBlock();
      const slot = equity.offset++;
      equity.time[slot] = closeUs;
      equity.equity[slot] = portfolio.cashCash + portfolio.positionValueCash;
      equity.day[slot] = this.dayIndex;
      equity.length++;
      if (portfolio.openPositionCount > 0) equity.exposedSamples++;
      i = j;
    }
  }

  /** Replay a chunk of trade prints. Equity is sampled once per minute of ticks. */
  processTicks(chunk: TickColumns): void {
    const n = chunk.length;
    const { timeUs, symbolIndex, price, size } = chunk;
    const bid = chunk.bid;
    const ask = chunk.ask;
    const matcher = this.matcher;
    const portfolio = this.portfolio;
    const strategy = this.strategy;
    const context = this.context;
    const cursor = this.tickCursor;
    cursor.chunk = chunk;
    for (let k = 0; k < n; k++) {
      const t = timeUs[k];
      if (this.queue.nextTimeUs <= t) this.advanceTo(t);
      if (t > this.clockUs) this.clockUs = t;
      if (t >= this.nextDayBoundaryUs) this.rollDay(t);
      const s = symbolIndex[k];
      if (t >= this.nextTickBarCloseUs) this.closeTickBars(t);
      if (this.tickBarIntervalUs > 0) this.addToTickBar(s, t, price[k], size[k]);
      if (matcher !== null) matcher.onTick(s, t, price[k], size[k], bid === undefined ? NaN : bid[k], ask === undefined ? NaN : ask[k]);
      portfolio.mark(s, price[k]);
      this.lastDataUs = t;
      if (this.dayStartEquityCash - (portfolio.cashCash + portfolio.positionValueCash) >= this.dailyLossLimitCash) this.afterMark(t);
      cursor.index = k;
      strategy.onTick(context, cursor);
      if (this.queue.nextTimeUs <= t) this.advanceTo(t);
      if (t - this.lastEquitySampleUs >= 60_000_000) {
        this.lastEquitySampleUs = t - (t % 60_000_000);
        this.equity.push(t, portfolio.cashCash + portfolio.positionValueCash, this.dayIndex, portfolio.openPositionCount > 0);
      }
    }
  }

  private addToTickBar(s: number, timeUs: number, priceTicks: number, sizeLots: number): void {
    const bars = this.tickBars;
    const volume = sizeLots;
    if (Number.isNaN(bars.startUs[s])) {
      const startUs = timeUs - (((timeUs % this.tickBarIntervalUs) + this.tickBarIntervalUs) % this.tickBarIntervalUs);
      bars.startUs[s] = startUs;
      bars.open[s] = bars.high[s] = bars.low[s] = bars.close[s] = priceTicks;
      bars.volume[s] = volume;
      if (startUs + this.tickBarIntervalUs < this.nextTickBarCloseUs) this.nextTickBarCloseUs = startUs + this.tickBarIntervalUs;
      return;
    }
    if (priceTicks > bars.high[s]) bars.high[s] = priceTicks;
    if (priceTicks < bars.low[s]) bars.low[s] = priceTicks;
    bars.close[s] = priceTicks;
    bars.volume[s] += volume;
  }

  /**
   * Deliver every tick-built bar that ended at or before `timeUs`, in order of (end, symbol), each at its end
   * time, before the tick that proved it complete. The last, unfinished bar of a feed is never delivered.
   */
  private closeTickBars(timeUs: number): void {
    const bars = this.tickBars;
    const scratch = this.tickBarScratch;
    const interval = this.tickBarIntervalUs;
    for (;;) {
      let next = -1;
      for (let s = 0; s < bars.length; s++) {
        const start = bars.startUs[s];
        if (!Number.isNaN(start) && start + interval <= timeUs && (next < 0 || start < bars.startUs[next])) next = s;
      }
      if (next < 0) break;
      const endUs = bars.startUs[next] + interval;
      if (this.queue.nextTimeUs <= endUs) this.advanceTo(endUs);
      if (endUs > this.clockUs) this.clockUs = endUs;
      scratch.symbolIndex[0] = next;
      scratch.startUs[0] = bars.startUs[next];
      scratch.open[0] = bars.open[next];
      scratch.high[0] = bars.high[next];
      scratch.low[0] = bars.low[next];
      scratch.close[0] = bars.close[next];
      scratch.volume[0] = bars.volume[next];
      bars.startUs[next] = NaN;
      if (this.historyEnabled) this.histories[next].push(scratch.startUs[0], scratch.open[0], scratch.high[0], scratch.low[0], scratch.close[0], scratch.volume[0]);
      const cursor = this.barCursor;
      cursor.chunk = scratch;
      cursor.index = 0;
      this.strategy.onBar(this.context, cursor);
      if (this.queue.nextTimeUs <= endUs) this.advanceTo(endUs);
    }
    let nextClose = Infinity;
    for (let s = 0; s < bars.length; s++) if (!Number.isNaN(bars.startUs[s])) nextClose = Math.min(nextClose, bars.startUs[s] + interval);
    this.nextTickBarCloseUs = nextClose;
  }

  private afterMark(timeUs: number): void {
    const changed = this.risk.onEquity(this.portfolio.cashCash + this.portfolio.positionValueCash, this.dayStartEquityCash);
    if (changed !== null) {
      this.log.append(timeUs, 'risk.state', { state: changed, reason: 'daily-loss' });
      if (changed === 'halted') this.cancelAllOpen('daily-loss');
    }
  }

  /** End the run: the strategy's onStop, then everything still scheduled up to now. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.strategy.onStop(this.context);
    this.advanceTo(this.clockUs);
    this.log.append(this.clockUs, 'run.stop', {
      equityCash: this.portfolio.equityCashValue(), cashCash: this.portfolio.cashCash, realizedGrossCash: this.portfolio.realizedGrossCash,
      feesCash: this.portfolio.feesCash, openOrders: this.open.size,
    });
  }

  // ------------------------------------------------------------------------------------------------------
  // Orders

  symbolIndex(symbol: string): number {
    const index = this.symbolIndexBySymbol.get(symbol);
    if (index === undefined) {
      throw new SimError('UNKNOWN_SYMBOL', `expected one of ${[...this.symbolIndexBySymbol.keys()].join(', ')}, found '${symbol}'`);
    }
    return index;
  }

  toLots(symbolIndex: number, quantity: number): number {
    const lots = Math.round(quantity * this.scales[symbolIndex].lotsPerUnit);
    if (!(lots > 0) || Math.abs(lots - quantity * this.scales[symbolIndex].lotsPerUnit) > 1e-6) {
      throw new SimError('BAD_QUANTITY', `expected a positive quantity in whole lots of ${1 / this.scales[symbolIndex].lotsPerUnit}, found ${quantity}`);
    }
    return lots;
  }

  priceToTicks(symbolIndex: number, price: number): number {
    if (!(price > 0) || !Number.isFinite(price)) throw new SimError('BAD_PRICE', `expected a positive price, found ${price}`);
    return toTicks(price, this.scales[symbolIndex]);
  }

  nextClientOrderId(): string {
    return this.ids.next(this.idPrefix);
  }

  /** Continue client order ids after a restart (the journal knows the last sequence used). */
  resumeOrderSequence(lastSequence: number): void {
    this.ids.advanceTo(this.idPrefix, lastSequence);
  }

  /**
   * Create an order, check risk and send it (or hold it, for bracket exits). Returns the order; a denial is
   * an order in status `denied` with the reason, and an `order.denied` event.
   */
  createOrder(spec: {
    symbolIndex: number; side: Side; type: OrderType; quantity: number; timeInForce: TimeInForce; reduceOnly: boolean;
    limitPriceTicks?: number; stopPriceTicks?: number; trailingOffsetTicks?: number; role: OrderRole; tag?: string;
    hold?: boolean; protectiveStopTicks?: number; skipRisk?: boolean;
  }): Order {
    const instrument = this.scales[spec.symbolIndex].instrument;
    const request: OrderRequest = {
      clientOrderId: this.nextClientOrderId(), symbol: instrument.symbol, side: spec.side, type: spec.type, quantity: spec.quantity,
      timeInForce: spec.timeInForce, limitPriceTicks: spec.limitPriceTicks, stopPriceTicks: spec.stopPriceTicks,
      trailingOffsetTicks: spec.trailingOffsetTicks, reduceOnly: spec.reduceOnly, epoch: this.epoch, tag: spec.tag,
    };
    const order = new Order({ request, symbolIndex: spec.symbolIndex, role: spec.role, status: spec.hold ? 'held' : 'submitted', createdUs: this.clockUs, sequence: this.orders.size + 1 });
    // Checked before it joins the book, so the order does not count against itself.
    const denial = spec.skipRisk || spec.hold ? null : this.risk.check({
      symbolIndex: spec.symbolIndex, side: spec.side, quantity: spec.quantity, reducing: spec.reduceOnly,
      limitPriceTicks: spec.limitPriceTicks, stopPriceTicks: spec.stopPriceTicks, protectiveStopTicks: spec.protectiveStopTicks, isModify: false,
    }, this.riskView);
    this.orders.set(order.clientOrderId, order);
    {
      if (denial !== null) {
        order.status = 'denied';
        order.reason = denial.code;
        this.log.append(this.clockUs, 'order.denied', { id: order.clientOrderId, symbol: order.symbol, side: order.side, type: order.type, quantity: order.quantity, code: denial.code, message: denial.message });
        this.strategy.onOrderUpdate(this.context, this.orderCursor.point(order, this.scales[order.symbolIndex]));
        return order;
      }
    }
    this.log.append(this.clockUs, spec.hold ? 'order.held' : 'order.submitted', {
      id: order.clientOrderId, symbol: order.symbol, side: order.side, type: order.type, quantity: order.quantity, tif: order.timeInForce,
      limit: order.limitPriceTicks ?? null, stop: order.stopPriceTicks ?? null, trail: order.trailingOffsetTicks ?? null,
      reduceOnly: order.reduceOnly, role: order.role, epoch: order.epoch,
    });
    if (!spec.hold) this.send(order);
    return order;
  }

  private send(order: Order): void {
    this.open.add(order);
    this.trackWorking(order, order.remainingQuantity);
    this.venue.submit(order.request());
  }

  /** Release a held bracket exit with a quantity. */
  private release(order: Order, quantity: number): void {
    order.quantity = quantity;
    order.transition('submitted', this.clockUs);
    this.log.append(this.clockUs, 'order.released', { id: order.clientOrderId, quantity, oco: order.ocoWithClientOrderId ?? null });
    this.send(order);
  }

  cancelOrder(clientOrderId: string): void {
    const order = this.orders.get(clientOrderId);
    if (!order) throw new SimError('UNKNOWN_ORDER', `expected a known client order id, found '${clientOrderId}'`);
    if (order.status === 'held') {
      order.transition('cancelled', this.clockUs);
      order.reason = 'requested';
      this.log.append(this.clockUs, 'order.cancelled', { id: order.clientOrderId, reason: 'requested' });
      return;
    }
    if (!order.isOpen) return;
    this.log.append(this.clockUs, 'order.cancel-requested', { id: order.clientOrderId });
    this.venue.cancel(clientOrderId);
  }

  modifyOrder(clientOrderId: string, changes: { quantity?: number; limitPriceTicks?: number; stopPriceTicks?: number }): void {
    const order = this.orders.get(clientOrderId);
    if (!order) throw new SimError('UNKNOWN_ORDER', `expected a known client order id, found '${clientOrderId}'`);
    if (!order.isOpen) return;
    const added = changes.quantity !== undefined ? changes.quantity - order.quantity : 0;
    const denial = this.risk.check({
      symbolIndex: order.symbolIndex, side: order.side, quantity: Math.max(0, added), reducing: order.reduceOnly || added <= 0,
      limitPriceTicks: changes.limitPriceTicks, stopPriceTicks: changes.stopPriceTicks, protectiveStopTicks: undefined, isModify: true,
    }, this.riskView);
    if (denial !== null) {
      this.log.append(this.clockUs, 'order.modify-denied', { id: clientOrderId, code: denial.code, message: denial.message });
      return;
    }
    this.log.append(this.clockUs, 'order.modify-requested', { id: clientOrderId, quantity: changes.quantity ?? null, limit: changes.limitPriceTicks ?? null, stop: changes.stopPriceTicks ?? null });
    this.venue.modify(clientOrderId, changes);
  }

  private cancelAllOpen(reason: string, symbolIndex?: number): void {
    // Held bracket exits belong to an open entry or to a filled one whose exits are open; find them through it.
    const targets = this.open.list().filter((order) => symbolIndex === undefined || order.symbolIndex === symbolIndex);
    for (const order of targets) {
      for (const id of [order.stopLossClientOrderId, order.takeProfitClientOrderId]) {
        const exit = id === undefined ? undefined : this.orders.get(id);
        if (exit && exit.status === 'held') {
          exit.transition('cancelled', this.clockUs);
          exit.reason = reason;
          this.log.append(this.clockUs, 'order.cancelled', { id: exit.clientOrderId, reason });
        }
      }
      this.log.append(this.clockUs, 'order.cancel-requested', { id: order.clientOrderId });
      this.venue.cancel(order.clientOrderId);
    }
  }

  cancelAll(symbolIndex?: number): void {
    this.cancelAllOpen('requested', symbolIndex);
  }

  flatten(symbolIndex?: number, skipRisk = false): void {
    for (let s = 0; s < this.scales.length; s++) {
      if (symbolIndex !== undefined && s !== symbolIndex) continue;
      const position = this.portfolio.position[s];
      if (position === 0) continue;
      this.createOrder({
        symbolIndex: s, side: position > 0 ? 'sell' : 'buy', type: 'market', quantity: Math.abs(position), timeInForce: 'gtc',
        reduceOnly: true, role: 'flatten', skipRisk,
      });
    }
  }

  killSwitch(reason: string, flatten = this.config.killSwitchFlattens ?? true): void {
    this.risk.halt(reason);
    this.log.append(this.clockUs, 'kill-switch', { reason, flatten });
    this.cancelAllOpen('kill-switch');
    if (flatten) this.flatten(undefined, true);
  }

  bracket(spec: BracketSpec): BracketIds {
    const s = this.symbolIndex(spec.symbol);
    const quantity = this.toLots(s, spec.quantity);
    const stopTicks = this.priceToTicks(s, spec.stopLoss);
    const targetTicks = this.priceToTicks(s, spec.takeProfit);
    const tif = spec.timeInForce ?? 'gtc';
    const exitSide = oppositeSide(spec.side);
    const long = spec.side === 'buy';
    if (long ? !(stopTicks < targetTicks) : !(stopTicks > targetTicks)) {
      throw new SimError('BAD_BRACKET', `expected the stop-loss ${long ? 'below' : 'above'} the take-profit for a ${spec.side} bracket, found stop ${spec.stopLoss}, target ${spec.takeProfit}`);
    }
    // Exits are created first (held), so a denied entry can cancel them in the same step.
    const stopLoss = this.createOrder({ symbolIndex: s, side: exitSide, type: 'stop', quantity, timeInForce: 'gtc', reduceOnly: true, stopPriceTicks: stopTicks, role: 'stop-loss', tag: spec.tag, hold: true });
    const takeProfit = this.createOrder({ symbolIndex: s, side: exitSide, type: 'limit', quantity, timeInForce: 'gtc', reduceOnly: true, limitPriceTicks: targetTicks, role: 'take-profit', tag: spec.tag, hold: true });
    stopLoss.ocoWithClientOrderId = takeProfit.clientOrderId;
    takeProfit.ocoWithClientOrderId = stopLoss.clientOrderId;
    const entryType = spec.entry.type;
    const entryPriceTicks = entryType === 'market' ? undefined : this.priceToTicks(s, spec.entry.price);
    const entry = this.createOrder({
      symbolIndex: s, side: spec.side, type: entryType, quantity, timeInForce: tif, reduceOnly: false,
      limitPriceTicks: entryType === 'limit' ? entryPriceTicks : undefined, stopPriceTicks: entryType === 'stop' ? entryPriceTicks : undefined,
      role: 'entry', tag: spec.tag, protectiveStopTicks: stopTicks,
    });
    entry.stopLossClientOrderId = stopLoss.clientOrderId;
    entry.takeProfitClientOrderId = takeProfit.clientOrderId;
    stopLoss.parentClientOrderId = entry.clientOrderId;
    takeProfit.parentClientOrderId = entry.clientOrderId;
    if (entry.status === 'denied') {
      for (const exit of [stopLoss, takeProfit]) {
        exit.transition('cancelled', this.clockUs);
        exit.reason = 'parent-denied';
        this.log.append(this.clockUs, 'order.cancelled', { id: exit.clientOrderId, reason: 'parent-denied' });
      }
    }
    return { entry: entry.clientOrderId, stopLoss: stopLoss.clientOrderId, takeProfit: takeProfit.clientOrderId };
  }

  oco(first: Order, second: Order): void {
    first.ocoWithClientOrderId = second.clientOrderId;
    second.ocoWithClientOrderId = first.clientOrderId;
  }

  /** Send two held, linked legs after a risk check of the first (both carry the same exposure). */
  releaseOco(first: Order, second: Order): void {
    const denial = this.risk.check({
      symbolIndex: first.symbolIndex, side: first.side, quantity: first.quantity, reducing: first.reduceOnly,
      limitPriceTicks: first.limitPriceTicks, stopPriceTicks: first.stopPriceTicks, protectiveStopTicks: undefined, isModify: false,
    }, this.riskView);
    if (denial !== null) {
      for (const leg of [first, second]) {
        leg.status = 'denied';
        leg.reason = denial.code;
        this.log.append(this.clockUs, 'order.denied', { id: leg.clientOrderId, symbol: leg.symbol, side: leg.side, type: leg.type, quantity: leg.quantity, code: denial.code, message: denial.message });
      }
      return;
    }
    this.release(first, first.quantity);
    this.release(second, second.quantity);
  }

  // ------------------------------------------------------------------------------------------------------
  // Reports from the venue

  onReport(report: ExecutionReport): void {
    const order = this.orders.get(report.clientOrderId);
    const timeUs = this.clockUs;
    if (!order) {
      this.log.append(timeUs, 'report.orphan', { id: report.clientOrderId, type: report.type });
      return;
    }
    switch (report.type) {
      case 'accepted':
        order.venueOrderId = report.venueOrderId;
        order.transition('accepted', timeUs);
        this.log.append(timeUs, 'order.accepted', { id: order.clientOrderId, venueId: report.venueOrderId });
        break;
      case 'rejected':
        this.closeOrder(order);
        order.transition('rejected', timeUs);
        order.reason = report.code;
        this.log.append(timeUs, 'order.rejected', { id: order.clientOrderId, code: report.code, reason: report.reason });
        this.onEntryDead(order);
        break;
      case 'triggered':
        if (order.status === 'accepted') order.transition('triggered', timeUs);
        this.log.append(timeUs, 'order.triggered', { id: order.clientOrderId });
        break;
      case 'fill':
        this.onFill(order, report);
        return;
      case 'cancelled':
      case 'expired':
        this.closeOrder(order);
        order.transition(report.type, timeUs);
        order.reason = report.type === 'cancelled' ? report.reason : 'day';
        this.log.append(timeUs, `order.${report.type}`, { id: order.clientOrderId, reason: order.reason });
        this.onEntryDead(order);
        break;
      case 'modified':
        if (report.changes.quantity !== undefined) {
          if (order.openSlot >= 0) this.trackWorking(order, report.changes.quantity - order.quantity);
          order.quantity = report.changes.quantity;
        }
        if (report.changes.limitPriceTicks !== undefined) order.limitPriceTicks = report.changes.limitPriceTicks;
        if (report.changes.stopPriceTicks !== undefined) order.stopPriceTicks = report.changes.stopPriceTicks;
        this.log.append(timeUs, 'order.modified', { id: order.clientOrderId, quantity: order.quantity, limit: order.limitPriceTicks ?? null, stop: order.stopPriceTicks ?? null });
        break;
      case 'modify-rejected':
      case 'cancel-rejected':
        this.log.append(timeUs, `order.${report.type}`, { id: order.clientOrderId, code: report.code });
        break;
    }
    this.strategy.onOrderUpdate(this.context, this.orderCursor.point(order, this.scales[order.symbolIndex]));
  }

  /** An entry that ends without any fill takes its held exits with it. */
  private onEntryDead(order: Order): void {
    if (order.role !== 'entry' || order.filledQuantity > 0) return;
    for (const id of [order.stopLossClientOrderId, order.takeProfitClientOrderId]) {
      const exit = id === undefined ? undefined : this.orders.get(id);
      if (exit && exit.status === 'held') {
        exit.transition('cancelled', this.clockUs);
        exit.reason = 'parent-ended';
        this.log.append(this.clockUs, 'order.cancelled', { id: exit.clientOrderId, reason: 'parent-ended' });
      }
    }
  }

  private onFill(order: Order, fill: Extract<ExecutionReport, { type: 'fill' }>): void {
    const timeUs = this.clockUs;
    if (order.status === 'submitted') order.transition('accepted', timeUs);
    if (!(fill.quantity > 0 && fill.quantity <= order.remainingQuantity)) invariantFailed(`fill of ${fill.quantity} exceeds the remaining ${order.remainingQuantity} of ${order.clientOrderId}`);
    if (order.openSlot >= 0) this.trackWorking(order, -fill.quantity);
    order.filledQuantity += fill.quantity;
    order.filledNotionalTickLots += fill.quantity * fill.priceTicks;
    order.feesCash += fill.feeCash;
    const done = order.filledQuantity === order.quantity;
    order.transition(done ? 'filled' : 'partially-filled', timeUs);
    if (done) this.open.remove(order);
    this.portfolio.applyFill(order.symbolIndex, fill.side, fill.quantity, fill.priceTicks, fill.feeCash, timeUs);
    if (this.config.checkLedger) this.portfolio.assertConsistent();
    this.log.append(timeUs, 'order.filled', {
      id: order.clientOrderId, fillId: fill.fillId, symbol: order.symbol, side: fill.side, quantity: fill.quantity, price: fill.priceTicks,
      fee: fill.feeCash, liquidity: fill.liquidity, position: this.portfolio.position[order.symbolIndex], status: order.status,
    });
    if (this.portfolio.position[order.symbolIndex] === 0) this.cancelStrandedExits(order);
    if (order.role === 'entry') this.onEntryFill(order, fill.quantity);
    else if ((order.role === 'stop-loss' || order.role === 'take-profit') && !this.venue.capabilities.nativeOco) this.onExitFillEmulated(order, fill.quantity, done);
    const scales = this.scales[order.symbolIndex];
    const view = this.fillCursor;
    view.order = order;
    view.scales = scales;
    view.side = fill.side;
    view.quantityLots = fill.quantity;
    view.priceTicks = fill.priceTicks;
    view.feeCash = fill.feeCash;
    view.timeUs = timeUs;
    this.strategy.onFill(this.context, view);
    this.strategy.onOrderUpdate(this.context, this.orderCursor.point(order, scales));
  }

  /**
   * The position went flat: a reduce-only order left working on the symbol has nothing to protect, and on a venue
   * without native reduce-only it would open a new position. Cancel it, unless it is one leg of a live OCO pair
   * (the pair's own mechanism ends it).
   */
  private cancelStrandedExits(filled: Order): void {
    for (const order of this.open.list()) {
      if (order === filled || order.symbolIndex !== filled.symbolIndex || !order.reduceOnly) continue;
      const sibling = order.ocoWithClientOrderId === undefined ? undefined : this.orders.get(order.ocoWithClientOrderId);
      if (sibling !== undefined && (sibling === filled || sibling.isOpen)) continue;
      this.log.append(this.clockUs, 'order.cancel-requested', { id: order.clientOrderId, reason: 'flat' });
      this.venue.cancel(order.clientOrderId);
    }
  }

  /** Entry filled (in part): release the exits sized to the fill, or grow them by it. */
  private onEntryFill(entry: Order, quantity: number): void {
    const stopLoss = this.orders.get(entry.stopLossClientOrderId!);
    const takeProfit = this.orders.get(entry.takeProfitClientOrderId!);
    if (!stopLoss || !takeProfit) return;
    for (const exit of [stopLoss, takeProfit]) {
      if (exit.status === 'held') this.release(exit, quantity);
      else if (exit.isOpen) this.modifyOrder(exit.clientOrderId, { quantity: exit.quantity + quantity });
    }
  }

  /** For venues without native OCO: the engine cancels or shrinks the other exit itself. */
  private onExitFillEmulated(exit: Order, quantity: number, done: boolean): void {
    const sibling = exit.ocoWithClientOrderId === undefined ? undefined : this.orders.get(exit.ocoWithClientOrderId);
    if (!sibling || !sibling.isOpen) return;
    if (done || sibling.remainingQuantity <= quantity) this.cancelOrder(sibling.clientOrderId);
    else this.modifyOrder(sibling.clientOrderId, { quantity: sibling.quantity - quantity });
  }

  // ------------------------------------------------------------------------------------------------------

  openOrderCount(): number {
    return this.open.size;
  }

  /** Open orders, in the order they were sent. */
  openOrders(): IterableIterator<Order> {
    return this.open.list().values();
  }

  workingQuantity(symbolIndex: number, side: Side): number {
    return this.working[2 * symbolIndex + (side === 'buy' ? 0 : 1)];
  }

  readonly riskView: RiskView = {
    position: (s) => this.portfolio.position[s],
    workingQuantity: (s, side) => this.workingQuantity(s, side),
    openOrderCount: () => this.open.size,
    lastPriceTicks: (s) => this.portfolio.markTicks[s],
    cashPerTickLot: (s) => this.scales[s].cashPerTickLot,
    grossExposureCash: () => this.portfolio.grossExposureCash(),
    equityCash: () => this.portfolio.equityCashValue(),
    nowUs: () => this.clockUs,
    lastDataUs: () => this.lastDataUs,
  };

  history(symbol: string): BarHistory {
    if (!this.historyEnabled) {
      throw new SimError('HISTORY_DISABLED', `expected the strategy to declare historyBars > 0 to read bar history, found ${this.strategy.historyBars}`);
    }
    return this.histories[this.symbolIndex(symbol)];
  }

  get tradingState(): TradingState {
    return this.risk.state;
  }

  setTimer(atUs: number, name: string): void {
    if (!(atUs >= this.clockUs)) throw new SimError('TIMER_IN_PAST', `expected a timer at or after now (${this.clockUs}), found ${atUs}`);
    this.queue.push(atUs, () => {
      this.log.append(this.clockUs, 'timer', { name });
      this.strategy.onTimer(this.context, name);
    });
  }

  // --- adoption (issue 4) ---
  // A live runtime taking over from another runner of the same session (a deposed leader) adopts what that runner
  // left at the broker: its position and its working exits. Both come in through journaled inbound records, so a
  // replay of the journal adopts the same things at the same point. Nothing here sends anything or calls the
  // strategy: the strategy sees the adopted position and orders through its context from then on.

  /**
   * Takes over a position held at the broker that this engine did not trade: `quantityLots` (signed, + for a buy)
   * at `averagePriceTicks` (a broker's average may fall between ticks). It goes through the ledger as fills
   * without fees whose notional is the nearest whole tick-lot to quantity x average (split over two adjacent tick
   * prices), so cash, positions and the ledger identity stay exact, and the cash spent matches the broker's.
   */
  adoptPosition(symbolIndex: number, quantityLots: number, averagePriceTicks: number, reason: string): void {
    if (!(Number.isSafeInteger(quantityLots) && quantityLots !== 0)) invariantFailed(`adopted quantity must be a nonzero whole number of lots, found ${quantityLots}`);
    if (!(Number.isFinite(averagePriceTicks) && averagePriceTicks >= 1)) invariantFailed(`adopted average price must be at least one tick, found ${averagePriceTicks}`);
    invariant(symbolIndex >= 0 && symbolIndex < this.scales.length, `adopted symbol index ${symbolIndex} out of range`);
    const side: Side = quantityLots > 0 ? 'buy' : 'sell';
    const lots = Math.abs(quantityLots);
    const notionalTickLots = Math.round(lots * averagePriceTicks);
    const lowTicks = Math.floor(notionalTickLots / lots);
    const highLots = notionalTickLots - lowTicks * lots;
    if (lots - highLots > 0) this.portfolio.applyFill(symbolIndex, side, lots - highLots, lowTicks, 0, this.clockUs);
    if (highLots > 0) this.portfolio.applyFill(symbolIndex, side, highLots, lowTicks + 1, 0, this.clockUs);
    if (this.config.checkLedger) this.portfolio.assertConsistent();
    this.log.append(this.clockUs, 'position.adopted', {
      symbol: this.scales[symbolIndex].instrument.symbol, quantity: quantityLots, notional: notionalTickLots,
      position: this.portfolio.position[symbolIndex], reason,
    });
  }

  /**
   * Inserts an order working at the broker into the book under its own client order id, so that later reports
   * apply to it; an OCO pair is linked by each member's `ocoWithClientOrderId`. Its fills so far belong to the
   * adopted position (adoptPosition), not to the ledger again. An id this engine already holds as a finished order
   * (a standby generates the same ids for the intents its gate refused, which never reached the broker) is
   * superseded: the adopted order takes its place and its creation sequence. Adopting over an order that is
   * still open or held is a bug of the caller.
   */
  adoptOrder(request: OrderRequest, state: { status: 'accepted' | 'triggered' | 'partially-filled'; filledQuantity: number; venueOrderId?: string; role?: OrderRole }): void {
    const symbolIndex = this.symbolIndex(request.symbol);
    const existing = this.orders.get(request.clientOrderId);
    if (existing !== undefined && !existing.isTerminal) invariantFailed(`adopting ${request.clientOrderId} over an order this engine holds ${existing.status}`);
    if (!(Number.isSafeInteger(request.quantity) && request.quantity > 0)) invariantFailed(`adopted quantity must be a positive whole number of lots, found ${request.quantity}`);
    if (!(Number.isSafeInteger(state.filledQuantity) && state.filledQuantity >= 0 && state.filledQuantity < request.quantity)) {
      invariantFailed(`adopted filled quantity must be in [0, ${request.quantity}), found ${state.filledQuantity}`);
    }
    const order = new Order({ request, symbolIndex, role: state.role ?? 'plain', status: state.status, createdUs: this.clockUs, sequence: existing?.sequence ?? this.orders.size + 1 });
    order.filledQuantity = state.filledQuantity;
    order.venueOrderId = state.venueOrderId;
    if (existing !== undefined) this.orders.delete(request.clientOrderId);
    this.orders.set(order.clientOrderId, order);
    this.open.add(order);
    this.trackWorking(order, order.remainingQuantity);
    this.log.append(this.clockUs, 'order.adopted', {
      id: order.clientOrderId, symbol: order.symbol, side: order.side, type: order.type, quantity: order.quantity, filled: order.filledQuantity,
      tif: order.timeInForce, limit: order.limitPriceTicks ?? null, stop: order.stopPriceTicks ?? null, trail: order.trailingOffsetTicks ?? null,
      reduceOnly: order.reduceOnly, role: order.role, epoch: order.epoch, oco: order.ocoWithClientOrderId ?? null, status: order.status,
      venueId: order.venueOrderId ?? null, superseded: existing?.status ?? null,
    });
  }
}

function viewOf(order: Order, scales: InstrumentScales): OrderView {
  return {
    clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, type: order.type, status: order.status, role: order.role,
    quantity: order.quantity / scales.lotsPerUnit, filledQuantity: order.filledQuantity / scales.lotsPerUnit,
    limitPrice: order.limitPriceTicks === undefined ? undefined : fromTicks(order.limitPriceTicks, scales),
    stopPrice: order.stopPriceTicks === undefined ? undefined : fromTicks(order.stopPriceTicks, scales),
    reason: order.reason, tag: order.tag,
  };
}

/** The strategy's window onto the engine. */
class EngineContext implements StrategyContext {
  readonly portfolio: PortfolioView;

  constructor(private readonly engine: Engine) {
    const p = engine.portfolio;
    const scalesOfSymbol = (symbol: string): InstrumentScales => engine.scales[engine.symbolIndex(symbol)];
    this.portfolio = {
      position: (symbol) => p.position[engine.symbolIndex(symbol)] / scalesOfSymbol(symbol).lotsPerUnit,
      averagePrice: (symbol) => fromTicks(p.averagePriceTicks(engine.symbolIndex(symbol)), scalesOfSymbol(symbol)),
      get cash() { return p.cashCash / CASH_UNITS_PER_CURRENCY; },
      get equity() { return p.equityCashValue() / CASH_UNITS_PER_CURRENCY; },
      get realizedPnl() { return p.realizedGrossCash / CASH_UNITS_PER_CURRENCY; },
      get fees() { return p.feesCash / CASH_UNITS_PER_CURRENCY; },
      unrealizedPnl: () => p.unrealizedCash() / CASH_UNITS_PER_CURRENCY,
    };
  }

  get nowUs(): number { return this.engine.nowUs(); }
  get instruments(): readonly Instrument[] { return this.engine.config.instruments; }
  get tradingState(): TradingState { return this.engine.tradingState; }
  history(symbol: string): BarHistory { return this.engine.history(symbol); }

  private simple(symbol: string, side: Side, quantity: number, type: OrderType, options: OrderOptions | undefined, prices: { limit?: number; stop?: number; trail?: number }): string {
    const e = this.engine;
    const s = e.symbolIndex(symbol);
    const order = e.createOrder({
      symbolIndex: s, side, type, quantity: e.toLots(s, quantity), timeInForce: options?.timeInForce ?? 'gtc',
      reduceOnly: options?.reduceOnly ?? false, role: 'plain', tag: options?.tag,
      limitPriceTicks: prices.limit === undefined ? undefined : e.priceToTicks(s, prices.limit),
      stopPriceTicks: prices.stop === undefined ? undefined : e.priceToTicks(s, prices.stop),
      trailingOffsetTicks: prices.trail === undefined ? undefined : e.priceToTicks(s, prices.trail),
    });
    return order.clientOrderId;
  }

  market(symbol: string, side: Side, quantity: number, options?: OrderOptions): string { return this.simple(symbol, side, quantity, 'market', options, {}); }
  limit(symbol: string, side: Side, quantity: number, price: number, options?: OrderOptions): string { return this.simple(symbol, side, quantity, 'limit', options, { limit: price }); }
  stop(symbol: string, side: Side, quantity: number, stopPrice: number, options?: OrderOptions): string { return this.simple(symbol, side, quantity, 'stop', options, { stop: stopPrice }); }
  stopLimit(symbol: string, side: Side, quantity: number, stopPrice: number, limitPrice: number, options?: OrderOptions): string {
    return this.simple(symbol, side, quantity, 'stop-limit', options, { stop: stopPrice, limit: limitPrice });
  }
  trailingStop(symbol: string, side: Side, quantity: number, trailingOffset: number, options?: OrderOptions): string {
    return this.simple(symbol, side, quantity, 'trailing-stop', options, { trail: trailingOffset });
  }
  bracket(spec: BracketSpec): BracketIds { return this.engine.bracket(spec); }

  oco(first: { type: 'limit' | 'stop'; price: number }, second: { type: 'limit' | 'stop'; price: number }, symbol: string, side: Side, quantity: number, options?: OrderOptions): [string, string] {
    const e = this.engine;
    const s = e.symbolIndex(symbol);
    const lots = e.toLots(s, quantity);
    // Both legs are created held, linked, then sent together so the venue can pair them on arrival.
    const make = (leg: { type: 'limit' | 'stop'; price: number }): Order => e.createOrder({
      symbolIndex: s, side, type: leg.type, quantity: lots, timeInForce: options?.timeInForce ?? 'gtc', reduceOnly: options?.reduceOnly ?? false,
      role: 'plain', tag: options?.tag, limitPriceTicks: leg.type === 'limit' ? e.priceToTicks(s, leg.price) : undefined,
      stopPriceTicks: leg.type === 'stop' ? e.priceToTicks(s, leg.price) : undefined, hold: true,
    });
    const a = make(first);
    const b = make(second);
    e.oco(a, b);
    e.releaseOco(a, b);
    return [a.clientOrderId, b.clientOrderId];
  }

  cancel(clientOrderId: string): void { this.engine.cancelOrder(clientOrderId); }

  modify(clientOrderId: string, changes: { quantity?: number; price?: number; stopPrice?: number }): void {
    const e = this.engine;
    const order = e.orders.get(clientOrderId);
    if (!order) throw new SimError('UNKNOWN_ORDER', `expected a known client order id, found '${clientOrderId}'`);
    const s = order.symbolIndex;
    e.modifyOrder(clientOrderId, {
      quantity: changes.quantity === undefined ? undefined : e.toLots(s, changes.quantity),
      limitPriceTicks: changes.price === undefined ? undefined : e.priceToTicks(s, changes.price),
      stopPriceTicks: changes.stopPrice === undefined ? undefined : e.priceToTicks(s, changes.stopPrice),
    });
  }

  cancelAll(symbol?: string): void { this.engine.cancelAll(symbol === undefined ? undefined : this.engine.symbolIndex(symbol)); }
  flatten(symbol?: string): void { this.engine.flatten(symbol === undefined ? undefined : this.engine.symbolIndex(symbol)); }

  order(clientOrderId: string): OrderView | undefined {
    const order = this.engine.orders.get(clientOrderId);
    return order ? viewOf(order, this.engine.scales[order.symbolIndex]) : undefined;
  }

  openOrders(symbol?: string): OrderView[] {
    const s = symbol === undefined ? undefined : this.engine.symbolIndex(symbol);
    const result: OrderView[] = [];
    for (const order of this.engine.openOrders()) {
      if (s === undefined || order.symbolIndex === s) result.push(viewOf(order, this.engine.scales[order.symbolIndex]));
    }
    return result;
  }

  setTimer(atUs: number, name: string): void { this.engine.setTimer(atUs, name); }

  log(message: string, fields?: LogFields): void {
    this.engine.log.append(this.engine.nowUs(), 'log', { message, ...(fields ?? {}) });
  }

  killSwitch(reason: string, flatten: boolean): void { this.engine.killSwitch(reason, flatten); }
}
