// The paper broker: the simulated venue's matching run against the live feed, with the same fill, fee, slippage
// and latency models as replay, behind the same execution port as a real broker. The market reaches the broker
// before the engine (as a real venue sees prices first), so a bar's fills arrive before the strategy sees the
// bar, exactly as in replay. Requests wait for their latency on the broker's own queue; the runner advances it.
import {
  EventQueue, SimulatedVenue, SeededRng, scalesOf, type ExecutionPort, type ExecutionReport, type Instrument, type OrderChanges,
  type OrderRequest, type SimulatedVenueOptions, type VenueCapabilities,
} from '../../engine/index.ts';
import type { MarketRecord } from './session-records.ts';
import type { RuntimeVenue, VenueOrderState, VenuePosition } from './runtime-venue.ts';

export class PaperBroker implements ExecutionPort, RuntimeVenue {
  readonly capabilities: VenueCapabilities;
  private readonly venue: SimulatedVenue;
  private readonly queue = new EventQueue();
  private clockUs = -Infinity;
  private readonly orders = new Map<string, VenueOrderState>();
  private reportSink: ((report: ExecutionReport) => void) | null = null;

  constructor(readonly instruments: readonly Instrument[], options: Partial<SimulatedVenueOptions>, seed: number) {
    this.venue = new SimulatedVenue(instruments.map(scalesOf), options, new SeededRng(seed));
    this.capabilities = this.venue.capabilities;
    this.venue.attach({ onReport: (report) => this.onVenueReport(report) }, { nowUs: () => this.clockUs, queue: this.queue });
  }

  connect(onReport: (report: ExecutionReport) => void): void {
    this.reportSink = onReport;
  }

  /** Run what is due (request arrivals, expiries) up to `timeUs`. */
  advanceTo(timeUs: number): void {
    while (this.queue.nextTimeUs <= timeUs) {
      if (this.queue.nextTimeUs > this.clockUs) this.clockUs = this.queue.nextTimeUs;
      this.queue.runNext();
    }
    if (timeUs > this.clockUs) this.clockUs = timeUs;
  }

  onMarket(record: MarketRecord): void {
    if (record.k === 'bar') {
      this.advanceTo(record.st);
      this.venue.onBar(record.s, record.st, record.o, record.h, record.l, record.c, record.v);
      this.advanceTo(record.t);
    } else {
      this.advanceTo(record.t);
      this.venue.onTick(record.s, record.t, record.p, record.q, record.b ?? NaN, record.a ?? NaN);
    }
  }

  submit(request: OrderRequest): void {
    this.orders.set(request.clientOrderId, { request, status: 'submitted', filledQuantity: 0 });
    this.venue.submit(request);
    this.advanceTo(this.clockUs);
  }

  cancel(clientOrderId: string): void {
    this.venue.cancel(clientOrderId);
    this.advanceTo(this.clockUs);
  }

  modify(clientOrderId: string, changes: OrderChanges): void {
    this.venue.modify(clientOrderId, changes);
    this.advanceTo(this.clockUs);
  }

  private onVenueReport(report: ExecutionReport): void {
    const state = this.orders.get(report.clientOrderId);
    if (state) {
      if (report.type === 'accepted') state.status = 'accepted';
      else if (report.type === 'fill') {
        state.filledQuantity += report.quantity;
        state.status = state.filledQuantity === state.request.quantity ? 'filled' : 'partially-filled';
      } else if (report.type === 'cancelled' || report.type === 'expired' || report.type === 'rejected') state.status = report.type;
      else if (report.type === 'modified' && report.changes.quantity !== undefined) state.request = { ...state.request, quantity: report.changes.quantity };
    }
    this.reportSink?.(report);
  }

  async lookupByClientOrderId(clientOrderId: string): Promise<VenueOrderState | null> {
    return this.orders.get(clientOrderId) ?? null;
  }

  async fetchOpenOrders(): Promise<VenueOrderState[]> {
    return [...this.orders.values()].filter((o) => o.status === 'submitted' || o.status === 'accepted' || o.status === 'partially-filled' || o.status === 'triggered');
  }

  async fetchPositions(): Promise<VenuePosition[]> {
    return this.instruments.map((instrument, i) => ({ symbol: instrument.symbol, quantity: this.venue.position[i] })).filter((p) => p.quantity !== 0);
  }

  async close(): Promise<void> {}
}
