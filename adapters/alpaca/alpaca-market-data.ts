// Alpaca's real-time stock market data (Market Data API v2 stream) as the session's market records.
//
// Built on the official SDK's StockDataStream (@alpacahq/alpaca-trade-api `streaming`): its `url` option points it
// at any endpoint (Alpaca's wss://stream.data.alpaca.markets/v2/{iex|sip}, or the AlpacaFake on loopback), it
// speaks the protocol (connect -> `success connected`, `auth` -> `success authenticated`, `subscribe` ->
// `subscription`, msgpack frames), resubscribes by itself after each re-authentication and reconnects with a
// bounded exponential backoff. What this class adds:
// - the outcome of the first connection as a typed error: 402 (and 401, 404) from the SDK's auth result, 406
//   "connection limit exceeded" (another connection with these keys is open) and other refusals from the stream's
//   error frames, a connect timeout naming the last socket error;
// - after a reconnect, 406 is retried a bounded number of times in a row (the venue may not have dropped our old
//   connection yet), an auth failure or a refused subscription stops the feed with a typed error;
// - each bar or trade converted exactly (alpaca-market-records.ts) as it arrives, and passed through a
//   MarketRecordGate as it is handed out (so what a restarted session's journal holds counts too, told after
//   connecting), so a bar sent again or late after a reconnect never reaches the engine twice (drops are counted
//   and logged);
// - records handed out in arrival order through a bounded queue, as an async iterator that ends with the typed
//   error that stopped the feed, after the records received before it.
// While the stream is down nothing is delivered and nothing is made up: the session's market heartbeat ages, and
// its stale-data gate (/ready) says so.
//
// Bars vs trades: `channel: 'bars'` subscribes to minute bars (each is a completed bar record, `t` its end, one a
// minute per symbol that traded); `'trades'` to trade prints (tick records; the engine builds its own bars).
import { streaming } from '@alpacahq/alpaca-trade-api';
import { SimError } from '../../engine/errors.ts';
import type { Instrument } from '../../engine/types.ts';
import type { MarketRecord } from '../runtime/session-records.ts';
import { ALPACA_DATA_STREAM_HOST, type AlpacaStockFeed } from './alpaca-data-wire.ts';
import { barRecordOf, tickRecordOf } from './alpaca-market-records.ts';
import { MarketRecordGate } from './market-record-gate.ts';

export type AlpacaMarketDataChannel = 'bars' | 'trades';

export interface AlpacaMarketDataOptions {
  readonly keyId: string;
  readonly secret: string;
  /** The stream's endpoint, e.g. wss://stream.data.alpaca.markets/v2/iex (see alpacaDataStreamUrl). */
  readonly url: string;
  readonly instruments: readonly Instrument[];
  readonly channel: AlpacaMarketDataChannel;
  /** Bound on authenticating and confirming the subscription at connect. */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff: the first delay, doubled per attempt up to the cap. */
  readonly reconnectMsInitial?: number;
  readonly reconnectMsMax?: number;
  /** 406 answers in a row after a reconnect before the feed stops. */
  readonly connectionLimitRetriesMax?: number;
  /** Records received and not yet taken by the session before the feed stops (it is not keeping up). */
  readonly queueRecordsMax?: number;
  /** One line per event worth an operator's attention (reconnects, drops). */
  readonly log?: (line: string) => void;
}

export interface AlpacaMarketDataStats {
  /** Bars or trades received for the requested symbols. */
  received: number;
  delivered: number;
  duplicatesDropped: number;
  outOfOrderDropped: number;
  /** Frames for symbols that were not requested (ignored). */
  unrequested: number;
  reconnects: number;
  subscriptions: number;
}

/** A converted record waiting to be handed out, with what the gate and the log need. */
interface Received {
  readonly record: MarketRecord;
  readonly tradeKey: string | undefined;
  readonly what: string;
}

const CONNECT_TIMEOUT_MS = 10_000;
const RECONNECT_MS_INITIAL = 250;
const RECONNECT_MS_MAX = 10_000;
const CONNECTION_LIMIT_RETRIES_MAX = 5;
const QUEUE_RECORDS_MAX = 100_000;
/** The SDK reports stream errors as Alpaca's message text; its table maps them back to the codes. */
const CODE_OF_MESSAGE = new Map([...streaming.CONN_ERROR].map(([code, message]) => [message, code]));
const AUTH_CODES = new Set([401, 402, 404]);
/** Codes a reconnect may cure: the venue dropped us for being slow, or had an internal error. */
const TRANSIENT_CODES = new Set([407, 500]);

/** The v2 stock stream for a feed, or `override` (APCA_DATA_STREAM_URL) as given. */
export function alpacaDataStreamUrl(feed: AlpacaStockFeed, override?: string): string {
  return override !== undefined && override !== '' ? override : `${ALPACA_DATA_STREAM_HOST}/v2/${feed}`;
}

export class AlpacaMarketData {
  readonly stats: AlpacaMarketDataStats = { received: 0, delivered: 0, duplicatesDropped: 0, outOfOrderDropped: 0, unrequested: 0, reconnects: 0, subscriptions: 0 };
  private readonly options: AlpacaMarketDataOptions;
  private readonly stream: streaming.StockDataStream;
  private readonly symbolIndex = new Map<string, number>();
  private readonly gate: MarketRecordGate;
  private readonly log: (line: string) => void;
  /** Received and converted, not yet handed out (the gate runs when a record is handed out: see next). */
  private readonly queue: Received[] = [];
  private queueHead = 0;
  private waiter: { resolve: (result: IteratorResult<MarketRecord>) => void; reject: (error: Error) => void } | null = null;
  private fatal: SimError | null = null;
  private onFatal: ((error: SimError) => void) | null = null;
  private closed = false;
  private authenticatedOnce = false;
  private connectionLimitsInRow = 0;
  private lastSocketError = '';
  private down = false;

  constructor(options: AlpacaMarketDataOptions) {
    this.options = options;
    options.instruments.forEach((instrument, index) => this.symbolIndex.set(instrument.symbol, index));
    this.gate = new MarketRecordGate(options.instruments.length);
    this.log = options.log ?? (() => {});
    this.stream = new streaming.StockDataStream({
      credentials: { keyId: options.keyId, secret: options.secret }, url: options.url,
      // Keep trying for as long as the session runs: the bound is on the delay; staleness shows in /ready.
      reconnect: true, maxReconnectAttempts: streaming.UNLIMITED_RECONNECT_ATTEMPTS, backoff: true,
      initialReconnectMs: options.reconnectMsInitial ?? RECONNECT_MS_INITIAL, maxReconnectMs: options.reconnectMsMax ?? RECONNECT_MS_MAX, reconnectJitter: 0.2,
    });
    const symbols = options.instruments.map((instrument) => instrument.symbol);
    // Subscriptions made before connecting are sent by the SDK after each authentication (and so after every reconnect).
    if (options.channel === 'bars') this.stream.subscribeForBars(symbols);
    else this.stream.subscribeForTrades(symbols);
    // The SDK isolates listeners (a throw is swallowed), so every listener catches and stops the feed itself.
    this.stream.onBar((bar) => this.guard(() => this.onBar(bar)));
    this.stream.onTrade((trade) => this.guard(() => this.onTrade(trade)));
    this.stream.onError((message) => this.guard(() => this.onStreamError(message)));
    this.stream.on('subscription', (subscriptions: Record<string, string[]>) => this.guard(() => this.onSubscription(subscriptions)));
    this.stream.onDisconnect(() => {
      if (this.closed || this.fatal !== null || !this.authenticatedOnce || this.down) return;
      this.down = true;
      this.log(`market data: stream to ${options.url} lost; reconnecting (delays from ${options.reconnectMsInitial ?? RECONNECT_MS_INITIAL} ms up to ${options.reconnectMsMax ?? RECONNECT_MS_MAX} ms); nothing is delivered meanwhile`);
    });
    this.stream.onReconnected(() => { this.stats.reconnects++; });
  }

  /** Connects, authenticates and subscribes (bounded wait); a refusal is a typed error and nothing stays open. */
  async connect(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const stopped = new Promise<never>((_, reject) => {
      this.onFatal = reject;
      timer = setTimeout(() => reject(new SimError('MARKET_DATA_CONNECT_TIMEOUT', `expected the market-data stream ${this.options.url} to authenticate and confirm the subscription within ${timeoutMs} ms, found ${this.lastSocketError === '' ? 'no answer' : `the error '${this.lastSocketError}'`}`)), timeoutMs);
    });
    const subscribed = new Promise<void>((resolve) => this.stream.once('subscription', () => resolve()));
    try {
      this.stream.connect();
      const auth = await Promise.race([this.stream.whenAuthenticated(), stopped]);
      if (!auth.authenticated) {
        if (this.fatal !== null) throw this.fatal;
        throw auth.code !== undefined && AUTH_CODES.has(auth.code)
          ? authError(auth.code, auth.message, this.options.url)
          : new SimError('MARKET_DATA_AUTH_FAILED', `expected the market-data stream ${this.options.url} to authenticate, found ${auth.message}`);
      }
      await Promise.race([subscribed, stopped]);
      // A confirmed subscription is a connection made: what its data do afterwards is the records' business.
      if (!this.authenticatedOnce) throw this.fatal ?? new SimError('MARKET_DATA_SUBSCRIPTION', `expected the market-data stream ${this.options.url} to confirm the subscription, found it did not`);
    } catch (error) {
      this.closed = true;
      this.stream.disconnect();
      throw error;
    } finally {
      clearTimeout(timer);
      this.onFatal = null;
    }
  }

  /** A restarted session's journal already holds market data up to these times: nothing older is delivered. */
  resumeAfter(newestUs: number, lastBarEndUsBySymbol?: ReadonlyMap<number, number>): void {
    this.gate.resumeAfter(newestUs, lastBarEndUsBySymbol);
  }

  /** The records in arrival order; ends when closed, or rejects with the error that stopped the feed. */
  records(): AsyncIterableIterator<MarketRecord> {
    const iterator: AsyncIterableIterator<MarketRecord> = {
      [Symbol.asyncIterator]: () => iterator,
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.disconnect();
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve({ done: true, value: undefined });
  }

  private next(): Promise<IteratorResult<MarketRecord>> {
    while (this.queueHead < this.queue.length) {
      const received = this.queue[this.queueHead++];
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      }
      if (this.admitted(received)) return Promise.resolve({ done: false, value: received.record });
    }
    if (this.fatal !== null) return Promise.reject(this.fatal);
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  private receive(received: Received): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      if (!this.admitted(received)) return;
      this.waiter = null;
      waiter.resolve({ done: false, value: received.record });
      return;
    }
    if (this.queue.length - this.queueHead >= (this.options.queueRecordsMax ?? QUEUE_RECORDS_MAX)) {
      this.fail(new SimError('MARKET_DATA_BACKLOG', `expected the session to keep up with the market-data stream (at most ${this.options.queueRecordsMax ?? QUEUE_RECORDS_MAX} records waiting), found more waiting`));
      return;
    }
    this.queue.push(received);
  }

  /** Stops the feed: no reconnects; the iterator hands out what was received, then rejects with `error`. */
  private fail(error: SimError): void {
    if (this.fatal !== null || this.closed) return;
    this.fatal = error;
    this.stream.disconnect();
    this.onFatal?.(error);
    const waiter = this.waiter;
    if (waiter !== null && this.queueHead >= this.queue.length) {
      this.waiter = null;
      waiter.reject(error);
    }
  }

  private guard(work: () => void): void {
    if (this.closed || this.fatal !== null) return;
    try {
      work();
    } catch (error) {
      this.fail(error instanceof SimError ? error : new SimError('MARKET_DATA_FAILED', `expected to process the market-data stream, found ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  private indexOf(symbol: string): number | undefined {
    const index = this.symbolIndex.get(symbol);
    if (index === undefined) this.stats.unrequested++;
    return index;
  }

  private onBar(bar: streaming.StreamBar): void {
    const index = this.indexOf(bar.symbol);
    if (index === undefined) return;
    this.stats.received++;
    const time = bar.timestampRaw ?? bar.timestamp.toISOString();
    const record = barRecordOf({ open: bar.open, high: bar.high, low: bar.low, close: bar.close, volume: bar.volume, time }, index, this.options.instruments[index]);
    this.receive({ record, tradeKey: undefined, what: `${bar.symbol} bar starting ${time}` });
  }

  private onTrade(trade: streaming.StreamTrade): void {
    const index = this.indexOf(trade.symbol);
    if (index === undefined) return;
    this.stats.received++;
    const time = trade.timestampRaw ?? trade.timestamp.toISOString();
    const record = tickRecordOf({ price: trade.price, size: trade.size, time }, index, this.options.instruments[index]);
    this.receive({ record, tradeKey: `${trade.symbol} ${trade.exchange} ${trade.idRaw ?? trade.id}`, what: `${trade.symbol} trade ${trade.idRaw ?? trade.id} at ${time}` });
  }

  /**
   * Whether a received record may go to the session, decided when it is handed out (so that what a restarted
   * session's journal holds, told by resumeAfter after connecting, counts too); a drop is counted and logged.
   */
  private admitted(received: Received): boolean {
    const reason = this.gate.admit(received.record, received.tradeKey);
    if (reason === null) {
      this.stats.delivered++;
      return true;
    }
    if (reason === 'duplicate') this.stats.duplicatesDropped++;
    else this.stats.outOfOrderDropped++;
    this.log(`market data: dropped ${received.what}: ${reason === 'duplicate' ? 'delivered already' : 'older than data already delivered'} (${this.stats.duplicatesDropped} duplicates, ${this.stats.outOfOrderDropped} out of order dropped so far)`);
    return false;
  }

  private onSubscription(subscriptions: Record<string, string[]>): void {
    this.stats.subscriptions++;
    const confirmed = subscriptions[this.options.channel] ?? [];
    const missing = this.options.instruments.map((instrument) => instrument.symbol).filter((symbol) => !confirmed.includes(symbol) && !confirmed.includes('*'));
    if (missing.length > 0) {
      throw new SimError('MARKET_DATA_SUBSCRIPTION', `expected the market-data stream to confirm ${this.options.channel} for ${this.options.instruments.map((i) => i.symbol).join(',')}, found ${this.options.channel} for ${confirmed.join(',') || 'none'}`);
    }
    this.connectionLimitsInRow = 0;
    if (this.authenticatedOnce) {
      this.down = false;
      this.log(`market data: reconnected to ${this.options.url} and resubscribed to ${this.options.channel} for ${confirmed.join(',')} (reconnect ${this.stats.reconnects})`);
    }
    this.authenticatedOnce = true;
  }

  private onStreamError(message: string): void {
    const code = CODE_OF_MESSAGE.get(message);
    if (code === undefined) {
      // Socket-level trouble (refused, reset, an undecodable frame): the SDK reconnects; a connect timeout names it.
      this.lastSocketError = message;
      return;
    }
    const url = this.options.url;
    if (AUTH_CODES.has(code)) {
      // The SDK treats it as terminal (no reconnect); at connect, connect() reports the auth result itself.
      if (this.authenticatedOnce) this.fail(authError(code, message, url));
      return;
    }
    if (code === 406) {
      this.connectionLimitsInRow++;
      const limit = this.options.connectionLimitRetriesMax ?? CONNECTION_LIMIT_RETRIES_MAX;
      if (!this.authenticatedOnce || this.connectionLimitsInRow > limit) {
        this.fail(new SimError('MARKET_DATA_CONNECTION_LIMIT', `expected the market-data stream ${url} to accept this connection, found error 406 connection limit exceeded${this.authenticatedOnce ? ` ${this.connectionLimitsInRow} times in a row after a reconnect` : ''}: another connection with these API keys is open (most Alpaca plans allow one)`));
      } else {
        this.log(`market data: error 406 connection limit exceeded after a reconnect (${this.connectionLimitsInRow} of ${limit} in a row); retrying`);
      }
      return;
    }
    if (TRANSIENT_CODES.has(code)) {
      this.log(`market data: error ${code} ${message}; the stream reconnects`);
      return;
    }
    this.fail(new SimError('MARKET_DATA_REFUSED', `expected the market-data stream ${url} to serve ${this.options.channel} for ${this.options.instruments.map((i) => i.symbol).join(',')}, found error ${code} ${message}`));
  }
}

function authError(code: number, message: string, url: string): SimError {
  return new SimError('MARKET_DATA_AUTH_FAILED', `expected the market-data stream ${url} to accept APCA_API_KEY_ID and APCA_API_SECRET_KEY, found error ${code} ${message}`);
}
