// Orders as the engine's callers see them: `OrderBook` finds an order by client order id and hands out `Order`,
// a live view of one row of the order table (it reads the columns when asked, so it always shows the current
// state). Views are for the runtime, reports and tests; the engine's own paths use handles and columns.
import type { Instrument, OrderRequest, OrderStatus, OrderType, Side, TimeInForce } from '../types.ts';
import type { StringTable } from '../core/string-table.ts';
import {
  ORDER_TYPES, ROLES, SIDES, STATUSES, TIMES_IN_FORCE, isOpenStatus, isTerminalStatus, type OrderRole, type OrderTable,
} from './order-table.ts';

export { canTransition, sideSign, oppositeSide, type OrderRole } from './order-table.ts';

/** The sequence number `n` of a client order id `${prefix}-${n}` (a positive integer, no leading zeros), or -1. */
export function clientOrderSequence(prefix: string, clientOrderId: string): number {
  if (clientOrderId.length <= prefix.length + 1 || !clientOrderId.startsWith(prefix) || clientOrderId[prefix.length] !== '-') return -1;
  const digits = clientOrderId.slice(prefix.length + 1);
  return /^[1-9][0-9]*$/.test(digits) ? Number(digits) : -1;
}

/**
 * Client order ids are `${prefix}-${n}`: (run, strategy, sequence), so a restart regenerates them. Normally n is the
 * handle + 1. Two exceptions, both from a live runtime: a resumed sequence (from some handle on, n is larger by an
 * offset: `resumeAfter`) and an adopted order named by another runner (its own id, `name`).
 */
export class OrderBook {
  private readonly dash: string;
  /** Whether any id departs from handle + 1 (the common case prints and parses without lookups). */
  exceptional = false;
  private readonly foreignIdOf = new Map<number, string>();
  private readonly handleOfForeign = new Map<string, number>();
  /** From handle `segmentFrom[i]` on, the id number is handle + 1 + `segmentOffset[i]`. */
  private readonly segmentFrom: number[] = [0];
  private readonly segmentOffset: number[] = [0];

  constructor(readonly table: OrderTable, readonly strings: StringTable, readonly prefix: string, readonly instruments: readonly Instrument[]) {
    this.dash = `${prefix}-`;
  }

  get size(): number {
    return this.table.length;
  }

  clientOrderId(handle: number): string {
    if (!this.exceptional) return this.dash + (handle + 1);
    const foreign = this.foreignIdOf.get(handle);
    return foreign ?? this.dash + this.numberOf(handle);
  }

  /** The sequence number in the client order id of a handle. */
  private numberOf(handle: number): number {
    let segment = this.segmentFrom.length - 1;
    while (this.segmentFrom[segment] > handle) segment--;
    return handle + 1 + this.segmentOffset[segment];
  }

  /** The number the next order's id will carry. */
  nextNumber(): number {
    return this.table.length + 1 + this.segmentOffset[this.segmentOffset.length - 1];
  }

  /** Continue ids after `sequence`: the next order is `${prefix}-${sequence + 1}` (never goes back). */
  resumeAfter(sequence: number): void {
    if (sequence + 1 <= this.nextNumber()) return;
    this.segmentFrom.push(this.table.length);
    this.segmentOffset.push(sequence - this.table.length);
    this.exceptional = true;
  }

  /** Give `handle` an id of its own (an adopted order's). */
  name(handle: number, clientOrderId: string): void {
    this.foreignIdOf.set(handle, clientOrderId);
    this.handleOfForeign.set(clientOrderId, handle);
    this.exceptional = true;
  }

  /** The sequence number of a client order id of this engine's form (`${prefix}-${n}`), or -1. */
  sequenceOf(clientOrderId: string): number {
    return clientOrderSequence(this.prefix, clientOrderId);
  }

  /** The handle of a client order id, or -1 when the engine has no such order. */
  handleOf(clientOrderId: string): number {
    if (this.exceptional) {
      const foreign = this.handleOfForeign.get(clientOrderId);
      if (foreign !== undefined) return foreign;
    }
    const number = this.sequenceOf(clientOrderId);
    if (number < 0) return -1;
    if (!this.exceptional) return number - 1 < this.table.length ? number - 1 : -1;
    for (let segment = this.segmentFrom.length - 1; segment >= 0; segment--) {
      const handle = number - 1 - this.segmentOffset[segment];
      const to = segment + 1 < this.segmentFrom.length ? this.segmentFrom[segment + 1] : Infinity;
      if (handle >= this.segmentFrom[segment] && handle < to) {
        return handle < this.table.length && !this.foreignIdOf.has(handle) ? handle : -1;
      }
    }
    return -1;
  }

  has(clientOrderId: string): boolean {
    return this.handleOf(clientOrderId) >= 0;
  }

  get(clientOrderId: string): Order | undefined {
    const handle = this.handleOf(clientOrderId);
    return handle < 0 ? undefined : new Order(this, handle);
  }

  at(handle: number): Order {
    return new Order(this, handle);
  }

  /** Every order, in creation order. */
  *values(): IterableIterator<Order> {
    for (let handle = 0; handle < this.table.length; handle++) yield new Order(this, handle);
  }

  /** Every client order id, in creation order. */
  *keys(): IterableIterator<string> {
    for (let handle = 0; handle < this.table.length; handle++) yield this.clientOrderId(handle);
  }
}

function optional(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}

/** A live view of one order (all quantities in lots, prices in ticks). */
export class Order {
  constructor(private readonly book: OrderBook, readonly handle: number) {}

  private get t(): OrderTable { return this.book.table; }
  private linked(handle: number): string | undefined { return handle < 0 ? undefined : this.book.clientOrderId(handle); }

  get clientOrderId(): string { return this.book.clientOrderId(this.handle); }
  get symbolIndex(): number { return this.t.symbolIndex[this.handle]; }
  get symbol(): string { return this.book.instruments[this.t.symbolIndex[this.handle]].symbol; }
  get side(): Side { return SIDES[this.t.side[this.handle]]; }
  get type(): OrderType { return ORDER_TYPES[this.t.type[this.handle]]; }
  get timeInForce(): TimeInForce { return TIMES_IN_FORCE[this.t.timeInForce[this.handle]]; }
  get reduceOnly(): boolean { return this.t.reduceOnly[this.handle] === 1; }
  get role(): OrderRole { return ROLES[this.t.role[this.handle]]; }
  get tag(): string | undefined { const tag = this.t.tag[this.handle]; return tag < 0 ? undefined : this.book.strings.get(tag); }
  get createdUs(): number { return this.t.createdUs[this.handle]; }
  get updatedUs(): number { return this.t.updatedUs[this.handle]; }
  /** Creation order within the engine, from 1. */
  get sequence(): number { return this.handle + 1; }
  get status(): OrderStatus { return STATUSES[this.t.status[this.handle]]; }
  get quantity(): number { return this.t.quantity[this.handle]; }
  get filledQuantity(): number { return this.t.filledQuantity[this.handle]; }
  get filledNotionalTickLots(): number { return this.t.filledNotionalTickLots[this.handle]; }
  get feesCash(): number { return this.t.feesCash[this.handle]; }
  get remainingQuantity(): number { return this.t.quantity[this.handle] - this.t.filledQuantity[this.handle]; }
  get limitPriceTicks(): number | undefined { return optional(this.t.limitPriceTicks[this.handle]); }
  get stopPriceTicks(): number | undefined { return optional(this.t.stopPriceTicks[this.handle]); }
  get trailingOffsetTicks(): number | undefined { return optional(this.t.trailingOffsetTicks[this.handle]); }
  get epoch(): number { return this.t.epoch[this.handle]; }
  get reason(): string | undefined { const reason = this.t.reason[this.handle]; return reason < 0 ? undefined : this.book.strings.get(reason); }
  get venueOrderId(): string | undefined {
    const number = this.t.venueOrderNumber[this.handle];
    return Number.isNaN(number) ? this.t.venueOrderIds.get(this.handle) : `V${number}`;
  }
  get parentClientOrderId(): string | undefined { return this.linked(this.t.parent[this.handle]); }
  get ocoWithClientOrderId(): string | undefined { return this.linked(this.t.oco[this.handle]); }
  get stopLossClientOrderId(): string | undefined { return this.linked(this.t.stopLoss[this.handle]); }
  get takeProfitClientOrderId(): string | undefined { return this.linked(this.t.takeProfit[this.handle]); }
  get isTerminal(): boolean { return isTerminalStatus(this.t.status[this.handle]); }
  /** Working at the venue or on its way there: counts toward open orders and exposure. */
  get isOpen(): boolean { return isOpenStatus(this.t.status[this.handle]); }
  get averageFillPriceTicks(): number {
    const filled = this.t.filledQuantity[this.handle];
    return filled === 0 ? NaN : this.t.filledNotionalTickLots[this.handle] / filled;
  }

  /** The request as it is sent now. */
  request(): OrderRequest {
    return {
      clientOrderId: this.clientOrderId,
      symbol: this.symbol,
      side: this.side,
      type: this.type,
      quantity: this.quantity,
      timeInForce: this.timeInForce,
      limitPriceTicks: this.limitPriceTicks,
      stopPriceTicks: this.stopPriceTicks,
      trailingOffsetTicks: this.trailingOffsetTicks,
      reduceOnly: this.reduceOnly,
      ocoWithClientOrderId: this.ocoWithClientOrderId,
      epoch: this.epoch,
      tag: this.tag,
    };
  }
}
