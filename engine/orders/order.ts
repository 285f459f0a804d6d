// The engine's view of one order and its state machine. The venue owns matching; this record follows the
// venue's reports. Every transition goes through `transition`, which refuses an illegal one as a broken
// invariant: a report that would move a filled order back to working is a bug somewhere, not a condition.
import type { OrderRequest, OrderStatus, OrderType, Side, TimeInForce } from '../types.ts';
import { TERMINAL_STATUSES } from '../types.ts';
import { invariantFailed } from '../errors.ts';

export type OrderRole = 'plain' | 'entry' | 'stop-loss' | 'take-profit' | 'flatten';

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

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ALLOWED[from].includes(to);
}

export class Order {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly symbolIndex: number;
  readonly side: Side;
  readonly type: OrderType;
  readonly timeInForce: TimeInForce;
  readonly reduceOnly: boolean;
  readonly role: OrderRole;
  readonly tag: string | undefined;
  readonly createdUs: number;
  /** Creation order within the engine (for stable iteration). */
  readonly sequence: number;
  /** Slot in the engine's open-order list, or -1 when not open. */
  openSlot = -1;
  private sent: OrderRequest | undefined;
  /** Total quantity in lots (changes only by an acknowledged modify). */
  quantity: number;
  filledQuantity = 0;
  /** Sum of price * quantity over fills, in tick-lots, for the average fill price. */
  filledNotionalTickLots = 0;
  feesCash = 0;
  limitPriceTicks: number | undefined;
  stopPriceTicks: number | undefined;
  trailingOffsetTicks: number | undefined;
  status: OrderStatus;
  venueOrderId: string | undefined;
  /** Bracket links: the entry's client id on exits; the two exits on the entry. */
  parentClientOrderId: string | undefined;
  ocoWithClientOrderId: string | undefined;
  stopLossClientOrderId: string | undefined;
  takeProfitClientOrderId: string | undefined;
  epoch: number;
  updatedUs: number;
  reason: string | undefined;

  constructor(init: {
    request: Omit<OrderRequest, 'ocoWithClientOrderId'> & { ocoWithClientOrderId?: string };
    symbolIndex: number;
    role: OrderRole;
    status: OrderStatus;
    createdUs: number;
    /** Creation order within the engine. */
    sequence?: number;
  }) {
    const { request } = init;
    this.clientOrderId = request.clientOrderId;
    this.symbol = request.symbol;
    this.symbolIndex = init.symbolIndex;
    this.side = request.side;
    this.type = request.type;
    this.timeInForce = request.timeInForce;
    this.reduceOnly = request.reduceOnly;
    this.role = init.role;
    this.tag = request.tag;
    this.quantity = request.quantity;
    this.limitPriceTicks = request.limitPriceTicks;
    this.stopPriceTicks = request.stopPriceTicks;
    this.trailingOffsetTicks = request.trailingOffsetTicks;
    this.ocoWithClientOrderId = request.ocoWithClientOrderId;
    this.epoch = request.epoch;
    this.status = init.status;
    this.createdUs = init.createdUs;
    this.sequence = init.sequence ?? 0;
    this.updatedUs = init.createdUs;
    this.parentClientOrderId = undefined;
    this.stopLossClientOrderId = undefined;
    this.takeProfitClientOrderId = undefined;
    this.venueOrderId = undefined;
    this.reason = undefined;
    // The request the order was created from is what gets sent, unless the order changes before sending.
    this.sent = request as OrderRequest;
  }

  get remainingQuantity(): number {
    return this.quantity - this.filledQuantity;
  }

  get isTerminal(): boolean {
    return TERMINAL_STATUSES.has(this.status);
  }

  /** Working at the venue or on its way there: counts toward open orders and exposure. */
  get isOpen(): boolean {
    return this.status === 'submitted' || this.status === 'accepted' || this.status === 'triggered' || this.status === 'partially-filled';
  }

  get averageFillPriceTicks(): number {
    return this.filledQuantity === 0 ? NaN : this.filledNotionalTickLots / this.filledQuantity;
  }

  transition(to: OrderStatus, timeUs: number): void {
    if (!(canTransition(this.status, to))) invariantFailed(`order ${this.clientOrderId}: illegal transition ${this.status} -> ${to}`);
    this.status = to;
    this.updatedUs = timeUs;
  }


  /** The request as it is sent now: built once, rebuilt only after the order changed before sending. */
  request(): OrderRequest {
    const sent = this.sent;
    if (sent !== undefined && sent.quantity === this.quantity && sent.ocoWithClientOrderId === this.ocoWithClientOrderId && sent.epoch === this.epoch) return sent;
    this.sent = this.toRequest();
    return this.sent;
  }

  toRequest(): OrderRequest {
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

export function sideSign(side: Side): 1 | -1 {
  return side === 'buy' ? 1 : -1;
}

export function oppositeSide(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}
