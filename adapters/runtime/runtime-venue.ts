// What the live runner needs from a broker beyond the execution port: reports delivered to it, and the
// broker's own view of orders and positions for startup reconciliation. Implemented by the paper broker and by
// the Alpaca adapter (through AlpacaRuntimeVenue).
import type { ExecutionPort, ExecutionReport, OrderRequest, OrderStatus } from '../../engine/index.ts';
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
}

export interface RuntimeVenue extends ExecutionPort {
  /** Deliver every report to this callback, in the order the venue produced them. */
  connect(onReport: (report: ExecutionReport) => void): void | Promise<void>;
  /** The venue's state of one order by our client order id, or null when it never received it. */
  lookupByClientOrderId(clientOrderId: string, request?: OrderRequest): Promise<VenueOrderState | { status: OrderStatus; filledQuantity: number } | null>;
  fetchOpenOrders(): Promise<{ request?: OrderRequest; clientOrderId?: string; venueOrderId?: string; status: OrderStatus; filledQuantity: number }[]>;
  /** Cancel an open order this process never sent or adopted (an orphan), by the venue's id. */
  cancelOrphan?(venueOrderId: string): Promise<void>;
  fetchPositions(): Promise<VenuePosition[]>;
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
