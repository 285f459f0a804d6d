// The Alpaca adapter as a runtime venue: reports go to the runner's callback, reconciliation reads the broker's
// orders and positions through the same adapter, and orders placed by an earlier process of the session are
// adopted (tracked again by client order id, OCO stop legs through their take-profit sibling). At a takeover,
// the session's open orders are listed as requests a new leader can adopt (fetchSessionOrders). Cancels and
// modifies carry the sending tenure's fencing epoch (on the wire with epochOnWire).
//
// The adapter's operating problems (an outcome still unknown, stream errors, catch-up failures) go to `onProblem`,
// and while any placement or replace is unsettled the adapter looks again on the real-time clock's timers.
//
// Test mode (`marketEchoUrl`): each market record is also pushed to an AlpacaFake's loopback-only test endpoint,
// so that the fake's matcher sees the prices the runner's feed sees, in step: our requests in flight finish
// first, then the print goes out, then (bounded wait) its trade_updates arrive, then what they caused finishes.
import { SimError, type Clock, type ExecutionReport, type Instrument, type OrderChanges, type OrderRequest } from '../../engine/index.ts';
import { AlpacaVenue } from '../alpaca/index.ts';
import { TEST_TRADES_PATH } from '../alpaca/fake/alpaca-fake.ts';
import { RealTimeClock } from '../real-time-clock.ts';
import type { TimerPort } from '../leader-lock/lock-store.ts';
import type { MarketRecord } from './session-records.ts';
import type { AdoptedOrderState, RuntimeVenue, SessionOrders, VenuePosition } from './runtime-venue.ts';

export interface AlpacaRuntimeVenueOptions {
  readonly keyId: string;
  readonly secret: string;
  readonly restUrl: string;
  readonly streamUrl: string;
  readonly instruments: readonly Instrument[];
  readonly clock: Clock;
  /** Test only: an AlpacaFake's REST base on loopback; every market record is echoed to it as a trade print. */
  readonly marketEchoUrl?: string;
  /** Stamp the fencing epoch on wire client order ids (see AlpacaVenueOptions.epochOnWire). */
  readonly epochOnWire?: boolean;
  /** The client's own request budget (Alpaca's is 200 a minute; a test fake may allow more). */
  readonly requestsPerMinuteMax?: number;
  /** Operating problems of the adapter that are no report about one order, each a SimError with its code. */
  readonly onProblem?: (error: SimError) => void;
  /** Timers for rechecking unsettled outcomes (default: real time), and how often (default 5000 ms). */
  readonly timers?: TimerPort;
  readonly unsettledRecheckMs?: number;
  /** Adapter tuning, for tests: request timeout and the pause between settling lookups. */
  readonly requestTimeoutMs?: number;
  readonly lookupSettleMs?: number;
}

/** Bound on waiting for the stream events of one echoed print. */
const ECHO_EVENTS_WAIT_MS_MAX = 3_000;
const ECHO_POLL_MS = 2;

export class AlpacaRuntimeVenue implements RuntimeVenue {
  private readonly venue: AlpacaVenue;
  private readonly options: AlpacaRuntimeVenueOptions;
  private onReport: (report: ExecutionReport) => void = () => {};

  constructor(options: AlpacaRuntimeVenueOptions) {
    this.options = options;
    if (options.marketEchoUrl !== undefined) {
      const host = new URL(options.marketEchoUrl).hostname;
      if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
        throw new SimError('VENUE_ECHO_NOT_LOOPBACK', `expected the market echo (a test fake) on loopback, found host ${host}`);
      }
    }
    this.venue = new AlpacaVenue({ ...options, timers: options.timers ?? RealTimeClock.real(), sink: { onReport: (report) => this.onReport(report) } });
  }

  get capabilities() {
    return this.venue.capabilities;
  }

  async connect(onReport: (report: ExecutionReport) => void): Promise<void> {
    this.onReport = onReport;
    await this.venue.connect();
  }

  submit(request: OrderRequest): void { this.venue.submit(request); }
  cancel(clientOrderId: string, epoch?: number): void { this.venue.cancel(clientOrderId, epoch); }
  modify(clientOrderId: string, changes: OrderChanges, epoch?: number): void { this.venue.modify(clientOrderId, changes, epoch); }
  lookupByClientOrderId(clientOrderId: string, request?: OrderRequest) { return this.venue.lookupByClientOrderId(clientOrderId, request); }
  adopt(request: OrderRequest, known: AdoptedOrderState): Promise<boolean> { return this.venue.adopt(request, known); }
  fetchOpenOrders() { return this.venue.fetchOpenOrders(); }
  cancelOrphan(venueOrderId: string, epoch?: number): Promise<void> { return this.venue.cancelUntracked(venueOrderId, epoch); }
  async fetchPositions(): Promise<VenuePosition[]> { return (await this.venue.fetchPositions()).map((p) => ({ symbol: p.symbol, quantity: p.quantity, averagePriceTicks: p.averagePriceTicks })); }
  fetchSessionOrders(clientOrderIdPrefix: string): Promise<SessionOrders> { return this.venue.fetchSessionOrders(clientOrderIdPrefix); }
  catchUp(): Promise<void> { return this.venue.catchUp(); }
  idle(): Promise<void> { return this.venue.idle(); }
  close(): Promise<void> { return this.venue.close(); }

  onMarket(record: MarketRecord): Promise<void> | void {
    if (this.options.marketEchoUrl === undefined) return;
    return this.echo(record);
  }

  private async echo(record: MarketRecord): Promise<void> {
    const instrument = this.options.instruments[record.s];
    const scale = 10 ** instrument.priceScale;
    const price = record.k === 'tick' ? record.p : record.c;
    // The print's own size (a bar's volume): the fake's matcher shares it among orders, as the paper broker does.
    const size = record.k === 'tick' ? record.q / 10 ** instrument.lotScale : record.v;
    await this.venue.idle();
    const before = this.venue.tradeUpdatesReceived;
    const response = await fetch(`${this.options.marketEchoUrl}${TEST_TRADES_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'APCA-API-KEY-ID': this.options.keyId, 'APCA-API-SECRET-KEY': this.options.secret },
      body: JSON.stringify({ symbol: instrument.symbol, price: (price / scale).toFixed(instrument.priceScale), size, timeUs: record.t }),
    });
    if (!response.ok) throw new SimError('VENUE_ECHO_FAILED', `expected 200 from the fake's trade endpoint, found ${response.status}: ${await response.text()}`);
    const { events } = (await response.json()) as { events: number };
    for (let waitedMs = 0; this.venue.tradeUpdatesReceived - before < events; waitedMs += ECHO_POLL_MS) {
      if (waitedMs >= ECHO_EVENTS_WAIT_MS_MAX) throw new SimError('VENUE_ECHO_EVENTS', `expected ${events} trade_updates within ${ECHO_EVENTS_WAIT_MS_MAX} ms, found ${this.venue.tradeUpdatesReceived - before}`);
      await new Promise((resolve) => setTimeout(resolve, ECHO_POLL_MS));
    }
    await this.venue.idle();
  }
}
