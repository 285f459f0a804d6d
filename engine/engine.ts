// The engine: one deterministic kernel shared by replay, paper and live. It owns the clock (advanced by the
// data and events it is fed), the event queue, the order book as the engine sees it, brackets and OCO pairs,
// pre-trade risk, the portfolio and the ordered event log. Venues and data sources are ports: replay feeds
// column chunks; a live runner feeds one message at a time with the message's own timestamp, so a recorded
// session replays to the same events.
//
// Speed. Orders are rows of a typed order table addressed by handle, events are numbers in the log's arena, the
// event queue and the simulated venue are columns too, and strategies see reusable cursors: a bar, an order and
// its fills allocate nothing but the client order id string handed to the strategy. With the simulated venue in
// the same process the engine talks to it by handle (VenueListener); any other venue gets OrderRequest objects
// and answers with ExecutionReport objects (`onReport`), through the same handlers.
import type {
  BarColumns, ExecutionPort, ExecutionReport, ExecutionSink, Instrument, OrderChanges, OrderRequest, OrderType, Side, TickColumns, TimeInForce,
} from './types.ts';
import { scalesOf, toTicks, fromTicks, type InstrumentScales, CASH_UNITS_PER_CURRENCY } from './core/instruments.ts';
import { EventQueue, type TaskRunner } from './core/event-queue.ts';
import { StringTable } from './core/string-table.ts';
import { grown } from './core/columns.ts';
import { calendarFor, type TradingCalendar } from './core/time.ts';
import {
  OrderTable, ORDER_TYPES, ROLES, SIDES, STATUSES, TIMES_IN_FORCE, codeOf, isTerminalStatus,
  ROLE_ENTRY, ROLE_FLATTEN, ROLE_PLAIN, ROLE_STOP_LOSS, ROLE_TAKE_PROFIT, SIDE_BUY, SIDE_SELL,
  STATUS_ACCEPTED, STATUS_CANCELLED, STATUS_DENIED, STATUS_EXPIRED, STATUS_FILLED, STATUS_HELD, STATUS_PARTIAL, STATUS_REJECTED,
  STATUS_SUBMITTED, STATUS_TRIGGERED, TIF_GTC, TYPE_LIMIT, TYPE_MARKET, TYPE_STOP, TYPE_STOP_LIMIT, TYPE_TRAILING_STOP,
  type OrderRole,
} from './orders/order-table.ts';
import { Order, OrderBook } from './orders/order.ts';
import { Portfolio } from './portfolio/portfolio.ts';
import { RiskEngine, type RiskDenial, type RiskLimits, type RiskView, type TradingState } from './risk/risk-engine.ts';
import type { SimulatedVenue, VenueListener } from './venue/simulated-venue.ts';
import { Strategy } from './strategy/strategy.ts';
import type {
  BarHistory, BarView, BracketIds, BracketSpec, FillView, LogFields, OrderOptions, OrderView, PortfolioView, StrategyContext, TickView,
} from './strategy/strategy.ts';
import { EventLog, type EventSchema } from './event-log.ts';
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

/** What `createOrder` takes (decimal-free: lots and ticks). */
export interface OrderSpec {
  symbolIndex: number; side: Side; type: OrderType; quantity: number; timeInForce: TimeInForce; reduceOnly: boolean;
  limitPriceTicks?: number; stopPriceTicks?: number; trailingOffsetTicks?: number; role: OrderRole; tag?: string;
  hold?: boolean; protectiveStopTicks?: number; skipRisk?: boolean;
}

// The engine's own events: names and field order are part of the run digest.
const SUBMIT_FIELDS: EventSchema['fields'] = [
  ['id', 'order'], ['symbol', 'string'], ['side', 'string'], ['type', 'string'], ['quantity', 'number'], ['tif', 'string'],
  ['limit', 'number?'], ['stop', 'number?'], ['trail', 'number?'], ['reduceOnly', 'boolean'], ['role', 'string'], ['epoch', 'number'],
];
const FILL_FIELDS = (fillId: 'prefixed:F' | 'string'): EventSchema['fields'] => [
  ['id', 'order'], ['fillId', fillId], ['symbol', 'string'], ['side', 'string'], ['quantity', 'number'], ['price', 'number'], ['fee', 'number'],
  ['liquidity', 'string'], ['position', 'number'], ['status', 'string'],
];
const ENGINE_EVENTS = {
  held: { type: 'order.held', fields: SUBMIT_FIELDS },
  submitted: { type: 'order.submitted', fields: SUBMIT_FIELDS },
  denied: { type: 'order.denied', fields: [['id', 'order'], ['symbol', 'string'], ['side', 'string'], ['type', 'string'], ['quantity', 'number'], ['code', 'string'], ['message', 'string']] },
  released: { type: 'order.released', fields: [['id', 'order'], ['quantity', 'number'], ['oco', 'order?']] },
  acceptedSimulated: { type: 'order.accepted', fields: [['id', 'order'], ['venueId', 'prefixed:V']] },
  accepted: { type: 'order.accepted', fields: [['id', 'order'], ['venueId', 'string']] },
  rejected: { type: 'order.rejected', fields: [['id', 'order'], ['code', 'string'], ['reason', 'string']] },
  triggered: { type: 'order.triggered', fields: [['id', 'order']] },
  filledSimulated: { type: 'order.filled', fields: FILL_FIELDS('prefixed:F') },
  filled: { type: 'order.filled', fields: FILL_FIELDS('string') },
  cancelled: { type: 'order.cancelled', fields: [['id', 'order'], ['reason', 'string']] },
  expired: { type: 'order.expired', fields: [['id', 'order'], ['reason', 'string']] },
  modified: { type: 'order.modified', fields: [['id', 'order'], ['quantity', 'number'], ['limit', 'number?'], ['stop', 'number?']] },
  modifyRejected: { type: 'order.modify-rejected', fields: [['id', 'order'], ['code', 'string']] },
  cancelRejected: { type: 'order.cancel-rejected', fields: [['id', 'order'], ['code', 'string']] },
  cancelRequested: { type: 'order.cancel-requested', fields: [['id', 'order']] },
  cancelRequestedFlat: { type: 'order.cancel-requested', fields: [['id', 'order'], ['reason', 'string']] },
  modifyDenied: { type: 'order.modify-denied', fields: [['id', 'order'], ['code', 'string'], ['message', 'string']] },
  modifyRequested: { type: 'order.modify-requested', fields: [['id', 'order'], ['quantity', 'number?'], ['limit', 'number?'], ['stop', 'number?']] },
  timer: { type: 'timer', fields: [['name', 'string']] },
} satisfies Record<string, EventSchema>;

type EventCodes = { readonly [K in keyof typeof ENGINE_EVENTS]: number };

const TASK_TIMER = 0;

function orNaN(value: number | undefined): number {
  return value === undefined ? NaN : value;
}

/**
 * The equity curve, sampled once per distinct bar time (or minute of ticks), stored in fixed blocks so that
 * growing it never copies what is already there. Sample times are kept as runs of equal steps (a session of
 * 1-minute bars is one run), and the trading day of each sample as runs too (the first sample of each day), so a
 * sample costs one stored number. `columns()` builds the per-sample columns once, at the end of a run.
 */
export class EquityCurve {
  private static readonly BLOCK = 65_536;
  length = 0;
  /** Samples with a nonzero position. */
  exposedSamples = 0;
  private readonly equityBlocks: Float64Array[] = [];
  /** Day runs: from sample `dayFrom[i]` on, the trading day index is `dayOf[i]`. */
  private readonly dayFrom: number[] = [];
  private readonly dayOf: number[] = [];
  /** Time runs: from sample `timeFrom[i]` on, times are `timeFirstUs[i] + k * timeStepUs[i]`. */
  private readonly timeFrom: number[] = [];
  private readonly timeFirstUs: number[] = [];
  private readonly timeStepUs: number[] = [];
  // Public so that the engine's bar loop can write a sample without a call (a call that is not inlined would box
  // its double arguments): the current block and its next free slot, and the time the current run expects next.
  equity = new Float64Array(0);
  offset = EquityCurve.BLOCK;
  expectedTimeUs = NaN;
  /** The current run's step (once it has two samples). */
  stepUs = -0;

  push(timeUs: number, equityCash: number, exposed: boolean): void {
    if (timeUs !== this.expectedTimeUs) this.timeBreak(timeUs);
    else this.expectedTimeUs = timeUs + this.stepUs;
    if (this.offset === EquityCurve.BLOCK) this.addBlock();
    this.equity[this.offset++] = equityCash;
    this.length++;
    if (exposed) this.exposedSamples++;
  }

  /**
   * The next sample (index `length`) is at `timeUs`, which its run did not expect: the run's second sample sets its
   * step, any other starts a new run.
   */
  timeBreak(timeUs: number): void {
    const runs = this.timeFrom.length;
    if (runs > 0 && this.length - this.timeFrom[runs - 1] === 1) {
      const step = timeUs - this.timeFirstUs[runs - 1];
      this.timeStepUs[runs - 1] = step;
      this.stepUs = step;
      this.expectedTimeUs = timeUs + step;
      return;
    }
    this.timeFrom.push(this.length);
    this.timeFirstUs.push(timeUs);
    this.timeStepUs.push(0);
    // NaN until the run's second sample gives its step.
    this.expectedTimeUs = NaN;
  }

  /** Samples from now on belong to trading day `dayIndex`. */
  startDay(dayIndex: number): void {
    this.dayFrom.push(this.length);
    this.dayOf.push(dayIndex);
  }

  addBlock(): void {
    this.equity = new Float64Array(EquityCurve.BLOCK);
    this.equityBlocks.push(this.equity);
    this.offset = 0;
  }

  /** Contiguous copies of the samples. */
  columns(): { timeUs: Float64Array; equityCash: Float64Array; dayIndex: Int32Array } {
    const equityCash = new Float64Array(this.length);
    this.equityBlocks.forEach((block, b) => {
      const from = b * EquityCurve.BLOCK;
      equityCash.set(block.subarray(0, Math.min(EquityCurve.BLOCK, this.length - from)), from);
    });
    const timeUs = new Float64Array(this.length);
    for (let run = 0; run < this.timeFrom.length; run++) {
      const to = run + 1 < this.timeFrom.length ? this.timeFrom[run + 1] : this.length;
      for (let i = this.timeFrom[run]; i < to; i++) timeUs[i] = this.timeFirstUs[run] + (i - this.timeFrom[run]) * this.timeStepUs[run];
    }
    const dayIndex = new Int32Array(this.length).fill(-1);
    for (let run = 0; run < this.dayFrom.length; run++) {
      const to = run + 1 < this.dayFrom.length ? this.dayFrom[run + 1] : this.length;
      dayIndex.fill(this.dayOf[run], this.dayFrom[run], to);
    }
    return { timeUs, equityCash, dayIndex };
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
 * The open orders (working at the venue or on their way there), as handles with swap-removal: each order's slot
 * is in the order table, so adding and removing allocate nothing.
 */
class OpenOrders {
  handles = new Int32Array(64);
  size = 0;
  /** How many of them are reduce-only (an open order's flag does not change). */
  reduceOnlyCount = 0;

  constructor(private readonly table: OrderTable) {}

  add(h: number): void {
    if (this.size === this.handles.length) this.handles = grown(this.handles, this.handles.length * 2);
    this.table.openSlot[h] = this.size;
    this.handles[this.size++] = h;
    this.reduceOnlyCount += this.table.reduceOnly[h];
  }

  /** Removes an open order; false when it was not open. */
  remove(h: number): boolean {
    const slot = this.table.openSlot[h];
    if (slot < 0) return false;
    const last = this.handles[--this.size];
    if (last !== h) {
      this.handles[slot] = last;
      this.table.openSlot[last] = slot;
    }
    this.table.openSlot[h] = -1;
    this.reduceOnlyCount -= this.table.reduceOnly[h];
    return true;
  }

  /** A copy in sending order (callers may change the set while they walk it). */
  sorted(): Int32Array {
    return this.handles.slice(0, this.size).sort();
  }
}

/** What the order and fill cursors share: a row of the order table seen in the strategy's units. */
abstract class OrderRowCursor {
  handle = 0;
  constructor(protected readonly engine: Engine, protected readonly t: OrderTable) {}
  protected get scales(): InstrumentScales { return this.engine.scales[this.t.symbolIndex[this.handle]]; }
  get clientOrderId(): string { return this.engine.orders.clientOrderId(this.handle); }
  get symbol(): string { return this.scales.instrument.symbol; }
  get symbolIndex(): number { return this.t.symbolIndex[this.handle]; }
  get role(): OrderRole { return ROLES[this.t.role[this.handle]]; }
}

/** A reusable view of one order for callbacks: valid during the callback only (use ctx.order for a snapshot). */
class OrderCursor extends OrderRowCursor implements OrderView {
  get side(): Side { return SIDES[this.t.side[this.handle]]; }
  get type(): OrderType { return ORDER_TYPES[this.t.type[this.handle]]; }
  get status(): OrderView['status'] { return STATUSES[this.t.status[this.handle]]; }
  get quantity(): number { return this.t.quantity[this.handle] / this.scales.lotsPerUnit; }
  get filledQuantity(): number { return this.t.filledQuantity[this.handle] / this.scales.lotsPerUnit; }
  get limitPrice(): number | undefined { const p = this.t.limitPriceTicks[this.handle]; return Number.isNaN(p) ? undefined : p / this.scales.ticksPerUnit; }
  get stopPrice(): number | undefined { const p = this.t.stopPriceTicks[this.handle]; return Number.isNaN(p) ? undefined : p / this.scales.ticksPerUnit; }
  get reason(): string | undefined { const r = this.t.reason[this.handle]; return r < 0 ? undefined : this.engine.strings.get(r); }
  get tag(): string | undefined { const r = this.t.tag[this.handle]; return r < 0 ? undefined : this.engine.strings.get(r); }
}

/** A reusable view of one fill for callbacks: valid during the callback only. */
class FillCursor extends OrderRowCursor implements FillView {
  side: Side = 'buy';
  quantityLots = 0;
  priceTicks = 0;
  feeCash = 0;
  /** -0, not 0: a double field from the start (see Portfolio.positionValueCash). */
  timeUs = -0;
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

export class Engine implements ExecutionSink, VenueListener, TaskRunner {
  readonly config: EngineConfig;
  readonly scales: readonly InstrumentScales[];
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly strings = new StringTable();
  readonly log = new EventLog(this.strings);
  readonly equity = new EquityCurve();
  readonly table = new OrderTable();
  /** Orders by client order id (live views), for the runtime, reports and tests. */
  readonly orders: OrderBook;
  /** Fencing epoch attached to every outgoing order (set by the live runtime's leader lock). */
  epoch = 0;
  private clockUs = -Infinity;
  private readonly queue = new EventQueue();
  private readonly idPrefix: string;
  private readonly symbolIndexBySymbol = new Map<string, number>();
  /** The symbol `symbolIndex` found last, and its index (from the constructor on: the first instrument's). */
  private lastSymbol: string;
  private lastSymbolIndex: number;
  private readonly histories: RingHistory[];
  private readonly calendar: TradingCalendar;
  private readonly barCursor: BarCursor;
  private readonly tickCursor: TickCursor;
  private readonly orderCursor: OrderCursor;
  private readonly fillCursor: FillCursor;
  private readonly context: StrategyContext;
  private venue!: ExecutionPort;
  /** The simulated venue in this process, talked to by handle; null for any other venue. */
  private matcher: SimulatedVenue | null = null;
  private nativeOco = false;
  private started = false;
  private stopped = false;
  private dayIndex = -1;
  // The fields the bar loop reads are declared with a value of their final representation, even those the
  // constructor sets: a field declared without one starts as undefined and ends up tagged, so a double in it is
  // a fresh heap number per store and is checked for a Smi at every read, and a boolean in it is tested like any
  // value. Doubles start as -0 (a Smi 0 would stay a small integer until the first fraction).
  private nextDayBoundaryUs = -Infinity;
  private dayStartEquityCash = -0;
  private lastDataUs = -Infinity;
  private lastEquitySampleUs = -Infinity;
  private readonly historyEnabled: boolean = false;
  /** Tick mode: the bar being built per symbol from trade prints (NaN start: none yet). */
  private readonly tickBars: BarColumns;
  private readonly tickBarIntervalUs: number;
  private nextTickBarCloseUs = Infinity;
  private readonly tickBarScratch: BarColumns;
  /** Copied from the risk limits so the per-bar check is one comparison (Infinity: no limit). Declared with a value: see above. */
  private readonly dailyLossLimitCash: number = -0;
  /** Orders working at the venue or on their way there, kept incrementally (never a scan of all orders). */
  private readonly open: OpenOrders;
  /** Remaining quantity of open, non-reduce-only orders per symbol and side: [buy0, sell0, buy1, sell1, ...]. */
  private readonly working: Float64Array;
  private readonly events: EventCodes;
  // Interned strings the hot path writes: by code, or by symbol index.
  private readonly sideStrings: Int32Array;
  private readonly typeStrings: Int32Array;
  private readonly timeInForceStrings: Int32Array;
  private readonly roleStrings: Int32Array;
  private readonly statusStrings: Int32Array;
  private readonly symbolStrings: Int32Array;
  private readonly takerString: number;
  private readonly makerString: number;
  private readonly bracketClosedString: number;
  /** Scratch for the stranded exits of a symbol that went flat. */
  private stranded = new Int32Array(8);
  // Whether the strategy overrides these callbacks (the base class's do nothing, so they are not called).
  private readonly wantsOrderUpdates: boolean;
  private readonly wantsFills: boolean;

  constructor(config: EngineConfig, readonly strategy: Strategy) {
    invariant(config.instruments.length > 0, 'an engine needs at least one instrument');
    this.config = config;
    this.scales = config.instruments.map(scalesOf);
    config.instruments.forEach((instrument, i) => this.symbolIndexBySymbol.set(instrument.symbol, i));
    this.lastSymbol = config.instruments[0].symbol;
    this.lastSymbolIndex = this.symbolIndexBySymbol.get(this.lastSymbol)!;
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
    this.orders = new OrderBook(this.table, this.strings, this.idPrefix, config.instruments);
    this.table.nameOf = (handle) => this.orders.clientOrderId(handle);
    this.log.setOrderIds(this.orders);
    // Built by Object.fromEntries, not by keyed stores into {}: V8 turned that object into a dictionary, so every
    // event the order path writes looked its code up by hash (a generic load in onFill, logSubmitted, ...).
    this.events = Object.fromEntries(Object.entries(ENGINE_EVENTS).map(([name, schema]) => [name, this.log.define(schema)])) as EventCodes;
    this.wantsOrderUpdates = strategy.onOrderUpdate !== Strategy.prototype.onOrderUpdate;
    this.wantsFills = strategy.onFill !== Strategy.prototype.onFill;
    const intern = (values: readonly string[]): Int32Array => Int32Array.from(values, (value) => this.strings.intern(value));
    this.sideStrings = intern(SIDES);
    this.typeStrings = intern(ORDER_TYPES);
    this.timeInForceStrings = intern(TIMES_IN_FORCE);
    this.roleStrings = intern(ROLES);
    this.statusStrings = intern(STATUSES);
    this.symbolStrings = intern(config.instruments.map((i) => i.symbol));
    this.takerString = this.strings.intern('taker');
    this.makerString = this.strings.intern('maker');
    this.bracketClosedString = this.strings.intern('bracket-closed');
    this.orderCursor = new OrderCursor(this, this.table);
    this.fillCursor = new FillCursor(this, this.table);
    this.open = new OpenOrders(this.table);
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

  private trackWorking(h: number, deltaLots: number): void {
    const t = this.table;
    if (t.reduceOnly[h] === 0) this.working[2 * t.symbolIndex[h] + t.side[h]] += deltaLots;
  }

  /** An open order reached a terminal state: it no longer counts as open or working. */
  private closeOrder(h: number): void {
    if (this.open.remove(h)) this.trackWorking(h, -this.table.remaining(h));
  }

  /**
   * Connect the execution port. A simulated venue in this process is passed twice (`connect(venue, venue)`): it
   * is also the matcher fed with market data, and the engine talks to it by handle.
   */
  connect(venue: ExecutionPort, matcher: SimulatedVenue | null): void {
    invariant(matcher === null || (venue as unknown) === matcher, 'a matcher is the venue itself: connect(venue, venue)');
    this.venue = venue;
    this.matcher = matcher;
    this.nativeOco = venue.capabilities.nativeOco;
    matcher?.attachEngine(this, this.table, this.table.nameOf, new EngineScheduler(this, this.queue));
  }

  nowUs(): number {
    return this.clockUs;
  }

  get ctx(): StrategyContext {
    return this.context;
  }

  /** Time of the next scheduled event (timer, order arrival, expiry), or +Infinity. */
  nextEventUs(): number {
    return this.queue.nextTimeUs;
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
      const eventUs = queue.nextTimeUs;
      if (eventUs > this.clockUs) this.clockUs = eventUs;
      queue.runNext();
    }
    if (timeUs > this.clockUs) this.clockUs = timeUs;
  }

  runTask(task: number, arg: number): void {
    if (task !== TASK_TIMER) invariantFailed(`unknown engine task ${task}`);
    const at = this.log.begin(this.events.timer, this.clockUs);
    this.log.values[at] = arg;
    this.log.commit();
    this.strategy.onTimer(this.context, this.strings.get(arg));
  }

  private rollDay(timeUs: number): void {
    const day = this.calendar.tradingDay(timeUs);
    this.nextDayBoundaryUs = this.calendar.dayEndUs(day);
    this.dayIndex++;
    this.equity.startDay(this.dayIndex);
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
    // The bar's volume is kept for a market order filled on arrival at the close ('close' fill mode) only.
    const keepBarVolume = matcher !== null && matcher.fillsOnArrival;
    cursor.chunk = chunk;
    let i = 0;
    while (i < n) {
      const t = startUs[i];
      let j = i + 1;
      while (j < n && startUs[j] === t) j++;
      if (queue.nextTimeUs <= t) this.advanceTo(t);
      if (t > this.clockUs) this.clockUs = t;
      if (t >= this.nextDayBoundaryUs) this.rollDay(t);
      const closeUs = t + intervalUs;
      if (j === i + 1) {
        // A time with one bar (one symbol, or the only one of several that traded): the steps of the general
        // case below without their loops over the group, which cost more than their bodies for one bar.
        const s = symbolIndex[i];
        const c = close[i];
        if (matcher !== null) {
          if (matcher.bookSize[s] === 0) {
            matcher.lastPriceTicks[s] = c;
            if (keepBarVolume) {
              matcher.barVolume[s] = volume[i];
              matcher.barTaken[s] = 0;
            }
          } else matcher.matchBarRow(chunk, i);
        }
        if (queue.nextTimeUs <= closeUs) this.advanceTo(closeUs);
        this.clockUs = closeUs;
        this.lastDataUs = closeUs;
        portfolio.mark(s, c);
        if (historyEnabled) histories[s].push(t, open[i], high[i], low[i], c, volume[i]);
        if (this.dayStartEquityCash - (portfolio.cashCash + portfolio.positionValueCash) >= dailyLossLimitCash) this.afterMark(closeUs);
        cursor.index = i;
        strategy.onBar(context, cursor);
      } else {
        if (matcher !== null) {
          // Most bars meet an empty book: then only the last price moves, without a call.
          const bookSize = matcher.bookSize;
          const lastPrice = matcher.lastPriceTicks;
          const barVolume = matcher.barVolume;
          const barTaken = matcher.barTaken;
          for (let k = i; k < j; k++) {
            const s = symbolIndex[k];
            if (bookSize[s] === 0) {
              lastPrice[s] = close[k];
              if (keepBarVolume) {
                barVolume[s] = volume[k];
                barTaken[s] = 0;
              }
            } else matcher.matchBarRow(chunk, k);
          }
        }
        if (queue.nextTimeUs <= closeUs) this.advanceTo(closeUs);
        this.clockUs = closeUs;
        this.lastDataUs = closeUs;
        for (let k = i; k < j; k++) {
          const s = symbolIndex[k];
          portfolio.mark(s, close[k]);
          if (historyEnabled) histories[s].push(t, open[k], high[k], low[k], close[k], volume[k]);
        }
        if (this.dayStartEquityCash - (portfolio.cashCash + portfolio.positionValueCash) >= dailyLossLimitCash) this.afterMark(closeUs);
        for (let k = i; k < j; k++) {
          cursor.index = k;
          strategy.onBar(context, cursor);
        }
      }
      if (queue.nextTimeUs <= closeUs) this.advanceTo(closeUs);
      // The equity sample, written in place (see EquityCurve).
      if (closeUs !== equity.expectedTimeUs) equity.timeBreak(closeUs);
      else equity.expectedTimeUs = closeUs + equity.stepUs;
      if (equity.offset === 65_536) equity.addBlock();
      equity.equity[equity.offset++] = portfolio.cashCash + portfolio.positionValueCash;
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
        this.equity.push(t, portfolio.cashCash + portfolio.positionValueCash, portfolio.openPositionCount > 0);
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
    // Strategies name the same symbol many times in a row (the bar's, then the order's): the last one answers
    // without hashing.
    if (symbol === this.lastSymbol) return this.lastSymbolIndex;
    const index = this.symbolIndexBySymbol.get(symbol);
    if (index === undefined) {
      throw new SimError('UNKNOWN_SYMBOL', `expected one of ${[...this.symbolIndexBySymbol.keys()].join(', ')}, found '${symbol}'`);
    }
    this.lastSymbol = symbol;
    this.lastSymbolIndex = index;
    return index;
  }

  toLots(symbolIndex: number, quantity: number): number {
    const lotsPerUnit = this.scales[symbolIndex].lotsPerUnit;
    const lots = Math.round(quantity * lotsPerUnit);
    if (!(lots > 0) || Math.abs(lots - quantity * lotsPerUnit) > 1e-6) {
      throw new SimError('BAD_QUANTITY', `expected a positive quantity in whole lots of ${1 / lotsPerUnit}, found ${quantity}`);
    }
    return lots;
  }

  priceToTicks(symbolIndex: number, price: number): number {
    if (!(price > 0) || !Number.isFinite(price)) throw new SimError('BAD_PRICE', `expected a positive price, found ${price}`);
    return toTicks(price, this.scales[symbolIndex]);
  }

  /** Continue client order ids after a sequence number (ids the broker holds from another runner of the session). */
  resumeOrderSequence(lastSequence: number): void {
    this.orders.resumeAfter(lastSequence);
  }

  /**
   * Create an order, check risk and send it (or hold it, for bracket exits). Returns the order; a denial is
   * an order in status `denied` with the reason, and an `order.denied` event.
   */
  createOrder(spec: OrderSpec): Order {
    const handle = this.newOrder(spec.symbolIndex, codeOf(SIDES, spec.side), codeOf(ORDER_TYPES, spec.type), spec.quantity, codeOf(TIMES_IN_FORCE, spec.timeInForce),
      spec.reduceOnly, orNaN(spec.limitPriceTicks), orNaN(spec.stopPriceTicks), orNaN(spec.trailingOffsetTicks), codeOf(ROLES, spec.role),
      spec.tag === undefined ? -1 : this.strings.intern(spec.tag), spec.hold ?? false, orNaN(spec.protectiveStopTicks), spec.skipRisk ?? false);
    return this.orders.at(handle);
  }

  /** `createOrder` with codes and NaN for absent prices: the strategy API's path. Returns the handle. */
  newOrder(s: number, side: number, type: number, quantity: number, timeInForce: number, reduceOnly: boolean, limitTicks: number, stopTicks: number,
    trailTicks: number, role: number, tag: number, hold: boolean, protectiveStopTicks: number, skipRisk: boolean): number {
    const h = this.table.add(s, side, type, timeInForce, role, hold ? STATUS_HELD : STATUS_SUBMITTED, reduceOnly, quantity, limitTicks, stopTicks, trailTicks,
      this.epoch, this.clockUs, tag);
    // Checked before it joins the book, so the order does not count against itself.
    const denial = skipRisk || hold ? null : this.risk.checkOrder(s, side === SIDE_BUY ? 1 : -1, quantity, reduceOnly, limitTicks, stopTicks, protectiveStopTicks, 1, this.riskView);
    if (denial !== null) {
      this.table.status[h] = STATUS_DENIED;
      this.table.reason[h] = this.strings.intern(denial.code);
      this.logDenied(h, denial);
      if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
      return h;
    }
    this.logSubmitted(hold ? this.events.held : this.events.submitted, h, s, side, type, quantity, timeInForce, reduceOnly, limitTicks, stopTicks, trailTicks, role);
    if (!hold) this.send(h);
    return h;
  }

  private cursorAt(h: number): OrderCursor {
    this.orderCursor.handle = h;
    return this.orderCursor;
  }

  private send(h: number): void {
    this.open.add(h);
    this.trackWorking(h, this.table.remaining(h));
    if (this.matcher !== null) this.matcher.submitOrder(h);
    else this.venue.submit(this.orders.at(h).request());
  }

  /** Send a cancel; the simulated venue reports the order cancelled with `reason` (another venue with its own). */
  private cancelAtVenue(h: number, reason = 'requested'): void {
    if (this.matcher !== null) this.matcher.cancelOrder(h, reason);
    else this.venue.cancel(this.orders.clientOrderId(h));
  }

  /** `order.cancel-requested` (with the reason unless it is 'requested') and the cancel itself. */
  private requestCancel(h: number, reason: string): void {
    this.logCancelRequested(h, reason === 'requested' ? -1 : this.strings.intern(reason));
    this.cancelAtVenue(h, reason);
  }

  /** Release a held bracket exit or OCO leg with a quantity. */
  private release(h: number, quantity: number): void {
    const t = this.table;
    t.quantity[h] = quantity;
    t.transition(h, STATUS_SUBMITTED, this.clockUs);
    const at = this.log.begin(this.events.released, this.clockUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = quantity;
    v[at + 2] = t.oco[h];
    this.log.commit();
    this.send(h);
  }

  /** Cancel by client order id (the strategy API). */
  cancelOrder(clientOrderId: string): void {
    this.cancelHandle(this.requireHandle(clientOrderId));
  }

  /** The handle of a client order id this engine holds; an unknown id is the caller's error (UNKNOWN_ORDER). */
  requireHandle(clientOrderId: string): number {
    const h = this.orders.handleOf(clientOrderId);
    if (h < 0) throw new SimError('UNKNOWN_ORDER', `expected a known client order id, found '${clientOrderId}'`);
    return h;
  }

  private cancelHandle(h: number): void {
    const t = this.table;
    if (t.status[h] === STATUS_HELD) {
      this.cancelHeld(h, 'requested');
      return;
    }
    if (!t.isOpen(h)) return;
    this.logCancelRequested(h, -1);
    this.cancelAtVenue(h);
  }

  /** A held order (bracket exit not yet released) is cancelled in the engine: the venue never had it. */
  private cancelHeld(h: number, reason: string): void {
    const t = this.table;
    t.transition(h, STATUS_CANCELLED, this.clockUs);
    t.reason[h] = this.strings.intern(reason);
    this.logEnded(this.events.cancelled, h);
  }

  modifyOrder(clientOrderId: string, changes: OrderChanges): void {
    this.modifyHandle(this.requireHandle(clientOrderId), changes);
  }

  modifyHandle(h: number, changes: OrderChanges): void {
    const t = this.table;
    if (t.status[h] === STATUS_HELD) {
      this.modifyHeld(h, changes);
      return;
    }
    if (!t.isOpen(h)) return;
    const added = changes.quantity !== undefined ? changes.quantity - t.quantity[h] : 0;
    // Only a smaller order with the same prices, or a reduce-only one, is reducing: a new price goes through the
    // price band (and, while reducing, through the reducing check) like a new order's.
    const priced = changes.limitPriceTicks !== undefined || changes.stopPriceTicks !== undefined;
    const denial = this.risk.checkOrder(t.symbolIndex[h], t.side[h] === SIDE_BUY ? 1 : -1, Math.max(0, added), t.reduceOnly[h] === 1 || (added <= 0 && !priced),
      orNaN(changes.limitPriceTicks), orNaN(changes.stopPriceTicks), NaN, 0, this.riskView);
    if (denial !== null) {
      const at = this.log.begin(this.events.modifyDenied, this.clockUs);
      const v = this.log.values;
      v[at] = h;
      v[at + 1] = this.strings.intern(denial.code);
      v[at + 2] = this.strings.intern(denial.message);
      this.log.commit();
      return;
    }
    const at = this.log.begin(this.events.modifyRequested, this.clockUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = orNaN(changes.quantity);
    v[at + 2] = orNaN(changes.limitPriceTicks);
    v[at + 3] = orNaN(changes.stopPriceTicks);
    this.log.commit();
    if (this.matcher !== null) this.matcher.modifyOrder(h, changes);
    else this.venue.modify(this.orders.clientOrderId(h), changes);
  }

  /**
   * A held bracket exit (its entry has not filled yet) takes new prices in the engine: the venue has not seen it,
   * and it is released with them. Its quantity follows the entry's fills, so a quantity is refused.
   */
  private modifyHeld(h: number, changes: OrderChanges): void {
    const t = this.table;
    if (changes.quantity !== undefined) {
      throw new SimError('ORDER_HELD', `expected only new prices for held exit ${this.orders.clientOrderId(h)} (its quantity follows its entry's fills), found quantity ${changes.quantity}`);
    }
    if (changes.limitPriceTicks !== undefined) t.limitPriceTicks[h] = changes.limitPriceTicks;
    if (changes.stopPriceTicks !== undefined) t.stopPriceTicks[h] = changes.stopPriceTicks;
    this.logModified(h);
  }

  /**
   * Grow an open bracket exit by `lots` its entry just filled. No pre-trade risk check (like `release`): an exit
   * only ever closes what its entry opened, and a denial would leave that unprotected. The simulated venue takes
   * the growth as relative (added to what the exit has left when it arrives), so an OCO shrink in the meantime is
   * kept; any other venue gets the exit's absolute size from the bracket's books (what its entry filled less what
   * its exits filled, plus the exit's own fills), and `onModified` corrects a size that a race left too large.
   */
  private growExit(exit: number, entry: number, lots: number): void {
    const t = this.table;
    const size = t.filledQuantity[exit] + t.filledQuantity[entry] - t.exitFilledQuantity[entry];
    const at = this.log.begin(this.events.modifyRequested, this.clockUs);
    const v = this.log.values;
    v[at] = exit;
    v[at + 1] = size;
    v[at + 2] = NaN;
    v[at + 3] = NaN;
    this.log.commit();
    if (this.matcher !== null) this.matcher.growOrder(exit, lots);
    else this.venue.modify(this.orders.clientOrderId(exit), { quantity: size });
  }

  /** The exits of an entry (held ones are cancelled in the engine). */
  private cancelHeldExits(entry: number, reason: string): void {
    const t = this.table;
    const stopLoss = t.stopLoss[entry];
    const takeProfit = t.takeProfit[entry];
    if (stopLoss >= 0 && t.status[stopLoss] === STATUS_HELD) this.cancelHeld(stopLoss, reason);
    if (takeProfit >= 0 && t.status[takeProfit] === STATUS_HELD) this.cancelHeld(takeProfit, reason);
  }

  private cancelAllOpen(reason: string, symbolIndex?: number): void {
    // Held bracket exits belong to an open entry or to a filled one whose exits are open; find them through it.
    for (const h of this.open.sorted()) {
      if (symbolIndex !== undefined && this.table.symbolIndex[h] !== symbolIndex) continue;
      this.cancelHeldExits(h, reason);
      this.requestCancel(h, reason);
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
      this.newOrder(s, position > 0 ? SIDE_SELL : SIDE_BUY, TYPE_MARKET, Math.abs(position), TIF_GTC, true, NaN, NaN, NaN, ROLE_FLATTEN, -1, false, NaN, skipRisk);
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
    const tif = codeOf(TIMES_IN_FORCE, spec.timeInForce ?? 'gtc');
    const long = spec.side === 'buy';
    const side = long ? SIDE_BUY : SIDE_SELL;
    const exitSide = long ? SIDE_SELL : SIDE_BUY;
    if (long ? !(stopTicks < targetTicks) : !(stopTicks > targetTicks)) {
      throw new SimError('BAD_BRACKET', `expected the stop-loss ${long ? 'below' : 'above'} the take-profit for a ${spec.side} bracket, found stop ${spec.stopLoss}, target ${spec.takeProfit}`);
    }
    const tag = spec.tag === undefined ? -1 : this.strings.intern(spec.tag);
    const entryType = spec.entry.type;
    const entryPriceTicks = entryType === 'market' ? NaN : this.priceToTicks(s, spec.entry.price);
    // Exits are created first (held), so a denied entry can cancel them in the same step.
    const stopLoss = this.newOrder(s, exitSide, TYPE_STOP, quantity, TIF_GTC, true, NaN, stopTicks, NaN, ROLE_STOP_LOSS, tag, true, NaN, false);
    const takeProfit = this.newOrder(s, exitSide, TYPE_LIMIT, quantity, TIF_GTC, true, targetTicks, NaN, NaN, ROLE_TAKE_PROFIT, tag, true, NaN, false);
    const t = this.table;
    t.oco[stopLoss] = takeProfit;
    t.oco[takeProfit] = stopLoss;
    const entry = this.newOrder(s, side, entryType === 'market' ? TYPE_MARKET : entryType === 'limit' ? TYPE_LIMIT : TYPE_STOP, quantity, tif, false,
      entryType === 'limit' ? entryPriceTicks : NaN, entryType === 'stop' ? entryPriceTicks : NaN, NaN, ROLE_ENTRY, tag, false, stopTicks, false);
    t.stopLoss[entry] = stopLoss;
    t.takeProfit[entry] = takeProfit;
    t.parent[stopLoss] = entry;
    t.parent[takeProfit] = entry;
    if (t.status[entry] === STATUS_DENIED) {
      this.cancelHeld(stopLoss, 'parent-denied');
      this.cancelHeld(takeProfit, 'parent-denied');
    }
    return { entry: this.orders.clientOrderId(entry), stopLoss: this.orders.clientOrderId(stopLoss), takeProfit: this.orders.clientOrderId(takeProfit) };
  }

  /** Two orders where a fill of one cancels or shrinks the other: created held, linked, then sent together. */
  ocoPair(s: number, side: number, quantity: number, first: { type: 'limit' | 'stop'; priceTicks: number }, second: { type: 'limit' | 'stop'; priceTicks: number },
    timeInForce: number, reduceOnly: boolean, tag: number): [number, number] {
    const make = (leg: { type: 'limit' | 'stop'; priceTicks: number }): number => this.newOrder(s, side, leg.type === 'limit' ? TYPE_LIMIT : TYPE_STOP, quantity, timeInForce,
      reduceOnly, leg.type === 'limit' ? leg.priceTicks : NaN, leg.type === 'stop' ? leg.priceTicks : NaN, NaN, ROLE_PLAIN, tag, true, NaN, false);
    const a = make(first);
    const b = make(second);
    const t = this.table;
    t.oco[a] = b;
    t.oco[b] = a;
    // One risk check for the pair (both legs carry the same exposure; both count as open orders; both legs' prices
    // must pass the price band).
    const denial = this.risk.checkOrder(s, side === SIDE_BUY ? 1 : -1, t.quantity[a], t.reduceOnly[a] === 1, t.limitPriceTicks[a], t.stopPriceTicks[a], NaN, 2, this.riskView,
      t.limitPriceTicks[b], t.stopPriceTicks[b]);
    if (denial !== null) {
      for (const leg of [a, b]) {
        t.status[leg] = STATUS_DENIED;
        t.reason[leg] = this.strings.intern(denial.code);
        this.logDenied(leg, denial);
      }
      return [a, b];
    }
    this.release(a, t.quantity[a]);
    this.release(b, t.quantity[b]);
    return [a, b];
  }

  // ------------------------------------------------------------------------------------------------------
  // Events the order path writes

  /**
   * `order.submitted` or `order.held` of the order just added as row `h`, written from the values the row was
   * given rather than read back from a dozen columns.
   */
  private logSubmitted(schema: number, h: number, s: number, side: number, type: number, quantity: number, timeInForce: number, reduceOnly: boolean,
    limitTicks: number, stopTicks: number, trailTicks: number, role: number): void {
    const at = this.log.begin(schema, this.clockUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = this.symbolStrings[s];
    v[at + 2] = this.sideStrings[side];
    v[at + 3] = this.typeStrings[type];
    v[at + 4] = quantity;
    v[at + 5] = this.timeInForceStrings[timeInForce];
    v[at + 6] = limitTicks;
    v[at + 7] = stopTicks;
    v[at + 8] = trailTicks;
    v[at + 9] = reduceOnly ? 1 : 0;
    v[at + 10] = this.roleStrings[role];
    v[at + 11] = this.epoch;
    this.log.commit();
  }

  private logDenied(h: number, denial: RiskDenial): void {
    const t = this.table;
    const at = this.log.begin(this.events.denied, this.clockUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = this.symbolStrings[t.symbolIndex[h]];
    v[at + 2] = this.sideStrings[t.side[h]];
    v[at + 3] = this.typeStrings[t.type[h]];
    v[at + 4] = t.quantity[h];
    v[at + 5] = this.strings.intern(denial.code);
    v[at + 6] = this.strings.intern(denial.message);
    this.log.commit();
  }

  /** `order.cancel-requested`, with a reason (interned) or without (-1). */
  private logCancelRequested(h: number, reason: number): void {
    const at = this.log.begin(reason < 0 ? this.events.cancelRequested : this.events.cancelRequestedFlat, this.clockUs);
    this.log.values[at] = h;
    if (reason >= 0) this.log.values[at + 1] = reason;
    this.log.commit();
  }

  /** `order.cancelled` or `order.expired` with the order's reason. */
  private logEnded(schema: number, h: number): void {
    const at = this.log.begin(schema, this.clockUs);
    this.log.values[at] = h;
    this.log.values[at + 1] = this.table.reason[h];
    this.log.commit();
  }

  private logIdCode(schema: number, h: number, code: string): void {
    const at = this.log.begin(schema, this.clockUs);
    this.log.values[at] = h;
    this.log.values[at + 1] = this.strings.intern(code);
    this.log.commit();
  }

  // ------------------------------------------------------------------------------------------------------
  // Reports from the venue: the simulated venue's by handle (VenueListener), any other's as ExecutionReport
  // objects (onReport); both go through the same handlers.

  venueAccepted(h: number, venueOrderNumber: number): void {
    this.table.venueOrderNumber[h] = venueOrderNumber;
    this.table.transition(h, STATUS_ACCEPTED, this.clockUs);
    const at = this.log.begin(this.events.acceptedSimulated, this.clockUs);
    this.log.values[at] = h;
    this.log.values[at + 1] = venueOrderNumber;
    this.log.commit();
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
  }

  venueRejected(h: number, code: string, reason: string): void {
    this.onRejected(h, code, reason);
  }

  venueTriggered(h: number): void {
    this.onTriggered(h);
  }

  venueFilled(h: number, quantity: number, priceTicks: number, feeCash: number, taker: boolean, fillNumber: number): void {
    this.onFill(h, this.table.side[h], quantity, priceTicks, feeCash, taker, fillNumber, null);
  }

  venueCancelled(h: number, reason: string): void {
    this.onEnded(h, STATUS_CANCELLED, reason);
  }

  venueExpired(h: number): void {
    this.onEnded(h, STATUS_EXPIRED, 'day');
  }

  venueModified(h: number, changes: OrderChanges): void {
    this.onModified(h, changes);
  }

  venueModifyRejected(h: number, code: string): void {
    this.onRefused(h, this.events.modifyRejected, code);
  }

  venueCancelRejected(h: number, code: string): void {
    this.onRefused(h, this.events.cancelRejected, code);
  }

  onReport(report: ExecutionReport): void {
    const h = this.orders.handleOf(report.clientOrderId);
    if (h < 0) {
      this.log.append(this.clockUs, 'report.orphan', { id: report.clientOrderId, type: report.type });
      return;
    }
    switch (report.type) {
      case 'accepted': {
        const t = this.table;
        t.venueOrderIds.set(h, report.venueOrderId);
        t.transition(h, STATUS_ACCEPTED, this.clockUs);
        const at = this.log.begin(this.events.accepted, this.clockUs);
        this.log.values[at] = h;
        this.log.values[at + 1] = this.strings.intern(report.venueOrderId);
        this.log.commit();
        if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
        return;
      }
      case 'rejected': return this.onRejected(h, report.code, report.reason);
      case 'triggered': return this.onTriggered(h);
      case 'fill':
        return this.onFill(h, report.side === 'buy' ? SIDE_BUY : SIDE_SELL, report.quantity, report.priceTicks, report.feeCash, report.liquidity === 'taker', NaN, report.fillId);
      case 'cancelled': return this.onEnded(h, STATUS_CANCELLED, report.reason);
      case 'expired': return this.onEnded(h, STATUS_EXPIRED, 'day');
      case 'modified': return this.onModified(h, report.changes);
      case 'modify-rejected': return this.onRefused(h, this.events.modifyRejected, report.code);
      case 'cancel-rejected': return this.onRefused(h, this.events.cancelRejected, report.code);
    }
  }

  private onRejected(h: number, code: string, reason: string): void {
    const t = this.table;
    this.closeOrder(h);
    t.transition(h, STATUS_REJECTED, this.clockUs);
    t.reason[h] = this.strings.intern(code);
    const at = this.log.begin(this.events.rejected, this.clockUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = t.reason[h];
    v[at + 2] = this.strings.intern(reason);
    this.log.commit();
    this.onEntryDead(h);
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
  }

  private onTriggered(h: number): void {
    if (this.table.status[h] === STATUS_ACCEPTED) this.table.transition(h, STATUS_TRIGGERED, this.clockUs);
    const at = this.log.begin(this.events.triggered, this.clockUs);
    this.log.values[at] = h;
    this.log.commit();
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
  }

  private onEnded(h: number, status: number, reason: string): void {
    const t = this.table;
    this.closeOrder(h);
    t.transition(h, status, this.clockUs);
    t.reason[h] = this.strings.intern(reason);
    this.logEnded(status === STATUS_EXPIRED ? this.events.expired : this.events.cancelled, h);
    this.onEntryDead(h);
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
    const role = t.role[h];
    if ((role === ROLE_STOP_LOSS || role === ROLE_TAKE_PROFIT) && t.parent[h] >= 0) this.reprotectBracket(t.parent[h]);
  }

  private onModified(h: number, changes: OrderChanges): void {
    const t = this.table;
    if (changes.quantity !== undefined) {
      if (t.openSlot[h] >= 0) this.trackWorking(h, changes.quantity - t.quantity[h]);
      t.quantity[h] = changes.quantity;
    }
    if (changes.limitPriceTicks !== undefined) t.limitPriceTicks[h] = changes.limitPriceTicks;
    if (changes.stopPriceTicks !== undefined) t.stopPriceTicks[h] = changes.stopPriceTicks;
    this.logModified(h);
    if (changes.quantity !== undefined && this.matcher === null) this.correctExitSize(h);
  }

  /** `order.modified` with the row's quantity and prices, and the strategy's update. */
  private logModified(h: number): void {
    const t = this.table;
    const at = this.log.begin(this.events.modified, this.clockUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = t.quantity[h];
    v[at + 2] = t.limitPriceTicks[h];
    v[at + 3] = t.stopPriceTicks[h];
    this.log.commit();
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
  }

  /**
   * A venue other than the simulated one sizes exits with absolute quantities: a growth computed before an OCO
   * shrink and applied after it leaves the exit larger than what its bracket holds. Send the right size again.
   */
  private correctExitSize(h: number): void {
    const t = this.table;
    const entry = t.parent[h];
    if (entry < 0 || !t.isOpen(h) || (t.role[h] !== ROLE_STOP_LOSS && t.role[h] !== ROLE_TAKE_PROFIT)) return;
    const holds = t.filledQuantity[entry] - t.exitFilledQuantity[entry];
    if (holds > 0 && t.remaining(h) > holds) this.growExit(h, entry, holds - t.remaining(h));
  }

  private onRefused(h: number, schema: number, code: string): void {
    this.logIdCode(schema, h, code);
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
  }

  /** An entry that ends without any fill takes its held exits with it. */
  private onEntryDead(h: number): void {
    const t = this.table;
    if (t.role[h] !== ROLE_ENTRY || t.filledQuantity[h] > 0) return;
    this.cancelHeldExits(h, 'parent-ended');
  }

  /** A fill; `fillNumber` is the simulated venue's ('F' + number), else `fillId` is the venue's own id. */
  private onFill(h: number, side: number, quantity: number, priceTicks: number, feeCash: number, taker: boolean, fillNumber: number, fillId: string | null): void {
    const timeUs = this.clockUs;
    const t = this.table;
    if (t.status[h] === STATUS_SUBMITTED) t.transition(h, STATUS_ACCEPTED, timeUs);
    if (!(quantity > 0 && quantity <= t.quantity[h] - t.filledQuantity[h])) invariantFailed(`fill of ${quantity} exceeds the remaining ${t.remaining(h)} of ${this.orders.clientOrderId(h)}`);
    if (t.openSlot[h] >= 0) this.trackWorking(h, -quantity);
    t.filledQuantity[h] += quantity;
    t.filledNotionalTickLots[h] += quantity * priceTicks;
    t.feesCash[h] += feeCash;
    const done = t.filledQuantity[h] === t.quantity[h];
    t.transition(h, done ? STATUS_FILLED : STATUS_PARTIAL, timeUs);
    if (done) this.open.remove(h);
    const role = t.role[h];
    const isExit = role === ROLE_STOP_LOSS || role === ROLE_TAKE_PROFIT;
    const entry = isExit ? t.parent[h] : -1;
    if (entry >= 0) t.exitFilledQuantity[entry] += quantity;
    const s = t.symbolIndex[h];
    const portfolio = this.portfolio;
    portfolio.applySignedFill(s, side === SIDE_BUY ? 1 : -1, quantity, priceTicks, feeCash, timeUs);
    if (this.config.checkLedger) portfolio.assertConsistent();
    const position = portfolio.position[s];
    const at = this.log.begin(fillId === null ? this.events.filledSimulated : this.events.filled, timeUs);
    const v = this.log.values;
    v[at] = h;
    v[at + 1] = fillId === null ? fillNumber : this.strings.intern(fillId);
    v[at + 2] = this.symbolStrings[s];
    v[at + 3] = this.sideStrings[side];
    v[at + 4] = quantity;
    v[at + 5] = priceTicks;
    v[at + 6] = feeCash;
    v[at + 7] = taker ? this.takerString : this.makerString;
    v[at + 8] = position;
    v[at + 9] = this.statusStrings[t.status[h]];
    this.log.commit();
    // Only a reduce-only order can be stranded, and most flat fills leave none open.
    if (position === 0 && this.open.reduceOnlyCount > 0) this.cancelStrandedExits(h);
    if (role === ROLE_ENTRY) this.onEntryFill(h, quantity);
    else if (isExit && !this.nativeOco) this.onExitFillEmulated(h, quantity, done);
    if (entry >= 0) {
      // An exit that filled completely closed its bracket: the rest of the entry is cancelled (the semantics of
      // IB's and NautilusTrader's brackets), so that later entry fills never open a position without exits.
      if (done && t.isOpen(entry) && t.reason[entry] !== this.bracketClosedString) {
        t.reason[entry] = this.bracketClosedString;
        this.requestCancel(entry, 'bracket-closed');
      }
      if (done) this.reprotectBracket(entry);
    }
    if (this.wantsFills) {
      const view = this.fillCursor;
      view.handle = h;
      view.side = SIDES[side];
      view.quantityLots = quantity;
      view.priceTicks = priceTicks;
      view.feeCash = feeCash;
      view.timeUs = timeUs;
      this.strategy.onFill(this.context, view);
    }
    if (this.wantsOrderUpdates) this.strategy.onOrderUpdate(this.context, this.cursorAt(h));
  }

  /**
   * The position went flat: a reduce-only order left working on the symbol has nothing to protect, and once a new
   * position opens it would close that one (on a venue without native reduce-only it would open one). Cancel every
   * such order, the other legs of OCO pairs included, but for two:
   * - the partner of the exit that just filled completely, which the OCO ends: the venue's when the partner is
   *   working there (a partner still on its way is cancelled here too; the venue also ends it on arrival), the
   *   engine's own (onExitFillEmulated) otherwise;
   * - the order that filled: a reduce-only order's rest ends at the venue when it brings the position to flat.
   */
  private cancelStrandedExits(filled: number): void {
    const t = this.table;
    const s = t.symbolIndex[filled];
    const open = this.open;
    const sibling = t.status[filled] === STATUS_FILLED ? t.oco[filled] : -1;
    const leftToOco = sibling >= 0 && (!this.nativeOco || t.status[sibling] !== STATUS_SUBMITTED);
    let count = 0;
    for (let i = 0; i < open.size; i++) {
      const h = open.handles[i];
      if (h === filled || t.symbolIndex[h] !== s || t.reduceOnly[h] === 0) continue;
      if (h === sibling && leftToOco) continue;
      if (count === this.stranded.length) this.stranded = grown(this.stranded, count * 2);
      this.stranded[count++] = h;
    }
    if (count === 0) return;
    // In sending order.
    const stranded = this.stranded.slice(0, count).sort();
    // The simulated venue reports them cancelled for 'flat' too (another venue with its own reason).
    for (const h of stranded) this.requestCancel(h, 'flat');
  }

  /**
   * Entry filled (in part): release the exits sized to the fill, or grow them by it (see growExit). Exits that
   * already closed the bracket (one filled completely; the entry's rest is being cancelled) get a fresh pair for
   * a fill that still came in (reprotectBracket).
   */
  private onEntryFill(entry: number, quantity: number): void {
    const t = this.table;
    const stopLoss = t.stopLoss[entry];
    const takeProfit = t.takeProfit[entry];
    if (stopLoss < 0 || takeProfit < 0) return;
    if (t.status[stopLoss] === STATUS_HELD) this.release(stopLoss, quantity);
    else if (t.isOpen(stopLoss)) this.growExit(stopLoss, entry, quantity);
    if (t.status[takeProfit] === STATUS_HELD) this.release(takeProfit, quantity);
    else if (t.isOpen(takeProfit)) this.growExit(takeProfit, entry, quantity);
    this.reprotectBracket(entry);
  }

  /**
   * Re-protect a bracket: when both exits of `entry` have ended and one of them filled completely (the bracket was
   * closed by an exit), but the bracket still holds lots (entry fills that came in after the exits were sized:
   * a growth still on its way when an exit filled, or entry fills before its cancel arrived), those lots get a
   * fresh OCO pair at the exits' prices, sized to what the bracket holds and never more than the position. The
   * entry's links point to the new pair from then on. Exits ended any other way (cancelled by the strategy, or
   * because the position went flat) are not replaced.
   */
  private reprotectBracket(entry: number): void {
    const t = this.table;
    const stopLoss = t.stopLoss[entry];
    const takeProfit = t.takeProfit[entry];
    if (stopLoss < 0 || takeProfit < 0) return;
    const slStatus = t.status[stopLoss];
    const tpStatus = t.status[takeProfit];
    if (!isTerminalStatus(slStatus) || !isTerminalStatus(tpStatus)) return;
    if (slStatus !== STATUS_FILLED && tpStatus !== STATUS_FILLED) return;
    const s = t.symbolIndex[entry];
    const position = this.portfolio.position[s] * (t.side[entry] === SIDE_BUY ? 1 : -1);
    const size = Math.min(t.filledQuantity[entry] - t.exitFilledQuantity[entry], position);
    if (!(size > 0)) return;
    const exitSide = t.side[stopLoss];
    const tag = t.tag[entry];
    const newStop = this.newOrder(s, exitSide, TYPE_STOP, size, TIF_GTC, true, NaN, t.stopPriceTicks[stopLoss], NaN, ROLE_STOP_LOSS, tag, true, NaN, false);
    const newTarget = this.newOrder(s, exitSide, TYPE_LIMIT, size, TIF_GTC, true, t.limitPriceTicks[takeProfit], NaN, NaN, ROLE_TAKE_PROFIT, tag, true, NaN, false);
    t.oco[newStop] = newTarget;
    t.oco[newTarget] = newStop;
    t.parent[newStop] = entry;
    t.parent[newTarget] = entry;
    t.stopLoss[entry] = newStop;
    t.takeProfit[entry] = newTarget;
    this.release(newStop, size);
    this.release(newTarget, size);
  }

  /** For venues without native OCO: the engine cancels or shrinks the other exit itself. */
  private onExitFillEmulated(exit: number, quantity: number, done: boolean): void {
    const t = this.table;
    const sibling = t.oco[exit];
    if (sibling < 0 || !t.isOpen(sibling)) return;
    if (done || t.remaining(sibling) <= quantity) this.cancelHandle(sibling);
    else this.modifyHandle(sibling, { quantity: t.quantity[sibling] - quantity });
  }

  // ------------------------------------------------------------------------------------------------------

  openOrderCount(): number {
    return this.open.size;
  }

  /** Open orders, in the order they were sent. */
  openOrders(): IterableIterator<Order> {
    return Array.from(this.open.sorted(), (h) => this.orders.at(h)).values();
  }

  /** Open order handles, in the order they were sent (a copy). */
  openHandles(): Int32Array {
    return this.open.sorted();
  }

  workingQuantity(symbolIndex: number, side: Side): number {
    return this.working[2 * symbolIndex + (side === 'buy' ? 0 : 1)];
  }

  /** What the risk checks read (a class, not closures: see EngineRiskView). */
  readonly riskView: RiskView = new EngineRiskView(this);

  /** The newest market data's time (a bar's end, a tick's time). */
  lastDataTimeUs(): number {
    return this.lastDataUs;
  }

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
    this.queue.pushTask(atUs, this, TASK_TIMER, this.strings.intern(name));
  }

  /** A snapshot of one order for strategies (decimal quantities and prices). */
  orderView(h: number): OrderView {
    const t = this.table;
    const scales = this.scales[t.symbolIndex[h]];
    const limit = t.limitPriceTicks[h];
    const stop = t.stopPriceTicks[h];
    const reason = t.reason[h];
    const tag = t.tag[h];
    return {
      clientOrderId: this.orders.clientOrderId(h), symbol: scales.instrument.symbol, symbolIndex: t.symbolIndex[h], side: SIDES[t.side[h]], type: ORDER_TYPES[t.type[h]], status: STATUSES[t.status[h]],
      role: ROLES[t.role[h]], quantity: t.quantity[h] / scales.lotsPerUnit, filledQuantity: t.filledQuantity[h] / scales.lotsPerUnit,
      limitPrice: Number.isNaN(limit) ? undefined : fromTicks(limit, scales), stopPrice: Number.isNaN(stop) ? undefined : fromTicks(stop, scales),
      reason: reason < 0 ? undefined : this.strings.get(reason), tag: tag < 0 ? undefined : this.strings.get(tag),
    };
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
  adoptOrder(request: OrderRequest, state: {
    status: 'accepted' | 'triggered' | 'partially-filled'; filledQuantity: number; filledNotionalTickLots?: number; venueOrderId?: string; role?: OrderRole;
  }): void {
    const symbolIndex = this.symbolIndex(request.symbol);
    const t = this.table;
    const existing = this.orders.handleOf(request.clientOrderId);
    const superseded = existing >= 0 ? STATUSES[t.status[existing]] : null;
    if (existing >= 0 && !isTerminalStatus(t.status[existing])) invariantFailed(`adopting ${request.clientOrderId} over an order this engine holds ${superseded}`);
    if (!(Number.isSafeInteger(request.quantity) && request.quantity > 0)) invariantFailed(`adopted quantity must be a positive whole number of lots, found ${request.quantity}`);
    if (!(Number.isSafeInteger(state.filledQuantity) && state.filledQuantity >= 0 && state.filledQuantity < request.quantity)) {
      invariantFailed(`adopted filled quantity must be in [0, ${request.quantity}), found ${state.filledQuantity}`);
    }
    // The fills so far at the broker's average price (sum of price x quantity), so the order's average fill price is right.
    const filledNotional = state.filledNotionalTickLots ?? 0;
    if (!(Number.isFinite(filledNotional) && filledNotional >= 0 && (state.filledQuantity === 0 ? filledNotional === 0 : filledNotional >= state.filledQuantity))) {
      invariantFailed(`adopted filled notional must be at least one tick per filled lot (${state.filledQuantity}), found ${filledNotional}`);
    }
    const fields = [symbolIndex, codeOf(SIDES, request.side), codeOf(ORDER_TYPES, request.type), codeOf(TIMES_IN_FORCE, request.timeInForce),
      codeOf(ROLES, state.role ?? 'plain'), codeOf(STATUSES, state.status)] as const;
    const tag = request.tag === undefined ? -1 : this.strings.intern(request.tag);
    let h: number;
    if (existing >= 0) {
      // The adopted order takes the finished one's place (and its creation sequence).
      h = existing;
      t.write(h, ...fields, request.reduceOnly, request.quantity, orNaN(request.limitPriceTicks), orNaN(request.stopPriceTicks), orNaN(request.trailingOffsetTicks),
        request.epoch, this.clockUs, tag);
      t.venueOrderIds.delete(h);
    } else {
      // An id of this session's form at or beyond the next sequence keeps the numbering; any other is its own name.
      const number = this.orders.sequenceOf(request.clientOrderId);
      if (number >= this.orders.nextNumber()) this.orders.resumeAfter(number - 1);
      h = t.add(...fields, request.reduceOnly, request.quantity, orNaN(request.limitPriceTicks), orNaN(request.stopPriceTicks), orNaN(request.trailingOffsetTicks),
        request.epoch, this.clockUs, tag);
      if (this.orders.clientOrderId(h) !== request.clientOrderId) this.orders.name(h, request.clientOrderId);
    }
    t.filledQuantity[h] = state.filledQuantity;
    t.filledNotionalTickLots[h] = filledNotional;
    if (state.venueOrderId !== undefined) t.venueOrderIds.set(h, state.venueOrderId);
    // OCO: a member names its partner by client order id; a partner adopted later is linked when it arrives.
    for (const [waiting, name] of this.adoptedOcoNames) {
      if (name !== request.clientOrderId) continue;
      t.oco[waiting] = h;
      this.adoptedOcoNames.delete(waiting);
    }
    if (request.ocoWithClientOrderId !== undefined) {
      const partner = this.orders.handleOf(request.ocoWithClientOrderId);
      if (partner >= 0) t.oco[h] = partner;
      else this.adoptedOcoNames.set(h, request.ocoWithClientOrderId);
    }
    this.open.add(h);
    this.trackWorking(h, t.remaining(h));
    const order = this.orders.at(h);
    this.log.append(this.clockUs, 'order.adopted', {
      id: order.clientOrderId, symbol: order.symbol, side: order.side, type: order.type, quantity: order.quantity, filled: order.filledQuantity,
      tif: order.timeInForce, limit: order.limitPriceTicks ?? null, stop: order.stopPriceTicks ?? null, trail: order.trailingOffsetTicks ?? null,
      reduceOnly: order.reduceOnly, role: order.role, epoch: order.epoch, oco: request.ocoWithClientOrderId ?? null, status: order.status,
      venueId: order.venueOrderId ?? null, superseded,
    });
  }

  /** Adopted orders waiting for the OCO partner they name (by client order id). */
  private readonly adoptedOcoNames = new Map<number, string>();



}

// The views below are classes, not objects of closures: a closure is a new function per engine, so code optimized
// for one run's closures is thrown away at the next (V8 deoptimizes on "wrong call target" and "weak objects"),
// while a class method is the same function for every engine.

/** What the risk checks read. */
class EngineRiskView implements RiskView {
  constructor(private readonly engine: Engine) {}
  position(s: number): number { return this.engine.portfolio.position[s]; }
  workingQuantity(s: number, side: Side): number { return this.engine.workingQuantity(s, side); }
  openOrderCount(): number { return this.engine.openOrderCount(); }
  lastPriceTicks(s: number): number { return this.engine.portfolio.markTicks[s]; }
  cashPerTickLot(s: number): number { return this.engine.scales[s].cashPerTickLot; }
  grossExposureCash(): number { return this.engine.portfolio.grossExposureCash(); }
  equityCash(): number { return this.engine.portfolio.equityCashValue(); }
  nowUs(): number { return this.engine.nowUs(); }
  lastDataUs(): number { return this.engine.lastDataTimeUs(); }
}

/** The simulated venue's host: the engine's clock and queue. */
class EngineScheduler {
  constructor(private readonly engine: Engine, readonly queue: EventQueue) {}
  nowUs(): number { return this.engine.nowUs(); }
}

/** The portfolio in decimal units, by symbol. */
class EnginePortfolioView implements PortfolioView {
  constructor(private readonly engine: Engine) {}
  position(symbol: string): number {
    const s = this.engine.symbolIndex(symbol);
    return this.engine.portfolio.position[s] / this.engine.scales[s].lotsPerUnit;
  }
  averagePrice(symbol: string): number {
    const s = this.engine.symbolIndex(symbol);
    return fromTicks(this.engine.portfolio.averagePriceTicks(s), this.engine.scales[s]);
  }
  get cash(): number { return this.engine.portfolio.cashCash / CASH_UNITS_PER_CURRENCY; }
  get equity(): number { return this.engine.portfolio.equityCashValue() / CASH_UNITS_PER_CURRENCY; }
  get realizedPnl(): number { return this.engine.portfolio.realizedGrossCash / CASH_UNITS_PER_CURRENCY; }
  get fees(): number { return this.engine.portfolio.feesCash / CASH_UNITS_PER_CURRENCY; }
  unrealizedPnl(): number { return this.engine.portfolio.unrealizedCash() / CASH_UNITS_PER_CURRENCY; }
}

/** The strategy's window onto the engine. */
class EngineContext implements StrategyContext {
  readonly portfolio: PortfolioView;

  constructor(private readonly engine: Engine) {
    this.portfolio = new EnginePortfolioView(engine);
  }

  get nowUs(): number { return this.engine.nowUs(); }
  get instruments(): readonly Instrument[] { return this.engine.config.instruments; }
  get tradingState(): TradingState { return this.engine.tradingState; }
  history(symbol: string): BarHistory { return this.engine.history(symbol); }

  private simple(symbol: string, side: Side, quantity: number, type: number, options: OrderOptions | undefined, limit: number, stop: number, trail: number): string {
    const e = this.engine;
    const s = e.symbolIndex(symbol);
    const handle = e.newOrder(s, side === 'buy' ? SIDE_BUY : SIDE_SELL, type, e.toLots(s, quantity),
      options?.timeInForce === undefined ? TIF_GTC : codeOf(TIMES_IN_FORCE, options.timeInForce), options?.reduceOnly ?? false,
      Number.isNaN(limit) ? NaN : e.priceToTicks(s, limit), Number.isNaN(stop) ? NaN : e.priceToTicks(s, stop), Number.isNaN(trail) ? NaN : e.priceToTicks(s, trail),
      ROLE_PLAIN, options?.tag === undefined ? -1 : e.strings.intern(options.tag), false, NaN, false);
    return e.orders.clientOrderId(handle);
  }

  market(symbol: string, side: Side, quantity: number, options?: OrderOptions): string { return this.simple(symbol, side, quantity, TYPE_MARKET, options, NaN, NaN, NaN); }
  limit(symbol: string, side: Side, quantity: number, price: number, options?: OrderOptions): string { return this.simple(symbol, side, quantity, TYPE_LIMIT, options, price, NaN, NaN); }
  stop(symbol: string, side: Side, quantity: number, stopPrice: number, options?: OrderOptions): string { return this.simple(symbol, side, quantity, TYPE_STOP, options, NaN, stopPrice, NaN); }
  stopLimit(symbol: string, side: Side, quantity: number, stopPrice: number, limitPrice: number, options?: OrderOptions): string {
    return this.simple(symbol, side, quantity, TYPE_STOP_LIMIT, options, limitPrice, stopPrice, NaN);
  }
  trailingStop(symbol: string, side: Side, quantity: number, trailingOffset: number, options?: OrderOptions): string {
    return this.simple(symbol, side, quantity, TYPE_TRAILING_STOP, options, NaN, NaN, trailingOffset);
  }
  bracket(spec: BracketSpec): BracketIds { return this.engine.bracket(spec); }

  oco(first: { type: 'limit' | 'stop'; price: number }, second: { type: 'limit' | 'stop'; price: number }, symbol: string, side: Side, quantity: number, options?: OrderOptions): [string, string] {
    const e = this.engine;
    const s = e.symbolIndex(symbol);
    const lots = e.toLots(s, quantity);
    const [a, b] = e.ocoPair(s, side === 'buy' ? SIDE_BUY : SIDE_SELL, lots, { type: first.type, priceTicks: e.priceToTicks(s, first.price) },
      { type: second.type, priceTicks: e.priceToTicks(s, second.price) }, options?.timeInForce === undefined ? TIF_GTC : codeOf(TIMES_IN_FORCE, options.timeInForce),
      options?.reduceOnly ?? false, options?.tag === undefined ? -1 : e.strings.intern(options.tag));
    return [e.orders.clientOrderId(a), e.orders.clientOrderId(b)];
  }

  cancel(clientOrderId: string): void { this.engine.cancelOrder(clientOrderId); }

  modify(clientOrderId: string, changes: { quantity?: number; price?: number; stopPrice?: number }): void {
    const e = this.engine;
    const h = e.requireHandle(clientOrderId);
    const s = e.table.symbolIndex[h];
    e.modifyHandle(h, {
      quantity: changes.quantity === undefined ? undefined : e.toLots(s, changes.quantity),
      limitPriceTicks: changes.price === undefined ? undefined : e.priceToTicks(s, changes.price),
      stopPriceTicks: changes.stopPrice === undefined ? undefined : e.priceToTicks(s, changes.stopPrice),
    });
  }

  cancelAll(symbol?: string): void { this.engine.cancelAll(symbol === undefined ? undefined : this.engine.symbolIndex(symbol)); }
  flatten(symbol?: string): void { this.engine.flatten(symbol === undefined ? undefined : this.engine.symbolIndex(symbol)); }

  order(clientOrderId: string): OrderView | undefined {
    const h = this.engine.orders.handleOf(clientOrderId);
    return h < 0 ? undefined : this.engine.orderView(h);
  }

  workingQuantity(symbol: string, side: Side): number {
    const s = this.engine.symbolIndex(symbol);
    return this.engine.workingQuantity(s, side) / this.engine.scales[s].lotsPerUnit;
  }

  openOrders(symbol?: string): OrderView[] {
    const e = this.engine;
    const s = symbol === undefined ? undefined : e.symbolIndex(symbol);
    const result: OrderView[] = [];
    for (const h of e.openHandles()) {
      if (s === undefined || e.table.symbolIndex[h] === s) result.push(e.orderView(h));
    }
    return result;
  }

  setTimer(atUs: number, name: string): void { this.engine.setTimer(atUs, name); }

  log(message: string, fields?: LogFields): void {
    this.engine.log.append(this.engine.nowUs(), 'log', { message, ...(fields ?? {}) });
  }

  killSwitch(reason: string, flatten: boolean): void { this.engine.killSwitch(reason, flatten); }
}
