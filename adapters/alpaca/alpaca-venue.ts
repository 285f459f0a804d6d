// The Alpaca execution port: engine OrderRequests out as Alpaca v2 orders, Alpaca's trade_updates stream in
// as ExecutionReports. REST goes through the official SDK (@alpacahq/alpaca-trade-api, raw generated Api
// classes with our own basePath, so tests point it at the loopback fake); the stream is the SDK's
// TradingStream with its `url` override.
//
// Rules this adapter keeps:
// - A placement is never retried blindly. On a timeout, a dropped connection or a 5xx the outcome is unknown;
//   it is settled by looking the order up by client_order_id. Only when the venue answers "no such order"
//   twice, `lookupSettleMs` apart (the SDK warns a miss right after a placement may be a lag, not proof), is
//   the order sent again, at most `placementAttemptsMax` times in all. A 429 or a 4xx is a definite "not
//   accepted": 429 is retried after Retry-After (bounded), a 4xx becomes a `rejected` report -- except a 422
//   "client_order_id must be unique" for an id this adapter already sent: the venue has the order (the two
//   misses were a lag), so it is looked up and taken over, never reported rejected.
// - A replace with an unknown outcome is settled the same way: by the replacement's client_order_id, and by the
//   old order's replaced_by; only two answers "not replaced", lookupSettleMs apart, make it a modify-rejected.
// - An outcome nobody could tell stays unsettled (VENUE_OUTCOME_UNKNOWN) and is looked at again by catchUp(),
//   and, given a timer port, every `unsettledRecheckMs` for as long as any is unsettled.
// - Fills are counted from the order's cumulative filled_qty, not by adding up events: a duplicated, reordered
//   or missed event (stream outage) can neither double nor lose a fill. Execution ids dedup the common case.
// - The client never sends more than 200 requests per minute (token bucket, bounded waiting line).
import { setTimeout as delay } from 'node:timers/promises';
import { FetchError, ResponseError, streaming, trading } from '@alpacahq/alpaca-trade-api';
import { SimError } from '../../engine/errors.ts';
import type {
  Clock, ExecutionPort, ExecutionReport, ExecutionSink, Instrument, OrderChanges, OrderRequest, OrderStatus, OrderType, VenueCapabilities,
} from '../../engine/types.ts';
import { CASH_SCALE } from '../../engine/types.ts';
import type { AlpacaOrderRequestWire, AlpacaOrderStatus, AlpacaReplaceRequestWire } from './alpaca-wire.ts';
import { decimalToScaled, scaledToDecimal } from './decimal-units.ts';
import { TokenBucket } from './token-bucket.ts';
import { ORDER_PAGE_LIMIT, ORDER_PAGES_MAX, pageOrders } from './order-pages.ts';
import { ALPACA_TERMINAL_STATUSES } from './alpaca-wire.ts';
import type { TimerPort } from '../leader-lock/lock-store.ts';

export interface AlpacaVenueOptions {
  keyId: string;
  secret: string;
  /** Trading REST base, e.g. https://paper-api.alpaca.markets (no /v2). */
  restUrl: string;
  /** trade_updates websocket, e.g. wss://paper-api.alpaca.markets/stream. */
  streamUrl: string;
  instruments: readonly Instrument[];
  sink: ExecutionSink;
  clock: Clock;
  requestTimeoutMs?: number;
  requestsPerMinuteMax?: number;
  placementAttemptsMax?: number;
  lookupSettleMs?: number;
  /** Operating problems that are not a report about one order (stream errors, outcomes still unknown). */
  onProblem?: (error: SimError) => void;
  /**
   * Timers for settling unknown outcomes without a caller: while a placement or a replace is unsettled, the
   * adapter looks again every `unsettledRecheckMs` (default 5000). Without timers only catchUp() does.
   */
  timers?: TimerPort;
  unsettledRecheckMs?: number;
  /**
   * Carry the fencing epoch on the wire, for a broker that fences on it (the AlpacaFake does): as a suffix of the
   * client_order_id of placements (`<id>.e<epoch>`) and replacements (`<id>.r<n>.e<epoch>`), and in the
   * `X-Sim-Fencing-Epoch` header of cancels (a DELETE has no body). Real Alpaca does not fence: it sees longer
   * ids and ignores the header, so across processes only the leader lock keeps a deposed leader from trading.
   */
  epochOnWire?: boolean;
}

const EPOCH_SUFFIX = /\.e\d+$/;
/** Not Alpaca's: the fencing epoch of a cancel, for a broker that fences (the AlpacaFake). */
export const FENCING_EPOCH_HEADER = 'X-Sim-Fencing-Epoch';

/** Our client order id from a wire id that may carry an epoch suffix. */
export function clientOrderIdOfWire(wireClientOrderId: string): string {
  return wireClientOrderId.replace(EPOCH_SUFFIX, '');
}

/** A wire client_order_id taken apart: ours, then an optional replace number, then an optional epoch. */
export function parseWireClientOrderId(wireClientOrderId: string): { clientOrderId: string; replace?: number; epoch?: number } {
  const match = /^(.*?)(?:\.r(\d+))?(?:\.e(\d+))?$/.exec(wireClientOrderId)!;
  return {
    clientOrderId: match[1],
    ...(match[2] === undefined ? {} : { replace: Number(match[2]) }),
    ...(match[3] === undefined ? {} : { epoch: Number(match[3]) }),
  };
}

/** An order as the venue sees it, in our units, for startup reconciliation. */
export interface VenueOrderSnapshot {
  clientOrderId: string;
  venueOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  type: OrderType;
  quantity: number;
  filledQuantity: number;
  status: OrderStatus;
  limitPriceTicks?: number;
  stopPriceTicks?: number;
}

/** An open order of the session at the venue, as a request our engine could adopt (see fetchSessionOrders). */
export interface SessionHeldOrder {
  request: OrderRequest;
  status: 'accepted' | 'partially-filled';
  filledQuantity: number;
  filledNotionalTickLots: number;
  venueOrderId: string;
  ocoRole?: 'take-profit' | 'stop-loss';
}

export interface VenuePositionSnapshot {
  symbol: string;
  /** Signed lots. */
  quantity: number;
  averagePriceTicks: number;
}

export interface VenueAccountSnapshot {
  cashCash: number;
  equityCash: number;
  buyingPowerCash: number;
}

export interface VenueClockSnapshot {
  isOpen: boolean;
  /** Alpaca's clock as the SDK parses it (Date): millisecond precision, in microseconds. */
  timestampUs: number;
  nextOpenUs: number;
  nextCloseUs: number;
}

export const ALPACA_CAPABILITIES: VenueCapabilities = {
  orderTypes: ['market', 'limit', 'stop', 'stop-limit', 'trailing-stop'],
  // Alpaca's order_class "oco" (and bracket/oto legs) cancels the other leg on a fill: OCO pairs of a
  // take-profit limit and a stop(-limit) exit are sent as one native oco order.
  nativeOco: true,
  // Alpaca equities have no reduce-only flag; the engine emulates reduce-only for this venue.
  reduceOnly: false,
  modify: true,
};

interface TrackedOrder {
  request: OrderRequest;
  instrument: Instrument;
  venueOrderId: string | null;
  /** The client_order_id Alpaca knows this order by (differs for an OCO stop leg, or after a replace). */
  wireClientOrderId: string;
  phase: 'placing' | 'unknown' | 'open' | 'done';
  accepted: boolean;
  /** Current total quantity of the order in lots (changes with a replace). */
  quantityLots: number;
  /** Lots filled across every venue order that has carried this order (a replace starts a fresh one). */
  filledLots: number;
  /**
   * Per venue order id: cumulative lots reported and their notional (ticks*lots). Alpaca's replacement is a new
   * order whose filled_qty starts at 0, so cumulative accounting is kept per venue order.
   */
  venueFills: Map<string, { lots: number; notional: number }>;
  cancelWanted: boolean;
  /** The fencing epoch the wanted cancel was asked under (sent with it once the placement settles). */
  cancelEpoch: number | undefined;
  replaceCount: number;
  /** A POST under this id may have reached the venue (its answer was lost): a later 422 duplicate means "it exists". */
  sent: boolean;
  /** The venue has said it holds this id (a 422 duplicate): never settled as absent. */
  knownToExist: boolean;
  /** A replace whose outcome is not known yet (settled by lookup in sendReplace, catchUp or the recheck timer). */
  pendingReplace: PendingReplace | null;
}

interface PendingReplace {
  wireClientOrderId: string;
  /** The venue order the replace was sent for. */
  fromVenueOrderId: string;
  totalLots: number;
  changes: OrderChanges;
}

/** The fields of an SDK Order (camelCase model) this adapter reads. */
interface OrderView {
  id: string;
  clientOrderId: string;
  orderClass: string | null;
  timeInForce: string | null;
  trailPrice: string | null;
  status: AlpacaOrderStatus;
  symbol: string;
  side: 'buy' | 'sell';
  type: string;
  qty: string | null;
  filledQty: string;
  filledAvgPrice: string | null;
  limitPrice: string | null;
  stopPrice: string | null;
  replacedBy: string | null;
  replaces: string | null;
  /** Submission time in milliseconds (the SDK parses it into a Date), NaN when absent. */
  submittedMs: number;
  legs: OrderView[];
}

const SEEN_EXECUTIONS_MAX = 10_000;
const RATE_LIMIT_RETRIES_MAX = 3;
const CANCEL_ATTEMPTS_MAX = 3;
const CATCH_UP_ATTEMPTS_MAX = 3;
/** Bound on following replaced_by links when adopting an order. */
const REPLACE_CHAIN_MAX = 1_000;
/** Finished orders are forgotten beyond this many tracked orders (oldest first); open ones never are. */
const TRACKED_ORDERS_MAX = 20_000;

export class AlpacaVenue implements ExecutionPort {
  readonly capabilities = ALPACA_CAPABILITIES;
  private readonly options: AlpacaVenueOptions;
  private readonly orders: trading.OrdersApi;
  private readonly positions: trading.PositionsApi;
  private readonly accounts: trading.AccountsApi;
  private readonly clock: trading.ClockApi;
  private readonly stream: streaming.TradingStream;
  private readonly bucket: TokenBucket;
  private readonly instruments = new Map<string, Instrument>();
  private readonly tracked = new Map<string, TrackedOrder>();
  private readonly byVenueId = new Map<string, string>();
  private readonly pendingOco = new Map<string, OrderRequest>();
  private readonly seenExecutions = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private newestEpoch = 0;
  private tradeUpdateCount = 0;
  /** Set by a reconnect; the catch-up runs once the venue acknowledges `listen`, so no event falls in between. */
  private catchUpPending = false;
  /** Cancels the armed recheck of unsettled outcomes, or null when none is armed. */
  private recheckCancel: (() => void) | null = null;

  constructor(options: AlpacaVenueOptions) {
    this.options = options;
    for (const instrument of options.instruments) this.instruments.set(instrument.symbol, instrument);
    // Raw Api classes from a bare Configuration: the SDK's own retry and rate limiter are off, so the
    // placement policy above is the only one in force.
    const configuration = new trading.Configuration({ basePath: options.restUrl, keyId: options.keyId, secret: options.secret, timeoutMs: options.requestTimeoutMs ?? 10_000 });
    this.orders = new trading.OrdersApi(configuration);
    this.positions = new trading.PositionsApi(configuration);
    this.accounts = new trading.AccountsApi(configuration);
    this.clock = new trading.ClockApi(configuration);
    const perMinute = options.requestsPerMinuteMax ?? 200;
    this.bucket = new TokenBucket({ perMinute, burst: Math.min(10, perMinute - 1), waitingMax: 1_000 });
    this.stream = new streaming.TradingStream({
      credentials: { keyId: options.keyId, secret: options.secret }, url: options.streamUrl,
      // A live session keeps trying to get its order stream back for as long as it runs: the bound here is on
      // the delay (at most 5 s between attempts), and orders keep being reconciled over REST meanwhile.
      reconnect: true, maxReconnectAttempts: streaming.UNLIMITED_RECONNECT_ATTEMPTS, initialReconnectMs: 100, maxReconnectMs: 5_000, reconnectJitter: 0,
    });
    this.stream.onTradeUpdate((update) => this.onTradeUpdate(update as unknown as { event: string; order: unknown; executionId?: string; price?: string; qty?: string }));
    this.stream.onConnect(() => this.stream.subscribeTradeUpdates());
    // After a reconnect, events sent while we were away are lost: catch up from REST once listening again.
    this.stream.onReconnected(() => { this.catchUpPending = true; });
    this.stream.on('subscription', () => {
      if (!this.catchUpPending) return;
      this.catchUpPending = false;
      void this.track(this.catchUp());
    });
    this.stream.onError((message) => this.problem(new SimError('VENUE_STREAM_ERROR', `expected a clean trade_updates stream, found: ${message}`)));
  }

  /** Opens the trade_updates stream and waits (bounded) until it is authorized and listening. */
  async connect(timeoutMs = 5_000): Promise<void> {
    const listening = new Promise<void>((resolve) => this.stream.once('subscription', () => resolve()));
    this.stream.connect();
    const authorized = await this.stream.waitForAuthentication(timeoutMs);
    if (!authorized) throw new SimError('VENUE_STREAM_AUTH', `expected the trade_updates stream to authorize within ${timeoutMs} ms, found it did not`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new SimError('VENUE_TIMEOUT', `expected a listening ack within ${timeoutMs} ms, found none`)), timeoutMs); });
    try { await Promise.race([listening, timeout]); } finally { clearTimeout(timer); }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.recheckCancel?.();
    this.recheckCancel = null;
    this.stream.disconnect();
    await this.idle();
    this.bucket.close();
  }

  /** Resolves when no request started by this adapter is still running (tests, shutdown). */
  async idle(): Promise<void> {
    for (let round = 0; round < 100 && this.inFlight.size > 0; round += 1) await Promise.allSettled([...this.inFlight]);
  }

  // ----------------------------------------------------------------------------------------------------
  // ExecutionPort

  submit(request: OrderRequest): void {
    const instrument = this.instruments.get(request.symbol);
    if (instrument === undefined) return this.reject(request.clientOrderId, 'VENUE_UNKNOWN_SYMBOL', `expected a configured instrument, found ${request.symbol}`);
    // Alpaca has no fencing of its own. Refusing an epoch older than the newest this process has sent stops
    // work queued under a previous tenure (e.g. an OCO half released just before the lock was lost).
    if (request.epoch < this.newestEpoch) return this.reject(request.clientOrderId, 'STALE_EPOCH', `expected fencing epoch >= ${this.newestEpoch}, found ${request.epoch}`);
    this.newestEpoch = request.epoch;
    if (request.ocoWithClientOrderId !== undefined) return this.submitOcoMember(request, instrument);
    if (this.tracked.has(request.clientOrderId)) {
      // Still sent: the venue is the judge of uniqueness (we may have restarted), and its 422 is reported.
      void this.track(this.placeDuplicate(request, instrument));
      return;
    }
    const order = this.startTracking(request, instrument, this.wireIdOf(request));
    void this.track(this.place(order, () => this.simpleOrderBody(request, instrument)));
  }

  /** `epoch`: of the tenure cancelling; refused here when older than the newest sent, and sent on the wire too. */
  cancel(clientOrderId: string, epoch?: number): void {
    const order = this.tracked.get(clientOrderId);
    const now = this.options.clock.nowUs();
    if (this.staleEpoch(epoch)) {
      this.emit({ type: 'cancel-rejected', clientOrderId, code: 'STALE_EPOCH', reason: `expected fencing epoch >= ${this.newestEpoch}, found ${epoch}`, timeUs: now });
      return;
    }
    if (order === undefined) {
      this.emit({ type: 'cancel-rejected', clientOrderId, code: 'UNKNOWN_ORDER', reason: `expected a known client order id, found ${clientOrderId}`, timeUs: now });
      return;
    }
    if (order.phase === 'done') {
      this.emit({ type: 'cancel-rejected', clientOrderId, code: 'ORDER_CLOSED', reason: `expected an open order, found ${clientOrderId} closed`, timeUs: now });
      return;
    }
    order.cancelWanted = true;
    order.cancelEpoch = epoch;
    // While the placement is unsettled there is no venue id yet, and while a replace is unsettled the venue id may
    // be the replaced order's: the cancel goes out once that is settled.
    if (order.venueOrderId !== null && order.phase === 'open' && order.pendingReplace === null) void this.track(this.sendCancel(order));
  }

  /** `epoch` as for cancel; the replacement's client_order_id carries it (epochOnWire). */
  modify(clientOrderId: string, changes: OrderChanges, epoch?: number): void {
    const order = this.tracked.get(clientOrderId);
    const now = this.options.clock.nowUs();
    if (this.staleEpoch(epoch)) {
      this.emit({ type: 'modify-rejected', clientOrderId, code: 'STALE_EPOCH', reason: `expected fencing epoch >= ${this.newestEpoch}, found ${epoch}`, timeUs: now });
      return;
    }
    if (order === undefined || order.venueOrderId === null || order.phase !== 'open') {
      this.emit({ type: 'modify-rejected', clientOrderId, code: order === undefined ? 'UNKNOWN_ORDER' : 'ORDER_NOT_OPEN', reason: `expected an open order with a venue id, found ${order === undefined ? 'none' : order.phase}`, timeUs: now });
      return;
    }
    if (order.pendingReplace !== null) {
      this.emit({ type: 'modify-rejected', clientOrderId, code: 'MODIFY_PENDING', reason: `expected no replace of ${clientOrderId} in flight, found ${order.pendingReplace.wireClientOrderId} unsettled`, timeUs: now });
      return;
    }
    void this.track(this.sendReplace(order, changes, epoch));
  }

  /** An epoch older than the newest this process has sent under (a newer one becomes the newest). */
  private staleEpoch(epoch: number | undefined): boolean {
    if (epoch === undefined) return false;
    if (epoch < this.newestEpoch) return true;
    this.newestEpoch = epoch;
    return false;
  }

  /** Request options carrying a cancel's fencing epoch (epochOnWire), or none. */
  private fencingHeaders(epoch: number | undefined): trading.InitOverrideFunction | undefined {
    if (!this.options.epochOnWire || epoch === undefined) return undefined;
    return async ({ init }) => ({ headers: { ...(init.headers as Record<string, string>), [FENCING_EPOCH_HEADER]: String(epoch) } });
  }

  // ----------------------------------------------------------------------------------------------------
  // Reconciliation

  /**
   * The venue's state of one of our orders. With `request`, an OCO stop member (whose wire id is the venue's
   * own, not ours) is found as the leg of its take-profit sibling, which carries our id; a replaced order is
   * followed to its current replacement.
   */
  async lookupByClientOrderId(clientOrderId: string, request?: OrderRequest): Promise<VenueOrderSnapshot | null> {
    const tracked = this.tracked.get(clientOrderId);
    if (tracked !== undefined && tracked.wireClientOrderId !== '') {
      const view = await this.lookup(tracked.wireClientOrderId);
      return view === null ? null : this.snapshotOf(view);
    }
    const chain = await this.lookupChain(clientOrderId, request);
    if (chain === null) return null;
    return { ...this.snapshotOf(chain.current), clientOrderId };
  }

  /**
   * Take over an order an earlier process of this session placed: track it under our client order id, bind its
   * venue id so its stream events reach us, and report what `known` (the session's own view) has not seen yet:
   * acceptance, a replace (as `modified`), fills. Returns false when the venue does not have it.
   */
  async adopt(request: OrderRequest, known: { accepted: boolean; quantity?: number; filledQuantity: number; filledNotionalTickLots: number }): Promise<boolean> {
    if (this.tracked.has(request.clientOrderId)) return true;
    const instrument = this.instruments.get(request.symbol);
    if (instrument === undefined) throw new SimError('VENUE_UNKNOWN_SYMBOL', `expected a configured instrument, found ${request.symbol}`);
    const chain = await this.lookupChain(request.clientOrderId, request);
    if (chain === null) return false;
    if (this.tracked.has(request.clientOrderId)) return true;
    const { current, ancestors } = chain;
    const clientOrderId = request.clientOrderId;
    const order = this.startTracking(request, instrument, current.clientOrderId);
    order.phase = 'open';
    order.accepted = known.accepted;
    order.replaceCount = ancestors.length;
    if (request.epoch > this.newestEpoch) this.newestEpoch = request.epoch;
    // Fills on replaced venue orders: counted as the session's as far as it knows them, the rest reported now.
    let ancestorLots = 0;
    let ancestorNotional = 0;
    for (const ancestor of ancestors) {
      const lots = decimalToScaled(ancestor.filledQty, instrument.lotScale, 'nearest', `filled_qty of ${ancestor.id}`);
      const averageTicks = decimalToScaled(ancestor.filledAvgPrice ?? '0', instrument.priceScale + 6, 'nearest', `filled_avg_price of ${ancestor.id}`) / 1e6;
      order.venueFills.set(ancestor.id, { lots, notional: Math.round(averageTicks * lots) });
      this.byVenueId.set(ancestor.id, clientOrderId);
      ancestorLots += lots;
      ancestorNotional += Math.round(averageTicks * lots);
    }
    const now = this.options.clock.nowUs();
    if (!order.accepted && ancestors.length > 0) {
      order.accepted = true;
      this.emit({ type: 'accepted', clientOrderId, venueOrderId: current.id, timeUs: now });
    }
    if (known.filledQuantity < ancestorLots) {
      const quantity = ancestorLots - known.filledQuantity;
      const priceTicks = Math.round((ancestorNotional - known.filledNotionalTickLots) / quantity);
      this.emit({ type: 'fill', clientOrderId, fillId: `${ancestors[ancestors.length - 1].id}:adopted:${ancestorLots}`, symbol: request.symbol, side: request.side, quantity, priceTicks, feeCash: 0, liquidity: request.type === 'limit' ? 'maker' : 'taker', timeUs: now });
      order.venueFills.set(current.id, { lots: 0, notional: 0 });
    } else {
      order.venueFills.set(current.id, { lots: known.filledQuantity - ancestorLots, notional: known.filledNotionalTickLots - ancestorNotional });
    }
    order.filledLots = Math.max(known.filledQuantity, ancestorLots);
    // A replace the session asked for but never heard back about: the venue's current terms are reported.
    const currentLots = decimalToScaled(current.qty ?? '0', instrument.lotScale, 'nearest', `qty of ${current.id}`);
    const totalLots = ancestors.length > 0 ? currentLots + ancestorLots : currentLots;
    order.quantityLots = totalLots;
    if (ancestors.length > 0) {
      const changes: OrderChanges = {};
      if (known.quantity !== undefined && totalLots !== known.quantity) (changes as { quantity?: number }).quantity = totalLots;
      const limitTicks = current.limitPrice === null ? undefined : decimalToScaled(current.limitPrice, instrument.priceScale, 'nearest', `limit_price of ${current.id}`);
      const stopTicks = current.stopPrice === null ? undefined : decimalToScaled(current.stopPrice, instrument.priceScale, 'nearest', `stop_price of ${current.id}`);
      if (limitTicks !== undefined && limitTicks !== request.limitPriceTicks) (changes as { limitPriceTicks?: number }).limitPriceTicks = limitTicks;
      if (stopTicks !== undefined && stopTicks !== request.stopPriceTicks) (changes as { stopPriceTicks?: number }).stopPriceTicks = stopTicks;
      if (Object.keys(changes).length > 0) this.emit({ type: 'modified', clientOrderId, changes, timeUs: now });
    }
    this.bindVenueId(order, current.id);
    this.applyView(current, undefined);
    if (order.cancelWanted && order.phase === 'open') void this.track(this.sendCancel(order));
    return true;
  }

  /** The client_order_id this request goes out under (with the epoch suffix when configured). */
  private wireIdOf(request: OrderRequest): string {
    return this.options.epochOnWire ? `${request.clientOrderId}.e${request.epoch}` : request.clientOrderId;
  }

  /**
   * Cancels an order by the venue's id that this process does not track (an orphan an earlier process or another
   * runner left open). Cancel is idempotent at the venue, so a bounded retry after an unknown outcome is safe.
   */
  async cancelUntracked(venueOrderId: string, epoch?: number): Promise<void> {
    for (let attempt = 1; attempt <= CANCEL_ATTEMPTS_MAX; attempt += 1) {
      try {
        await this.bucket.take();
        await this.deleteOrder(venueOrderId, epoch);
        return;
      } catch (error) {
        const status = httpStatus(error);
        // Gone, or already finished (or being cancelled): nothing to cancel. Any other refusal (401/403 keys or
        // fencing, another 422) leaves the order working, so the caller must not count it cancelled.
        if (status === 404 || (status === 422 && alreadyFinished(error))) return;
        if (status !== null && status < 500 && status !== 429) {
          throw new SimError(rejectionCode(error, status), `expected the venue to cancel untracked order ${venueOrderId}, found ${status}: ${errorMessage(error)}`);
        }
        if (attempt === CANCEL_ATTEMPTS_MAX) throw venueError(error, `cancel of untracked order ${venueOrderId}`);
        await delay(retryAfterMs(error) ?? 50 * attempt);
      }
    }
  }

  /** Stream events received so far (tests wait for a known number to arrive). */
  get tradeUpdatesReceived(): number {
    return this.tradeUpdateCount;
  }

  /**
   * Looks an order up by our id (an OCO stop member through its take-profit sibling's legs) and follows its
   * replacements: `current` is the venue order working now, `ancestors` the replaced ones, oldest first.
   */
  private async lookupChain(clientOrderId: string, request?: OrderRequest): Promise<{ current: OrderView; ancestors: OrderView[] } | null> {
    const isOcoStopMember = request !== undefined && request.ocoWithClientOrderId !== undefined && (request.type === 'stop' || request.type === 'stop-limit');
    if (!isOcoStopMember) {
      const view = await this.lookup(request === undefined ? clientOrderId : this.wireIdOf(request));
      return view === null ? null : this.followReplacements(view);
    }
    // Both legs of a pair are released in one step, under one epoch.
    const parent = await this.lookup(this.wireIdOf({ ...request, clientOrderId: request.ocoWithClientOrderId! }));
    if (parent === null) return null;
    // A replaced leg stays a leg of the (current) parent beside its replacement.
    const legs = (await this.followReplacements(parent)).current.legs.filter((leg) => leg.type === wireType(request.type));
    const current = legs.find((leg) => leg.status !== 'replaced');
    if (current === undefined) return null;
    return { current, ancestors: legs.filter((leg) => leg !== current && leg.status === 'replaced') };
  }

  private async followReplacements(view: OrderView): Promise<{ current: OrderView; ancestors: OrderView[] }> {
    const ancestors: OrderView[] = [];
    let current = view;
    for (let hop = 0; current.status === 'replaced' && current.replacedBy !== null; hop += 1) {
      if (hop >= REPLACE_CHAIN_MAX) throw new SimError('VENUE_REPLACE_CHAIN', `expected at most ${REPLACE_CHAIN_MAX} replacements of ${view.clientOrderId}, found more`);
      ancestors.push(current);
      await this.bucket.take();
      current = toView(await this.orders.getOrderByOrderID({ orderId: current.replacedBy }));
    }
    return { current, ancestors };
  }

  /** Orders of a status (nested), newest first, page by page until `enough` says so (see order-pages.ts). */
  private pagedOrders(status: 'open' | 'all', enough: (page: readonly OrderView[]) => boolean): Promise<{ views: OrderView[]; complete: boolean }> {
    return pageOrders(async (until) => {
      await this.bucket.take();
      return (await this.orders.getAllOrders({ status, nested: true, limit: ORDER_PAGE_LIMIT, direction: 'desc', ...(until === undefined ? {} : { until }) })).map(toView);
    }, enough);
  }

  /** Every open order (nested), newest first, however many pages. */
  private async allOpenOrders(): Promise<OrderView[]> {
    const { views, complete } = await this.pagedOrders('open', () => false);
    if (!complete) throw new SimError('VENUE_ORDER_PAGES', `expected at most ${ORDER_PAGES_MAX * ORDER_PAGE_LIMIT} open orders, found more after ${ORDER_PAGES_MAX} pages`);
    return views;
  }

  /**
   * Orders of any status back to the newest one whose client order id (ours, suffixes removed) starts with
   * `prefix`: our sequence numbers grow with submission time (a runner continues after the highest the venue
   * holds), so the page holding that order holds the session's highest number, however many orders of other
   * bots came after it. Bounded by ORDER_PAGES_MAX pages (50,000 orders); an id only older than that is not seen.
   */
  private async ordersBackToNewestOf(prefix: string): Promise<OrderView[]> {
    const ours = (view: OrderView): boolean => [view, ...view.legs].some((member) => parseWireClientOrderId(member.clientOrderId).clientOrderId.startsWith(prefix));
    return (await this.pagedOrders('all', (page) => page.some(ours))).views;
  }

  /** Open orders at the venue (bracket and OCO legs flattened), in our units, oldest first. */
  async fetchOpenOrders(): Promise<VenueOrderSnapshot[]> {
    const views = (await this.allOpenOrders()).reverse();
    const flat = views.flatMap((view) => [view, ...view.legs]).filter((view) => !['filled', 'canceled', 'expired', 'replaced', 'rejected'].includes(view.status));
    return flat.filter((view) => this.instruments.has(view.symbol)).map((view) => this.snapshotOf(view));
  }

  /**
   * For a takeover by another runner of this session: the venue's open orders (all of them, however many pages)
   * whose client order ids (ours, suffixes removed) start with `prefix`, rebuilt as the requests our engine would
   * have sent, and our ids among those and the orders of any status back to the newest of ours (so that new ids
   * continue after them: the venue refuses a client order id it has seen, also of a finished order; see
   * `ordersBackToNewestOf`). An `oco` order becomes its
   * two members: the take-profit under the order's own id, the stop leg under its own id when a replace gave it
   * ours, else `<take-profit id>-oco-stop` (its wire id is the venue's; it is found through its take-profit). A
   * replaced order is its current terms over its whole chain (quantity and fills include the replaced ones), and
   * its `epoch` is that of its first placement, which lookups by client order id go through.
   */
  async fetchSessionOrders(prefix: string): Promise<{ open: SessionHeldOrder[]; clientOrderIds: string[] }> {
    // Every open order (however many pages), and the orders of any status back to the newest of ours, for the ids.
    const openViews = await this.allOpenOrders();
    const views = await this.ordersBackToNewestOf(prefix);
    const byVenueId = new Map<string, OrderView>();
    for (const view of [...views, ...openViews]) for (const member of [view, ...view.legs]) byVenueId.set(member.id, member);
    const clientOrderIds: string[] = [];
    for (const member of byVenueId.values()) {
      const ours = parseWireClientOrderId(member.clientOrderId).clientOrderId;
      if (ours.startsWith(prefix)) clientOrderIds.push(ours);
    }
    const open: SessionHeldOrder[] = [];
    // Oldest first, as the engine would have sent them.
    for (const view of [...openViews].reverse()) {
      const clientOrderId = parseWireClientOrderId(view.clientOrderId).clientOrderId;
      if (!clientOrderId.startsWith(prefix) || !isWorking(view.status) || !this.instruments.has(view.symbol)) continue;
      const instrument = this.instruments.get(view.symbol)!;
      // The first placement of the chain: its wire id carries the epoch lookups use.
      let root = view;
      const ancestors: OrderView[] = [];
      for (let hop = 0; root.replaces !== null; hop += 1) {
        if (hop >= REPLACE_CHAIN_MAX) throw new SimError('VENUE_REPLACE_CHAIN', `expected at most ${REPLACE_CHAIN_MAX} replacements of ${view.clientOrderId}, found more`);
        let previous = byVenueId.get(root.replaces);
        if (previous === undefined) {
          await this.bucket.take();
          previous = toView(await this.orders.getOrderByOrderID({ orderId: root.replaces }));
        }
        ancestors.unshift(previous);
        root = previous;
      }
      const epoch = parseWireClientOrderId(root.clientOrderId).epoch ?? 0;
      const legs = view.orderClass === 'oco' ? view.legs.filter((leg) => leg.type !== 'limit') : [];
      // Alpaca keeps an exit pair's stop-loss leg `held` while it works: a held leg of a working parent is working.
      const leg = legs.find((member) => isWorking(member.status) || member.status === 'held');
      const legParsed = leg === undefined ? null : parseWireClientOrderId(leg.clientOrderId).clientOrderId;
      const legId = legParsed === null ? undefined : legParsed.startsWith(prefix) ? legParsed : `${clientOrderId}-oco-stop`;
      open.push(this.heldOrderOf(view, ancestors, instrument, { clientOrderId, epoch, ocoWithClientOrderId: legId, ocoRole: legId === undefined ? undefined : 'take-profit' }));
      if (leg !== undefined && legId !== undefined) {
        const legAncestors = legs.filter((member) => member !== leg && member.status === 'replaced');
        open.push(this.heldOrderOf(leg, legAncestors, instrument, { clientOrderId: legId, epoch, ocoWithClientOrderId: clientOrderId, ocoRole: 'stop-loss' }));
      }
    }
    return { open, clientOrderIds };
  }

  private heldOrderOf(view: OrderView, ancestors: readonly OrderView[], instrument: Instrument, identity: { clientOrderId: string; epoch: number; ocoWithClientOrderId: string | undefined; ocoRole: 'take-profit' | 'stop-loss' | undefined }): SessionHeldOrder {
    const lots = (text: string | null, what: string): number => decimalToScaled(text ?? '0', instrument.lotScale, 'nearest', `${what} of ${view.id}`);
    const ticks = (text: string | null, what: string): number | undefined => (text === null ? undefined : decimalToScaled(text, instrument.priceScale, 'nearest', `${what} of ${view.id}`));
    const notionalOf = (member: OrderView): number => Math.round((decimalToScaled(member.filledAvgPrice ?? '0', instrument.priceScale + 6, 'nearest', `filled_avg_price of ${member.id}`) / 1e6) * lots(member.filledQty, 'filled_qty'));
    let filledQuantity = lots(view.filledQty, 'filled_qty');
    let filledNotionalTickLots = notionalOf(view);
    for (const ancestor of ancestors) {
      filledQuantity += lots(ancestor.filledQty, 'filled_qty');
      filledNotionalTickLots += notionalOf(ancestor);
    }
    const quantity = lots(view.qty, 'qty') + filledQuantity - lots(view.filledQty, 'filled_qty');
    const timeInForce = view.timeInForce === 'day' ? 'day' : view.timeInForce === 'ioc' || view.timeInForce === 'fok' ? 'ioc' : 'gtc';
    const request: OrderRequest = {
      clientOrderId: identity.clientOrderId, symbol: view.symbol, side: view.side, type: engineType(view.type), quantity, timeInForce,
      limitPriceTicks: ticks(view.limitPrice, 'limit_price'), stopPriceTicks: ticks(view.stopPrice, 'stop_price'), trailingOffsetTicks: ticks(view.trailPrice, 'trail_price'),
      reduceOnly: false, ocoWithClientOrderId: identity.ocoWithClientOrderId, epoch: identity.epoch,
    };
    return {
      request, status: view.status === 'partially_filled' ? 'partially-filled' : 'accepted', filledQuantity, filledNotionalTickLots, venueOrderId: view.id,
      ...(identity.ocoRole === undefined ? {} : { ocoRole: identity.ocoRole }),
    };
  }

  async fetchPositions(): Promise<VenuePositionSnapshot[]> {
    await this.bucket.take();
    const positions = await this.positions.getAllOpenPositions();
    return positions.filter((position) => this.instruments.has(position.symbol)).map((position) => {
      const instrument = this.instruments.get(position.symbol)!;
      return {
        symbol: position.symbol,
        quantity: decimalToScaled(position.qty, instrument.lotScale, 'exact', `position qty of ${position.symbol}`),
        averagePriceTicks: decimalToScaled(position.avgEntryPrice, instrument.priceScale, 'nearest', `avg_entry_price of ${position.symbol}`),
      };
    });
  }

  async fetchAccount(): Promise<VenueAccountSnapshot> {
    await this.bucket.take();
    const account = await this.accounts.getAccount();
    const cash = (text: string | undefined, what: string): number => decimalToScaled(text ?? '0', CASH_SCALE, 'nearest', what);
    return { cashCash: cash(account.cash, 'cash'), equityCash: cash(account.equity, 'equity'), buyingPowerCash: cash(account.buyingPower, 'buying_power') };
  }

  async fetchClock(): Promise<VenueClockSnapshot> {
    await this.bucket.take();
    const clock = await this.clock.legacyClock();
    return { isOpen: clock.isOpen, timestampUs: clock.timestamp.getTime() * 1_000, nextOpenUs: clock.nextOpen.getTime() * 1_000, nextCloseUs: clock.nextClose.getTime() * 1_000 };
  }

  /** Re-reads every order we believe open and reports what the stream may have missed. */
  async catchUp(): Promise<void> {
    for (const order of [...this.tracked.values()]) {
      if (order.phase === 'unknown' || order.pendingReplace !== null) await this.settleOne(order);
      else if (order.phase === 'open' && order.venueOrderId !== null) {
        for (let attempt = 1; attempt <= CATCH_UP_ATTEMPTS_MAX; attempt += 1) {
          try {
            await this.bucket.take();
            // A GET is safe to repeat; a few attempts ride out a transient 5xx or reset.
            this.applyView(toView(await this.orders.getOrderByOrderID({ orderId: order.venueOrderId })), undefined);
            break;
          } catch (error) {
            if (attempt === CATCH_UP_ATTEMPTS_MAX) this.problem(venueError(error, `catch-up of ${order.request.clientOrderId}`));
            else await delay(retryAfterMs(error) ?? 50 * attempt);
          }
        }
      }
    }
  }

  /** Settles what is still unknown (placements, replaces), without re-reading the orders that are settled. */
  async settleUnsettled(): Promise<void> {
    for (const order of [...this.tracked.values()]) if (order.phase === 'unknown' || order.pendingReplace !== null) await this.settleOne(order);
  }

  private async settleOne(order: TrackedOrder): Promise<void> {
    if (order.phase === 'unknown' && order.wireClientOrderId !== '') {
      // A placement whose outcome nobody could tell. Found: adopt it. Absent (twice, and never said to exist):
      // it never took effect, so it is reported rejected and the engine may send a new order under a new id.
      const leg = this.ocoLegOf(order);
      if ((await this.settleUnknown(order, 0, leg)) === 'absent') {
        for (const member of leg ? [order, leg] : [order]) this.rejectTracked(member, 'VENUE_TIMEOUT', `expected ${member.request.clientOrderId} at the venue after an unanswered placement, found it absent`);
      }
    } else if (order.pendingReplace !== null && order.phase === 'open') {
      await this.settleReplace(order);
    }
  }

  private hasUnsettled(): boolean {
    for (const order of this.tracked.values()) if ((order.phase === 'unknown' && order.wireClientOrderId !== '') || (order.pendingReplace !== null && order.phase === 'open')) return true;
    return false;
  }

  /** Arms one recheck of the unsettled outcomes (timers given); it re-arms itself while any stays unsettled. */
  private scheduleRecheck(): void {
    const timers = this.options.timers;
    if (timers === undefined || this.closed || this.recheckCancel !== null) return;
    this.recheckCancel = timers.setTimer(this.options.unsettledRecheckMs ?? 5_000, () => {
      if (this.closed) return;
      void this.track(this.settleUnsettled()).then(() => {
        this.recheckCancel = null;
        if (this.hasUnsettled()) this.scheduleRecheck();
      });
    });
  }

  // ----------------------------------------------------------------------------------------------------
  // Placement

  private startTracking(request: OrderRequest, instrument: Instrument, wireClientOrderId: string): TrackedOrder {
    const order: TrackedOrder = {
      request, instrument, venueOrderId: null, wireClientOrderId, phase: 'placing', accepted: false, quantityLots: request.quantity, filledLots: 0, venueFills: new Map(),
      cancelWanted: false, cancelEpoch: undefined, replaceCount: 0, sent: false, knownToExist: false, pendingReplace: null,
    };
    this.tracked.set(request.clientOrderId, order);
    if (this.tracked.size > TRACKED_ORDERS_MAX) this.forgetFinished();
    return order;
  }

  private simpleOrderBody(request: OrderRequest, instrument: Instrument): AlpacaOrderRequestWire {
    const body: AlpacaOrderRequestWire = {
      symbol: request.symbol, qty: scaledToDecimal(request.quantity, instrument.lotScale), side: request.side,
      type: wireType(request.type), time_in_force: request.timeInForce, client_order_id: this.wireIdOf(request),
    };
    if (request.limitPriceTicks !== undefined) body.limit_price = scaledToDecimal(request.limitPriceTicks, instrument.priceScale);
    if (request.stopPriceTicks !== undefined) body.stop_price = scaledToDecimal(request.stopPriceTicks, instrument.priceScale);
    if (request.trailingOffsetTicks !== undefined) body.trail_price = scaledToDecimal(request.trailingOffsetTicks, instrument.priceScale);
    return body;
  }

  private submitOcoMember(request: OrderRequest, instrument: Instrument): void {
    const sibling = this.pendingOco.get(request.ocoWithClientOrderId!);
    if (sibling === undefined) {
      this.pendingOco.set(request.clientOrderId, request);
      // The engine releases both legs of a pair in one step; if the other has not come by the end of this
      // turn it is not coming, and a lone leg must not go out as if it were protected.
      queueMicrotask(() => {
        if (this.pendingOco.delete(request.clientOrderId)) {
          this.reject(request.clientOrderId, 'VENUE_OCO_SIBLING_MISSING', `expected OCO sibling ${request.ocoWithClientOrderId} in the same step, found none`);
        }
      });
      return;
    }
    this.pendingOco.delete(sibling.clientOrderId);
    const pair = [sibling, request];
    const takeProfit = pair.find((leg) => leg.type === 'limit');
    const stopLoss = pair.find((leg) => leg.type === 'stop' || leg.type === 'stop-limit');
    if (takeProfit === undefined || stopLoss === undefined || takeProfit.side !== stopLoss.side || takeProfit.quantity !== stopLoss.quantity) {
      for (const leg of pair) this.reject(leg.clientOrderId, 'VENUE_OCO_UNSUPPORTED', `expected an OCO pair of one limit and one stop(-limit) with the same side and quantity, found ${sibling.type}/${request.type}`);
      return;
    }
    const parent = this.startTracking(takeProfit, instrument, this.wireIdOf(takeProfit));
    const leg = this.startTracking(stopLoss, instrument, '');
    const body: AlpacaOrderRequestWire = {
      symbol: takeProfit.symbol, qty: scaledToDecimal(takeProfit.quantity, instrument.lotScale), side: takeProfit.side, type: 'limit',
      time_in_force: takeProfit.timeInForce, client_order_id: this.wireIdOf(takeProfit), order_class: 'oco',
      take_profit: { limit_price: scaledToDecimal(takeProfit.limitPriceTicks!, instrument.priceScale) },
      stop_loss: { stop_price: scaledToDecimal(stopLoss.stopPriceTicks!, instrument.priceScale) },
    };
    if (stopLoss.type === 'stop-limit') body.stop_loss!.limit_price = scaledToDecimal(stopLoss.limitPriceTicks!, instrument.priceScale);
    void this.track(this.place(parent, () => body, leg));
  }

  /**
   * Sends a new order and settles its outcome. `leg` is the OCO stop member riding on `order`'s request.
   */
  private async place(order: TrackedOrder, body: () => AlpacaOrderRequestWire, leg?: TrackedOrder): Promise<void> {
    const attemptsMax = this.options.placementAttemptsMax ?? 3;
    for (let attempt = 1; attempt <= attemptsMax; attempt += 1) {
      let rateLimitedRetries = 0;
      for (;;) {
        try {
          await this.bucket.take();
          const created = toView(await this.orders.postOrder({ postOrderRequest: toSdkOrderRequest(body()) }));
          this.takeOver(order, created, leg);
          return;
        } catch (error) {
          const status = httpStatus(error);
          if (status === 429 && rateLimitedRetries < RATE_LIMIT_RETRIES_MAX) {
            // A 429 is a definite "not placed": waiting and sending again is not a blind retry.
            rateLimitedRetries += 1;
            await delay(retryAfterMs(error) ?? 1_000);
            continue;
          }
          if (status !== null && status < 500) {
            const code = rejectionCode(error, status);
            if (code === 'DUPLICATE_CLIENT_ORDER_ID' && order.sent) {
              // We sent this id before and lost the answer; the venue now says it has it: the earlier "absent"
              // was a lag. Take it over (looking it up, with the settle delay), never report it rejected.
              for (const member of leg ? [order, leg] : [order]) { member.phase = 'unknown'; member.knownToExist = true; }
              await this.settleUnknown(order, attempt, leg);
              return;
            }
            for (const member of leg ? [order, leg] : [order]) this.rejectTracked(member, code, errorMessage(error));
            return;
          }
          if (!isTransportOrServerError(error)) {
            // Refused by the SDK before anything was sent (e.g. a required field): no venue outcome to settle.
            for (const member of leg ? [order, leg] : [order]) this.rejectTracked(member, 'VENUE_REQUEST_INVALID', errorMessage(error));
            return;
          }
          break;
        }
      }
      // Timeout, dropped connection or 5xx: the order may or may not exist. Settle by client order id.
      order.sent = true;
      order.phase = 'unknown';
      if (leg) leg.phase = 'unknown';
      const outcome = await this.settleUnknown(order, attempt, leg);
      if (outcome !== 'absent') return;
      order.phase = 'placing';
      if (leg) leg.phase = 'placing';
    }
    for (const member of leg ? [order, leg] : [order]) {
      this.rejectTracked(member, 'VENUE_TIMEOUT', `expected the venue to take the order within ${attemptsMax} attempts, found it absent after each`);
    }
  }

  /**
   * Looks an unsettled order up; 'absent' only when the venue says so twice, lookupSettleMs apart, and has never
   * said it holds the id (knownToExist: then misses are a lag, and the order stays unsettled).
   */
  private async settleUnknown(order: TrackedOrder, attempt: number, leg?: TrackedOrder): Promise<'found' | 'absent' | 'unknown'> {
    let misses = 0;
    for (let lookupAttempt = 0; lookupAttempt < 4; lookupAttempt += 1) {
      if (this.closed) return 'unknown';
      try {
        const found = await this.lookup(order.wireClientOrderId);
        if (found !== null) {
          this.takeOver(order, found, leg ?? this.ocoLegOf(order));
          return 'found';
        }
        misses += 1;
        if (misses >= 2 && !order.knownToExist) return 'absent';
      } catch (error) {
        this.problem(venueError(error, `lookup of ${order.wireClientOrderId} (placement attempt ${attempt})`));
      }
      await delay(this.options.lookupSettleMs ?? 200);
    }
    this.problem(new SimError('VENUE_OUTCOME_UNKNOWN', `expected to learn whether ${order.request.clientOrderId} exists${order.knownToExist ? ' (the venue holds its id)' : ''}, found no answer; it stays unsettled until catchUp()`));
    this.scheduleRecheck();
    return 'unknown';
  }

  private ocoLegOf(order: TrackedOrder): TrackedOrder | undefined {
    const siblingId = order.request.ocoWithClientOrderId;
    const sibling = siblingId === undefined ? undefined : this.tracked.get(siblingId);
    return sibling !== undefined && sibling.wireClientOrderId === '' ? sibling : undefined;
  }

  private async lookup(wireClientOrderId: string): Promise<OrderView | null> {
    await this.bucket.take();
    try {
      return toView(await this.orders.getOrderByClientOrderId({ clientOrderId: wireClientOrderId }));
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw error;
    }
  }

  /** The venue has the order: learn its ids, report acceptance, and catch up on what already happened. */
  private takeOver(order: TrackedOrder, view: OrderView, leg?: TrackedOrder): void {
    this.bindVenueId(order, view.id);
    if (leg !== undefined && view.legs.length > 0) {
      leg.wireClientOrderId = view.legs[0].clientOrderId;
      this.bindVenueId(leg, view.legs[0].id);
    }
    for (const member of leg ? [order, leg] : [order]) {
      if (member.phase === 'placing' || member.phase === 'unknown') member.phase = 'open';
      member.knownToExist = false;
    }
    this.applyView(view, undefined);
    if (leg !== undefined && view.legs.length > 0) this.applyView(view.legs[0], undefined);
    for (const member of leg ? [order, leg] : [order]) {
      if (member.cancelWanted && member.phase === 'open') void this.track(this.sendCancel(member));
    }
  }

  /** Drops the oldest finished orders (Map order is insertion order) until a tenth of the room is free again. */
  private forgetFinished(): void {
    const target = Math.floor(TRACKED_ORDERS_MAX * 0.9);
    for (const [clientOrderId, order] of this.tracked) {
      if (this.tracked.size <= target) break;
      if (order.phase !== 'done') continue;
      this.tracked.delete(clientOrderId);
      for (const venueOrderId of order.venueFills.keys()) this.byVenueId.delete(venueOrderId);
      if (order.venueOrderId !== null) this.byVenueId.delete(order.venueOrderId);
    }
  }

  private bindVenueId(order: TrackedOrder, venueOrderId: string): void {
    order.venueOrderId = venueOrderId;
    this.byVenueId.set(venueOrderId, order.request.clientOrderId);
  }

  private async placeDuplicate(request: OrderRequest, instrument: Instrument): Promise<void> {
    try {
      await this.bucket.take();
      await this.orders.postOrder({ postOrderRequest: toSdkOrderRequest(this.simpleOrderBody(request, instrument)) });
      // The venue took a second order under an id we already use: a broken invariant of the caller.
      this.problem(new SimError('VENUE_DUPLICATE_ACCEPTED', `expected the venue to refuse a second ${request.clientOrderId}, found it accepted`));
    } catch (error) {
      const status = httpStatus(error);
      this.reject(request.clientOrderId, status !== null && status < 500 ? rejectionCode(error, status) : 'VENUE_TIMEOUT', errorMessage(error));
    }
  }

  // ----------------------------------------------------------------------------------------------------
  // Cancel and replace

  /**
   * DELETE /v2/orders/{id}. The SDK's `deleteOrderByOrderID` drops the 204 response unread, and the SDK stops a
   * request's timeout clock only when its body is read, so every cancel kept a 10 s timer armed (a process that
   * had cancelled took that long to exit). The raw call, with the empty body read, ends the clock at once.
   */
  private async deleteOrder(venueOrderId: string, epoch: number | undefined): Promise<void> {
    const response = await this.orders.deleteOrderByOrderIDRaw({ orderId: venueOrderId }, this.fencingHeaders(epoch));
    await response.raw.arrayBuffer();
  }

  private async sendCancel(order: TrackedOrder): Promise<void> {
    for (let attempt = 1; attempt <= CANCEL_ATTEMPTS_MAX; attempt += 1) {
      try {
        await this.bucket.take();
        // Cancel is idempotent at the venue, so retrying it after an unknown outcome is safe.
        await this.deleteOrder(order.venueOrderId!, order.cancelEpoch);
        return; // the `canceled` event (or catch-up) reports it
      } catch (error) {
        const status = httpStatus(error);
        if (status !== null && status < 500 && status !== 429) {
          if (order.phase !== 'done') {
            this.emit({ type: 'cancel-rejected', clientOrderId: order.request.clientOrderId, code: rejectionCode(error, status), reason: errorMessage(error), timeUs: this.options.clock.nowUs() });
          }
          return;
        }
        if (status === 429) await delay(retryAfterMs(error) ?? 1_000);
      }
    }
    this.emit({ type: 'cancel-rejected', clientOrderId: order.request.clientOrderId, code: 'VENUE_TIMEOUT', reason: `expected the cancel to reach the venue within ${CANCEL_ATTEMPTS_MAX} attempts, found no answer`, timeUs: this.options.clock.nowUs() });
  }

  private async sendReplace(order: TrackedOrder, changes: OrderChanges, epoch: number | undefined): Promise<void> {
    const { instrument } = order;
    order.replaceCount += 1;
    // A fresh client_order_id per replace (Alpaca keeps them unique) that still names our order, so an
    // unknown outcome can be settled by lookup just like a placement; with the epoch when it rides on the wire.
    const stamp = this.options.epochOnWire && epoch !== undefined ? `.e${epoch}` : '';
    const wireClientOrderId = `${order.request.clientOrderId}.r${order.replaceCount}${stamp}`;
    // The replacement is a fresh order: its qty is what is left to fill. Always sent, because Alpaca otherwise
    // reuses the original qty even after partial fills (alpacahq/Alpaca-API#165).
    const totalLots = changes.quantity ?? order.quantityLots;
    const remainingLots = totalLots - order.filledLots;
    if (remainingLots <= 0) {
      this.emit({ type: 'modify-rejected', clientOrderId: order.request.clientOrderId, code: 'BAD_QUANTITY', reason: `expected a quantity above the ${order.filledLots} lots already filled, found ${totalLots}`, timeUs: this.options.clock.nowUs() });
      return;
    }
    const body: AlpacaReplaceRequestWire = { client_order_id: wireClientOrderId, qty: scaledToDecimal(remainingLots, instrument.lotScale) };
    if (changes.limitPriceTicks !== undefined) body.limit_price = scaledToDecimal(changes.limitPriceTicks, instrument.priceScale);
    if (changes.stopPriceTicks !== undefined) body.stop_price = scaledToDecimal(changes.stopPriceTicks, instrument.priceScale);
    if (changes.trailingOffsetTicks !== undefined) body.trail = scaledToDecimal(changes.trailingOffsetTicks, instrument.priceScale);
    const pending: PendingReplace = { wireClientOrderId, fromVenueOrderId: order.venueOrderId!, totalLots, changes };
    try {
      await this.bucket.take();
      const replacement = toView(await this.orders.patchOrderByOrderId({ orderId: pending.fromVenueOrderId, patchOrderRequest: toSdkReplaceRequest(body) }));
      this.reportModified(order, pending, replacement);
    } catch (error) {
      const status = httpStatus(error);
      if (status !== null && status < 500) {
        this.emit({ type: 'modify-rejected', clientOrderId: order.request.clientOrderId, code: rejectionCode(error, status), reason: errorMessage(error), timeUs: this.options.clock.nowUs() });
        return;
      }
      // Unknown outcome: the replace took effect if its client_order_id exists or the old order names a
      // replacement. Never sent twice; settled like a placement, and left unsettled when nobody can tell.
      order.pendingReplace = pending;
      await this.settleReplace(order);
    }
  }

  /** The replace took effect: `view` is the replacement working now. */
  private reportModified(order: TrackedOrder, pending: PendingReplace, view: OrderView): void {
    if (order.pendingReplace !== null && order.pendingReplace !== pending) return;
    order.pendingReplace = null;
    order.wireClientOrderId = pending.wireClientOrderId;
    order.quantityLots = pending.totalLots;
    this.bindVenueId(order, view.id);
    this.emit({ type: 'modified', clientOrderId: order.request.clientOrderId, changes: pending.changes, timeUs: this.options.clock.nowUs() });
    this.applyView(view, undefined);
    if (order.cancelWanted && order.phase === 'open') void this.track(this.sendCancel(order));
  }

  /**
   * Settles a replace whose answer was lost: found when the replacement's client_order_id exists or the old order
   * has a replaced_by; not replaced only when, twice and lookupSettleMs apart, neither is so and the old order is
   * not pending a replace. A lookup that fails leaves it unsettled (catchUp and the recheck timer look again).
   */
  private async settleReplace(order: TrackedOrder): Promise<'found' | 'absent' | 'unknown'> {
    const pending = order.pendingReplace;
    if (pending === null) return 'found';
    let misses = 0;
    for (let lookupAttempt = 0; lookupAttempt < 4; lookupAttempt += 1) {
      if (this.closed) return 'unknown';
      try {
        const found = await this.lookup(pending.wireClientOrderId);
        if (order.pendingReplace !== pending) return 'found';
        if (found !== null) {
          this.reportModified(order, pending, (await this.followReplacements(found)).current);
          return 'found';
        }
        await this.bucket.take();
        const old = toView(await this.orders.getOrderByOrderID({ orderId: pending.fromVenueOrderId }));
        if (order.pendingReplace !== pending) return 'found';
        if (old.replacedBy !== null) {
          this.reportModified(order, pending, (await this.followReplacements(old)).current);
          return 'found';
        }
        if (old.status !== 'pending_replace') {
          misses += 1;
          if (misses >= 2) {
            order.pendingReplace = null;
            this.emit({ type: 'modify-rejected', clientOrderId: order.request.clientOrderId, code: 'VENUE_TIMEOUT', reason: `expected the replace ${pending.wireClientOrderId} at the venue after an unanswered request, found ${order.request.clientOrderId} not replaced (${old.status})`, timeUs: this.options.clock.nowUs() });
            this.applyView(old, undefined);
            if (order.cancelWanted && order.phase === 'open') void this.track(this.sendCancel(order));
            return 'absent';
          }
        }
      } catch (error) {
        this.problem(venueError(error, `lookup of replace ${pending.wireClientOrderId}`));
      }
      await delay(this.options.lookupSettleMs ?? 200);
    }
    this.problem(new SimError('VENUE_OUTCOME_UNKNOWN', `expected to learn whether the replace ${pending.wireClientOrderId} of ${order.request.clientOrderId} took effect, found no answer; it stays unsettled until catchUp()`));
    this.scheduleRecheck();
    return 'unknown';
  }

  // ----------------------------------------------------------------------------------------------------
  // Stream

  private onTradeUpdate(update: { event: string; order: unknown; executionId?: string; price?: string; qty?: string }): void {
    if (this.closed) return;
    this.tradeUpdateCount += 1;
    const view = toView(update.order as trading.Order);
    if (update.executionId !== undefined && (update.event === 'fill' || update.event === 'partial_fill')) {
      if (this.seenExecutions.has(update.executionId)) return;
      this.rememberExecution(update.executionId);
    }
    if (update.event === 'replaced' && view.replacedBy !== null) {
      // The old order was replaced: its successor keeps reporting under our client order id.
      const clientOrderId = this.byVenueId.get(view.id);
      if (clientOrderId !== undefined) this.byVenueId.set(view.replacedBy, clientOrderId);
      return;
    }
    this.applyView(view, update.executionId === undefined ? undefined : { executionId: update.executionId, price: update.price, qty: update.qty });
  }

  private rememberExecution(executionId: string): void {
    this.seenExecutions.add(executionId);
    if (this.seenExecutions.size > SEEN_EXECUTIONS_MAX) {
      // Oldest first: a Set iterates in insertion order. Cumulative accounting still guards beyond this window.
      const oldest = this.seenExecutions.values().next().value;
      if (oldest !== undefined) this.seenExecutions.delete(oldest);
    }
  }

  /** Brings our view of one order up to the venue's snapshot, emitting only what is new. */
  private applyView(view: OrderView, execution: { executionId: string; price?: string; qty?: string } | undefined): void {
    const clientOrderId = this.byVenueId.get(view.id) ?? (view.replaces !== null ? this.byVenueId.get(view.replaces) : undefined) ?? (this.tracked.has(clientOrderIdOfWire(view.clientOrderId)) ? clientOrderIdOfWire(view.clientOrderId) : undefined);
    if (clientOrderId === undefined) return; // not ours (another session or a manual order)
    const order = this.tracked.get(clientOrderId)!;
    const replaced = view.status === 'replaced' || view.replacedBy !== null;
    if (order.venueOrderId !== view.id && !replaced && order.venueOrderId === view.replaces) this.bindVenueId(order, view.id);
    else if (order.venueOrderId === null && !replaced) this.bindVenueId(order, view.id);
    const now = this.options.clock.nowUs();
    // A held order waits for its parent, except the stop-loss leg of an oco order (ours are OCO members), which
    // Alpaca keeps `held` while it works.
    const heldWaiting = view.status === 'held' && order.request.ocoWithClientOrderId === undefined;
    if (!order.accepted && !replaced && view.status !== 'rejected' && !heldWaiting && view.status !== 'pending_new') {
      order.accepted = true;
      if (order.phase === 'placing' || order.phase === 'unknown') order.phase = 'open';
      this.emit({ type: 'accepted', clientOrderId, venueOrderId: view.id, timeUs: now });
    }
    const { instrument } = order;
    const cumulativeLots = decimalToScaled(view.filledQty, instrument.lotScale, 'nearest', `filled_qty of ${clientOrderId}`);
    const counted = order.venueFills.get(view.id) ?? { lots: 0, notional: 0 };
    if (cumulativeLots > counted.lots) {
      const quantity = cumulativeLots - counted.lots;
      const executionLots = execution?.qty === undefined ? -1 : decimalToScaled(execution.qty, instrument.lotScale, 'nearest', `fill qty of ${clientOrderId}`);
      let priceTicks: number;
      let fillId: string;
      if (execution !== undefined && executionLots === quantity && execution.price !== undefined) {
        priceTicks = decimalToScaled(execution.price, instrument.priceScale, 'nearest', `fill price of ${clientOrderId}`);
        fillId = execution.executionId;
      } else {
        // Catch-up (missed, reordered or REST-only): the fill's price from the change of the average.
        const averageTicks = decimalToScaled(view.filledAvgPrice ?? '0', instrument.priceScale + 6, 'nearest', `filled_avg_price of ${clientOrderId}`) / 1e6;
        priceTicks = Math.round((averageTicks * cumulativeLots - counted.notional) / quantity);
        fillId = `${view.id}:cumulative:${cumulativeLots}`;
      }
      order.venueFills.set(view.id, { lots: cumulativeLots, notional: counted.notional + priceTicks * quantity });
      order.filledLots += quantity;
      this.emit({ type: 'fill', clientOrderId, fillId, symbol: order.request.symbol, side: order.request.side, quantity, priceTicks, feeCash: 0, liquidity: order.request.type === 'limit' ? 'maker' : 'taker', timeUs: now });
    }
    // Fills of a replaced (or not yet current) venue order count; its status does not speak for our order.
    if (order.phase === 'done' || replaced || view.id !== order.venueOrderId) return;
    if (view.status === 'filled') order.phase = 'done';
    else if (view.status === 'canceled' || view.status === 'done_for_day') {
      order.phase = 'done';
      this.emit({ type: 'cancelled', clientOrderId, reason: order.cancelWanted ? 'requested' : 'venue', timeUs: now });
    } else if (view.status === 'expired') {
      order.phase = 'done';
      this.emit({ type: 'expired', clientOrderId, timeUs: now });
    } else if (view.status === 'rejected') {
      this.rejectTracked(order, 'VENUE_REJECTED', `expected the venue to keep ${clientOrderId}, found it rejected`);
    }
  }

  // ----------------------------------------------------------------------------------------------------
  // Plumbing

  private snapshotOf(view: OrderView): VenueOrderSnapshot {
    const clientOrderId = this.byVenueId.get(view.id) ?? clientOrderIdOfWire(view.clientOrderId);
    const instrument = this.instruments.get(view.symbol);
    if (instrument === undefined) throw new SimError('VENUE_UNKNOWN_SYMBOL', `expected a configured instrument, found ${view.symbol}`);
    const snapshot: VenueOrderSnapshot = {
      clientOrderId, venueOrderId: view.id, symbol: view.symbol, side: view.side, type: engineType(view.type),
      quantity: decimalToScaled(view.qty ?? '0', instrument.lotScale, 'nearest', `qty of ${view.id}`),
      filledQuantity: decimalToScaled(view.filledQty, instrument.lotScale, 'nearest', `filled_qty of ${view.id}`),
      // An oco order has no parent to wait for: its held stop-loss leg is working (accepted, in our terms).
      status: view.status === 'held' && view.orderClass === 'oco' ? 'accepted' : engineStatus(view.status),
    };
    if (view.limitPrice !== null) snapshot.limitPriceTicks = decimalToScaled(view.limitPrice, instrument.priceScale, 'nearest', `limit_price of ${view.id}`);
    if (view.stopPrice !== null) snapshot.stopPriceTicks = decimalToScaled(view.stopPrice, instrument.priceScale, 'nearest', `stop_price of ${view.id}`);
    return snapshot;
  }

  private reject(clientOrderId: string, code: string, reason: string): void {
    this.emit({ type: 'rejected', clientOrderId, code, reason, timeUs: this.options.clock.nowUs() });
  }

  private rejectTracked(order: TrackedOrder, code: string, reason: string): void {
    if (order.phase === 'done') return;
    order.phase = 'done';
    this.reject(order.request.clientOrderId, code, reason);
  }

  private emit(report: ExecutionReport): void {
    if (!this.closed) this.options.sink.onReport(report);
  }

  private problem(error: SimError): void {
    this.options.onProblem?.(error);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const guarded = work.catch((error: unknown) => {
      this.problem(error instanceof SimError ? error : new SimError('VENUE_INTERNAL', `expected adapter work to finish, found ${errorMessage(error)}`));
      return undefined as T;
    });
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
    return guarded;
  }
}

function wireType(type: OrderType): AlpacaOrderRequestWire['type'] {
  return type === 'stop-limit' ? 'stop_limit' : type === 'trailing-stop' ? 'trailing_stop' : type;
}

function engineType(type: string): OrderType {
  return type === 'stop_limit' ? 'stop-limit' : type === 'trailing_stop' ? 'trailing-stop' : (type as OrderType);
}

/**
 * Working at the venue. `held` is not, on its own: a held bracket leg waits for its parent; but Alpaca also keeps a
 * working stop-loss leg held (see fetchSessionOrders, which counts a held leg of a working parent).
 */
function isWorking(status: AlpacaOrderStatus): boolean {
  return status === 'new' || status === 'accepted' || status === 'partially_filled' || status === 'pending_new' || status === 'pending_replace' || status === 'pending_cancel' || status === 'accepted_for_bidding' || status === 'calculated';
}

function engineStatus(status: AlpacaOrderStatus): OrderStatus {
  switch (status) {
    case 'new': case 'accepted': case 'pending_replace': case 'pending_cancel': case 'accepted_for_bidding': case 'calculated': case 'suspended': return 'accepted';
    case 'pending_new': return 'submitted';
    case 'held': return 'held';
    case 'partially_filled': return 'partially-filled';
    case 'filled': return 'filled';
    case 'canceled': case 'done_for_day': case 'replaced': return 'cancelled';
    case 'expired': return 'expired';
    case 'rejected': case 'stopped': return 'rejected';
  }
}

function toView(order: trading.Order | trading.OrderLeg): OrderView {
  const raw = order as unknown as Record<string, unknown>;
  const text = (value: unknown): string | null => (value === undefined || value === null ? null : String(value));
  const legs = Array.isArray(raw.legs) ? (raw.legs as trading.OrderLeg[]).map(toView) : [];
  return {
    id: String(raw.id), clientOrderId: String(raw.clientOrderId ?? ''), orderClass: text(raw.orderClass), timeInForce: text(raw.timeInForce), trailPrice: text(raw.trailPrice),
    status: raw.status as AlpacaOrderStatus,
    symbol: String(raw.symbol), side: raw.side as 'buy' | 'sell', type: String(raw.type ?? raw.orderType),
    qty: text(raw.qty), filledQty: text(raw.filledQty) ?? '0', filledAvgPrice: text(raw.filledAvgPrice),
    limitPrice: text(raw.limitPrice), stopPrice: text(raw.stopPrice), replacedBy: text(raw.replacedBy), replaces: text(raw.replaces),
    submittedMs: raw.submittedAt instanceof Date ? raw.submittedAt.getTime() : typeof raw.submittedAt === 'string' ? Date.parse(raw.submittedAt) : NaN, legs,
  };
}

function toSdkOrderRequest(body: AlpacaOrderRequestWire): trading.PostOrderRequest {
  return {
    symbol: body.symbol, qty: body.qty, side: body.side, type: body.type as trading.OrderType, timeInForce: body.time_in_force as trading.TimeInForce,
    limitPrice: body.limit_price, stopPrice: body.stop_price, trailPrice: body.trail_price, clientOrderId: body.client_order_id,
    orderClass: body.order_class as trading.OrderClass | undefined,
    takeProfit: body.take_profit ? { limitPrice: body.take_profit.limit_price } : undefined,
    stopLoss: body.stop_loss ? { stopPrice: body.stop_loss.stop_price, limitPrice: body.stop_loss.limit_price } : undefined,
  } as trading.PostOrderRequest;
}

function toSdkReplaceRequest(body: AlpacaReplaceRequestWire): trading.PatchOrderRequest {
  return { qty: body.qty, limitPrice: body.limit_price, stopPrice: body.stop_price, trail: body.trail, clientOrderId: body.client_order_id } as trading.PatchOrderRequest;
}

function httpStatus(error: unknown): number | null {
  const status = (error as { status?: unknown; response?: { status?: unknown } } | null)?.status ?? (error as { response?: { status?: unknown } } | null)?.response?.status;
  return typeof status === 'number' ? status : null;
}

/**
 * How long a 429 asks us to wait. Only for 429: the SDK also derives retryAfterMs from X-RateLimit-Reset, which
 * Alpaca sends on every response, so reading it after a 500 would stall a retry for up to a minute.
 */
/** A transport failure (timeout, reset) or a 5xx: the request may have taken effect. */
function isTransportOrServerError(error: unknown): boolean {
  if (error instanceof FetchError) return true;
  const status = httpStatus(error);
  return error instanceof ResponseError ? status === null || status >= 500 : status !== null && status >= 500;
}

function retryAfterMs(error: unknown): number | null {
  if (httpStatus(error) !== 429) return null;
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && value >= 0 ? Math.min(value, 60_000) : null;
}

function rejectionCode(error: unknown, status: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 40010001 || /client_order_id must be unique/.test(errorMessage(error))) return 'DUPLICATE_CLIENT_ORDER_ID';
  if (code === 40310100 || /fenced/.test(errorMessage(error))) return 'STALE_EPOCH';
  if (status === 429) return 'VENUE_RATE_LIMITED';
  if (status === 401 || status === 403 && /not authorized/.test(errorMessage(error))) return 'VENUE_UNAUTHORIZED';
  if (status === 404) return 'UNKNOWN_ORDER';
  return 'VENUE_REJECTED';
}

/** A cancel refused because the order is finished already (or its cancel is under way): Alpaca's 422 names the state. */
function alreadyFinished(error: unknown): boolean {
  const state = /already in "?([a-z_]+)"? state/.exec(errorMessage(error))?.[1];
  return state !== undefined && (ALPACA_TERMINAL_STATUSES.has(state as AlpacaOrderStatus) || state === 'pending_cancel');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function venueError(error: unknown, what: string): SimError {
  const status = httpStatus(error);
  if (status === 429) return new SimError('VENUE_RATE_LIMITED', `expected ${what} to be served, found 429`);
  if (status === null) return new SimError('VENUE_TIMEOUT', `expected an answer to ${what}, found ${errorMessage(error)}`);
  return new SimError('VENUE_UNAVAILABLE', `expected a 2xx for ${what}, found ${status}: ${errorMessage(error)}`);
}
