// The AlpacaFake's market-data stream: Alpaca's Market Data API v2 real-time stream (`/v2/{iex|sip|delayed_sip|test}`)
// on the fake's loopback server, as the published protocol has it (see ../alpaca-data-wire.ts): `success connected`
// on connect, `auth` with the same key and secret as the REST API (402 when wrong, 404 when none comes in time, 403
// when sent twice), `subscribe` / `unsubscribe` answered with the whole `subscription` (401 before auth, 400 for
// what cannot be read), one connection per key at a time (406 "connection limit exceeded" for a second), data as
// arrays of frames, the frames of one instant in one message; JSON text, or msgpack binary (`t` as a msgpack
// timestamp) when the client connects with `Content-Type: application/msgpack`, as the official SDK does.
//
// Data come from a list of items (bars and trades with decimal prices; market-data-source.ts builds them from a
// tape, the catalog or the generator) streamed in order to the subscribed connection, paced or as fast as the
// socket takes them. The list waits while no connection is subscribed (a test's session sees every item once,
// unless a fault says otherwise); each item is streamed once whoever listens. With `fillOnStream` (the default)
// every item is also a print for the fake's matcher as it goes out (a bar: its close, with its volume), so orders
// at the fake fill consistently with the data it streams; a runner that echoes its feed to the fake
// (SIM_ALPACA_MARKET_ECHO, fills in step with the engine) runs with it off.
//
// Faults, planted at item positions (deterministic) or drawn from the fake's seeded PRNG: a disconnect after
// N items (the socket is cut, as a network drop), items sent again after a reconnect (what was in flight), an item
// sent twice, an item held back and sent after the next one, an auth failure (402) and the connection limit (406)
// from a given connection on, and an outage (connections cut, upgrades answered 503 until it ends).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { decode, encode, encodeTimeSpecToTimestamp, EXT_TIMESTAMP, ExtensionCodec } from '@msgpack/msgpack';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  ALPACA_DATA_CHANNELS, ALPACA_DATA_ERRORS, type AlpacaBarWire, type AlpacaDataChannel, type AlpacaDataFrameWire, type AlpacaDataSubscriptionWire, type AlpacaTradeWire,
} from '../alpaca-data-wire.ts';
import { SeededRandom } from './seeded-random.ts';

/** A minute bar (prices as decimal strings; `startUs` its start) or a trade print, in the fake's data list. */
export type AlpacaFakeMarketItem =
  | { readonly kind: 'bar'; readonly symbol: string; readonly startUs: number; readonly open: string; readonly high: string; readonly low: string; readonly close: string; readonly volume: number; readonly tradeCount: number; readonly vwap: string }
  | { readonly kind: 'trade'; readonly symbol: string; readonly timeUs: number; readonly price: string; readonly size: number; readonly id: number; readonly exchange: string; readonly conditions: readonly string[]; readonly tape: string };

export interface AlpacaFakeMarketDataFaults {
  /** Cut the connection right after the item with this count (1-based, over the whole list) is sent, once each. */
  readonly disconnectAfterItems?: readonly number[];
  /** After a cut connection, the next subscribed connection first gets the last N items sent again. */
  readonly resendOnReconnect?: number;
  /** Items (0-based positions) sent twice in a row. */
  readonly duplicateItems?: readonly number[];
  /** Items (0-based positions) held back and sent right after the next item sent. */
  readonly reorderItems?: readonly number[];
  /** Chances per item, drawn from the seeded PRNG: cut after it, send it twice, hold it back. */
  readonly disconnectChance?: number;
  readonly duplicateChance?: number;
  readonly reorderChance?: number;
  /** Answer `auth` with 402 auth failed from this connection on (1-based, counting every connection). */
  readonly rejectAuthFromConnection?: number;
  /** Answer `auth` with 406 connection limit exceeded from this connection on. */
  readonly connectionLimitFromConnection?: number;
}

export interface AlpacaFakeMarketDataOptions {
  readonly items?: readonly AlpacaFakeMarketItem[];
  /** Real milliseconds between messages (0: as fast as the socket takes them). */
  readonly paceMs?: number;
  /** Each item is also a print for the fake's matcher as it is streamed (default true). */
  readonly fillOnStream?: boolean;
  readonly faults?: AlpacaFakeMarketDataFaults;
  /** Connections of one key open at once (Alpaca: 1 on most plans, Algo Trader Plus included). */
  readonly connectionsMax?: number;
  /** Alpaca closes a connection that has not authenticated in time. */
  readonly authTimeoutMs?: number;
}

export interface FakeMarketDataStreamOptions extends AlpacaFakeMarketDataOptions {
  readonly keyId: string;
  readonly secret: string;
  readonly seed: number;
  /** A print for the fake's matcher (fillOnStream): decimal price text, size, time. */
  readonly onPrint: (symbol: string, priceText: string, size: number, timeUs: number) => void;
}

interface DataClient {
  readonly socket: WebSocket;
  readonly number: number;
  readonly msgpack: boolean;
  authenticated: boolean;
  subscriptions: Record<AlpacaDataChannel, Set<string>>;
  authTimer: NodeJS.Timeout | null;
  /** Items this connection was sent (a cut after any means a reconnect may get some again). */
  itemsSent: number;
}

/** Paths of the v2 stock stream. */
export const DATA_STREAM_PATH = /^\/v2\/(iex|sip|delayed_sip|test)$/;
const AUTH_TIMEOUT_MS = 10_000;
/** Bound on the items remembered for resending after a reconnect. */
const RESEND_ITEMS_MAX = 64;

/** A time for msgpack's timestamp extension (Alpaca sends `t` that way in msgpack). */
class WireTime {
  constructor(readonly timeUs: number) {}
}

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: EXT_TIMESTAMP,
  encode: (value: unknown) => (value instanceof WireTime ? encodeTimeSpecToTimestamp({ sec: Math.floor(value.timeUs / 1_000_000), nsec: (value.timeUs % 1_000_000) * 1_000 }) : null),
  decode: (data: Uint8Array) => data,
});

export class FakeMarketDataStream {
  readonly stats = {
    connections: 0, authenticated: 0, authFailures: 0, connectionLimitRejections: 0, subscriptions: 0, refusedDuringOutage: 0,
    itemsStreamed: 0, framesSent: 0, duplicatesSent: 0, resent: 0, reordered: 0, disconnects: 0,
  };
  private readonly options: FakeMarketDataStreamOptions;
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly clients = new Set<DataClient>();
  private readonly random: SeededRandom;
  private items: AlpacaFakeMarketItem[];
  private cursor = 0;
  private readonly recent: AlpacaFakeMarketItem[] = [];
  private resendPending = false;
  private held: AlpacaFakeMarketItem | null = null;
  private readonly disconnectsDone = new Set<number>();
  private pumping = false;
  private outage = false;
  private closed = false;

  constructor(options: FakeMarketDataStreamOptions) {
    this.options = options;
    this.items = [...(options.items ?? [])];
    this.random = new SeededRandom(options.seed);
  }

  /** Items not streamed yet. */
  get remaining(): number {
    return this.items.length - this.cursor;
  }

  /** Replaces the data list (streaming starts again at its first item). */
  load(items: readonly AlpacaFakeMarketItem[]): void {
    this.items = [...items];
    this.cursor = 0;
    this.recent.length = 0;
    this.held = null;
    this.pump();
  }

  /** Cuts every connection, as a network blip would (the clients reconnect). */
  dropConnections(): void {
    for (const client of this.clients) this.cut(client);
  }

  /** An outage: connections are cut and new ones refused (HTTP 503 on the upgrade) until it ends. */
  setOutage(outage: boolean): void {
    this.outage = outage;
    if (outage) this.dropConnections();
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.outage || this.closed) {
      this.stats.refusedDuringOutage++;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const msgpack = String(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/msgpack');
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, msgpack));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const client of this.clients) {
      if (client.authTimer !== null) clearTimeout(client.authTimer);
      client.socket.terminate();
    }
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, msgpack: boolean): void {
    this.stats.connections++;
    const client: DataClient = {
      socket, number: this.stats.connections, msgpack, authenticated: false, itemsSent: 0, authTimer: null,
      subscriptions: Object.fromEntries(ALPACA_DATA_CHANNELS.map((channel) => [channel, new Set<string>()])) as Record<AlpacaDataChannel, Set<string>>,
    };
    this.clients.add(client);
    client.authTimer = setTimeout(() => {
      client.authTimer = null;
      if (!client.authenticated) this.refuse(client, ALPACA_DATA_ERRORS.authTimeout);
    }, this.options.authTimeoutMs ?? AUTH_TIMEOUT_MS);
    socket.on('close', () => {
      if (client.authTimer !== null) clearTimeout(client.authTimer);
      this.clients.delete(client);
      // A connection lost after it was sent data: the next one may get what was in flight again.
      if (client.itemsSent > 0 && (this.options.faults?.resendOnReconnect ?? 0) > 0) this.resendPending = true;
    });
    socket.on('message', (raw, isBinary) => this.onMessage(client, raw, isBinary));
    this.send(client, [{ T: 'success', msg: 'connected' }]);
  }

  private onMessage(client: DataClient, raw: RawData, isBinary: boolean): void {
    let message: { action?: unknown; key?: unknown; secret?: unknown } & Partial<Record<AlpacaDataChannel, unknown>>;
    try {
      const bytes = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
      message = (isBinary ? decode(bytes) : JSON.parse(bytes.toString('utf8'))) as typeof message;
      if (typeof message !== 'object' || message === null) throw new Error('not an object');
    } catch {
      this.send(client, [{ T: 'error', ...ALPACA_DATA_ERRORS.invalidSyntax }]);
      return;
    }
    switch (message.action) {
      case 'auth': return this.onAuth(client, message.key, message.secret);
      case 'subscribe':
      case 'unsubscribe': return this.onSubscribe(client, message.action, message);
      default: this.send(client, [{ T: 'error', ...ALPACA_DATA_ERRORS.invalidSyntax }]);
    }
  }

  private onAuth(client: DataClient, key: unknown, secret: unknown): void {
    if (client.authenticated) {
      this.send(client, [{ T: 'error', ...ALPACA_DATA_ERRORS.alreadyAuthenticated }]);
      return;
    }
    const faults = this.options.faults ?? {};
    if (key !== this.options.keyId || secret !== this.options.secret || (faults.rejectAuthFromConnection !== undefined && client.number >= faults.rejectAuthFromConnection)) {
      this.stats.authFailures++;
      this.refuse(client, ALPACA_DATA_ERRORS.authFailed);
      return;
    }
    let open = 0;
    for (const other of this.clients) if (other !== client && other.authenticated) open++;
    if (open >= (this.options.connectionsMax ?? 1) || (faults.connectionLimitFromConnection !== undefined && client.number >= faults.connectionLimitFromConnection)) {
      this.stats.connectionLimitRejections++;
      this.refuse(client, ALPACA_DATA_ERRORS.connectionLimitExceeded);
      return;
    }
    client.authenticated = true;
    if (client.authTimer !== null) clearTimeout(client.authTimer);
    client.authTimer = null;
    this.stats.authenticated++;
    this.send(client, [{ T: 'success', msg: 'authenticated' }]);
  }

  private onSubscribe(client: DataClient, action: 'subscribe' | 'unsubscribe', message: Partial<Record<AlpacaDataChannel, unknown>>): void {
    if (!client.authenticated) {
      this.send(client, [{ T: 'error', ...ALPACA_DATA_ERRORS.notAuthenticated }]);
      return;
    }
    for (const channel of ALPACA_DATA_CHANNELS) {
      const symbols = message[channel];
      if (symbols === undefined) continue;
      if (!Array.isArray(symbols) || symbols.some((symbol) => typeof symbol !== 'string' || symbol === '')) {
        this.send(client, [{ T: 'error', ...ALPACA_DATA_ERRORS.invalidSyntax }]);
        return;
      }
      for (const symbol of symbols as string[]) {
        if (action === 'subscribe') client.subscriptions[channel].add(symbol);
        else client.subscriptions[channel].delete(symbol);
      }
    }
    this.stats.subscriptions++;
    const frame = { T: 'subscription' } as AlpacaDataSubscriptionWire;
    for (const channel of ALPACA_DATA_CHANNELS) frame[channel] = [...client.subscriptions[channel]];
    this.send(client, [frame]);
    this.pump();
  }

  private refuse(client: DataClient, error: { code: number; msg: string }): void {
    this.send(client, [{ T: 'error', code: error.code, msg: error.msg }]);
    client.socket.close();
  }

  private cut(client: DataClient): void {
    this.stats.disconnects++;
    client.socket.terminate();
    this.clients.delete(client);
    if (client.itemsSent > 0 && (this.options.faults?.resendOnReconnect ?? 0) > 0) this.resendPending = true;
  }

  private listening(): DataClient[] {
    return [...this.clients].filter((client) => client.authenticated && client.socket.readyState === client.socket.OPEN
      && (client.subscriptions.bars.size > 0 || client.subscriptions.trades.size > 0));
  }

  /** Streams the list while a connection is subscribed: one message per instant, paced. */
  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void this.run().finally(() => { this.pumping = false; });
  }

  private async run(): Promise<void> {
    const faults = this.options.faults ?? {};
    const paceMs = this.options.paceMs ?? 0;
    for (;;) {
      const clients = this.listening();
      if (clients.length === 0 || this.closed) return;
      if (this.resendPending) {
        this.resendPending = false;
        const again = this.recent.slice(-(faults.resendOnReconnect ?? 0));
        if (again.length > 0) {
          this.stats.resent += again.length;
          this.broadcast(clients, again);
        }
      }
      if (this.cursor >= this.items.length) {
        if (this.held !== null) {
          this.broadcast(clients, [this.held]);
          this.held = null;
        }
        return;
      }
      // One instant's items make one message; a planted cut ends the message early.
      const batch: AlpacaFakeMarketItem[] = [];
      const time = timeOf(this.items[this.cursor]);
      let cutAfter = false;
      while (this.cursor < this.items.length && timeOf(this.items[this.cursor]) === time && !cutAfter) {
        const position = this.cursor++;
        const item = this.items[position];
        this.stats.itemsStreamed++;
        if (this.options.fillOnStream ?? true) this.print(item);
        if (this.held === null && ((faults.reorderItems ?? []).includes(position) || this.random.chance(faults.reorderChance ?? 0))) {
          this.held = item;
          this.stats.reordered++;
          continue;
        }
        batch.push(item);
        if ((faults.duplicateItems ?? []).includes(position) || this.random.chance(faults.duplicateChance ?? 0)) {
          batch.push(item);
          this.stats.duplicatesSent++;
        }
        if (this.held !== null && this.held !== item) {
          batch.push(this.held);
          this.held = null;
        }
        this.remember(item);
        const count = this.stats.itemsStreamed;
        if (((faults.disconnectAfterItems ?? []).includes(count) && !this.disconnectsDone.has(count)) || this.random.chance(faults.disconnectChance ?? 0)) {
          this.disconnectsDone.add(count);
          cutAfter = true;
        }
      }
      if (batch.length > 0) this.broadcast(clients, batch);
      if (cutAfter) for (const client of clients) this.cut(client);
      await new Promise<void>((resolve) => (paceMs > 0 ? setTimeout(resolve, paceMs) : setImmediate(resolve)));
    }
  }

  private remember(item: AlpacaFakeMarketItem): void {
    this.recent.push(item);
    if (this.recent.length > RESEND_ITEMS_MAX) this.recent.shift();
  }

  private print(item: AlpacaFakeMarketItem): void {
    if (item.kind === 'bar') this.options.onPrint(item.symbol, item.close, item.volume, item.startUs + 60_000_000);
    else this.options.onPrint(item.symbol, item.price, item.size, item.timeUs);
  }

  private broadcast(clients: readonly DataClient[], items: readonly AlpacaFakeMarketItem[]): void {
    for (const client of clients) {
      const frames = items.filter((item) => {
        const subscribed = item.kind === 'bar' ? client.subscriptions.bars : client.subscriptions.trades;
        return subscribed.has(item.symbol) || subscribed.has('*');
      });
      if (frames.length === 0) continue;
      client.itemsSent += frames.length;
      this.send(client, frames.map((item) => frameOf(item, client.msgpack)));
    }
  }

  private send(client: DataClient, frames: readonly (AlpacaDataFrameWire | Record<string, unknown>)[]): void {
    if (client.socket.readyState !== client.socket.OPEN) return;
    this.stats.framesSent += frames.length;
    if (client.msgpack) client.socket.send(encode(frames, { extensionCodec }), { binary: true });
    else client.socket.send(JSON.stringify(frames));
  }
}

function timeOf(item: AlpacaFakeMarketItem): number {
  return item.kind === 'bar' ? item.startUs : item.timeUs;
}

/** An item as its wire frame; in msgpack `t` is a timestamp extension, in JSON an RFC 3339 string. */
function frameOf(item: AlpacaFakeMarketItem, msgpack: boolean): AlpacaBarWire | AlpacaTradeWire | Record<string, unknown> {
  if (item.kind === 'bar') {
    const t = msgpack ? new WireTime(item.startUs) : rfc3339OfUs(item.startUs);
    return { T: 'b', S: item.symbol, o: Number(item.open), h: Number(item.high), l: Number(item.low), c: Number(item.close), v: item.volume, t, n: item.tradeCount, vw: Number(item.vwap) };
  }
  const t = msgpack ? new WireTime(item.timeUs) : rfc3339OfUs(item.timeUs);
  return { T: 't', S: item.symbol, i: item.id, x: item.exchange, p: Number(item.price), s: item.size, t, c: [...item.conditions], z: item.tape };
}

/** RFC 3339 in UTC, with microseconds when there are any ("2024-03-15T13:30:00Z", "...:00.000250Z"). */
export function rfc3339OfUs(timeUs: number): string {
  const seconds = new Date(Math.floor(timeUs / 1_000_000) * 1_000).toISOString().slice(0, 19);
  const micros = timeUs % 1_000_000;
  return micros === 0 ? `${seconds}Z` : `${seconds}.${String(micros).padStart(6, '0')}Z`;
}
