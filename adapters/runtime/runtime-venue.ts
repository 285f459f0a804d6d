// What the live runner needs from a broker beyond the execution port: reports delivered to it, and the
// broker's own view of orders and positions for startup reconciliation. Implemented by the paper broker and by
// the Alpaca adapter (through AlpacaRuntimeVenue).
//
// Fencing: cancels and modifies take the epoch of the tenure that sends them, as submits carry theirs in the
// request, so a broker that fences (the paper broker, the Alpaca fake) refuses them from a deposed leader too.
// Takeover: `fetchSessionOrders` lists what another runner of the session left working, as requests a new
// leader's engine can adopt (see SessionRunner).
import type { ExecutionPort, ExecutionReport, OrderChanges, OrderRequest, OrderStatus } from '../../engine/index.ts';
import type { MarketRecord } from './session-records.ts';

export interface VenueOrderState {
  request: OrderRequest;
  status: OrderStatus;
  /** Filled quantity in lots. */
  filledQuantity: number;
}

/** What the session already knows of an order it adopts. */
export interface AdoptedOrderState {
  readonly accepted: boolean;
  /** Total quantity in lots as the session knows it (a replace it never heard back about shows as a difference). */
  readonly quantity?: number;
  /** Lots. */
  readonly filledQuantity: number;
  readonly filledNotionalTickLots: number;
}

export interface VenuePosition {
  readonly symbol: string;
  /** Signed lots. */
  readonly quantity: number;
  /** The broker's average entry price in ticks (may fall between ticks), when it tells. */
  readonly averagePriceTicks?: number;
}

/** An order of this session working at the broker, rebuilt as the request the engine would have sent. */
export interface BrokerHeldOrder {
  /**
   * Our client order id (wire suffixes removed), the venue's current terms; `quantity` spans the order's whole
   * replace chain; `epoch` is the one its first placement went out under (lookups by client order id need it).
   * `reduceOnly` is false unless the broker knows better: the session decides what is an exit.
   */
  readonly request: OrderRequest;
  readonly status: 'accepted' | 'triggered' | 'partially-filled';
  /** Lots filled over the whole replace chain, and their notional in tick-lots. */
  readonly filledQuantity: number;
  readonly filledNotionalTickLots: number;
  readonly venueOrderId?: string;
  /** A member of a broker-side OCO pair (its sibling is `request.ocoWithClientOrderId`). */
  readonly ocoRole?: 'take-profit' | 'stop-loss';
}

export interface SessionOrders {
  readonly open: readonly BrokerHeldOrder[];
  /** Client order ids (ours, suffixes removed) of the session's newest orders at the broker, any status. */
  readonly clientOrderIds: readonly string[];
}

export interface RuntimeVenue extends ExecutionPort {
  /**
   * The venue lives in this process and is a deterministic function of the calls it receives (the paper broker):
   * its state dies with the process. The runner then journals each market record before the venue sees it and,
   * on a restart, rebuilds the venue by calling it again from the journal.
   */
  readonly rebuiltFromJournal?: boolean;
  /** `epoch`: the fencing epoch of the tenure cancelling (a fencing broker refuses an older one). */
  cancel(clientOrderId: string, epoch?: number): void;
  modify(clientOrderId: string, changes: OrderChanges, epoch?: number): void;
  /** Deliver every report to this callback, in the order the venue produced them. */
  connect(onReport: (report: ExecutionReport) => void): void | Promise<void>;
  /** The venue's state of one order by our client order id, or null when it never received it. */
  lookupByClientOrderId(clientOrderId: string, request?: OrderRequest): Promise<VenueOrderState | { status: OrderStatus; filledQuantity: number } | null>;
  fetchOpenOrders(): Promise<{ request?: OrderRequest; clientOrderId?: string; venueOrderId?: string; status: OrderStatus; filledQuantity: number }[]>;
  /** Cancel an open order this process never sent or adopted (an orphan), by the venue's id. */
  cancelOrphan?(venueOrderId: string, epoch?: number): Promise<void>;
  fetchPositions(): Promise<VenuePosition[]>;
  /** For a takeover: this session's open orders (client order ids starting with `clientOrderIdPrefix`) and newest ids. */
  fetchSessionOrders?(clientOrderIdPrefix: string): Promise<SessionOrders>;
  /**
   * Take over an order sent by an earlier process of this session, so that its later reports reach us and what
   * we missed (beyond `known`, the session's own view) is reported now. Brokers that report every order of the
   * account need nothing here.
   */
  adopt?(request: OrderRequest, known: AdoptedOrderState): Promise<boolean | void>;
  /**
   * The venue sees the market before the engine does (paper), or a test venue is told of it. A returned promise
   * is awaited before the engine sees the record.
   */
  onMarket?(record: MarketRecord): void | Promise<void>;
  close(): Promise<void>;
}
