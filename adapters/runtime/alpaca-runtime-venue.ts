// The Alpaca adapter as a runtime venue: reports go to the runner's callback, and reconciliation reads the
// broker's orders and positions through the same adapter. (Adopting an order placed by an earlier process is not
// yet supported by the adapter: such orders are looked up, not tracked; see the issue notes.)
import type { Clock, ExecutionReport, Instrument, OrderChanges, OrderRequest } from '../../engine/index.ts';
import { AlpacaVenue } from '../alpaca/index.ts';
import type { RuntimeVenue, VenuePosition } from './runtime-venue.ts';

export interface AlpacaRuntimeVenueOptions {
  readonly keyId: string;
  readonly secret: string;
  readonly restUrl: string;
  readonly streamUrl: string;
  readonly instruments: readonly Instrument[];
  readonly clock: Clock;
}

export class AlpacaRuntimeVenue implements RuntimeVenue {
  private readonly venue: AlpacaVenue;
  private onReport: (report: ExecutionReport) => void = () => {};

  constructor(options: AlpacaRuntimeVenueOptions) {
    this.venue = new AlpacaVenue({ ...options, sink: { onReport: (report) => this.onReport(report) } });
  }

  get capabilities() {
    return this.venue.capabilities;
  }

  async connect(onReport: (report: ExecutionReport) => void): Promise<void> {
    this.onReport = onReport;
    await this.venue.connect();
  }

  submit(request: OrderRequest): void { this.venue.submit(request); }
  cancel(clientOrderId: string): void { this.venue.cancel(clientOrderId); }
  modify(clientOrderId: string, changes: OrderChanges): void { this.venue.modify(clientOrderId, changes); }
  lookupByClientOrderId(clientOrderId: string) { return this.venue.lookupByClientOrderId(clientOrderId); }
  fetchOpenOrders() { return this.venue.fetchOpenOrders(); }
  async fetchPositions(): Promise<VenuePosition[]> { return (await this.venue.fetchPositions()).map((p) => ({ symbol: p.symbol, quantity: p.quantity })); }
  catchUp(): Promise<void> { return this.venue.catchUp(); }
  idle(): Promise<void> { return this.venue.idle(); }
  close(): Promise<void> { return this.venue.close(); }
}
