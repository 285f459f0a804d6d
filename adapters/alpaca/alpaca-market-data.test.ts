// Proves the Alpaca market-data client (the official SDK's StockDataStream, msgpack) against the AlpacaFake's stream on loopback: exact bar and trade records, reconnect and resubscribe after a cut, no record delivered twice, late records dropped and counted, and typed errors for auth failures (at connect and after a reconnect), the connection limit and prices off the tick grid.
import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaFake, type AlpacaFakeMarketItem, type AlpacaFakeOptions } from './fake/index.ts';
import { AlpacaMarketData, alpacaDataStreamUrl, type AlpacaMarketDataOptions } from './alpaca-market-data.ts';
import { alpacaEquityInstruments } from './alpaca-market-records.ts';
import type { MarketRecord } from '../runtime/session-records.ts';
import type { SimError } from '../../engine/errors.ts';

const START_US = Date.UTC(2024, 2, 15, 13, 30) * 1_000;
const MINUTE_US = 60_000_000;
const instruments = alpacaEquityInstruments(['MSFT', 'AAPL']);

/** Minute bars of AAPL and MSFT (in that order each minute), prices on the 4-decimal grid. */
function bars(minutes: number): AlpacaFakeMarketItem[] {
  const items: AlpacaFakeMarketItem[] = [];
  for (let m = 0; m < minutes; m++) {
    for (const [symbol, base] of [['AAPL', 17_000_000], ['MSFT', 41_000_000]] as const) {
      const open = base + m * 125;
      const text = (ticks: number): string => (ticks / 10_000).toFixed(4);
      items.push({ kind: 'bar', symbol, startUs: START_US + m * MINUTE_US, open: text(open), high: text(open + 300), low: text(open - 201), close: text(open + 17), volume: 1_000 + m, tradeCount: 12, vwap: text(open) });
    }
  }
  return items;
}

const opened: { fakes: AlpacaFake[]; clients: AlpacaMarketData[] } = { fakes: [], clients: [] };
afterEach(async () => {
  for (const client of opened.clients.splice(0)) await client.close();
  for (const fake of opened.fakes.splice(0)) await fake.close();
});

async function start(options: AlpacaFakeOptions): Promise<AlpacaFake> {
  const fake = await AlpacaFake.start(options);
  opened.fakes.push(fake);
  return fake;
}

function client(fake: AlpacaFake, extra: Partial<AlpacaMarketDataOptions> = {}, log: string[] = []): AlpacaMarketData {
  const made = new AlpacaMarketData({
    keyId: fake.keyId, secret: fake.secret, url: fake.dataStreamUrl, instruments, channel: 'bars', reconnectMsInitial: 20, reconnectMsMax: 200,
    connectTimeoutMs: 3_000, log: (line) => log.push(line), ...extra,
  });
  opened.clients.push(made);
  return made;
}

/** The next `count` records, each within `limitMs` (bounded: a stuck stream fails the test, it does not hang it). */
async function take(source: AsyncIterator<MarketRecord>, count: number, limitMs = 5_000): Promise<MarketRecord[]> {
  const records: MarketRecord[] = [];
  for (let i = 0; i < count; i++) {
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([
      source.next(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`expected record ${i + 1} of ${count} within ${limitMs} ms, found none`)), limitMs); }),
    ]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error(`expected ${count} records, found the stream ended after ${i}`);
    records.push(next.value);
  }
  return records;
}

async function rejection(promise: Promise<unknown>): Promise<SimError> {
  try {
    await promise;
  } catch (error) {
    return error as SimError;
  }
  throw new Error('expected a rejection, found success');
}

describe('AlpacaMarketData against the fake', () => {
  it('names Alpaca\'s v2 stock stream for the feed, unless APCA_DATA_STREAM_URL overrides it', () => {
    expect(alpacaDataStreamUrl('iex')).toBe('wss://stream.data.alpaca.markets/v2/iex');
    expect(alpacaDataStreamUrl('sip', '')).toBe('wss://stream.data.alpaca.markets/v2/sip');
    expect(alpacaDataStreamUrl('iex', 'ws://127.0.0.1:9/v2/test')).toBe('ws://127.0.0.1:9/v2/test');
  });

  it('delivers minute bars as completed bar records in exact ticks, in arrival order', async () => {
    const fake = await start({ marketData: { items: bars(3), fillOnStream: false } });
    const data = client(fake);
    await data.connect();
    const records = await take(data.records(), 6);
    expect(records[0]).toEqual({ k: 'bar', t: START_US + MINUTE_US, s: 0, st: START_US, i: MINUTE_US, o: 17_000_000, h: 17_000_300, l: 16_999_799, c: 17_000_017, v: 1_000 });
    expect(records.map((record) => `${instruments[record.s].symbol} ${record.t - START_US}`)).toEqual([
      `AAPL ${MINUTE_US}`, `MSFT ${MINUTE_US}`, `AAPL ${2 * MINUTE_US}`, `MSFT ${2 * MINUTE_US}`, `AAPL ${3 * MINUTE_US}`, `MSFT ${3 * MINUTE_US}`,
    ]);
    expect(fake.marketData.stats.subscriptions).toBe(1);
  });

  it('reconnects and resubscribes after a cut, and drops what the venue sends again, so each bar arrives once', async () => {
    const items = bars(10);
    const fake = await start({ marketData: { items, fillOnStream: false, faults: { disconnectAfterItems: [7], resendOnReconnect: 2 } } });
    const log: string[] = [];
    const data = client(fake, {}, log);
    await data.connect();
    const records = await take(data.records(), items.length);
    const keys = records.map((record) => `${record.s} ${record.t}`);
    expect(new Set(keys).size).toBe(items.length);
    expect(fake.marketData.stats.disconnects).toBe(1);
    expect(fake.marketData.stats.connections).toBe(2);
    expect(fake.marketData.stats.subscriptions).toBe(2);
    expect(fake.marketData.stats.resent).toBe(2);
    expect(data.stats.duplicatesDropped).toBe(2);
    expect(data.stats.reconnects).toBe(1);
    expect(log.some((line) => /lost; reconnecting/.test(line))).toBe(true);
    expect(log.some((line) => /reconnected to .* and resubscribed to bars for AAPL,MSFT/.test(line))).toBe(true);
  });

  it('drops a bar sent twice and a bar that comes after a later one, and counts both', async () => {
    const items = bars(6);
    // Item 3 is MSFT's second minute: held back, it arrives after AAPL's third minute, older than data delivered.
    const fake = await start({ marketData: { items, fillOnStream: false, faults: { duplicateItems: [1], reorderItems: [3] } } });
    const log: string[] = [];
    const data = client(fake, {}, log);
    await data.connect();
    const records = await take(data.records(), items.length - 1);
    expect(data.stats.duplicatesDropped).toBe(1);
    expect(data.stats.outOfOrderDropped).toBe(1);
    expect(records.some((record) => record.s === 1 && record.t === START_US + 2 * MINUTE_US)).toBe(false);
    for (let i = 1; i < records.length; i++) expect(records[i].t).toBeGreaterThanOrEqual(records[i - 1].t);
    expect(log.filter((line) => /dropped MSFT bar/.test(line))).toHaveLength(2);
  });

  it('streams trade prints as tick records with microsecond times', async () => {
    const items: AlpacaFakeMarketItem[] = [
      { kind: 'trade', symbol: 'AAPL', timeUs: START_US + 250, price: '170.1234', size: 100, id: 1, exchange: 'V', conditions: ['@'], tape: 'C' },
      { kind: 'trade', symbol: 'MSFT', timeUs: START_US + 250, price: '410', size: 3, id: 1, exchange: 'V', conditions: ['@', 'I'], tape: 'C' },
      { kind: 'trade', symbol: 'AAPL', timeUs: START_US + 1_000_001, price: '170.12', size: 7, id: 2, exchange: 'V', conditions: ['@'], tape: 'C' },
    ];
    const fake = await start({ marketData: { items, fillOnStream: false, faults: { duplicateItems: [0] } } });
    const data = client(fake, { channel: 'trades' });
    await data.connect();
    expect(await take(data.records(), 3)).toEqual([
      { k: 'tick', t: START_US + 250, s: 0, p: 1_701_234, q: 100, b: null, a: null },
      { k: 'tick', t: START_US + 250, s: 1, p: 4_100_000, q: 3, b: null, a: null },
      { k: 'tick', t: START_US + 1_000_001, s: 0, p: 1_701_200, q: 7, b: null, a: null },
    ]);
    expect(data.stats.duplicatesDropped).toBe(1);
  });

  it('refuses wrong keys with a typed 402 error at connect and leaves nothing open', async () => {
    const fake = await start({ marketData: { items: bars(1) } });
    const error = await rejection(client(fake, { secret: 'wrong' }).connect());
    expect(error.code).toBe('MARKET_DATA_AUTH_FAILED');
    expect(error.message).toMatch(/^expected the market-data stream .* to accept APCA_API_KEY_ID and APCA_API_SECRET_KEY, found error 402 auth failed$/);
    expect(fake.marketData.stats.authFailures).toBe(1);
    expect(fake.marketData.stats.connections).toBe(1);
  });

  it('refuses a second connection with these keys with a typed 406 error', async () => {
    const fake = await start({ marketData: { items: bars(1) } });
    await client(fake).connect();
    const error = await rejection(client(fake).connect());
    expect(error.code).toBe('MARKET_DATA_CONNECTION_LIMIT');
    expect(error.message).toMatch(/found error 406 connection limit exceeded: another connection with these API keys is open/);
    expect(fake.marketData.stats.connectionLimitRejections).toBe(1);
  });

  it('stops with a typed error, after the records before it, when a reconnect fails auth or meets the connection limit too often', async () => {
    const fakeAuth = await start({ marketData: { items: bars(4), fillOnStream: false, faults: { disconnectAfterItems: [3], rejectAuthFromConnection: 2 } } });
    const dataAuth = client(fakeAuth);
    await dataAuth.connect();
    const streamAuth = dataAuth.records();
    expect(await take(streamAuth, 3)).toHaveLength(3);
    const authError = await rejection(streamAuth.next());
    expect(authError.code).toBe('MARKET_DATA_AUTH_FAILED');

    const fakeLimit = await start({ marketData: { items: bars(4), fillOnStream: false, faults: { disconnectAfterItems: [2], connectionLimitFromConnection: 2 } } });
    const log: string[] = [];
    const dataLimit = client(fakeLimit, { connectionLimitRetriesMax: 2 }, log);
    await dataLimit.connect();
    const streamLimit = dataLimit.records();
    expect(await take(streamLimit, 2)).toHaveLength(2);
    const limitError = await rejection(streamLimit.next());
    expect(limitError.code).toBe('MARKET_DATA_CONNECTION_LIMIT');
    expect(limitError.message).toMatch(/3 times in a row after a reconnect/);
    expect(log.filter((line) => /406 connection limit exceeded after a reconnect/.test(line))).toHaveLength(2);
    expect(fakeLimit.marketData.stats.connectionLimitRejections).toBe(3);
  });

  it('stops with MARKET_PRICE_OFF_GRID naming the symbol and the price when a price has more than 4 decimals', async () => {
    const items = bars(2);
    const third = items[2];
    if (third.kind === 'bar') items[2] = { ...third, high: '170.12345' };
    const fake = await start({ marketData: { items, fillOnStream: false } });
    const data = client(fake);
    await data.connect();
    const stream = data.records();
    expect(await take(stream, 2)).toHaveLength(2);
    const error = await rejection(stream.next());
    expect(error.code).toBe('MARKET_PRICE_OFF_GRID');
    expect(error.message).toBe('expected AAPL bar high on the grid of 4 decimals (multiples of 0.0001), found 170.12345');
  });
});
