// Core domain types of the engine: units, instruments, market data columns, orders, execution reports and
// the ports through which time, randomness, ids and venues come in. Everything here is plain data.
//
// Units (see README "Units"):
// - time: integer microseconds since the Unix epoch, UTC (`...Us`), held in a JS number (safe to year 2255);
// - prices: integer ticks of the instrument (`...Ticks`); a tick is 10^-priceScale currency units;
// - quantities: integer lots (`quantity`); a lot is 10^-lotScale units of the instrument;
// - cash: integer cash units of 10^-CASH_SCALE currency (`...Cash`). One tick times one lot is
//   10^(CASH_SCALE - priceScale - lotScale) cash units, an integer by construction, so the ledger is exact.

export const CASH_SCALE = 6;
export const US_PER_MS = 1_000;
export const US_PER_SECOND = 1_000_000;
export const US_PER_MINUTE = 60_000_000;
export const US_PER_DAY = 86_400_000_000;

export type CalendarName = 'us-equity' | 'always-open';

export interface Instrument {
  readonly symbol: string;
  /** Decimal places of a price: a tick is 10^-priceScale. */
  readonly priceScale: number;
  /** Decimal places of a quantity: a lot is 10^-lotScale units. */
  readonly lotScale: number;
  readonly calendar: CalendarName;
}

/**
 * 1-minute (or coarser) bars as columns, ordered by (startUs, symbolIndex). Prices are integer ticks of the
 * instrument at `symbolIndex` in the run's instrument list. `startUs` is the bar's opening instant; a bar
 * is complete (and delivered to strategies) at startUs + intervalUs.
 */
export interface BarColumns {
  readonly kind: 'bars';
  readonly length: number;
  readonly intervalUs: number;
  readonly symbolIndex: Int32Array;
  readonly startUs: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Traded quantity in lots. */
  readonly volume: Float64Array;
}

/** Trade prints (and optional quotes) as columns, ordered by (timeUs, arrival sequence). */
export interface TickColumns {
  readonly kind: 'ticks';
  readonly length: number;
  readonly symbolIndex: Int32Array;
  readonly timeUs: Float64Array;
  /** Trade price in ticks. */
  readonly price: Float64Array;
  /** Trade size in lots. */
  readonly size: Float64Array;
  /** Best bid / ask in ticks at the print, or NaN when unknown. Optional as a whole. */
  readonly bid?: Float64Array;
  readonly ask?: Float64Array;
}

export type MarketDataChunk = BarColumns | TickColumns;

// ---------------------------------------------------------------------------------------------------------
// Orders

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop-limit' | 'trailing-stop';
export type TimeInForce = 'day' | 'gtc' | 'ioc';

/**
 * Order states. `held`: a contingent child (bracket exit) waiting for its parent's fill. `submitted`: sent,
 * not yet acknowledged by the venue. `accepted`: working at the venue. `triggered`: a stop or stop-limit whose
 * trigger was touched. `denied`: refused by the engine's risk checks before it left. `rejected`: refused by
 * the venue.
 */
export type OrderStatus =
  | 'held' | 'submitted' | 'accepted' | 'triggered' | 'partially-filled'
  | 'filled' | 'cancelled' | 'expired' | 'rejected' | 'denied';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['filled', 'cancelled', 'expired', 'rejected', 'denied']);

/** What a strategy (or the engine on its behalf) asks a venue to do. Immutable once sent. */
export interface OrderRequest {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly quantity: number;
  readonly timeInForce: TimeInForce;
  readonly limitPriceTicks?: number;
  readonly stopPriceTicks?: number;
  /** Trailing stops: distance from the best price reached, in ticks. */
  readonly trailingOffsetTicks?: number;
  readonly reduceOnly: boolean;
  /** Set on bracket exits and OCO members: the client order id of the other leg. */
  readonly ocoWithClientOrderId?: string;
  /** Fencing epoch of the leader lock under which this order was sent (0 in single-process mode). */
  readonly epoch: number;
  readonly tag?: string;
}

export interface OrderChanges {
  readonly quantity?: number;
  readonly limitPriceTicks?: number;
  readonly stopPriceTicks?: number;
  readonly trailingOffsetTicks?: number;
}

/** A report from a venue about one order. `venueOrderId` is the venue's own id. */
export type ExecutionReport =
  | { readonly type: 'accepted'; readonly clientOrderId: string; readonly venueOrderId: string; readonly timeUs: number }
  | { readonly type: 'rejected'; readonly clientOrderId: string; readonly code: string; readonly reason: string; readonly timeUs: number }
  | { readonly type: 'triggered'; readonly clientOrderId: string; readonly timeUs: number }
  | {
      readonly type: 'fill';
      readonly clientOrderId: string;
      readonly fillId: string;
      readonly symbol: string;
      readonly side: Side;
      readonly quantity: number;
      readonly priceTicks: number;
      readonly feeCash: number;
      readonly liquidity: 'maker' | 'taker';
      readonly timeUs: number;
    }
  | { readonly type: 'cancelled'; readonly clientOrderId: string; readonly reason: string; readonly timeUs: number }
  | { readonly type: 'expired'; readonly clientOrderId: string; readonly timeUs: number }
  | { readonly type: 'modified'; readonly clientOrderId: string; readonly changes: OrderChanges; readonly timeUs: number }
  | { readonly type: 'modify-rejected'; readonly clientOrderId: string; readonly code: string; readonly reason: string; readonly timeUs: number }
  | { readonly type: 'cancel-rejected'; readonly clientOrderId: string; readonly code: string; readonly reason: string; readonly timeUs: number };

/** What a venue can do natively; the engine emulates the rest (the engine never branches on a venue's name). */
export interface VenueCapabilities {
  readonly orderTypes: readonly OrderType[];
  /** Native OCO: the venue itself guarantees that a fill of one leg cancels or resizes the other. */
  readonly nativeOco: boolean;
  readonly reduceOnly: boolean;
  readonly modify: boolean;
}

/**
 * The execution port. A venue accepts requests and answers, later or at once, through the sink it was
 * given. Implementations: the simulated venue (engine/venue), the paper broker, the Alpaca adapter.
 * Methods never throw for operating errors: a refusal comes back as a `rejected` report.
 */
export interface ExecutionPort {
  readonly capabilities: VenueCapabilities;
  submit(request: OrderRequest): void;
  cancel(clientOrderId: string): void;
  modify(clientOrderId: string, changes: OrderChanges): void;
}

export interface ExecutionSink {
  onReport(report: ExecutionReport): void;
}

// ---------------------------------------------------------------------------------------------------------
// Ports for time, randomness and ids. The engine never reads a wall clock or an unseeded source.

export interface Clock {
  /** Current time in microseconds since the epoch, UTC. */
  nowUs(): number;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer uniform in [0, n). */
  int(n: number): number;
  /** An independent, reproducible stream for a named consumer. */
  child(name: string): Rng;
}

export interface IdSource {
  /** The next id in a named sequence: `${prefix}-${n}`, n counting from 1 per prefix. */
  next(prefix: string): string;
}
