// The public strategy API. A strategy is a class with callbacks; it sees the world only through the context:
// the clock, instruments, recent bars, orders, the portfolio and a structured log. The same strategy object
// runs in replay, paper and live: only the engine's ports differ.
//
// Prices and quantities in this API are decimals (2603.1585, 10 shares) for readability; each bar also
// carries its prices in integer ticks (`closeTicks`) for exact arithmetic. `sma-cross` feeds its averages ticks,
// so that a crossover (a strict comparison of two averages) never depends on float rounding; the strategies whose
// levels are only compared with a margin (an EMA trend, an ATR stop, a rolling high, an opening range) use the
// decimal prices.
import type { Instrument, OrderStatus, OrderType, Side, TimeInForce } from '../types.ts';
import type { TradingState } from '../risk/risk-engine.ts';
import type { OrderRole } from '../orders/order.ts';

/** The bar being delivered. A cursor: valid during the callback only; copy what you keep. */
export interface BarView {
  readonly symbol: string;
  readonly symbolIndex: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Traded quantity in instrument units. */
  readonly volume: number;
  readonly openTicks: number;
  readonly highTicks: number;
  readonly lowTicks: number;
  readonly closeTicks: number;
}

/** The trade print being delivered. A cursor, like BarView. */
export interface TickView {
  readonly symbol: string;
  readonly symbolIndex: number;
  readonly timeUs: number;
  readonly price: number;
  readonly priceTicks: number;
  readonly size: number;
}

export interface FillView {
  readonly clientOrderId: string;
  readonly symbol: string;
  /** Index of the symbol in `ctx.instruments`. */
  readonly symbolIndex: number;
  readonly side: Side;
  readonly quantity: number;
  readonly price: number;
  readonly priceTicks: number;
  readonly fee: number;
  readonly timeUs: number;
  readonly role: OrderRole;
}

export interface OrderView {
  readonly clientOrderId: string;
  readonly symbol: string;
  /** Index of the symbol in `ctx.instruments`. */
  readonly symbolIndex: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly status: OrderStatus;
  readonly role: OrderRole;
  readonly quantity: number;
  readonly filledQuantity: number;
  readonly limitPrice: number | undefined;
  readonly stopPrice: number | undefined;
  readonly reason: string | undefined;
  readonly tag: string | undefined;
}

/** Recent completed bars of one symbol, newest first: `close(0)` is the latest bar, `close(1)` the one before. */
export interface BarHistory {
  readonly length: number;
  open(ago?: number): number;
  high(ago?: number): number;
  low(ago?: number): number;
  close(ago?: number): number;
  volume(ago?: number): number;
  closeTicks(ago?: number): number;
  startUs(ago?: number): number;
}

export interface PortfolioView {
  position(symbol: string): number;
  averagePrice(symbol: string): number;
  readonly cash: number;
  readonly equity: number;
  readonly realizedPnl: number;
  readonly fees: number;
  unrealizedPnl(): number;
}

export interface OrderOptions {
  readonly timeInForce?: TimeInForce;
  readonly reduceOnly?: boolean;
  readonly tag?: string;
}

export type BracketEntry = { readonly type: 'market' } | { readonly type: 'limit'; readonly price: number } | { readonly type: 'stop'; readonly price: number };

export interface BracketSpec {
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: number;
  readonly entry: BracketEntry;
  readonly stopLoss: number;
  readonly takeProfit: number;
  readonly timeInForce?: TimeInForce;
  readonly tag?: string;
}

export interface BracketIds {
  readonly entry: string;
  readonly stopLoss: string;
  readonly takeProfit: string;
}

export interface LogFields {
  readonly [key: string]: string | number | boolean | null;
}

export interface StrategyContext {
  /** Current engine time, microseconds since the epoch (UTC). */
  readonly nowUs: number;
  readonly instruments: readonly Instrument[];
  readonly tradingState: TradingState;
  readonly portfolio: PortfolioView;
  /** Recent bars of a symbol. Only completed bars are visible: there is no way to read ahead. */
  history(symbol: string): BarHistory;
  market(symbol: string, side: Side, quantity: number, options?: OrderOptions): string;
  limit(symbol: string, side: Side, quantity: number, price: number, options?: OrderOptions): string;
  stop(symbol: string, side: Side, quantity: number, stopPrice: number, options?: OrderOptions): string;
  stopLimit(symbol: string, side: Side, quantity: number, stopPrice: number, limitPrice: number, options?: OrderOptions): string;
  trailingStop(symbol: string, side: Side, quantity: number, trailingOffset: number, options?: OrderOptions): string;
  /** Entry plus a stop-loss and a take-profit, released as an OCO pair sized to what the entry fills. */
  bracket(spec: BracketSpec): BracketIds;
  /** Two working orders where a fill of one cancels (or shrinks) the other. */
  oco(first: { type: 'limit' | 'stop'; price: number }, second: { type: 'limit' | 'stop'; price: number }, symbol: string, side: Side, quantity: number, options?: OrderOptions): [string, string];
  cancel(clientOrderId: string): void;
  modify(clientOrderId: string, changes: { quantity?: number; price?: number; stopPrice?: number }): void;
  cancelAll(symbol?: string): void;
  /** Market orders that close every position of a symbol (or of all symbols). */
  flatten(symbol?: string): void;
  order(clientOrderId: string): OrderView | undefined;
  /**
   * What open orders that can add to a position (not reduce-only) still have to fill on one side of a symbol, in
   * instrument units: with the position, what the strategy has committed.
   */
  workingQuantity(symbol: string, side: Side): number;
  openOrders(symbol?: string): OrderView[];
  /** Run `onTimer(name)` at a time on the engine clock. */
  setTimer(atUs: number, name: string): void;
  log(message: string, fields?: LogFields): void;
  /** Halt trading: cancel everything, optionally flatten. Only a new run lifts it. */
  killSwitch(reason: string, flatten: boolean): void;
}

/**
 * Base class of every strategy. Override what you need; the defaults do nothing. Each engine calls these
 * from one call site per callback, with one strategy class per run, so the calls stay monomorphic.
 */
export abstract class Strategy {
  /**
   * How many recent bars per symbol `ctx.history` must keep. Zero (the default) keeps none, which saves a copy
   * per bar on the hot path; reading history then fails with HISTORY_DISABLED.
   */
  readonly historyBars: number = 0;
  onStart(_ctx: StrategyContext): void {}
  onBar(_ctx: StrategyContext, _bar: BarView): void {}
  onTick(_ctx: StrategyContext, _tick: TickView): void {}
  onFill(_ctx: StrategyContext, _fill: FillView): void {}
  onOrderUpdate(_ctx: StrategyContext, _order: OrderView): void {}
  onTimer(_ctx: StrategyContext, _name: string): void {}
  onStop(_ctx: StrategyContext): void {}
}
