// The engine's orders as columns: one row per order, indexed by a handle (0, 1, 2, ... in creation order), each
// field a typed array. Creating, updating and following an order allocates nothing once the columns have grown,
// and a run with a million orders keeps no object per order (the garbage collector never walks them).
//
// Enumerations are small integer codes (below); absent prices are NaN; links between orders (bracket parent and
// exits, OCO partner) are handles, -1 for none. Every status change goes through `transition`, which refuses an
// illegal one as a broken invariant: a report that would move a filled order back to working is a bug
// somewhere, not a condition.
import { grown } from '../core/columns.ts';
import type { OrderStatus, OrderType, Side, TimeInForce } from '../types.ts';
import { invariantFailed } from '../errors.ts';

export type OrderRole = 'plain' | 'entry' | 'stop-loss' | 'take-profit' | 'flatten';

export const SIDE_BUY = 0;
export const SIDE_SELL = 1;
export const SIDES: readonly Side[] = ['buy', 'sell'];

export const TYPE_MARKET = 0;
export const TYPE_LIMIT = 1;
export const TYPE_STOP = 2;
export const TYPE_STOP_LIMIT = 3;
export const TYPE_TRAILING_STOP = 4;
export const ORDER_TYPES: readonly OrderType[] = ['market', 'limit', 'stop', 'stop-limit', 'trailing-stop'];

export const TIF_DAY = 0;
export const TIF_GTC = 1;
export const TIF_IOC = 2;
export const TIMES_IN_FORCE: readonly TimeInForce[] = ['day', 'gtc', 'ioc'];

export const ROLE_PLAIN = 0;
export const ROLE_ENTRY = 1;
export const ROLE_STOP_LOSS = 2;
export const ROLE_TAKE_PROFIT = 3;
export const ROLE_FLATTEN = 4;
export const ROLES: readonly OrderRole[] = ['plain', 'entry', 'stop-loss', 'take-profit', 'flatten'];

// Status codes: the open ones (working at the venue or on their way there) are SUBMITTED..PARTIAL, the terminal
// ones FILLED and above.
export const STATUS_HELD = 0;
export const STATUS_SUBMITTED = 1;
export const STATUS_ACCEPTED = 2;
export const STATUS_TRIGGERED = 3;
export const STATUS_PARTIAL = 4;
export const STATUS_FILLED = 5;
export const STATUS_CANCELLED = 6;
export const STATUS_EXPIRED = 7;
export const STATUS_REJECTED = 8;
export const STATUS_DENIED = 9;
export const STATUSES: readonly OrderStatus[] = [
  'held', 'submitted', 'accepted', 'triggered', 'partially-filled', 'filled', 'cancelled', 'expired', 'rejected', 'denied',
];

export function codeOf<T extends string>(names: readonly T[], name: T): number {
  const code = names.indexOf(name);
  if (code < 0) invariantFailed(`expected one of ${names.join(', ')}, found '${name}'`);
  return code;
}

const ALLOWED: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  held: ['submitted', 'cancelled'],
  submitted: ['accepted', 'rejected', 'cancelled'],
  accepted: ['triggered', 'partially-filled', 'filled', 'cancelled', 'expired'],
  triggered: ['partially-filled', 'filled', 'cancelled', 'expired'],
  'partially-filled': ['partially-filled', 'filled', 'cancelled', 'expired'],
  filled: [],
  cancelled: [],
  expired: [],
  rejected: [],
  denied: [],
};

/** ALLOWED as a matrix of codes: TRANSITIONS[from * 10 + to] is 1 when legal. */
const TRANSITIONS = new Uint8Array(STATUSES.length * STATUSES.length);
STATUSES.forEach((from, f) => {
  for (const to of ALLOWED[from]) TRANSITIONS[f * STATUSES.length + STATUSES.indexOf(to)] = 1;
});

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isOpenStatus(status: number): boolean {
  return status >= STATUS_SUBMITTED && status <= STATUS_PARTIAL;
}

export function isTerminalStatus(status: number): boolean {
  return status >= STATUS_FILLED;
}

export class OrderTable {
  length = 0;
  symbolIndex = new Int32Array(0);
  side = new Uint8Array(0);
  type = new Uint8Array(0);
  timeInForce = new Uint8Array(0);
  role = new Uint8Array(0);
  status = new Uint8Array(0);
  reduceOnly = new Uint8Array(0);
  /** Total quantity in lots (changes only by an acknowledged modify, or when a held exit is released). */
  quantity = new Float64Array(0);
  filledQuantity = new Float64Array(0);
  /** Sum of price * quantity over fills, in tick-lots, for the average fill price. */
  filledNotionalTickLots = new Float64Array(0);
  feesCash = new Float64Array(0);
  limitPriceTicks = new Float64Array(0);
  stopPriceTicks = new Float64Array(0);
  trailingOffsetTicks = new Float64Array(0);
  /** Fencing epoch when the order was created. */
  epoch = new Float64Array(0);
  createdUs = new Float64Array(0);
  updatedUs = new Float64Array(0);
  /** Bracket links: the entry's handle on exits; the two exits on the entry. */
  parent = new Int32Array(0);
  oco = new Int32Array(0);
  stopLoss = new Int32Array(0);
  takeProfit = new Int32Array(0);
  /**
   * On a bracket entry: the lots its exits have filled, over every exit pair it ever had. The entry's filled
   * quantity less this is what the bracket still holds, which its exits must cover and never exceed.
   */
  exitFilledQuantity = new Float64Array(0);
  /** Slot in the engine's open-order list, or -1 when not open. */
  openSlot = new Int32Array(0);
  /** Interned reason (reject code, cancel reason), or -1. */
  reason = new Int32Array(0);
  /** Interned tag, or -1. */
  tag = new Int32Array(0);
  /** The simulated venue's order number ('V' + number), or NaN. */
  venueOrderNumber = new Float64Array(0);
  /** Venue order ids of other venues, by handle (a live venue's ids are strings). */
  readonly venueOrderIds = new Map<number, string>();
  /** How messages name an order (the engine sets its client order ids). */
  nameOf: (handle: number) => string = (handle) => `#${handle + 1}`;

  /** Add a row with everything but the identity fields at their defaults; returns its handle. */
  add(symbolIndex: number, side: number, type: number, timeInForce: number, role: number, status: number, reduceOnly: boolean, quantity: number,
    limitPriceTicks: number, stopPriceTicks: number, trailingOffsetTicks: number, epoch: number, createdUs: number, tag: number): number {
    const h = this.length;
    if (h === this.symbolIndex.length) this.grow();
    this.length = h + 1;
    // A row past the end already holds the defaults (see grow), so only the identity fields are written.
    this.writeIdentity(h, symbolIndex, side, type, timeInForce, role, status, reduceOnly, quantity, limitPriceTicks, stopPriceTicks, trailingOffsetTicks, epoch,
      createdUs, tag);
    return h;
  }

  /** (Re)write row `h` as a new order (an adopted order superseding a finished one keeps its handle). */
  write(h: number, symbolIndex: number, side: number, type: number, timeInForce: number, role: number, status: number, reduceOnly: boolean, quantity: number,
    limitPriceTicks: number, stopPriceTicks: number, trailingOffsetTicks: number, epoch: number, createdUs: number, tag: number): void {
    this.writeIdentity(h, symbolIndex, side, type, timeInForce, role, status, reduceOnly, quantity, limitPriceTicks, stopPriceTicks, trailingOffsetTicks, epoch,
      createdUs, tag);
    this.filledQuantity[h] = 0;
    this.filledNotionalTickLots[h] = 0;
    this.feesCash[h] = 0;
    this.exitFilledQuantity[h] = 0;
    this.parent[h] = -1;
    this.oco[h] = -1;
    this.stopLoss[h] = -1;
    this.takeProfit[h] = -1;
    this.openSlot[h] = -1;
    this.reason[h] = -1;
    this.venueOrderNumber[h] = NaN;
  }

  private writeIdentity(h: number, symbolIndex: number, side: number, type: number, timeInForce: number, role: number, status: number, reduceOnly: boolean,
    quantity: number, limitPriceTicks: number, stopPriceTicks: number, trailingOffsetTicks: number, epoch: number, createdUs: number, tag: number): void {
    this.symbolIndex[h] = symbolIndex;
    this.side[h] = side;
    this.type[h] = type;
    this.timeInForce[h] = timeInForce;
    this.role[h] = role;
    this.status[h] = status;
    this.reduceOnly[h] = reduceOnly ? 1 : 0;
    this.quantity[h] = quantity;
    this.limitPriceTicks[h] = limitPriceTicks;
    this.stopPriceTicks[h] = stopPriceTicks;
    this.trailingOffsetTicks[h] = trailingOffsetTicks;
    this.epoch[h] = epoch;
    this.createdUs[h] = createdUs;
    this.updatedUs[h] = createdUs;
    this.tag[h] = tag;
  }

  remaining(h: number): number {
    return this.quantity[h] - this.filledQuantity[h];
  }

  isOpen(h: number): boolean {
    const status = this.status[h];
    return status >= STATUS_SUBMITTED && status <= STATUS_PARTIAL;
  }

  transition(h: number, to: number, timeUs: number): void {
    const from = this.status[h];
    if (TRANSITIONS[from * 10 + to] !== 1) invariantFailed(`order ${this.nameOf(h)}: illegal transition ${STATUSES[from]} -> ${STATUSES[to]}`);
    this.status[h] = to;
    this.updatedUs[h] = timeUs;
  }

  private grow(): void {
    // Four times longer each time: fewer copies of what is there, and fewer fresh pages touched overall.
    const capacity = Math.max(4096, this.symbolIndex.length * 4);
    this.symbolIndex = grown(this.symbolIndex, capacity);
    this.side = grown(this.side, capacity);
    this.type = grown(this.type, capacity);
    this.timeInForce = grown(this.timeInForce, capacity);
    this.role = grown(this.role, capacity);
    this.status = grown(this.status, capacity);
    this.reduceOnly = grown(this.reduceOnly, capacity);
    this.quantity = grown(this.quantity, capacity);
    this.filledQuantity = grown(this.filledQuantity, capacity);
    this.filledNotionalTickLots = grown(this.filledNotionalTickLots, capacity);
    this.feesCash = grown(this.feesCash, capacity);
    this.limitPriceTicks = grown(this.limitPriceTicks, capacity);
    this.stopPriceTicks = grown(this.stopPriceTicks, capacity);
    this.trailingOffsetTicks = grown(this.trailingOffsetTicks, capacity);
    this.epoch = grown(this.epoch, capacity);
    this.createdUs = grown(this.createdUs, capacity);
    this.updatedUs = grown(this.updatedUs, capacity);
    this.parent = grown(this.parent, capacity);
    this.oco = grown(this.oco, capacity);
    this.stopLoss = grown(this.stopLoss, capacity);
    this.takeProfit = grown(this.takeProfit, capacity);
    this.exitFilledQuantity = grown(this.exitFilledQuantity, capacity);
    this.openSlot = grown(this.openSlot, capacity);
    this.reason = grown(this.reason, capacity);
    this.tag = grown(this.tag, capacity);
    this.venueOrderNumber = grown(this.venueOrderNumber, capacity);
    // The new rows take the defaults of a fresh order in bulk (the counters are already zero), so `add` skips them.
    const from = this.length;
    this.parent.fill(-1, from);
    this.oco.fill(-1, from);
    this.stopLoss.fill(-1, from);
    this.takeProfit.fill(-1, from);
    this.openSlot.fill(-1, from);
    this.reason.fill(-1, from);
    this.venueOrderNumber.fill(NaN, from);
  }
}

export function sideSign(side: Side): 1 | -1 {
  return side === 'buy' ? 1 : -1;
}

export function oppositeSide(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}
