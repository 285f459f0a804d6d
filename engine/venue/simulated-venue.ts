// The simulated venue: an exchange in the engine's process, deterministic for a given seed. It accepts
// requests after a latency, keeps a book of working orders per symbol, matches them against bars or ticks,
// charges fees and slippage, bounds fills by a share of the traded volume, enforces reduce-only, and runs
// OCO pairs natively (a fill of one leg cancels or shrinks the other atomically).
//
// Bar mode. A bar is a path of prices through time; the venue walks it segment by segment:
//   open -> first extreme -> second extreme -> close.
// Which extreme comes first is the intrabar path policy:
//   - 'stop-first' (default, conservative): the extreme that hurts the position held at the bar's open comes
//     first (the low for a long, the high for a short), so when a stop and a target are both inside one bar the
//     stop fills. When flat, the extreme nearer the open comes first.
//   - 'target-first': the opposite order (optimistic), for comparison.
// Along each segment orders fill in the order the price reaches them; a price that opens beyond an order's
// level (a gap) fills at the open, which is how a gap through a stop costs more than the stop. Market orders
// fill at the open of the first bar that starts at or after their arrival ('next-open'), or on arrival at the
// last price ('close': the close of the bar on which they were sent, when latency is zero). Intrabar fills
// carry the bar's start time. Orders that arrive during a bar wait for the next one.
//
// Tick mode. Each trade print is a point: market orders take the print (or the ask/bid when the tick has
// quotes), limits fill when the print trades through them at the better of the limit and the print, stops
// trigger when the print reaches them and fill at the print.
import type {
  ExecutionPort, ExecutionReport, ExecutionSink, OrderChanges, OrderRequest, OrderType, VenueCapabilities,
} from '../types.ts';
import type { InstrumentScales } from '../core/instruments.ts';
import type { TradingCalendar } from '../core/time.ts';
import { calendarFor } from '../core/time.ts';
import type { SeededRng } from '../core/rng.ts';
import { invariant, invariantFailed } from '../errors.ts';

export type FillMode = 'next-open' | 'close';
export type IntrabarPolicy = 'stop-first' | 'target-first';
export type LatencyModel =
  | { readonly kind: 'fixed'; readonly latencyUs: number }
  | { readonly kind: 'uniform'; readonly minUs: number; readonly maxUs: number };

export interface SimulatedVenueOptions {
  readonly fillMode: FillMode;
  readonly intrabarPolicy: IntrabarPolicy;
  /** Adverse slippage on market and stop fills, in basis points of the price. */
  readonly slippageBps: number;
  /** Adverse slippage on market and stop fills, in ticks (added to the bps part). */
  readonly slippageTicks: number;
  readonly feeBps: number;
  /** Minimum fee per order (charged on its first fill), in cash units. */
  readonly feeMinimumCash: number;
  readonly latency: LatencyModel;
  /** Largest share of a bar's or tick's volume one symbol's orders may take, in (0, 1]. */
  readonly maxVolumeShare: number;
  /** Reject orders whose fencing epoch is older than the newest seen. */
  readonly fenceEpochs: boolean;
}

export const DEFAULT_VENUE_OPTIONS: SimulatedVenueOptions = {
  fillMode: 'next-open',
  intrabarPolicy: 'stop-first',
  slippageBps: 0,
  slippageTicks: 0,
  feeBps: 0,
  feeMinimumCash: 0,
  latency: { kind: 'fixed', latencyUs: 0 },
  maxVolumeShare: 1,
  fenceEpochs: true,
};

/** What the venue needs from its host: the time, a way to run something later, and randomness. */
export interface VenueScheduler {
  nowUs(): number;
  schedule(timeUs: number, run: () => void): void;
}

const enum Stage { Pending, Working, Triggered, Done }

class VenueOrder {
  stage = Stage.Pending;
  remaining: number;
  filled = 0;
  stopTicks: number;
  limitTicks: number;
  type: OrderType;
  /** Trailing stops: best price reached since acceptance. */
  extremeTicks = NaN;
  oco: VenueOrder | null = null;
  feesCharged = false;
  /** IOC orders are cancelled after their first matching pass. */
  matchedOnce = false;
  constructor(
    readonly request: OrderRequest,
    readonly venueOrderId: string,
    readonly symbolIndex: number,
    readonly sign: 1 | -1,
    readonly priority: number,
  ) {
    this.remaining = request.quantity;
    this.stopTicks = request.stopPriceTicks ?? NaN;
    this.limitTicks = request.limitPriceTicks ?? NaN;
    this.type = request.type;
  }
}

const CAPABILITIES: VenueCapabilities = {
  orderTypes: ['market', 'limit', 'stop', 'stop-limit', 'trailing-stop'],
  nativeOco: true,
  reduceOnly: true,
  modify: true,
};

export class SimulatedVenue implements ExecutionPort {
  readonly capabilities = CAPABILITIES;
  readonly options: SimulatedVenueOptions;
  /** Venue-side positions per symbol (for reduce-only), in lots. */
  readonly position: Float64Array;
  /** Last traded price per symbol in ticks. */
  readonly lastPriceTicks: Float64Array;
  /** Working orders per symbol (read by the engine's bar loop to skip empty books). */
  readonly books: readonly (readonly unknown[])[];
  private readonly book: VenueOrder[][];
  /** Every order received, by client order id (also how duplicates are refused). */
  private readonly byClientId = new Map<string, VenueOrder>();
  private readonly symbolIndexBySymbol = new Map<string, number>();
  private readonly calendars: TradingCalendar[];
  private readonly latencyRng: SeededRng;
  private nextPriority = 0;
  private nextFill = 0;
  private newestEpoch = 0;
  private sink: ExecutionSink | null = null;
  private scheduler: VenueScheduler | null = null;
  /** Scratch: current bar's path points. */
  private readonly path = new Float64Array(4);

  constructor(readonly scales: readonly InstrumentScales[], options: Partial<SimulatedVenueOptions>, rng: SeededRng) {
    this.options = { ...DEFAULT_VENUE_OPTIONS, ...options };
    if (!(this.options.maxVolumeShare > 0 && this.options.maxVolumeShare <= 1)) invariantFailed(`maxVolumeShare must be in (0, 1], found ${this.options.maxVolumeShare}`);
    const n = scales.length;
    this.position = new Float64Array(n);
    this.lastPriceTicks = new Float64Array(n).fill(NaN);
    this.book = scales.map(() => []);
    this.books = this.book;
    this.calendars = scales.map((s) => calendarFor(s.instrument.calendar));
    scales.forEach((s, i) => this.symbolIndexBySymbol.set(s.instrument.symbol, i));
    this.latencyRng = rng.child('venue.latency');
  }

  attach(sink: ExecutionSink, scheduler: VenueScheduler): void {
    this.sink = sink;
    this.scheduler = scheduler;
  }

  /** Number of working orders on a symbol (the engine's fast path skips matching when zero). */
  workingCount(symbolIndex: number): number {
    return this.book[symbolIndex].length;
  }

  // ----------------------------------------------------------------------------------------------------
  // ExecutionPort: every request travels for the latency, then takes effect.

  submit(request: OrderRequest): void {
    this.afterLatency(() => this.arrive(request));
  }

  cancel(clientOrderId: string): void {
    this.afterLatency(() => {
      const order = this.byClientId.get(clientOrderId);
      const now = this.now();
      if (!order || order.stage === Stage.Done) {
        this.emit({ type: 'cancel-rejected', clientOrderId, code: 'ORDER_NOT_WORKING', reason: `expected a working order ${clientOrderId}, found ${order ? 'a finished one' : 'none'}`, timeUs: now });
        return;
      }
      this.finish(order, 'cancelled', 'requested', now);
    });
  }

  modify(clientOrderId: string, changes: OrderChanges): void {
    this.afterLatency(() => {
      const order = this.byClientId.get(clientOrderId);
      const now = this.now();
      if (!order || order.stage === Stage.Done) {
        this.emit({ type: 'modify-rejected', clientOrderId, code: 'ORDER_NOT_WORKING', reason: `expected a working order ${clientOrderId}, found ${order ? 'a finished one' : 'none'}`, timeUs: now });
        return;
      }
      if (changes.quantity !== undefined) {
        if (!Number.isSafeInteger(changes.quantity) || changes.quantity <= order.filled) {
          this.emit({ type: 'modify-rejected', clientOrderId, code: 'MODIFY_QUANTITY', reason: `expected a new quantity above the filled ${order.filled}, found ${changes.quantity}`, timeUs: now });
          return;
        }
        order.remaining = changes.quantity - order.filled;
      }
      if (changes.limitPriceTicks !== undefined) order.limitTicks = changes.limitPriceTicks;
      if (changes.stopPriceTicks !== undefined) order.stopTicks = changes.stopPriceTicks;
      this.emit({ type: 'modified', clientOrderId, changes, timeUs: now });
    });
  }

  // ----------------------------------------------------------------------------------------------------

  private now(): number {
    return this.scheduler!.nowUs();
  }

  private emit(report: ExecutionReport): void {
    this.sink!.onReport(report);
  }

  private afterLatency(run: () => void): void {
    const scheduler = this.scheduler;
    invariant(scheduler !== null && this.sink !== null, 'venue used before attach()');
    const latency = this.options.latency;
    const delayUs = latency.kind === 'fixed'
      ? latency.latencyUs
      : latency.minUs + Math.floor(this.latencyRng.next() * (latency.maxUs - latency.minUs + 1));
    scheduler.schedule(scheduler.nowUs() + delayUs, run);
  }

  private arrive(request: OrderRequest): void {
    const now = this.now();
    const reject = (code: string, reason: string): void => this.emit({ type: 'rejected', clientOrderId: request.clientOrderId, code, reason, timeUs: now });
    if (this.byClientId.has(request.clientOrderId)) return reject('DUPLICATE_CLIENT_ORDER_ID', `expected a new client order id, found ${request.clientOrderId} again`);
    const symbolIndex = this.symbolIndexBySymbol.get(request.symbol);
    if (symbolIndex === undefined) return reject('UNKNOWN_SYMBOL', `expected a listed symbol, found ${request.symbol}`);
    if (this.options.fenceEpochs) {
      if (request.epoch < this.newestEpoch) return reject('STALE_EPOCH', `expected fencing epoch >= ${this.newestEpoch}, found ${request.epoch}`);
      this.newestEpoch = request.epoch;
    }
    if (!Number.isSafeInteger(request.quantity) || request.quantity <= 0) return reject('BAD_QUANTITY', `expected a positive whole number of lots, found ${request.quantity}`);
    const needsLimit = request.type === 'limit' || request.type === 'stop-limit';
    const needsStop = request.type === 'stop' || request.type === 'stop-limit';
    if (needsLimit && !(Number.isSafeInteger(request.limitPriceTicks) && request.limitPriceTicks! > 0)) return reject('BAD_PRICE', `expected a positive limit price, found ${request.limitPriceTicks}`);
    if (needsStop && !(Number.isSafeInteger(request.stopPriceTicks) && request.stopPriceTicks! > 0)) return reject('BAD_PRICE', `expected a positive stop price, found ${request.stopPriceTicks}`);
    if (request.type === 'trailing-stop' && !(Number.isSafeInteger(request.trailingOffsetTicks) && request.trailingOffsetTicks! > 0)) return reject('BAD_PRICE', `expected a positive trailing offset, found ${request.trailingOffsetTicks}`);

    const order = new VenueOrder(request, `V${++this.nextPriority}`, symbolIndex, request.side === 'buy' ? 1 : -1, this.nextPriority);
    this.byClientId.set(request.clientOrderId, order);
    order.stage = Stage.Working;
    if (order.type === 'trailing-stop') {
      const last = this.lastPriceTicks[symbolIndex];
      order.extremeTicks = last;
      order.stopTicks = Number.isNaN(last) ? NaN : last + order.sign * request.trailingOffsetTicks!;
    }
    if (request.ocoWithClientOrderId !== undefined) {
      const sibling = this.byClientId.get(request.ocoWithClientOrderId);
      if (sibling && sibling.stage !== Stage.Done) {
        order.oco = sibling;
        sibling.oco = order;
      }
    }
    this.book[symbolIndex].push(order);
    this.emit({ type: 'accepted', clientOrderId: request.clientOrderId, venueOrderId: order.venueOrderId, timeUs: now });

    if (request.timeInForce === 'day') {
      const closeUs = this.calendars[symbolIndex].nextSessionCloseUs(now);
      this.scheduler!.schedule(closeUs, () => {
        if (order.stage !== Stage.Done) this.finish(order, 'expired', 'day', closeUs);
      });
    }
    if (this.options.fillMode === 'close' && order.type === 'market' && !Number.isNaN(this.lastPriceTicks[symbolIndex])) {
      this.fillAt(order, order.remaining, this.lastPriceTicks[symbolIndex], true, now);
      if ((order.stage as Stage) !== Stage.Done && request.timeInForce === 'ioc') this.finish(order, 'cancelled', 'ioc', now);
    }
  }

  private finish(order: VenueOrder, how: 'cancelled' | 'expired', reason: string, timeUs: number): void {
    this.remove(order);
    if (how === 'expired') this.emit({ type: 'expired', clientOrderId: order.request.clientOrderId, timeUs });
    else this.emit({ type: 'cancelled', clientOrderId: order.request.clientOrderId, reason, timeUs });
  }

  private remove(order: VenueOrder): void {
    order.stage = Stage.Done;
    const list = this.book[order.symbolIndex];
    const at = list.indexOf(order);
    if (at >= 0) list.splice(at, 1);
    if (order.oco && order.oco.oco === order) order.oco.oco = null;
  }

  /** Slippage-adjusted taker price, rounded against the taker. */
  private takerPrice(sign: 1 | -1, priceTicks: number): number {
    const { slippageBps, slippageTicks } = this.options;
    if (slippageBps === 0 && slippageTicks === 0) return priceTicks;
    const slipped = priceTicks * (1 + (sign * slippageBps) / 10_000) + sign * slippageTicks;
    return Math.max(1, sign > 0 ? Math.ceil(slipped - 1e-9) : Math.floor(slipped + 1e-9));
  }

  /**
   * Fill up to `quantity` of an order at `priceTicks` (before slippage for takers). Returns the quantity filled.
   * Enforces reduce-only against the venue position, charges the fee, runs OCO and reports.
   */
  private fillAt(order: VenueOrder, quantity: number, priceTicks: number, taker: boolean, timeUs: number): number {
    const s = order.symbolIndex;
    let take = Math.min(quantity, order.remaining);
    if (order.request.reduceOnly) {
      const position = this.position[s];
      const closable = position * order.sign < 0 ? Math.abs(position) : 0;
      if (closable === 0) {
        this.finish(order, 'cancelled', 'reduce-only: no position to reduce', timeUs);
        return 0;
      }
      take = Math.min(take, closable);
    }
    if (take <= 0) return 0;
    const price = taker ? this.takerPrice(order.sign, priceTicks) : priceTicks;
    const scales = this.scales[s];
    const notionalCash = take * price * scales.cashPerTickLot;
    let feeCash = this.options.feeBps === 0 ? 0 : Math.ceil((notionalCash * this.options.feeBps) / 10_000 - 1e-9);
    if (!order.feesCharged) {
      feeCash = Math.max(feeCash, this.options.feeMinimumCash);
      order.feesCharged = true;
    }
    order.remaining -= take;
    order.filled += take;
    this.position[s] += order.sign * take;
    this.lastPriceTicks[s] = price;
    const done = order.remaining === 0;
    if (done) this.remove(order);
    this.emit({
      type: 'fill', clientOrderId: order.request.clientOrderId, fillId: `F${++this.nextFill}`, symbol: order.request.symbol,
      side: order.request.side, quantity: take, priceTicks: price, feeCash, liquidity: taker ? 'taker' : 'maker', timeUs,
    });
    const sibling = order.oco;
    if (sibling !== null && sibling.stage !== Stage.Done) {
      if (done) {
        this.finish(sibling, 'cancelled', 'oco', timeUs);
      } else {
        sibling.remaining -= take;
        if (sibling.remaining <= 0) this.finish(sibling, 'cancelled', 'oco', timeUs);
        else this.emit({ type: 'modified', clientOrderId: sibling.request.clientOrderId, changes: { quantity: sibling.filled + sibling.remaining }, timeUs });
      }
    }
    return take;
  }

  // ----------------------------------------------------------------------------------------------------
  // Bar mode

  /**
   * Match the working orders of one symbol against one bar. Called by the engine with the clock at the
   * bar's start, before strategies see the bar. `volume` is in lots, like tick sizes.
   */
  onBar(symbolIndex: number, startUs: number, open: number, high: number, low: number, close: number, volume: number): void {
    // Small enough to inline into the engine's loop: most bars meet an empty book.
    if (this.book[symbolIndex].length === 0) this.lastPriceTicks[symbolIndex] = close;
    else this.matchBar(symbolIndex, startUs, open, high, low, close, volume);
  }

  private matchBar(symbolIndex: number, startUs: number, open: number, high: number, low: number, close: number, volume: number): void {
    const book = this.book[symbolIndex];
    const path = this.path;
    const position = this.position[symbolIndex];
    let lowFirst: boolean;
    if (position !== 0) lowFirst = position > 0;
    else lowFirst = open - low <= high - open;
    if (this.options.intrabarPolicy === 'target-first' && position !== 0) lowFirst = !lowFirst;
    path[0] = open;
    path[1] = lowFirst ? low : high;
    path[2] = lowFirst ? high : low;
    path[3] = close;
    let capacity = Math.floor(volume * this.options.maxVolumeShare);
    this.lastPriceTicks[symbolIndex] = open;
    // Trailing stops start from the open when they had no reference price.
    for (let i = 0; i < book.length; i++) this.initTrailing(book[i], open);

    let point = open;
    // Each step fills, finishes or triggers an order, so the walk is bounded by a few steps per order.
    const maxSteps = 16 * book.length + 16;
    let steps = 0;
    for (let segment = 0; segment < 4 && capacity > 0; segment++) {
      const target = segment === 0 ? open : path[segment];
      for (;;) {
        if (!(++steps <= maxSteps)) invariantFailed(`bar matching did not settle on symbol ${symbolIndex} at ${startUs}`);
        let best: VenueOrder | null = null;
        let bestDistance = Infinity;
        let bestPoint = NaN;
        for (let i = 0; i < book.length; i++) {
          const order = book[i];
          const reach = this.reachOnSegment(order, point, target);
          if (reach < 0) continue;
          const distance = Math.abs(reach - point);
          if (distance < bestDistance || (distance === bestDistance && best !== null && order.priority < best.priority)) {
            best = order;
            bestDistance = distance;
            bestPoint = reach;
          }
        }
        if (best === null || capacity <= 0) break;
        point = bestPoint;
        this.updateTrailingTo(book, point);
        capacity -= this.execute(best, point, startUs, capacity);
      }
      point = target;
      this.updateTrailingTo(book, point);
      this.lastPriceTicks[symbolIndex] = point;
    }
    this.lastPriceTicks[symbolIndex] = close;
    for (let i = book.length - 1; i >= 0; i--) {
      const order = book[i];
      if (order.request.timeInForce === 'ioc' && order.stage !== Stage.Done) this.finish(order, 'cancelled', 'ioc', startUs);
    }
  }

  private initTrailing(order: VenueOrder, priceTicks: number): void {
    if (order.type === 'trailing-stop' && Number.isNaN(order.extremeTicks)) {
      order.extremeTicks = priceTicks;
      order.stopTicks = priceTicks + order.sign * order.request.trailingOffsetTicks!;
    }
  }

  /** Ratchet trailing stops to a new price (a sell trails below highs, a buy above lows). */
  private updateTrailingTo(book: readonly VenueOrder[], priceTicks: number): void {
    for (let i = 0; i < book.length; i++) {
      const order = book[i];
      if (order.type !== 'trailing-stop' || order.stage !== Stage.Working) continue;
      const offset = order.request.trailingOffsetTicks!;
      if (order.sign < 0 && priceTicks > order.extremeTicks) {
        order.extremeTicks = priceTicks;
        order.stopTicks = priceTicks - offset;
      } else if (order.sign > 0 && priceTicks < order.extremeTicks) {
        order.extremeTicks = priceTicks;
        order.stopTicks = priceTicks + offset;
      }
    }
  }

  /**
   * Where along the move from `from` to `to` (a flat move is a single point) the order becomes fillable or
   * triggers: the price of that point, or -1 when it does not within this move.
   */
  private reachOnSegment(order: VenueOrder, from: number, to: number): number {
    const buy = order.sign > 0;
    switch (order.type) {
      case 'market':
        return from;
      case 'limit': {
        const limit = order.limitTicks;
        if (buy ? from <= limit : from >= limit) return from;
        if (buy ? to <= limit : to >= limit) return limit;
        return -1;
      }
      case 'stop':
      case 'stop-limit':
      case 'trailing-stop': {
        if (order.stage === Stage.Triggered) {
          // A triggered stop (or trailing stop) is a market order for what it has left; a triggered
          // stop-limit rests as a limit.
          if (order.type !== 'stop-limit') return from;
          const limit = order.limitTicks;
          if (buy ? from <= limit : from >= limit) return from;
          if (buy ? to <= limit : to >= limit) return limit;
          return -1;
        }
        const stop = order.stopTicks;
        if (Number.isNaN(stop)) return -1;
        if (buy ? from >= stop : from <= stop) return from;
        if (buy ? to >= stop : to <= stop) return stop;
        return -1;
      }
    }
  }

  /** Act on an order whose point was reached at `pointTicks`. Returns the quantity filled. */
  private execute(order: VenueOrder, pointTicks: number, timeUs: number, capacity: number): number {
    switch (order.type) {
      case 'market':
        return this.fillAt(order, capacity, pointTicks, true, timeUs);
      case 'limit': {
        const price = order.sign > 0 ? Math.min(pointTicks, order.limitTicks) : Math.max(pointTicks, order.limitTicks);
        return this.fillAt(order, capacity, price, false, timeUs);
      }
      case 'stop':
      case 'trailing-stop':
        if (order.stage !== Stage.Triggered) {
          order.stage = Stage.Triggered;
          this.emit({ type: 'triggered', clientOrderId: order.request.clientOrderId, timeUs });
        }
        return this.fillAt(order, capacity, pointTicks, true, timeUs);
      case 'stop-limit': {
        if (order.stage !== Stage.Triggered) {
          order.stage = Stage.Triggered;
          this.emit({ type: 'triggered', clientOrderId: order.request.clientOrderId, timeUs });
          return 0;
        }
        const price = order.sign > 0 ? Math.min(pointTicks, order.limitTicks) : Math.max(pointTicks, order.limitTicks);
        return this.fillAt(order, capacity, price, false, timeUs);
      }
    }
  }

  // ----------------------------------------------------------------------------------------------------
  // Tick mode

  /** Match the working orders of one symbol against one trade print (prices in ticks, size in lots). */
  onTick(symbolIndex: number, timeUs: number, priceTicks: number, sizeLots: number, bidTicks: number, askTicks: number): void {
    this.lastPriceTicks[symbolIndex] = priceTicks;
    const book = this.book[symbolIndex];
    if (book.length === 0) return;
    for (let i = 0; i < book.length; i++) this.initTrailing(book[i], priceTicks);
    this.updateTrailingTo(book, priceTicks);
    let capacity = Math.floor(sizeLots * this.options.maxVolumeShare);
    const maxSteps = 2 * book.length + 4;
    for (let steps = 0; capacity > 0; steps++) {
      if (!(steps <= maxSteps)) invariantFailed(`tick matching did not settle on symbol ${symbolIndex} at ${timeUs}`);
      let best: VenueOrder | null = null;
      for (let i = 0; i < book.length; i++) {
        const order = book[i];
        if (this.reachOnSegment(order, priceTicks, priceTicks) < 0) continue;
        if (best === null || order.priority < best.priority) best = order;
      }
      if (best === null) break;
      // A market order takes the quote on its side when the print carries one.
      const quote = best.sign > 0 ? askTicks : bidTicks;
      const price = best.type === 'market' && quote > 0 ? quote : priceTicks;
      capacity -= this.execute(best, price, timeUs, capacity);
    }
    for (let i = book.length - 1; i >= 0; i--) {
      const order = book[i];
      if (order.request.timeInForce === 'ioc' && order.stage !== Stage.Done) this.finish(order, 'cancelled', 'ioc', timeUs);
    }
  }
}
