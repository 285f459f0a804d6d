// A protocol-faithful fake of Alpaca's Trading API v2 for tests: REST on loopback (orders, replace, cancel,
// lookup by client order id, positions, account, clock), the `trade_updates` websocket stream, Alpaca's auth
// headers and error envelope, client_order_id uniqueness, order classes simple/bracket/oco/oto with legs,
// 429s past the per-minute request budget, and faults drawn from a seeded PRNG (lost response after accept,
// 5xx, lookup lag, duplicated / reordered / dropped-by-disconnect stream events) or injected one at a time.
//
// Held exit legs, as Alpaca keeps them: a bracket's two exits are `held` until the entry is completely filled;
// then the take-profit becomes `new` and the stop-loss stays `held` (working: it triggers and fills from `held`)
// until it triggers or its sibling fills (Alpaca staff, forum.alpaca.markets/t/3697). An `oco` order's stop-loss
// leg is likewise `held` from the start and gets a `held` event, never `new` (observed by the Lean Alpaca
// brokerage: QuantConnect/Lean.Brokerages.Alpaca#74, "the passive leg of a group is reported as held").
//
// Fills happen only when a trade print is pushed in (`pushTrade`, or POST /__sim/trades from another process)
// and are decided by a pluggable matcher. Not Alpaca's: fencing, so tests can show a deposed leader refused. A
// placement or replacement whose client_order_id ends in `.e<epoch>`, and a cancel with an `X-Sim-Fencing-Epoch`
// header, get a 403 when the epoch is older than the newest seen (a newer one becomes the newest).
//
// Market data: the v2 real-time stock stream (`/v2/iex`, `/v2/sip`, ... on the same port; `dataStreamUrl`) with the
// same key and secret, streaming a list of bars or trades (from a tape, the catalog or the generator) that also
// drive the matcher as they go out: see market-data-stream.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type {
  AlpacaAccountWire, AlpacaClockWire, AlpacaOrderClass, AlpacaOrderRequestWire, AlpacaOrderStatus, AlpacaOrderType,
  AlpacaOrderWire, AlpacaPositionWire, AlpacaReplaceRequestWire, AlpacaTimeInForce, AlpacaTradeEvent, AlpacaTradeUpdateWire,
} from '../alpaca-wire.ts';
import { ALPACA_TERMINAL_STATUSES } from '../alpaca-wire.ts';
import { timeUsOfRfc3339 } from '../alpaca-market-records.ts';
import { DefaultAlpacaMatcher, type AlpacaMatcher, type MatcherOrder } from './default-matcher.ts';
import { SeededRandom } from './seeded-random.ts';
import { EpochFence } from '../../leader-lock/epoch-fence.ts';
import { DATA_STREAM_PATH, FakeMarketDataStream, type AlpacaFakeMarketDataOptions } from './market-data-stream.ts';

export interface AlpacaFakeFaults {
  /** POST /v2/orders: the order is accepted, then the connection is dropped before the response. */
  lostResponseAfterAccept?: number;
  /** Any REST request: a 500 before anything is done. */
  serverError?: number;
  /** Each stream event is sent twice. */
  duplicateEvent?: number;
  /** Each stream event is held back and sent after the next one. */
  reorderEvents?: number;
  /** After sending an event, the stream connection is closed (events until the client is back are lost). */
  disconnect?: number;
  /**
   * POST or PATCH of an order: the order exists, but its next LOOKUP_LAG_MISSES lookups by client_order_id answer
   * 404 (the index lags, as the SDK warns a lookup right after a placement may).
   */
  lookupLag?: number;
}

export type AlpacaFakeInjectedFault = 'lost-response' | 'server-error' | 'duplicate-event' | 'reorder-events' | 'disconnect-stream' | 'reject-after-accept' | 'lookup-lag' | 'lost-replace-response' | 'lookup-error';

export interface AlpacaFakeOptions {
  keyId?: string;
  secret?: string;
  seed?: number;
  faults?: AlpacaFakeFaults;
  matcher?: AlpacaMatcher;
  /** Alpaca allows 200 requests per minute per account. */
  requestsPerWindowMax?: number;
  rateWindowMs?: number;
  /** Starting cash, as a decimal string. */
  cash?: string;
  /** The fake's notion of time for timestamps; wall clock by default. */
  nowUs?: () => number;
  marketOpen?: boolean;
  /** The market-data stream: what it streams, its pace and its faults. */
  marketData?: AlpacaFakeMarketDataOptions;
}

interface FakeOrder {
  wire: AlpacaOrderWire;
  sequence: number;
  parentId: string | null;
  /** The other leg of an OCO pair (bracket exits, or an oco order's two legs). */
  siblingId: string | null;
  triggered: boolean;
  /** A `held` exit leg that works all the same (a released bracket stop-loss, an oco stop-loss): it can trigger and fill. */
  heldWorking: boolean;
  highWaterMark: number | null;
  filledNotional: number;
}

interface FakePosition { quantity: number; costBasis: number; lastPrice: number }

interface StreamClient { socket: WebSocket; authenticated: boolean; listening: boolean }

const QUANTITY_DECIMALS = 9;
const STREAM_PATH = '/stream';
/** Test-only endpoint: push a trade print over HTTP (see postTestTrade). */
export const TEST_TRADES_PATH = '/__sim/trades';
/** Bound on the backlog of held-back (reordered) events. */
const HELD_EVENTS_MAX = 1;
/** Lookups by client_order_id that miss an order under a lookup-lag fault. */
export const LOOKUP_LAG_MISSES = 2;

export class AlpacaFake {
  readonly restUrl: string;
  readonly streamUrl: string;
  /** The market-data stream (IEX feed path; `/v2/sip` and the others answer the same). */
  readonly dataStreamUrl: string;
  /** The market-data stream's controls and counters (load data, cut connections, outages). */
  readonly marketData: FakeMarketDataStream;
  readonly keyId: string;
  readonly secret: string;
  /** Counters for tests: requests served, 429s, events sent, faults fired. */
  readonly stats = { requests: 0, rateLimited: 0, eventsSent: 0, lostResponses: 0, serverErrors: 0, duplicates: 0, reorders: 0, disconnects: 0, duplicateClientOrderIds: 0, fencedRejections: 0, laggedLookups: 0 };
  private readonly server: Server;
  private readonly streams: WebSocketServer;
  private readonly random: SeededRandom;
  private faults: AlpacaFakeFaults;
  private readonly matcher: AlpacaMatcher;
  private readonly requestsPerWindowMax: number;
  private readonly rateWindowMs: number;
  private readonly nowUsSource: () => number;
  private readonly orders = new Map<string, FakeOrder>();
  private readonly byClientOrderId = new Map<string, string>();
  /** Client order ids whose lookups still miss (lookup lag), with the misses left. */
  private readonly lagging = new Map<string, number>();
  private readonly positions = new Map<string, FakePosition>();
  private readonly lastPrice = new Map<string, number>();
  private readonly clients = new Set<StreamClient>();
  private readonly sockets = new Set<Socket>();
  private readonly requestTimesMs: number[] = [];
  private readonly injected: AlpacaFakeInjectedFault[] = [];
  private held: AlpacaTradeUpdateWire[] = [];
  private readonly fence = new EpochFence();
  private cash: number;
  private sequence = 0;
  private marketOpen: boolean;

  private constructor(server: Server, streams: WebSocketServer, port: number, options: AlpacaFakeOptions) {
    this.server = server;
    this.streams = streams;
    this.restUrl = `http://127.0.0.1:${port}`;
    this.streamUrl = `ws://127.0.0.1:${port}${STREAM_PATH}`;
    this.keyId = options.keyId ?? 'FAKEKEYID';
    this.secret = options.secret ?? 'fake-secret';
    this.random = new SeededRandom(options.seed ?? 1);
    this.faults = options.faults ?? {};
    this.matcher = options.matcher ?? new DefaultAlpacaMatcher();
    this.requestsPerWindowMax = options.requestsPerWindowMax ?? 200;
    this.rateWindowMs = options.rateWindowMs ?? 60_000;
    this.nowUsSource = options.nowUs ?? (() => Date.now() * 1_000);
    this.cash = Number(options.cash ?? '100000');
    this.marketOpen = options.marketOpen ?? true;
    this.dataStreamUrl = `ws://127.0.0.1:${port}/v2/iex`;
    this.marketData = new FakeMarketDataStream({
      ...options.marketData, keyId: this.keyId, secret: this.secret, seed: (options.seed ?? 1) + 1,
      onPrint: (symbol, priceText, size, timeUs) => this.pushTrade(symbol, priceText, size, timeUs),
    });
  }

  static async start(options: AlpacaFakeOptions = {}): Promise<AlpacaFake> {
    const server = createServer();
    const streams = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const fake = new AlpacaFake(server, streams, (server.address() as AddressInfo).port, options);
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    server.on('request', (request, response) => fake.handleRequest(request, response));
    server.on('upgrade', (request, socket, head) => {
      const upgradePath = (request.url ?? '').split('?')[0];
      if (DATA_STREAM_PATH.test(upgradePath)) {
        fake.marketData.handleUpgrade(request, socket, head);
        return;
      }
      if (upgradePath !== STREAM_PATH) {
        socket.destroy();
        return;
      }
      streams.handleUpgrade(request, socket, head, (ws) => fake.acceptStream(ws));
    });
    return fake;
  }

  async close(): Promise<void> {
    await this.marketData.close();
    for (const client of this.clients) client.socket.terminate();
    this.streams.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Makes the next matching occasion misbehave, deterministically (tests of one specific fault). */
  injectNext(fault: AlpacaFakeInjectedFault): void {
    this.injected.push(fault);
  }

  /** Replaces the drawn faults from now on (tests that let a session start cleanly, then degrade the venue). */
  setFaults(faults: AlpacaFakeFaults): void {
    this.faults = { ...faults };
  }

  setMarketOpen(open: boolean): void {
    this.marketOpen = open;
  }

  /** The session ends: every working `day` order expires (an `expired` event each), as at the 16:00 close. */
  expireDayOrders(): void {
    for (const order of [...this.orders.values()].sort((a, b) => a.sequence - b.sequence)) {
      if (order.wire.time_in_force === 'day' && !ALPACA_TERMINAL_STATUSES.has(order.wire.status)) this.finish(order, 'expired');
    }
  }

  /** Every order the fake knows, legs included, in creation order (inspection for tests). */
  allOrders(): AlpacaOrderWire[] {
    return [...this.orders.values()].sort((a, b) => a.sequence - b.sequence).map((order) => this.render(order, true));
  }

  /** Closes every stream connection, as a network blip would. */
  dropStreams(): void {
    for (const client of this.clients) client.socket.terminate();
  }

  /** A trade print: the only thing that fills orders. `price` is a decimal (string kept verbatim). */
  pushTrade(symbol: string, price: string | number, size: number, timeUs = this.nowUsSource()): void {
    const priceText = typeof price === 'string' ? price : String(price);
    const numeric = Number(priceText);
    this.lastPrice.set(symbol, numeric);
    const position = this.positions.get(symbol);
    if (position) position.lastPrice = numeric;
    const working = [...this.orders.values()]
      .filter((order) => order.wire.symbol === symbol && isWorking(order))
      .sort((a, b) => a.sequence - b.sequence);
    const views: MatcherOrder[] = working.map((order) => ({
      id: order.wire.id, side: order.wire.side, type: order.wire.type, remainingQuantity: remaining(order),
      limitPrice: order.wire.limit_price === null ? null : Number(order.wire.limit_price),
      stopPrice: order.wire.stop_price === null ? null : Number(order.wire.stop_price),
      trailPrice: order.wire.trail_price === null ? null : Number(order.wire.trail_price),
      trailPercent: order.wire.trail_percent === null ? null : Number(order.wire.trail_percent),
      highWaterMark: order.highWaterMark, triggered: order.triggered,
    }));
    const result = this.matcher.onTrade({ symbol, price: numeric, priceText, size, timeUs }, views);
    for (const { orderId, highWaterMark } of result.highWaterMarks) {
      const order = this.orders.get(orderId);
      if (order) { order.highWaterMark = highWaterMark; order.wire.hwm = formatDecimal(highWaterMark); }
    }
    for (const orderId of result.triggered) {
      const order = this.orders.get(orderId);
      if (order) order.triggered = true;
    }
    for (const fill of result.fills) {
      const order = this.orders.get(fill.orderId);
      // A sibling may have been cancelled by an earlier fill of this same print.
      if (order && isWorking(order)) this.applyFill(order, fill.quantity, fill.priceText, timeUs);
    }
  }

  // ----------------------------------------------------------------------------------------------------
  // REST

  private handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        this.route(request, response, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        sendJson(response, 500, { code: 50010000, message: `internal error: ${error instanceof Error ? error.message : String(error)}` });
      }
    });
  }

  private route(request: IncomingMessage, response: ServerResponse, body: string): void {
    this.stats.requests += 1;
    if (request.headers['apca-api-key-id'] !== this.keyId || request.headers['apca-api-secret-key'] !== this.secret) {
      sendJson(response, 401, { code: 40110000, message: 'request is not authorized' });
      return;
    }
    // The test endpoint is not Alpaca's: it neither counts against nor is refused by the request budget.
    if (request.method === 'POST' && (request.url ?? '').split('?')[0] === TEST_TRADES_PATH) return this.postTestTrade(response, body);
    const nowMs = Date.now();
    while (this.requestTimesMs.length > 0 && this.requestTimesMs[0] <= nowMs - this.rateWindowMs) this.requestTimesMs.shift();
    const resetSeconds = Math.ceil(((this.requestTimesMs[0] ?? nowMs) + this.rateWindowMs) / 1_000);
    response.setHeader('X-RateLimit-Limit', String(this.requestsPerWindowMax));
    response.setHeader('X-RateLimit-Reset', String(resetSeconds));
    if (this.requestTimesMs.length >= this.requestsPerWindowMax) {
      this.stats.rateLimited += 1;
      response.setHeader('X-RateLimit-Remaining', '0');
      response.setHeader('Retry-After', String(Math.max(1, resetSeconds - Math.floor(nowMs / 1_000))));
      sendJson(response, 429, { code: 42910000, message: 'rate limit exceeded' });
      return;
    }
    this.requestTimesMs.push(nowMs);
    response.setHeader('X-RateLimit-Remaining', String(this.requestsPerWindowMax - this.requestTimesMs.length));
    response.setHeader('X-Request-ID', this.random.uuid());
    if (this.takeInjected('server-error') || this.random.chance(this.faults.serverError ?? 0)) {
      this.stats.serverErrors += 1;
      sendJson(response, 500, { code: 50010000, message: 'internal server error' });
      return;
    }
    const url = new URL(request.url ?? '/', this.restUrl);
    const path = url.pathname;
    const method = request.method ?? 'GET';
    const orderPath = /^\/v2\/orders\/([^/]+)$/.exec(path);
    // A 500 for the next read of one order (by id or client_order_id) only: other requests go through.
    if (method === 'GET' && (path === '/v2/orders:by_client_order_id' || orderPath) && this.takeInjected('lookup-error')) {
      this.stats.serverErrors += 1;
      return sendJson(response, 500, { code: 50010000, message: 'internal server error' });
    }
    if (path === '/v2/orders' && method === 'POST') return this.postOrder(response, body);
    if (path === '/v2/orders' && method === 'GET') return this.listOrders(response, url.searchParams);
    if (path === '/v2/orders' && method === 'DELETE') return this.cancelAll(response);
    if (path === '/v2/orders:by_client_order_id' && method === 'GET') {
      const clientOrderId = url.searchParams.get('client_order_id') ?? '';
      const id = this.byClientOrderId.get(clientOrderId);
      const lagMisses = this.lagging.get(clientOrderId) ?? 0;
      if (lagMisses > 0) {
        this.stats.laggedLookups += 1;
        if (lagMisses === 1) this.lagging.delete(clientOrderId); else this.lagging.set(clientOrderId, lagMisses - 1);
      }
      if (id === undefined || lagMisses > 0) return sendJson(response, 404, { code: 40410000, message: 'order not found' });
      return sendJson(response, 200, this.render(this.orders.get(id)!, true));
    }
    if (orderPath && method === 'GET') {
      const order = this.orders.get(decodeURIComponent(orderPath[1]));
      if (!order) return sendJson(response, 404, { code: 40410000, message: 'order not found' });
      return sendJson(response, 200, this.render(order, true));
    }
    if (orderPath && method === 'DELETE') {
      const epoch = request.headers['x-sim-fencing-epoch'];
      if (typeof epoch === 'string' && !this.fenceAccepts(epoch, response)) return;
      return this.cancelOrder(response, decodeURIComponent(orderPath[1]));
    }
    if (orderPath && method === 'PATCH') return this.replaceOrder(response, decodeURIComponent(orderPath[1]), body);
    if (path === '/v2/positions' && method === 'GET') return sendJson(response, 200, this.renderPositions());
    const positionPath = /^\/v2\/positions\/([^/]+)$/.exec(path);
    if (positionPath && method === 'GET') {
      const found = this.renderPositions().find((position) => position.symbol === decodeURIComponent(positionPath[1]));
      return found ? sendJson(response, 200, found) : sendJson(response, 404, { code: 40410000, message: 'position does not exist' });
    }
    if (path === '/v2/account' && method === 'GET') return sendJson(response, 200, this.renderAccount());
    if (path === '/v2/clock' && method === 'GET') return sendJson(response, 200, this.renderClock());
    sendJson(response, 404, { code: 40410000, message: `endpoint not found: ${method} ${path}` });
  }

  /**
   * Test-only (not an Alpaca endpoint; the server listens on loopback only): a trade print pushed by a process
   * that does not hold this object, e.g. a runner child process echoing its feed. Answers once the print's
   * trade_updates are on the wire, with how many there were, so the caller can wait for them to arrive.
   */
  private postTestTrade(response: ServerResponse, body: string): void {
    let trade: { symbol?: unknown; price?: unknown; size?: unknown; timeUs?: unknown };
    try {
      trade = JSON.parse(body) as typeof trade;
    } catch {
      return sendJson(response, 400, { code: 40010000, message: 'request body format is invalid' });
    }
    if (typeof trade.symbol !== 'string' || (typeof trade.price !== 'string' && typeof trade.price !== 'number') || typeof trade.size !== 'number') {
      return sendJson(response, 422, { code: 40010000, message: `expected { symbol, price, size }, found ${body.slice(0, 200)}` });
    }
    const before = this.stats.eventsSent;
    this.pushTrade(trade.symbol, trade.price, trade.size, typeof trade.timeUs === 'number' ? trade.timeUs : undefined);
    // Events go out on setImmediate; answer after them so they are written before this response.
    setImmediate(() => setImmediate(() => sendJson(response, 200, { events: this.stats.eventsSent - before })));
  }

  private postOrder(response: ServerResponse, body: string): void {
    let request: AlpacaOrderRequestWire;
    try {
      request = JSON.parse(body) as AlpacaOrderRequestWire;
    } catch {
      return sendJson(response, 400, { code: 40010000, message: 'request body format is invalid' });
    }
    const problem = validateOrderRequest(request);
    if (problem !== null) return sendJson(response, 422, { code: 40010000, message: problem });
    const clientOrderId = request.client_order_id ?? this.random.uuid();
    if (clientOrderId.length > 128) return sendJson(response, 422, { code: 40010000, message: 'client_order_id must be no more than 128 characters' });
    if (this.byClientOrderId.has(clientOrderId)) {
      this.stats.duplicateClientOrderIds += 1;
      return sendJson(response, 422, { code: 40010001, message: 'client_order_id must be unique' });
    }
    // Fencing (the fake's, not Alpaca's): an epoch suffix older than the newest seen is refused.
    const epochSuffix = /\.e(\d+)$/.exec(clientOrderId);
    if (epochSuffix !== null && !this.fenceAccepts(epochSuffix[1], response)) return;
    const orderClass: AlpacaOrderClass = request.order_class ?? 'simple';
    if (request.side === 'buy' && orderClass !== 'oco') {
      const price = Number(request.limit_price ?? request.stop_price ?? this.lastPrice.get(request.symbol) ?? 0);
      if (Number(request.qty) * price > this.buyingPower()) return sendJson(response, 403, { code: 40310000, message: 'insufficient buying power' });
    }
    const created = this.createOrders(request, clientOrderId, orderClass);
    this.maybeLagLookups(clientOrderId);
    if (this.takeInjected('reject-after-accept')) {
      // Accepted by Alpaca, then refused downstream (e.g. by the exchange): a `rejected` event follows.
      const now = isoFromUs(this.nowUsSource());
      created.wire.status = 'rejected';
      created.wire.failed_at = now;
      created.wire.updated_at = now;
      this.emitLater('rejected', created);
      sendJson(response, 200, { ...this.render(created, true), status: 'accepted' satisfies AlpacaOrderStatus });
      return;
    }
    if (this.takeInjected('lost-response') || this.random.chance(this.faults.lostResponseAfterAccept ?? 0)) {
      // The order exists and its events flow; only this HTTP response is lost (the client sees a reset).
      this.stats.lostResponses += 1;
      response.socket?.destroy();
      return;
    }
    sendJson(response, 200, { ...this.render(created, true), status: 'accepted' satisfies AlpacaOrderStatus });
  }

  /** Lookup lag (injected or drawn): the next lookups of this id miss although the order exists. */
  private maybeLagLookups(clientOrderId: string): void {
    if (this.takeInjected('lookup-lag') || this.random.chance(this.faults.lookupLag ?? 0)) this.lagging.set(clientOrderId, LOOKUP_LAG_MISSES);
  }

  /** The fence: true when `epochText` is at least the newest epoch seen; otherwise answers 403 and false. */
  private fenceAccepts(epochText: string, response: ServerResponse): boolean {
    if (/^\d+$/.test(epochText) && this.fence.accept(Number(epochText))) return true;
    this.stats.fencedRejections += 1;
    sendJson(response, 403, { code: 40310100, message: `fenced: expected epoch >= ${this.fence.newest()}, found ${epochText}` });
    return false;
  }

  private createOrders(request: AlpacaOrderRequestWire, clientOrderId: string, orderClass: AlpacaOrderClass): FakeOrder {
    const base = { symbol: request.symbol, side: request.side, qty: request.qty!, time_in_force: request.time_in_force, order_class: orderClass };
    if (orderClass === 'oco') {
      // Alpaca's OCO: the parent is the take-profit limit (`new`), its one leg the stop-loss, `held` while it
      // waits for its stop price; both work at once.
      const parent = this.newOrder({ ...base, type: 'limit', limit_price: request.take_profit!.limit_price }, clientOrderId, 'new', null);
      const stopType: AlpacaOrderType = request.stop_loss!.limit_price ? 'stop_limit' : 'stop';
      const leg = this.newOrder({ ...base, type: stopType, stop_price: request.stop_loss!.stop_price, limit_price: request.stop_loss!.limit_price }, this.random.uuid(), 'held', parent.wire.id);
      leg.heldWorking = true;
      parent.siblingId = leg.wire.id;
      leg.siblingId = parent.wire.id;
      this.emitLater('new', parent);
      this.emitLater('held', leg);
      return parent;
    }
    const parent = this.newOrder({ ...base, type: request.type, limit_price: request.limit_price, stop_price: request.stop_price, trail_price: request.trail_price, trail_percent: request.trail_percent }, clientOrderId, 'new', null);
    const exitSide = request.side === 'buy' ? 'sell' : 'buy';
    const legs: FakeOrder[] = [];
    if (request.take_profit) {
      legs.push(this.newOrder({ ...base, side: exitSide, type: 'limit', limit_price: request.take_profit.limit_price, time_in_force: request.time_in_force }, this.random.uuid(), 'held', parent.wire.id));
    }
    if (request.stop_loss) {
      const stopType: AlpacaOrderType = request.stop_loss.limit_price ? 'stop_limit' : 'stop';
      legs.push(this.newOrder({ ...base, side: exitSide, type: stopType, stop_price: request.stop_loss.stop_price, limit_price: request.stop_loss.limit_price }, this.random.uuid(), 'held', parent.wire.id));
    }
    if (legs.length === 2) {
      legs[0].siblingId = legs[1].wire.id;
      legs[1].siblingId = legs[0].wire.id;
    }
    this.emitLater('new', parent);
    return parent;
  }

  private newOrder(
    fields: { symbol: string; side: 'buy' | 'sell'; qty: string; time_in_force: AlpacaTimeInForce; order_class: AlpacaOrderClass; type: AlpacaOrderType; limit_price?: string; stop_price?: string; trail_price?: string; trail_percent?: string },
    clientOrderId: string, status: AlpacaOrderStatus, parentId: string | null,
  ): FakeOrder {
    const now = isoFromUs(this.nowUsSource());
    const id = this.random.uuid();
    const wire: AlpacaOrderWire = {
      id, client_order_id: clientOrderId, created_at: now, updated_at: now, submitted_at: now,
      filled_at: null, expired_at: null, canceled_at: null, failed_at: null, replaced_at: null, replaced_by: null, replaces: null,
      asset_id: assetIdOf(fields.symbol), symbol: fields.symbol, asset_class: fields.symbol.includes('/') ? 'crypto' : 'us_equity',
      notional: null, qty: normalizeDecimal(fields.qty), filled_qty: '0', filled_avg_price: null,
      order_class: fields.order_class, order_type: fields.type, type: fields.type, side: fields.side, time_in_force: fields.time_in_force,
      limit_price: fields.limit_price ?? null, stop_price: fields.stop_price ?? null, status, extended_hours: false, legs: null,
      trail_percent: fields.trail_percent ?? null, trail_price: fields.trail_price ?? null, hwm: null,
      position_intent: fields.side === 'buy' ? 'buy_to_open' : 'sell_to_close',
    };
    const order: FakeOrder = { wire, sequence: ++this.sequence, parentId, siblingId: null, triggered: false, heldWorking: false, highWaterMark: null, filledNotional: 0 };
    this.orders.set(id, order);
    this.byClientOrderId.set(clientOrderId, id);
    return order;
  }

  private listOrders(response: ServerResponse, query: URLSearchParams): void {
    const status = query.get('status') ?? 'open';
    const limit = Math.min(500, Math.max(1, Number(query.get('limit') ?? '50')));
    const nested = query.get('nested') === 'true';
    const symbols = query.get('symbols')?.split(',').filter((symbol) => symbol.length > 0);
    const direction = query.get('direction') === 'asc' ? 1 : -1;
    // `after` and `until` bound the submission time, both exclusive (RFC 3339; the fake's times have microseconds).
    let afterUs = NaN;
    let untilUs = NaN;
    try {
      const after = query.get('after');
      const until = query.get('until');
      if (after !== null) afterUs = timeUsOfRfc3339(after, 'after');
      if (until !== null) untilUs = timeUsOfRfc3339(until, 'until');
    } catch {
      sendJson(response, 422, { code: 40010001, message: 'invalid after or until: expected an RFC 3339 timestamp' });
      return;
    }
    const selected = [...this.orders.values()]
      .filter((order) => !nested || order.parentId === null)
      .filter((order) => Number.isNaN(afterUs) || timeUsOfRfc3339(order.wire.submitted_at, 'submitted_at') > afterUs)
      .filter((order) => Number.isNaN(untilUs) || timeUsOfRfc3339(order.wire.submitted_at, 'submitted_at') < untilUs)
      .filter((order) => status === 'all' || (status === 'open') === !ALPACA_TERMINAL_STATUSES.has(order.wire.status))
      .filter((order) => symbols === undefined || symbols.includes(order.wire.symbol))
      .sort((a, b) => direction * (a.sequence - b.sequence))
      .slice(0, limit);
    sendJson(response, 200, selected.map((order) => this.render(order, nested)));
  }

  private cancelOrder(response: ServerResponse, id: string): void {
    const order = this.orders.get(id);
    if (!order) return sendJson(response, 404, { code: 40410000, message: 'order not found' });
    if (ALPACA_TERMINAL_STATUSES.has(order.wire.status)) return sendJson(response, 422, { code: 42210000, message: `order is already in "${order.wire.status}" state` });
    this.cancelTree(order);
    response.writeHead(204);
    response.end();
  }

  private cancelAll(response: ServerResponse): void {
    const results: Array<{ id: string; status: number }> = [];
    for (const order of this.orders.values()) {
      if (order.parentId !== null || ALPACA_TERMINAL_STATUSES.has(order.wire.status)) continue;
      this.cancelTree(order);
      results.push({ id: order.wire.id, status: 200 });
    }
    sendJson(response, 207, results);
  }

  /** Cancels an order with its legs, or an OCO member with its sibling (Alpaca cancels the group). */
  private cancelTree(order: FakeOrder): void {
    const group = new Set<FakeOrder>([order]);
    for (const other of this.orders.values()) if (other.parentId === order.wire.id) group.add(other);
    if (order.siblingId !== null) group.add(this.orders.get(order.siblingId)!);
    for (const member of group) if (!ALPACA_TERMINAL_STATUSES.has(member.wire.status)) this.finish(member, 'canceled');
  }

  private replaceOrder(response: ServerResponse, id: string, body: string): void {
    const old = this.orders.get(id);
    if (!old) return sendJson(response, 404, { code: 40410000, message: 'order not found' });
    let change: AlpacaReplaceRequestWire;
    try {
      change = JSON.parse(body) as AlpacaReplaceRequestWire;
    } catch {
      return sendJson(response, 400, { code: 40010000, message: 'request body format is invalid' });
    }
    if (!isActive(old.wire.status) && old.wire.status !== 'held') {
      return sendJson(response, 422, { code: 42210000, message: `order is not replaceable in "${old.wire.status}" state` });
    }
    if (change.qty !== undefined && !(Number(change.qty) > 0)) {
      return sendJson(response, 422, { code: 40010000, message: 'qty must be > 0' });
    }
    const clientOrderId = change.client_order_id ?? this.random.uuid();
    if (this.byClientOrderId.has(clientOrderId)) return sendJson(response, 422, { code: 40010001, message: 'client_order_id must be unique' });
    const epochSuffix = /\.e(\d+)$/.exec(clientOrderId);
    if (epochSuffix !== null && !this.fenceAccepts(epochSuffix[1], response)) return;
    const replacement = this.newOrder({
      // Without a qty, Alpaca reuses the original qty even after partial fills (alpacahq/Alpaca-API#165).
      symbol: old.wire.symbol, side: old.wire.side, qty: change.qty ?? old.wire.qty!, time_in_force: change.time_in_force ?? old.wire.time_in_force,
      order_class: old.wire.order_class, type: old.wire.type, limit_price: change.limit_price ?? old.wire.limit_price ?? undefined,
      stop_price: change.stop_price ?? old.wire.stop_price ?? undefined,
      // `trail` is the new trail_price or trail_percent, whichever the order trails by.
      trail_price: old.wire.trail_percent === null ? change.trail ?? old.wire.trail_price ?? undefined : undefined,
      trail_percent: old.wire.trail_percent !== null ? change.trail ?? old.wire.trail_percent : undefined,
    }, clientOrderId, old.wire.status === 'held' ? 'held' : 'new', old.parentId);
    this.maybeLagLookups(clientOrderId);
    // The replacement is a fresh order (filled_qty 0); it takes the old one's place in its OCO group.
    replacement.triggered = old.triggered;
    replacement.heldWorking = old.heldWorking;
    replacement.wire.replaces = old.wire.id;
    if (old.siblingId !== null) {
      replacement.siblingId = old.siblingId;
      this.orders.get(old.siblingId)!.siblingId = replacement.wire.id;
    }
    for (const leg of this.orders.values()) if (leg.parentId === old.wire.id) leg.parentId = replacement.wire.id;
    const now = isoFromUs(this.nowUsSource());
    old.wire.status = 'replaced';
    old.wire.replaced_at = now;
    old.wire.replaced_by = replacement.wire.id;
    old.wire.updated_at = now;
    old.siblingId = null;
    this.emitLater('replaced', old);
    if (this.takeInjected('lost-replace-response')) {
      // The replace took effect and its events flow; only this HTTP response is lost (the client sees a reset).
      this.stats.lostResponses += 1;
      response.socket?.destroy();
      return;
    }
    sendJson(response, 200, this.render(replacement, true));
  }

  // ----------------------------------------------------------------------------------------------------
  // Fills and order state

  private applyFill(order: FakeOrder, quantity: number, priceText: string, timeUs: number): void {
    const price = Number(priceText);
    const filled = round(Number(order.wire.filled_qty) + quantity);
    order.filledNotional += quantity * price;
    order.wire.filled_qty = formatDecimal(filled);
    order.wire.filled_avg_price = formatDecimal(order.filledNotional / filled);
    const now = isoFromUs(timeUs);
    order.wire.updated_at = now;
    const done = filled >= Number(order.wire.qty);
    order.wire.status = done ? 'filled' : 'partially_filled';
    if (done) order.wire.filled_at = now;
    const signed = order.wire.side === 'buy' ? quantity : -quantity;
    this.cash -= signed * price;
    const position = this.positions.get(order.wire.symbol) ?? { quantity: 0, costBasis: 0, lastPrice: price };
    const before = position.quantity;
    const after = round(before + signed);
    if (before === 0 || Math.sign(before) === Math.sign(signed)) position.costBasis += signed * price;
    else if (Math.sign(after) === Math.sign(before) || after === 0) position.costBasis *= after / before;
    else position.costBasis = after * price;
    position.quantity = after;
    position.lastPrice = price;
    if (after === 0) this.positions.delete(order.wire.symbol); else this.positions.set(order.wire.symbol, position);
    this.emitLater(done ? 'fill' : 'partial_fill', order, { execution_id: this.random.uuid(), price: priceText, qty: formatDecimal(quantity), position_qty: formatDecimal(after), timestamp: now });
    // OCO rule: an execution of one leg cancels the other (Alpaca: "if one is executed, the other is canceled").
    if (order.siblingId !== null) {
      const sibling = this.orders.get(order.siblingId);
      if (sibling && !ALPACA_TERMINAL_STATUSES.has(sibling.wire.status)) this.finish(sibling, 'canceled');
    }
    // Bracket / OTO: legs are released once the entry is completely filled. A take-profit (limit) becomes `new`;
    // a stop-loss stays `held` but works from then on, as Alpaca keeps it.
    if (done) {
      for (const leg of this.orders.values()) {
        if (leg.parentId === order.wire.id && leg.wire.status === 'held' && !leg.heldWorking) {
          if (leg.wire.type === 'stop' || leg.wire.type === 'stop_limit') {
            leg.heldWorking = true;
            continue;
          }
          leg.wire.status = 'new';
          leg.wire.updated_at = now;
          this.emitLater('new', leg);
        }
      }
    }
  }

  private finish(order: FakeOrder, status: 'canceled' | 'expired'): void {
    const now = isoFromUs(this.nowUsSource());
    order.wire.status = status;
    order.wire.updated_at = now;
    if (status === 'canceled') order.wire.canceled_at = now; else order.wire.expired_at = now;
    this.emitLater(status, order);
  }

  // ----------------------------------------------------------------------------------------------------
  // Stream

  private acceptStream(socket: WebSocket): void {
    const client: StreamClient = { socket, authenticated: false, listening: false };
    this.clients.add(client);
    socket.on('close', () => this.clients.delete(client));
    socket.on('message', (raw) => {
      let message: { action?: string; key?: string; secret?: string; data?: { key_id?: string; secret_key?: string; streams?: string[] } };
      try {
        message = JSON.parse(String(raw));
      } catch {
        this.sendFrame(client, { stream: 'authorization', data: { status: 'unauthorized', action: 'authenticate', message: 'invalid syntax' } });
        return;
      }
      if (message.action === 'authenticate' || message.action === 'auth') {
        const keyId = message.data?.key_id ?? message.key;
        const secret = message.data?.secret_key ?? message.secret;
        client.authenticated = keyId === this.keyId && secret === this.secret;
        this.sendFrame(client, { stream: 'authorization', data: client.authenticated ? { status: 'authorized', action: 'authenticate' } : { status: 'unauthorized', action: 'authenticate', message: 'access key verification failed' } });
        if (!client.authenticated) socket.close();
      } else if (message.action === 'listen') {
        if (!client.authenticated) {
          this.sendFrame(client, { stream: 'authorization', data: { status: 'unauthorized', action: 'listen', message: 'not authenticated' } });
          return;
        }
        client.listening = (message.data?.streams ?? []).includes('trade_updates');
        this.sendFrame(client, { stream: 'listening', data: { streams: client.listening ? ['trade_updates'] : [] } });
      }
    });
  }

  /** Stream events go out after the REST response that caused them, as on the real venue. */
  private emitLater(event: AlpacaTradeEvent, order: FakeOrder, extra: Partial<AlpacaTradeUpdateWire> = {}): void {
    const update: AlpacaTradeUpdateWire = { event, timestamp: isoFromUs(this.nowUsSource()), ...extra, order: this.render(order, true) };
    setImmediate(() => this.broadcast(update));
  }

  private broadcast(update: AlpacaTradeUpdateWire): void {
    if (this.held.length < HELD_EVENTS_MAX && (this.takeInjected('reorder-events') || this.random.chance(this.faults.reorderEvents ?? 0))) {
      this.stats.reorders += 1;
      this.held.push(update);
      return;
    }
    const batch = [update, ...this.held];
    this.held = [];
    for (const item of batch) {
      const copies = this.takeInjected('duplicate-event') || this.random.chance(this.faults.duplicateEvent ?? 0) ? 2 : 1;
      if (copies === 2) this.stats.duplicates += 1;
      for (let copy = 0; copy < copies; copy += 1) {
        for (const client of this.clients) if (client.listening) this.sendFrame(client, { stream: 'trade_updates', data: item });
        this.stats.eventsSent += 1;
      }
    }
    if (this.takeInjected('disconnect-stream') || this.random.chance(this.faults.disconnect ?? 0)) {
      this.stats.disconnects += 1;
      this.dropStreams();
    }
  }

  private sendFrame(client: StreamClient, frame: unknown): void {
    // Alpaca's trading stream sends binary frames holding JSON text.
    if (client.socket.readyState === client.socket.OPEN) client.socket.send(Buffer.from(JSON.stringify(frame), 'utf8'), { binary: true });
  }

  private takeInjected(fault: AlpacaFakeInjectedFault): boolean {
    const at = this.injected.indexOf(fault);
    if (at < 0) return false;
    this.injected.splice(at, 1);
    return true;
  }

  // ----------------------------------------------------------------------------------------------------
  // Rendering

  private render(order: FakeOrder, nested: boolean): AlpacaOrderWire {
    const legs = nested ? [...this.orders.values()].filter((leg) => leg.parentId === order.wire.id).sort((a, b) => a.sequence - b.sequence).map((leg) => this.render(leg, true)) : [];
    return { ...order.wire, legs: legs.length > 0 ? legs : null };
  }

  private renderPositions(): AlpacaPositionWire[] {
    return [...this.positions.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([symbol, position]) => {
      const marketValue = position.quantity * position.lastPrice;
      return {
        asset_id: assetIdOf(symbol), symbol, exchange: 'NASDAQ', asset_class: symbol.includes('/') ? 'crypto' : 'us_equity',
        avg_entry_price: formatDecimal(position.costBasis / position.quantity), qty: formatDecimal(position.quantity),
        qty_available: formatDecimal(position.quantity), side: position.quantity > 0 ? 'long' : 'short',
        market_value: formatDecimal(marketValue), cost_basis: formatDecimal(position.costBasis),
        unrealized_pl: formatDecimal(marketValue - position.costBasis),
        unrealized_plpc: formatDecimal(position.costBasis === 0 ? 0 : (marketValue - position.costBasis) / Math.abs(position.costBasis)),
        current_price: formatDecimal(position.lastPrice), lastday_price: formatDecimal(position.lastPrice), change_today: '0',
      } satisfies AlpacaPositionWire;
    });
  }

  private buyingPower(): number {
    return this.cash + [...this.positions.values()].reduce((sum, position) => sum + Math.min(0, position.quantity * position.lastPrice), 0);
  }

  private renderAccount(): AlpacaAccountWire {
    let longValue = 0;
    let shortValue = 0;
    for (const position of this.positions.values()) {
      const value = position.quantity * position.lastPrice;
      if (value > 0) longValue += value; else shortValue += value;
    }
    const equity = this.cash + longValue + shortValue;
    return {
      id: 'fake-account-0001', account_number: 'PA0000FAKE', status: 'ACTIVE', currency: 'USD',
      cash: formatDecimal(this.cash), buying_power: formatDecimal(Math.max(0, this.buyingPower())), equity: formatDecimal(equity),
      portfolio_value: formatDecimal(equity), long_market_value: formatDecimal(longValue), short_market_value: formatDecimal(shortValue),
      pattern_day_trader: false, trading_blocked: false, transfers_blocked: false, account_blocked: false, shorting_enabled: true,
      multiplier: '1', created_at: '2024-01-02T14:30:00Z',
    };
  }

  private renderClock(): AlpacaClockWire {
    const nowUs = this.nowUsSource();
    const dayUs = 86_400_000_000;
    return { timestamp: isoFromUs(nowUs), is_open: this.marketOpen, next_open: isoFromUs(nowUs + dayUs), next_close: isoFromUs(nowUs + dayUs / 4) };
  }
}

function validateOrderRequest(request: AlpacaOrderRequestWire): string | null {
  if (typeof request.symbol !== 'string' || request.symbol.length === 0) return 'symbol is required';
  if (request.qty === undefined || !(Number(request.qty) > 0)) return 'qty must be > 0';
  if (request.side !== 'buy' && request.side !== 'sell') return 'invalid side';
  if (!['market', 'limit', 'stop', 'stop_limit', 'trailing_stop'].includes(request.type)) return 'invalid order type';
  if (!['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'].includes(request.time_in_force)) return 'invalid time_in_force';
  const orderClass = request.order_class ?? 'simple';
  if (!['', 'simple', 'bracket', 'oco', 'oto'].includes(orderClass)) return 'invalid order_class';
  // An oco order's prices live in take_profit / stop_loss; every other limit order needs its own limit_price.
  if ((request.type === 'limit' || request.type === 'stop_limit') && orderClass !== 'oco' && !(Number(request.limit_price) > 0)) return 'limit_price is required for limit orders';
  if ((request.type === 'stop' || request.type === 'stop_limit') && !(Number(request.stop_price) > 0)) return 'stop_price is required for stop orders';
  if (request.type === 'trailing_stop' && !(Number(request.trail_price) > 0 || Number(request.trail_percent) > 0)) return 'trail_price or trail_percent is required';
  if (orderClass === 'bracket' && !(request.take_profit && request.stop_loss)) return 'bracket orders require take_profit and stop_loss';
  if (orderClass === 'oco') {
    if (request.type !== 'limit') return 'oco orders must be limit orders';
    if (!(request.take_profit && request.stop_loss)) return 'oco orders require take_profit and stop_loss';
  }
  if (orderClass === 'oto' && !(request.take_profit || request.stop_loss)) return 'oto orders require take_profit or stop_loss';
  if (request.take_profit && !(Number(request.take_profit.limit_price) > 0)) return 'take_profit.limit_price must be > 0';
  if (request.stop_loss && !(Number(request.stop_loss.stop_price) > 0)) return 'stop_loss.stop_price must be > 0';
  return null;
}

function isActive(status: AlpacaOrderStatus): boolean {
  return status === 'new' || status === 'partially_filled' || status === 'accepted' || status === 'pending_new';
}

/** Works at the market: active, or a `held` exit leg that works all the same (see heldWorking). */
function isWorking(order: FakeOrder): boolean {
  return isActive(order.wire.status) || (order.wire.status === 'held' && order.heldWorking);
}

function remaining(order: FakeOrder): number {
  return round(Number(order.wire.qty) - Number(order.wire.filled_qty));
}

function round(value: number): number {
  return Number(value.toFixed(QUANTITY_DECIMALS));
}

function formatDecimal(value: number): string {
  const fixed = value.toFixed(QUANTITY_DECIMALS).replace(/\.?0+$/, '');
  return fixed === '-0' ? '0' : fixed;
}

function normalizeDecimal(text: string): string {
  return formatDecimal(Number(text));
}

function assetIdOf(symbol: string): string {
  let hash = 0;
  for (const character of symbol) hash = (Math.imul(hash, 31) + character.charCodeAt(0)) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex}${hex.slice(0, 4)}`;
}

/** RFC 3339 with microseconds, UTC (Alpaca sends up to nanoseconds). */
export function isoFromUs(timeUs: number): string {
  const milliseconds = Math.floor(timeUs / 1_000);
  const micros = String(Math.floor(timeUs) % 1_000_000).padStart(6, '0');
  return `${new Date(milliseconds).toISOString().slice(0, 19)}.${micros}Z`;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}
