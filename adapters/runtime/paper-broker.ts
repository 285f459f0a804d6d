// The paper broker: the simulated venue's matching run against the live feed, with the same fill, fee, slippage
// and latency models as replay, behind the same execution port as a real broker. The market reaches the broker
// before the engine (as a real venue sees prices first), so a bar's fills arrive before the strategy sees the
// bar, exactly as in replay. Requests wait for their latency on the broker's own queue; the runner advances it.
//
// It lives in the session's process and is a deterministic function of the calls it receives (seeded), so it is
// `rebuiltFromJournal`: the runner journals every call before making it and, after a crash, rebuilds the broker
// by making them again (SessionRunner.rebuildVenue). Nothing here is persisted.
//
// Fencing: the simulated venue refuses submits under an epoch older than the newest it has seen; the broker
// refuses cancels and modifies the same way (a `cancel-rejected` / `modify-rejected` with STALE_EPOCH), so a
// deposed leader can neither place nor cancel nor change an order.
import {
  EventQueue, SimulatedVenue, SeededRng, scalesOf, type ExecutionPort, type ExecutionReport, type Instrument, type OrderChanges,
  type OrderRequest, type SimulatedVenueOptions, type VenueCapabilities,
} from '../../engine/index.ts';
import type { MarketRecord } from './session-records.ts';
import type { BrokerHeldOrder, RuntimeVenue, SessionOrders, VenueOrderState, VenuePosition } from './runtime-venue.ts';

export class PaperBroker implements ExecutionPort, RuntimeVenue {
  readonly capabilities: VenueCapabilities;
  readonly rebuiltFromJournal = true;
  private readonly venue: SimulatedVenue;
  private readonly queue = new EventQueue();
  private clockUs = -Infinity;
  private readonly orders = new Map<string, VenueOrderState>();
  /** Tick-lots filled per client order id. */
  private readonly filledNotional = new Map<string, number>();
  /** Per symbol: signed position in lots and the cost of it in tick-lots (average-cost basis), for fetchPositions. */
  private readonly positionLots: Float64Array;
  private readonly positionCost: Float64Array;
  private newestEpoch = 0;
  private reportSink: ((report: ExecutionReport) => void) | null = null;

  constructor(readonly instruments: readonly Instrument[], options: Partial<SimulatedVenueOptions>, seed: number) {
    this.venue = new SimulatedVenue(instruments.map(scalesOf), options, new SeededRng(seed));
    this.capabilities = this.venue.capabilities;
    this.positionLots = new Float64Array(instruments.length);
    this.positionCost = new Float64Array(instruments.length);
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
    if (request.epoch > this.newestEpoch) this.newestEpoch = request.epoch;
    // A second order under a known id is refused by the venue (DUPLICATE_CLIENT_ORDER_ID): the order already
    // recorded under the id keeps its request and state.
    if (!this.orders.has(request.clientOrderId)) this.orders.set(request.clientOrderId, { request, status: 'submitted', filledQuantity: 0 });
    this.venue.submit(request);
    this.advanceTo(this.clockUs);
  }

  cancel(clientOrderId: string, epoch?: number): void {
    if (this.fenced(epoch)) {
      this.reportSink?.({ type: 'cancel-rejected', clientOrderId, code: 'STALE_EPOCH', reason: `expected fencing epoch >= ${this.newestEpoch}, found ${epoch}`, timeUs: this.clockUs });
      return;
    }
    this.venue.cancel(clientOrderId);
    this.advanceTo(this.clockUs);
  }

  modify(clientOrderId: string, changes: OrderChanges, epoch?: number): void {
    if (this.fenced(epoch)) {
      this.reportSink?.({ type: 'modify-rejected', clientOrderId, code: 'STALE_EPOCH', reason: `expected fencing epoch >= ${this.newestEpoch}, found ${epoch}`, timeUs: this.clockUs });
      return;
    }
    this.venue.modify(clientOrderId, changes);
    this.advanceTo(this.clockUs);
  }

  /** An epoch older than the newest seen (remembering a newer one); no epoch: a caller that does not fence. */
  private fenced(epoch: number | undefined): boolean {
    if (epoch === undefined || !this.venue.options.fenceEpochs) return false;
    if (epoch < this.newestEpoch) return true;
    this.newestEpoch = epoch;
    return false;
  }

  private onVenueReport(report: ExecutionReport): void {
    const state = this.orders.get(report.clientOrderId);
    // The refusal of a duplicate is about the second order, never the one recorded under the id.
    const aboutDuplicate = report.type === 'rejected' && report.code === 'DUPLICATE_CLIENT_ORDER_ID';
    if (state && !aboutDuplicate) {
      if (report.type === 'accepted') state.status = 'accepted';
      else if (report.type === 'triggered') { if (state.status === 'accepted') state.status = 'triggered'; }
      else if (report.type === 'fill') {
        state.filledQuantity += report.quantity;
        state.status = state.filledQuantity === state.request.quantity ? 'filled' : 'partially-filled';
        this.filledNotional.set(report.clientOrderId, (this.filledNotional.get(report.clientOrderId) ?? 0) + report.quantity * report.priceTicks);
        this.trackPosition(state.request.symbol, report.side === 'buy' ? report.quantity : -report.quantity, report.priceTicks);
      } else if (report.type === 'cancelled' || report.type === 'expired' || report.type === 'rejected') state.status = report.type;
      else if (report.type === 'modified') {
        const changes = report.changes;
        state.request = {
          ...state.request, ...(changes.quantity === undefined ? {} : { quantity: changes.quantity }),
          ...(changes.limitPriceTicks === undefined ? {} : { limitPriceTicks: changes.limitPriceTicks }),
          ...(changes.stopPriceTicks === undefined ? {} : { stopPriceTicks: changes.stopPriceTicks }),
        };
      }
    }
    this.reportSink?.(report);
  }

  /** Average-cost position keeping: adding at a price raises the cost; reducing keeps the average. */
  private trackPosition(symbol: string, signedLots: number, priceTicks: number): void {
    const s = this.instruments.findIndex((instrument) => instrument.symbol === symbol);
    const before = this.positionLots[s];
    const after = before + signedLots;
    if (before === 0 || Math.sign(before) === Math.sign(signedLots)) this.positionCost[s] += signedLots * priceTicks;
    else if (after === 0 || Math.sign(after) === Math.sign(before)) this.positionCost[s] = (this.positionCost[s] / before) * after;
    else this.positionCost[s] = after * priceTicks;
    this.positionLots[s] = after;
  }

  async lookupByClientOrderId(clientOrderId: string): Promise<VenueOrderState | null> {
    return this.orders.get(clientOrderId) ?? null;
  }

  async fetchOpenOrders(): Promise<VenueOrderState[]> {
    return [...this.orders.values()].filter((o) => o.status === 'submitted' || o.status === 'accepted' || o.status === 'partially-filled' || o.status === 'triggered');
  }

  async fetchPositions(): Promise<VenuePosition[]> {
    return this.instruments.map((instrument, i) => ({ symbol: instrument.symbol, quantity: this.venue.position[i], averagePriceTicks: this.venue.position[i] === 0 ? undefined : this.positionCost[i] / this.positionLots[i] }))
      .filter((p) => p.quantity !== 0);
  }

  /** The broker knows each order's request as it was sent (and changed): no rebuilding from a wire view. */
  async fetchSessionOrders(clientOrderIdPrefix: string): Promise<SessionOrders> {
    const open: BrokerHeldOrder[] = [];
    const clientOrderIds: string[] = [];
    for (const [clientOrderId, state] of this.orders) {
      if (!clientOrderId.startsWith(clientOrderIdPrefix)) continue;
      clientOrderIds.push(clientOrderId);
      if (state.status !== 'accepted' && state.status !== 'triggered' && state.status !== 'partially-filled') continue;
      const request = state.request;
      const isStop = request.type === 'stop' || request.type === 'stop-limit' || request.type === 'trailing-stop';
      open.push({
        request, status: state.status, filledQuantity: state.filledQuantity, filledNotionalTickLots: this.filledNotional.get(clientOrderId) ?? 0,
        ...(request.ocoWithClientOrderId === undefined ? {} : { ocoRole: isStop ? 'stop-loss' as const : 'take-profit' as const }),
      });
    }
    return { open, clientOrderIds };
  }

  async close(): Promise<void> {}
}
