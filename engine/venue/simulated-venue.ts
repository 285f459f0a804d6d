// The simulated venue: an exchange in the engine's process, deterministic for a given seed. It accepts
// requests after a latency, keeps a book of working orders per symbol, matches them against bars or ticks,
// charges fees and slippage, bounds fills by a share of the traded volume, enforces reduce-only, and runs
// OCO pairs natively (a fill of one leg cancels or shrinks the other atomically; a leg that arrives after its
// partner filled takes those fills off itself, finishing as 'oco' when nothing is left).
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
//
// Two ways in. An engine in the same process submits by order handle (`submitOrder`): the venue copies the
// order's fields from the engine's order table into its own columns and answers through the engine's
// VenueListener methods, so the whole path allocates nothing per order. Any other host (the paper broker, the
// conformance suite) uses the ExecutionPort: requests in, ExecutionReport objects out.
//
// Orders are known by a key (the engine's handle, or the request's arrival number on the ExecutionPort); a key
// holds a slot of the per-order columns from its submit until it is finished or refused, then the slot is
// reused, so the columns are as long as the most orders ever live at once. Tasks (arrivals, cancels, expiries)
// carry the key and find the slot when they run.
import { grown } from '../core/columns.ts';
import type {
  BarColumns, Clock, ExecutionPort, ExecutionSink, OrderChanges, OrderRequest, VenueCapabilities,
} from '../types.ts';
import type { InstrumentScales } from '../core/instruments.ts';
import type { TradingCalendar } from '../core/time.ts';
import { calendarFor } from '../core/time.ts';
import type { SeededRng } from '../core/rng.ts';
import type { EventQueue, TaskRunner } from '../core/event-queue.ts';
import {
  ORDER_TYPES, TIMES_IN_FORCE, TIF_DAY, TIF_IOC, TYPE_LIMIT, TYPE_MARKET, TYPE_STOP, TYPE_STOP_LIMIT, TYPE_TRAILING_STOP, SIDE_BUY,
  type OrderTable,
} from '../orders/order-table.ts';
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

/** What the venue needs from its host: the time, and the queue its requests wait on for their latency. */
export interface VenueScheduler {
  nowUs(): number;
  readonly queue: EventQueue;
}

/**
 * The venue's answers, by order key (the engine's handle), for a host in the same process. The time of each answer is
 * `reportTimeUs` on the venue when the method is called.
 */
export interface VenueListener {
  venueAccepted(slot: number, venueOrderNumber: number): void;
  venueRejected(slot: number, code: string, reason: string): void;
  venueTriggered(slot: number): void;
  venueFilled(slot: number, quantity: number, priceTicks: number, feeCash: number, taker: boolean, fillNumber: number): void;
  venueCancelled(slot: number, reason: string): void;
  venueExpired(slot: number): void;
  venueModified(slot: number, changes: OrderChanges): void;
  venueModifyRejected(slot: number, code: string, reason: string): void;
  venueCancelRejected(slot: number, code: string, reason: string): void;
}

// Stages of a slot: PENDING (submitted, not arrived), then WORKING or TRIGGERED.
const PENDING = 0;
const WORKING = 1;
const TRIGGERED = 2;
// Key states besides a live slot (>= 0).
const KEY_NONE = -1;
const KEY_DONE = -2;

const TASK_ARRIVE = 0;
const TASK_CANCEL = 1;
const TASK_EXPIRE = 2;
/** A relative quantity change (the engine growing a bracket exit): its argument is a growth slot. */
const TASK_GROW = 3;
/** A cancel with a reason other than 'requested': TASK_CANCEL_WITH + the reason's index in `cancelReasons`. */
const TASK_CANCEL_WITH = 16;

const CAPABILITIES: VenueCapabilities = {
  orderTypes: ['market', 'limit', 'stop', 'stop-limit', 'trailing-stop'],
  nativeOco: true,
  reduceOnly: true,
  modify: true,
};

/** Working orders of one symbol, in arrival order. */
class Book {
  slots = new Int32Array(8);
  length = 0;

  push(slot: number): void {
    if (this.length === this.slots.length) this.slots = grown(this.slots, this.slots.length * 2);
    this.slots[this.length++] = slot;
  }

  remove(slot: number): boolean {
    const slots = this.slots;
    const n = this.length;
    for (let i = 0; i < n; i++) {
      if (slots[i] !== slot) continue;
      // A loop, not copyWithin: books are short, and copyWithin is a call into the runtime even when it moves
      // nothing (the common case: the order filled was the only one).
      for (let j = i + 1; j < n; j++) slots[j - 1] = slots[j];
      this.length = n - 1;
      return true;
    }
    return false;
  }
}

/** Turns the venue's answers into ExecutionReport objects for an ExecutionPort host. */
class ReportEmitter implements VenueListener {
  constructor(private readonly venue: SimulatedVenue, private readonly sink: ExecutionSink) {}
  private id(slot: number): string { return this.venue.clientOrderIdOf(slot); }
  private get t(): number { return this.venue.reportTimeUs; }
  venueAccepted(slot: number, number: number): void { this.sink.onReport({ type: 'accepted', clientOrderId: this.id(slot), venueOrderId: `V${number}`, timeUs: this.t }); }
  venueRejected(slot: number, code: string, reason: string): void { this.sink.onReport({ type: 'rejected', clientOrderId: this.id(slot), code, reason, timeUs: this.t }); }
  venueTriggered(slot: number): void { this.sink.onReport({ type: 'triggered', clientOrderId: this.id(slot), timeUs: this.t }); }
  venueFilled(slot: number, quantity: number, priceTicks: number, feeCash: number, taker: boolean, fillNumber: number): void {
    const request = this.venue.requestOf(slot);
    this.sink.onReport({
      type: 'fill', clientOrderId: request.clientOrderId, fillId: `F${fillNumber}`, symbol: request.symbol, side: request.side, quantity, priceTicks, feeCash,
      liquidity: taker ? 'taker' : 'maker', timeUs: this.t,
    });
  }
  venueCancelled(slot: number, reason: string): void { this.sink.onReport({ type: 'cancelled', clientOrderId: this.id(slot), reason, timeUs: this.t }); }
  venueExpired(slot: number): void { this.sink.onReport({ type: 'expired', clientOrderId: this.id(slot), timeUs: this.t }); }
  venueModified(slot: number, changes: OrderChanges): void { this.sink.onReport({ type: 'modified', clientOrderId: this.id(slot), changes, timeUs: this.t }); }
  venueModifyRejected(slot: number, code: string, reason: string): void { this.sink.onReport({ type: 'modify-rejected', clientOrderId: this.id(slot), code, reason, timeUs: this.t }); }
  venueCancelRejected(slot: number, code: string, reason: string): void { this.sink.onReport({ type: 'cancel-rejected', clientOrderId: this.id(slot), code, reason, timeUs: this.t }); }
}

export class SimulatedVenue implements ExecutionPort, TaskRunner {
  readonly capabilities = CAPABILITIES;
  readonly options: SimulatedVenueOptions;
  /** Venue-side positions per symbol (for reduce-only), in lots. */
  readonly position: Float64Array;
  /** Last traded price per symbol in ticks. */
  readonly lastPriceTicks: Float64Array;
  /** Working orders per symbol (read by the engine's bar loop to skip empty books). */
  readonly bookSize: Int32Array;
  /** Time of the answer being delivered (see VenueListener); -0, not 0, so that the field holds a double in place. */
  reportTimeUs = -0;
  private readonly books: Book[];
  /** Per key: its slot, or KEY_NONE (never submitted, or refused on arrival), or KEY_DONE (finished). */
  private slotOf = new Int32Array(64).fill(KEY_NONE);
  /**
   * Per key: the quantity it filled, written when it finishes. An OCO leg that arrives after its partner finished
   * takes the partner's fills off its own quantity (the pair was never linked while one of them was on its way).
   */
  private keyFilled = new Float64Array(64);
  /** Growths on their way (see `growOrder`): key and lots per growth slot, and the free growth slots. */
  private growKey = new Int32Array(8);
  private growLots = new Float64Array(8);
  private growFree = Int32Array.from({ length: 8 }, (_, i) => 7 - i);
  private growFreeCount = 8;
  /** Cancel reasons by index ('requested' first); a reason joins the list the first time it is used. */
  private readonly cancelReasons: string[] = ['requested'];
  /**
   * Per symbol: the volume of the last bar (or print) in lots, and how much of its capped share fills have taken,
   * so that a market order filled on arrival in the 'close' fill mode respects the volume cap too.
   */
  readonly barVolume: Float64Array;
  readonly barTaken: Float64Array;
  /** Market orders fill on arrival at the last bar's close ('close' fill mode): only then are barVolume and barTaken read between bars. */
  readonly fillsOnArrival: boolean;
  // Per-slot columns.
  private keyOf = new Int32Array(0);
  private symbolIndex = new Int32Array(0);
  private sign = new Int8Array(0);
  private type = new Uint8Array(0);
  private timeInForce = new Uint8Array(0);
  private reduceOnly = new Uint8Array(0);
  private stage = new Uint8Array(0);
  private feesCharged = new Uint8Array(0);
  private remaining = new Float64Array(0);
  private filled = new Float64Array(0);
  private stopTicks = new Float64Array(0);
  private limitTicks = new Float64Array(0);
  private trailTicks = new Float64Array(0);
  /** Trailing stops: best price reached since acceptance. */
  private extremeTicks = new Float64Array(0);
  /** Matching priority: the venue order number ('V' + priority). */
  private priority = new Float64Array(0);
  private epoch = new Float64Array(0);
  /** The OCO partner's slot once both have arrived, or -1. */
  private partner = new Int32Array(0);
  /** The OCO partner the request named (a key), or -1. */
  private partnerRequested = new Int32Array(0);
  /** Free slots (a stack). */
  private free = new Int32Array(0);
  private freeCount = 0;
  // ExecutionPort mode only: the requests by key, and keys by client order id (registered on arrival).
  private readonly requests: OrderRequest[] = [];
  private readonly keyByClientId = new Map<string, number>();
  private mode: 'none' | 'engine' | 'port' = 'none';
  private engineTable: OrderTable | null = null;
  private engineName: ((key: number) => string) | null = null;
  private readonly symbolIndexBySymbol = new Map<string, number>();
  private readonly calendars: TradingCalendar[];
  private readonly latencyRng: SeededRng;
  private nextPriority = 0;
  private nextFill = 0;
  private newestEpoch = 0;
  private listener: VenueListener | null = null;
  private sink: ExecutionSink | null = null;
  private clock: Clock | null = null;
  private queue: EventQueue | null = null;
  /** Scratch: current bar's path points. */
  private readonly path = new Float64Array(4);

  constructor(readonly scales: readonly InstrumentScales[], options: Partial<SimulatedVenueOptions>, rng: SeededRng) {
    this.options = { ...DEFAULT_VENUE_OPTIONS, ...options };
    if (!(this.options.maxVolumeShare > 0 && this.options.maxVolumeShare <= 1)) invariantFailed(`maxVolumeShare must be in (0, 1], found ${this.options.maxVolumeShare}`);
    const n = scales.length;
    this.position = new Float64Array(n);
    this.lastPriceTicks = new Float64Array(n).fill(NaN);
    this.bookSize = new Int32Array(n);
    this.barVolume = new Float64Array(n);
    this.barTaken = new Float64Array(n);
    this.fillsOnArrival = this.options.fillMode === 'close';
    this.books = scales.map(() => new Book());
    this.calendars = scales.map((s) => calendarFor(s.instrument.calendar));
    scales.forEach((s, i) => this.symbolIndexBySymbol.set(s.instrument.symbol, i));
    this.latencyRng = rng.child('venue.latency');
    this.growSlots(16);
  }

  /** Host: an ExecutionPort user; reports go to `sink` as ExecutionReport objects. */
  attach(sink: ExecutionSink, scheduler: VenueScheduler): void {
    invariant(this.mode === 'none', 'venue attached twice');
    this.mode = 'port';
    this.sink = sink;
    this.listener = new ReportEmitter(this, sink);
    this.clock = scheduler;
    this.queue = scheduler.queue;
  }

  /** Host: an engine in this process, submitting by order handle and answered through its listener methods. */
  attachEngine(listener: VenueListener, table: OrderTable, nameOf: (handle: number) => string, scheduler: VenueScheduler): void {
    invariant(this.mode === 'none', 'venue attached twice');
    this.mode = 'engine';
    this.listener = listener;
    this.engineTable = table;
    this.engineName = nameOf;
    this.clock = scheduler;
    this.queue = scheduler.queue;
  }

  clientOrderIdOf(key: number): string {
    return this.mode === 'port' ? this.requests[key].clientOrderId : this.engineName!(key);
  }

  requestOf(key: number): OrderRequest {
    return this.requests[key];
  }

  // ----------------------------------------------------------------------------------------------------
  // Requests. Every request travels for the latency, then takes effect.

  /** From the engine: order `handle` of its table, sent now. Its fields are taken as they are now. */
  submitOrder(handle: number): void {
    const t = this.engineTable!;
    const slot = this.claim(handle);
    this.store(slot, t.symbolIndex[handle], t.side[handle] === SIDE_BUY ? 1 : -1, t.type[handle], t.timeInForce[handle], t.reduceOnly[handle],
      t.quantity[handle], t.limitPriceTicks[handle], t.stopPriceTicks[handle], t.trailingOffsetTicks[handle], t.epoch[handle], t.oco[handle]);
    this.afterLatency(TASK_ARRIVE, handle);
  }

  /** From the engine: cancel order `handle`; the venue reports it cancelled with `reason`. */
  cancelOrder(handle: number, reason = 'requested'): void {
    if (reason === 'requested') {
      this.afterLatency(TASK_CANCEL, handle);
      return;
    }
    let index = this.cancelReasons.indexOf(reason);
    if (index < 0) index = this.cancelReasons.push(reason) - 1;
    this.afterLatency(TASK_CANCEL_WITH + index, handle);
  }

  /**
   * From the engine: grow order `handle` by `lots` (a bracket exit following its entry's fills). Relative, unlike
   * `modifyOrder`: on arrival it adds to what the order has left, so an OCO shrink that happens while the growth
   * travels is kept (an absolute size computed before the shrink would undo it). A growth that overtakes the
   * order itself (random latency) applies to the order waiting to arrive; one for a finished order is refused.
   */
  growOrder(handle: number, lots: number): void {
    if (this.growFreeCount === 0) {
      const capacity = this.growKey.length * 2;
      const previous = this.growKey.length;
      this.growKey = grown(this.growKey, capacity);
      this.growLots = grown(this.growLots, capacity);
      this.growFree = grown(this.growFree, capacity);
      for (let g = capacity - 1; g >= previous; g--) this.growFree[this.growFreeCount++] = g;
    }
    const g = this.growFree[--this.growFreeCount];
    this.growKey[g] = handle;
    this.growLots[g] = lots;
    this.afterLatency(TASK_GROW, g);
  }

  /** From the engine: change order `handle`. */
  modifyOrder(handle: number, changes: OrderChanges): void {
    this.queue!.push(this.arrivalUs(), () => this.applyModify(handle, changes));
  }

  submit(request: OrderRequest): void {
    invariant(this.mode === 'port', 'submit(request) needs attach(); an engine submits by handle');
    const key = this.requests.length;
    this.requests.push(request);
    const slot = this.claim(key);
    const symbolIndex = this.symbolIndexBySymbol.get(request.symbol) ?? -1;
    this.store(slot, symbolIndex, request.side === 'buy' ? 1 : -1, ORDER_TYPES.indexOf(request.type), TIMES_IN_FORCE.indexOf(request.timeInForce), request.reduceOnly ? 1 : 0,
      request.quantity, request.limitPriceTicks ?? NaN, request.stopPriceTicks ?? NaN, request.trailingOffsetTicks ?? NaN, request.epoch, -1);
    this.afterLatency(TASK_ARRIVE, key);
  }

  cancel(clientOrderId: string): void {
    invariant(this.mode === 'port', 'cancel(id) needs attach(); an engine cancels by handle');
    this.queue!.push(this.arrivalUs(), () => {
      const key = this.keyByClientId.get(clientOrderId);
      if (key === undefined) {
        this.sink!.onReport({ type: 'cancel-rejected', clientOrderId, code: 'ORDER_NOT_WORKING', reason: `expected a working order ${clientOrderId}, found none`, timeUs: this.now() });
        return;
      }
      this.applyCancel(key);
    });
  }

  modify(clientOrderId: string, changes: OrderChanges): void {
    invariant(this.mode === 'port', 'modify(id) needs attach(); an engine modifies by handle');
    this.queue!.push(this.arrivalUs(), () => {
      const key = this.keyByClientId.get(clientOrderId);
      if (key === undefined) {
        this.sink!.onReport({ type: 'modify-rejected', clientOrderId, code: 'ORDER_NOT_WORKING', reason: `expected a working order ${clientOrderId}, found none`, timeUs: this.now() });
        return;
      }
      this.applyModify(key, changes);
    });
  }

  runTask(task: number, key: number): void {
    switch (task) {
      case TASK_ARRIVE: this.arrive(key); break;
      case TASK_CANCEL: this.applyCancel(key); break;
      case TASK_EXPIRE: {
        const slot = this.slotOf[key];
        if (slot >= 0) this.finish(slot, false, 'day', this.now());
        break;
      }
      case TASK_GROW: {
        const g = key;
        this.growFree[this.growFreeCount++] = g;
        this.applyGrowth(this.growKey[g], this.growLots[g]);
        break;
      }
      default:
        if (task >= TASK_CANCEL_WITH && task - TASK_CANCEL_WITH < this.cancelReasons.length) this.applyCancel(key, this.cancelReasons[task - TASK_CANCEL_WITH]);
        else invariantFailed(`unknown venue task ${task}`);
    }
  }

  // ----------------------------------------------------------------------------------------------------

  private now(): number {
    return this.clock!.nowUs();
  }

  private arrivalUs(): number {
    const latency = this.options.latency;
    const delayUs = latency.kind === 'fixed'
      ? latency.latencyUs
      : latency.minUs + Math.floor(this.latencyRng.next() * (latency.maxUs - latency.minUs + 1));
    return this.now() + delayUs;
  }

  private afterLatency(task: number, key: number): void {
    invariant(this.queue !== null, 'venue used before attach()');
    this.queue.pushTask(this.arrivalUs(), this, task, key);
  }

  /** A free slot for `key`, which must not hold one. */
  private claim(key: number): number {
    if (key >= this.slotOf.length) {
      let capacity = this.slotOf.length * 2;
      while (capacity <= key) capacity *= 2;
      const slotOf = new Int32Array(capacity).fill(KEY_NONE);
      slotOf.set(this.slotOf);
      this.slotOf = slotOf;
      this.keyFilled = grown(this.keyFilled, capacity);
    }
    if (this.slotOf[key] !== KEY_NONE) invariantFailed(`order ${this.clientOrderIdOf(key)} submitted to the venue twice`);
    if (this.freeCount === 0) this.growSlots(this.keyOf.length * 2);
    const slot = this.free[--this.freeCount];
    this.slotOf[key] = slot;
    this.keyOf[slot] = key;
    return slot;
  }

  /** Give a slot back: its key is finished (KEY_DONE) or was refused (KEY_NONE). */
  private release(slot: number, keyState: number): void {
    this.keyFilled[this.keyOf[slot]] = keyState === KEY_DONE ? this.filled[slot] : 0;
    this.slotOf[this.keyOf[slot]] = keyState;
    this.keyOf[slot] = -1;
    this.free[this.freeCount++] = slot;
  }

  private store(slot: number, symbolIndex: number, sign: number, type: number, timeInForce: number, reduceOnly: number, quantity: number,
    limitTicks: number, stopTicks: number, trailTicks: number, epoch: number, partnerRequested: number): void {
    this.symbolIndex[slot] = symbolIndex;
    this.sign[slot] = sign;
    this.type[slot] = type;
    this.timeInForce[slot] = timeInForce;
    this.reduceOnly[slot] = reduceOnly;
    this.stage[slot] = PENDING;
    this.feesCharged[slot] = 0;
    this.remaining[slot] = quantity;
    this.filled[slot] = 0;
    this.limitTicks[slot] = limitTicks;
    this.stopTicks[slot] = stopTicks;
    this.trailTicks[slot] = trailTicks;
    this.extremeTicks[slot] = NaN;
    this.priority[slot] = 0;
    this.epoch[slot] = epoch;
    this.partner[slot] = -1;
    this.partnerRequested[slot] = partnerRequested;
  }

  /** Refuse an arriving order: its slot is given back and the key counts as never received. */
  private reject(slot: number, code: string, reason: string, timeUs: number): void {
    const key = this.keyOf[slot];
    this.release(slot, KEY_NONE);
    this.reportTimeUs = timeUs;
    this.listener!.venueRejected(key, code, reason);
  }

  private arrive(key: number): void {
    const now = this.now();
    const slot = this.slotOf[key];
    if (this.mode === 'port') {
      const request = this.requests[key];
      if (this.keyByClientId.has(request.clientOrderId)) return this.reject(slot, 'DUPLICATE_CLIENT_ORDER_ID', `expected a new client order id, found ${request.clientOrderId} again`, now);
      if (this.symbolIndex[slot] < 0) return this.reject(slot, 'UNKNOWN_SYMBOL', `expected a listed symbol, found ${request.symbol}`, now);
      // The partner is named by client order id; it counts once it has arrived.
      if (request.ocoWithClientOrderId !== undefined) this.partnerRequested[slot] = this.keyByClientId.get(request.ocoWithClientOrderId) ?? -1;
    }
    if (this.options.fenceEpochs) {
      if (this.epoch[slot] < this.newestEpoch) return this.reject(slot, 'STALE_EPOCH', `expected fencing epoch >= ${this.newestEpoch}, found ${this.epoch[slot]}`, now);
      this.newestEpoch = this.epoch[slot];
    }
    const quantity = this.remaining[slot];
    const type = this.type[slot];
    if (!Number.isSafeInteger(quantity) || quantity <= 0) return this.reject(slot, 'BAD_QUANTITY', `expected a positive whole number of lots, found ${quantity}`, now);
    const needsLimit = type === TYPE_LIMIT || type === TYPE_STOP_LIMIT;
    const needsStop = type === TYPE_STOP || type === TYPE_STOP_LIMIT;
    const limit = this.limitTicks[slot];
    const stop = this.stopTicks[slot];
    const trail = this.trailTicks[slot];
    if (needsLimit && !(Number.isSafeInteger(limit) && limit > 0)) return this.reject(slot, 'BAD_PRICE', `expected a positive limit price, found ${Number.isNaN(limit) ? undefined : limit}`, now);
    if (needsStop && !(Number.isSafeInteger(stop) && stop > 0)) return this.reject(slot, 'BAD_PRICE', `expected a positive stop price, found ${Number.isNaN(stop) ? undefined : stop}`, now);
    if (type === TYPE_TRAILING_STOP && !(Number.isSafeInteger(trail) && trail > 0)) return this.reject(slot, 'BAD_PRICE', `expected a positive trailing offset, found ${Number.isNaN(trail) ? undefined : trail}`, now);

    const s = this.symbolIndex[slot];
    const number = ++this.nextPriority;
    this.priority[slot] = number;
    if (this.mode === 'port') this.keyByClientId.set(this.requests[key].clientOrderId, key);
    this.stage[slot] = WORKING;
    if (type === TYPE_TRAILING_STOP) {
      const last = this.lastPriceTicks[s];
      this.extremeTicks[slot] = last;
      this.stopTicks[slot] = Number.isNaN(last) ? NaN : last + this.sign[slot] * trail;
    }
    // OCO: link with a partner already here. What the partner filled before this leg arrived (while they were not
    // linked, or before it finished) comes off this leg, as if they had been linked all along.
    const partnerKey = this.partnerRequested[slot];
    const partner = partnerKey >= 0 && partnerKey < this.slotOf.length ? this.slotOf[partnerKey] : KEY_NONE;
    let partnerFilled = 0;
    if (partner >= 0 && this.stage[partner] !== PENDING) {
      this.partner[slot] = partner;
      this.partner[partner] = slot;
      partnerFilled = this.filled[partner];
    } else if (partner === KEY_DONE) {
      partnerFilled = this.keyFilled[partnerKey];
    }
    this.books[s].push(slot);
    this.bookSize[s]++;
    this.reportTimeUs = now;
    this.listener!.venueAccepted(key, number);
    if (partnerFilled > 0) {
      this.remaining[slot] -= partnerFilled;
      this.reportTimeUs = now;
      if (this.remaining[slot] <= 0) {
        this.remaining[slot] = 0;
        this.finish(slot, true, 'oco', now);
        return;
      }
      this.listener!.venueModified(key, { quantity: this.filled[slot] + this.remaining[slot] });
    }

    const timeInForce = this.timeInForce[slot];
    if (timeInForce === TIF_DAY) this.queue!.pushTask(this.calendars[s].nextSessionCloseUs(now), this, TASK_EXPIRE, key);
    if (this.options.fillMode === 'close' && type === TYPE_MARKET && !Number.isNaN(this.lastPriceTicks[s])) {
      // Bounded by what the last bar's volume cap has left; the rest fills on the next bars.
      const room = Math.floor(this.barVolume[s] * this.options.maxVolumeShare) - this.barTaken[s];
      if (room > 0) this.barTaken[s] += this.fillAt(slot, Math.min(room, this.remaining[slot]), this.lastPriceTicks[s], true, now);
      // Still this order's slot (a finished order's slot may already serve another).
      if (this.slotOf[key] === slot && timeInForce === TIF_IOC) this.finish(slot, true, 'ioc', now);
    }
  }

  private applyCancel(key: number, reason = 'requested'): void {
    const now = this.now();
    const slot = this.slotOf[key];
    if (slot < 0 || this.stage[slot] === PENDING) {
      this.reportTimeUs = now;
      this.listener!.venueCancelRejected(key, 'ORDER_NOT_WORKING', `expected a working order ${this.clientOrderIdOf(key)}, found ${slot === KEY_DONE ? 'a finished one' : 'none'}`);
      return;
    }
    this.finish(slot, true, reason, now);
  }

  private applyGrowth(key: number, lots: number): void {
    const now = this.now();
    const slot = this.slotOf[key];
    this.reportTimeUs = now;
    if (slot < 0) {
      this.listener!.venueModifyRejected(key, 'ORDER_NOT_WORKING', `expected a working order ${this.clientOrderIdOf(key)}, found ${slot === KEY_DONE ? 'a finished one' : 'none'}`);
      return;
    }
    this.remaining[slot] += lots;
    this.listener!.venueModified(key, { quantity: this.filled[slot] + this.remaining[slot] });
  }

  private applyModify(key: number, changes: OrderChanges): void {
    const now = this.now();
    const slot = this.slotOf[key];
    this.reportTimeUs = now;
    if (slot < 0 || this.stage[slot] === PENDING) {
      this.listener!.venueModifyRejected(key, 'ORDER_NOT_WORKING', `expected a working order ${this.clientOrderIdOf(key)}, found ${slot === KEY_DONE ? 'a finished one' : 'none'}`);
      return;
    }
    if (changes.quantity !== undefined) {
      if (!Number.isSafeInteger(changes.quantity) || changes.quantity <= this.filled[slot]) {
        this.listener!.venueModifyRejected(key, 'MODIFY_QUANTITY', `expected a new quantity above the filled ${this.filled[slot]}, found ${changes.quantity}`);
        return;
      }
      this.remaining[slot] = changes.quantity - this.filled[slot];
    }
    if (changes.limitPriceTicks !== undefined) this.limitTicks[slot] = changes.limitPriceTicks;
    if (changes.stopPriceTicks !== undefined) this.stopTicks[slot] = changes.stopPriceTicks;
    this.listener!.venueModified(key, changes);
  }

  /** Take a working order off the book and report it cancelled (or expired). */
  private finish(slot: number, cancelled: boolean, reason: string, timeUs: number): void {
    const key = this.keyOf[slot];
    this.remove(slot);
    this.reportTimeUs = timeUs;
    if (cancelled) this.listener!.venueCancelled(key, reason);
    else this.listener!.venueExpired(key);
  }

  /** Off the book, out of its OCO pair, and its slot given back. */
  private remove(slot: number): void {
    const s = this.symbolIndex[slot];
    if (this.books[s].remove(slot)) this.bookSize[s]--;
    const partner = this.partner[slot];
    if (partner >= 0 && this.partner[partner] === slot) this.partner[partner] = -1;
    this.release(slot, KEY_DONE);
  }

  /** Slippage-adjusted taker price, rounded against the taker. */
  private takerPrice(sign: number, priceTicks: number): number {
    const { slippageBps, slippageTicks } = this.options;
    if (slippageBps === 0 && slippageTicks === 0) return priceTicks;
    const slipped = priceTicks * (1 + (sign * slippageBps) / 10_000) + sign * slippageTicks;
    return Math.max(1, sign > 0 ? Math.ceil(slipped - 1e-9) : Math.floor(slipped + 1e-9));
  }

  /**
   * Fill up to `quantity` of an order at `priceTicks` (before slippage for takers). Returns the quantity filled.
   * Enforces reduce-only against the venue position, charges the fee, runs OCO and reports.
   */
  private fillAt(slot: number, quantity: number, priceTicks: number, taker: boolean, timeUs: number): number {
    const s = this.symbolIndex[slot];
    const sign = this.sign[slot];
    let take = Math.min(quantity, this.remaining[slot]);
    if (this.reduceOnly[slot] === 1) {
      const position = this.position[s];
      const closable = position * sign < 0 ? Math.abs(position) : 0;
      if (closable === 0) {
        this.finish(slot, true, 'reduce-only: no position to reduce', timeUs);
        return 0;
      }
      take = Math.min(take, closable);
    }
    if (take <= 0) return 0;
    const price = taker ? this.takerPrice(sign, priceTicks) : priceTicks;
    const notionalCash = take * price * this.scales[s].cashPerTickLot;
    let feeCash = this.options.feeBps === 0 ? 0 : Math.ceil((notionalCash * this.options.feeBps) / 10_000 - 1e-9);
    if (this.feesCharged[slot] === 0) {
      feeCash = Math.max(feeCash, this.options.feeMinimumCash);
      this.feesCharged[slot] = 1;
    }
    this.remaining[slot] -= take;
    this.filled[slot] += take;
    this.position[s] += sign * take;
    this.lastPriceTicks[s] = price;
    const key = this.keyOf[slot];
    // Read before the report: the host may submit during it, and a finished order's slot is reused.
    const sibling = this.partner[slot];
    const siblingKey = sibling >= 0 ? this.keyOf[sibling] : -1;
    const done = this.remaining[slot] === 0;
    if (done) this.remove(slot);
    this.reportTimeUs = timeUs;
    this.listener!.venueFilled(key, take, price, feeCash, taker, ++this.nextFill);
    if (sibling >= 0 && this.slotOf[siblingKey] === sibling) {
      if (done) {
        this.finish(sibling, true, 'oco', timeUs);
      } else {
        this.remaining[sibling] -= take;
        if (this.remaining[sibling] <= 0) {
          this.finish(sibling, true, 'oco', timeUs);
        } else {
          this.reportTimeUs = timeUs;
          this.listener!.venueModified(siblingKey, { quantity: this.filled[sibling] + this.remaining[sibling] });
        }
      }
    }
    // A reduce-only order that brought the position to flat has nothing left to reduce: its rest ends now, not at
    // its next reach (by then a new position may have opened, which it would close).
    if (!done && this.reduceOnly[slot] === 1 && this.position[s] === 0 && this.slotOf[key] === slot) {
      this.finish(slot, true, 'reduce-only: no position to reduce', timeUs);
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
    // Small enough to inline into a host's loop: most bars meet an empty book.
    if (this.bookSize[symbolIndex] === 0) {
      this.lastPriceTicks[symbolIndex] = close;
      this.barVolume[symbolIndex] = volume;
      this.barTaken[symbolIndex] = 0;
    } else this.matchBar(symbolIndex, startUs, open, high, low, close, volume);
  }

  /**
   * `matchBar` on row `k` of a bar chunk, for the engine's bar loop. The loop passes no doubles: a call that is not
   * inlined boxes each double argument in a fresh heap number, and V8 may box the bar's start time where the loop
   * computes it, on every bar, also on the many that meet an empty book and never make the call (a million heap
   * numbers per million bars).
   */
  matchBarRow(chunk: BarColumns, k: number): void {
    this.matchBar(chunk.symbolIndex[k], chunk.startUs[k], chunk.open[k], chunk.high[k], chunk.low[k], chunk.close[k], chunk.volume[k]);
  }

  matchBar(symbolIndex: number, startUs: number, open: number, high: number, low: number, close: number, volume: number): void {
    const book = this.books[symbolIndex];
    // Only for an engine host: its requests always wait on the queue, while an ExecutionPort host (the paper
    // broker) may submit from inside a report, adding an order to the book in the middle of this walk.
    if (this.mode === 'engine' && this.onlyMarketOrders(book)) {
      this.matchMarketOrders(book, symbolIndex, startUs, open, close, volume);
      return;
    }
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
    const cap = Math.floor(volume * this.options.maxVolumeShare);
    let capacity = cap;
    this.lastPriceTicks[symbolIndex] = open;
    // Trailing stops start from the open when they had no reference price.
    for (let i = 0; i < book.length; i++) this.initTrailing(book.slots[i], open);

    let point = open;
    // Each step fills, finishes or triggers an order, so the walk is bounded by a few steps per order.
    const maxSteps = 16 * book.length + 16;
    let steps = 0;
    // Every segment is walked, also once the volume cap is used up: fills stop, but trailing stops keep following
    // the price.
    for (let segment = 0; segment < 4; segment++) {
      const target = segment === 0 ? open : path[segment];
      while (capacity > 0) {
        if (!(++steps <= maxSteps)) invariantFailed(`bar matching did not settle on symbol ${symbolIndex} at ${startUs}`);
        let best = -1;
        let bestDistance = Infinity;
        let bestPoint = NaN;
        for (let i = 0; i < book.length; i++) {
          const slot = book.slots[i];
          const reach = this.reachOnSegment(slot, point, target);
          if (reach < 0) continue;
          const distance = Math.abs(reach - point);
          if (distance < bestDistance || (distance === bestDistance && best >= 0 && this.priority[slot] < this.priority[best])) {
            best = slot;
            bestDistance = distance;
            bestPoint = reach;
          }
        }
        if (best < 0) break;
        point = bestPoint;
        this.updateTrailingTo(book, point);
        capacity -= this.execute(best, point, startUs, capacity);
      }
      point = target;
      this.updateTrailingTo(book, point);
      this.lastPriceTicks[symbolIndex] = point;
    }
    this.lastPriceTicks[symbolIndex] = close;
    this.barVolume[symbolIndex] = volume;
    this.barTaken[symbolIndex] = cap - capacity;
    for (let i = book.length - 1; i >= 0; i--) {
      const slot = book.slots[i];
      if (this.timeInForce[slot] === TIF_IOC) this.finish(slot, true, 'ioc', startUs);
    }
  }

  private onlyMarketOrders(book: Book): boolean {
    for (let i = 0; i < book.length; i++) if (this.type[book.slots[i]] !== TYPE_MARKET) return false;
    return true;
  }

  /**
   * The walk of `matchBar` when every working order is a market order and none can arrive during it: they all
   * reach the open at once, so they fill there in priority (arrival) order until the volume cap is used up, and the
   * rest of the path finds nothing. The same fills and reports as the walk, without it.
   */
  private matchMarketOrders(book: Book, symbolIndex: number, startUs: number, open: number, close: number, volume: number): void {
    const cap = Math.floor(volume * this.options.maxVolumeShare);
    let capacity = cap;
    this.lastPriceTicks[symbolIndex] = open;
    const maxSteps = 16 * book.length + 16;
    for (let steps = 1; capacity > 0 && book.length > 0; steps++) {
      if (!(steps <= maxSteps)) invariantFailed(`bar matching did not settle on symbol ${symbolIndex} at ${startUs}`);
      capacity -= this.execute(book.slots[0], open, startUs, capacity);
    }
    this.lastPriceTicks[symbolIndex] = close;
    this.barVolume[symbolIndex] = volume;
    this.barTaken[symbolIndex] = cap - capacity;
    for (let i = book.length - 1; i >= 0; i--) {
      const slot = book.slots[i];
      if (this.timeInForce[slot] === TIF_IOC) this.finish(slot, true, 'ioc', startUs);
    }
  }

  private initTrailing(slot: number, priceTicks: number): void {
    if (this.type[slot] === TYPE_TRAILING_STOP && Number.isNaN(this.extremeTicks[slot])) {
      this.extremeTicks[slot] = priceTicks;
      this.stopTicks[slot] = priceTicks + this.sign[slot] * this.trailTicks[slot];
    }
  }

  /** Ratchet trailing stops to a new price (a sell trails below highs, a buy above lows). */
  private updateTrailingTo(book: Book, priceTicks: number): void {
    for (let i = 0; i < book.length; i++) {
      const slot = book.slots[i];
      if (this.type[slot] !== TYPE_TRAILING_STOP || this.stage[slot] !== WORKING) continue;
      const offset = this.trailTicks[slot];
      if (this.sign[slot] < 0 && priceTicks > this.extremeTicks[slot]) {
        this.extremeTicks[slot] = priceTicks;
        this.stopTicks[slot] = priceTicks - offset;
      } else if (this.sign[slot] > 0 && priceTicks < this.extremeTicks[slot]) {
        this.extremeTicks[slot] = priceTicks;
        this.stopTicks[slot] = priceTicks + offset;
      }
    }
  }

  /**
   * Where along the move from `from` to `to` (a flat move is a single point) the order becomes fillable or
   * triggers: the price of that point, or -1 when it does not within this move.
   */
  private reachOnSegment(slot: number, from: number, to: number): number {
    const buy = this.sign[slot] > 0;
    const type = this.type[slot];
    if (type === TYPE_MARKET) return from;
    if (type === TYPE_LIMIT) {
      const limit = this.limitTicks[slot];
      if (buy ? from <= limit : from >= limit) return from;
      if (buy ? to <= limit : to >= limit) return limit;
      return -1;
    }
    if (this.stage[slot] === TRIGGERED) {
      // A triggered stop (or trailing stop) is a market order for what it has left; a triggered stop-limit rests
      // as a limit.
      if (type !== TYPE_STOP_LIMIT) return from;
      const limit = this.limitTicks[slot];
      if (buy ? from <= limit : from >= limit) return from;
      if (buy ? to <= limit : to >= limit) return limit;
      return -1;
    }
    const stop = this.stopTicks[slot];
    if (Number.isNaN(stop)) return -1;
    if (buy ? from >= stop : from <= stop) return from;
    if (buy ? to >= stop : to <= stop) return stop;
    return -1;
  }

  /** Act on an order whose point was reached at `pointTicks`. Returns the quantity filled. */
  private execute(slot: number, pointTicks: number, timeUs: number, capacity: number): number {
    const type = this.type[slot];
    if (type === TYPE_MARKET) return this.fillAt(slot, capacity, pointTicks, true, timeUs);
    if (type === TYPE_LIMIT) {
      const limit = this.limitTicks[slot];
      const price = this.sign[slot] > 0 ? Math.min(pointTicks, limit) : Math.max(pointTicks, limit);
      return this.fillAt(slot, capacity, price, false, timeUs);
    }
    if (type === TYPE_STOP || type === TYPE_TRAILING_STOP) {
      if (this.stage[slot] !== TRIGGERED) this.trigger(slot, timeUs);
      return this.fillAt(slot, capacity, pointTicks, true, timeUs);
    }
    // Stop-limit: the touch triggers it; it fills as a limit from then on.
    if (this.stage[slot] !== TRIGGERED) {
      this.trigger(slot, timeUs);
      return 0;
    }
    const limit = this.limitTicks[slot];
    const price = this.sign[slot] > 0 ? Math.min(pointTicks, limit) : Math.max(pointTicks, limit);
    return this.fillAt(slot, capacity, price, false, timeUs);
  }

  private trigger(slot: number, timeUs: number): void {
    this.stage[slot] = TRIGGERED;
    this.reportTimeUs = timeUs;
    this.listener!.venueTriggered(this.keyOf[slot]);
  }

  // ----------------------------------------------------------------------------------------------------
  // Tick mode

  /** Match the working orders of one symbol against one trade print (prices in ticks, size in lots). */
  onTick(symbolIndex: number, timeUs: number, priceTicks: number, sizeLots: number, bidTicks: number, askTicks: number): void {
    this.lastPriceTicks[symbolIndex] = priceTicks;
    this.barVolume[symbolIndex] = sizeLots;
    this.barTaken[symbolIndex] = 0;
    const book = this.books[symbolIndex];
    if (book.length === 0) return;
    for (let i = 0; i < book.length; i++) this.initTrailing(book.slots[i], priceTicks);
    this.updateTrailingTo(book, priceTicks);
    const cap = Math.floor(sizeLots * this.options.maxVolumeShare);
    let capacity = cap;
    const maxSteps = 2 * book.length + 4;
    for (let steps = 0; capacity > 0; steps++) {
      if (!(steps <= maxSteps)) invariantFailed(`tick matching did not settle on symbol ${symbolIndex} at ${timeUs}`);
      let best = -1;
      for (let i = 0; i < book.length; i++) {
        const slot = book.slots[i];
        if (this.reachOnSegment(slot, priceTicks, priceTicks) < 0) continue;
        if (best < 0 || this.priority[slot] < this.priority[best]) best = slot;
      }
      if (best < 0) break;
      // A market order takes the quote on its side when the print carries one.
      const quote = this.sign[best] > 0 ? askTicks : bidTicks;
      const price = this.type[best] === TYPE_MARKET && quote > 0 ? quote : priceTicks;
      capacity -= this.execute(best, price, timeUs, capacity);
    }
    this.barTaken[symbolIndex] = cap - capacity;
    for (let i = book.length - 1; i >= 0; i--) {
      const slot = book.slots[i];
      if (this.timeInForce[slot] === TIF_IOC) this.finish(slot, true, 'ioc', timeUs);
    }
  }

  // ----------------------------------------------------------------------------------------------------

  /** Longer slot columns, the new slots free. */
  private growSlots(capacity: number): void {
    const previous = this.keyOf.length;
    this.keyOf = grown(this.keyOf, capacity);
    this.symbolIndex = grown(this.symbolIndex, capacity);
    this.sign = grown(this.sign, capacity);
    this.type = grown(this.type, capacity);
    this.timeInForce = grown(this.timeInForce, capacity);
    this.reduceOnly = grown(this.reduceOnly, capacity);
    this.stage = grown(this.stage, capacity);
    this.feesCharged = grown(this.feesCharged, capacity);
    this.remaining = grown(this.remaining, capacity);
    this.filled = grown(this.filled, capacity);
    this.stopTicks = grown(this.stopTicks, capacity);
    this.limitTicks = grown(this.limitTicks, capacity);
    this.trailTicks = grown(this.trailTicks, capacity);
    this.extremeTicks = grown(this.extremeTicks, capacity);
    this.priority = grown(this.priority, capacity);
    this.epoch = grown(this.epoch, capacity);
    this.partner = grown(this.partner, capacity);
    this.partnerRequested = grown(this.partnerRequested, capacity);
    this.free = grown(this.free, capacity);
    // Lowest slots on top of the stack.
    for (let slot = capacity - 1; slot >= previous; slot--) this.free[this.freeCount++] = slot;
  }

}

