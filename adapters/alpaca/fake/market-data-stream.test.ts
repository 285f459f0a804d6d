// Proves the Alpaca fake's market-data stream speaks Alpaca's published v2 protocol to a plain websocket client (JSON text frames: connected, auth, 401/402/403/406 errors, the whole subscription echoed, bars with RFC 3339 starts, one message per instant), refuses upgrades during an outage, and fills the fake's working orders from what it streams, at the streamed price.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AlpacaFake, type AlpacaFakeMarketItem } from './index.ts';

const START_US = Date.UTC(2024, 2, 15, 13, 30) * 1_000;
const bar = (symbol: string, minute: number, close: string): AlpacaFakeMarketItem => ({
  kind: 'bar', symbol, startUs: START_US + minute * 60_000_000, open: close, high: close, low: close, close, volume: 500, tradeCount: 4, vwap: close,
});

const fakes: AlpacaFake[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  for (const fake of fakes.splice(0)) await fake.close();
});

/** A plain JSON client that keeps every message it receives. */
async function connect(url: string): Promise<{ socket: WebSocket; messages: unknown[][] }> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  const messages: unknown[][] = [];
  socket.on('message', (data, isBinary) => {
    expect(isBinary).toBe(false);
    messages.push(JSON.parse(String(data)) as unknown[]);
  });
  await new Promise<void>((resolve, reject) => { socket.once('open', () => resolve()); socket.once('error', reject); });
  return { socket, messages };
}

async function until(condition: () => boolean, what: string, limitMs = 3_000): Promise<void> {
  for (let waitedMs = 0; waitedMs <= limitMs; waitedMs += 10) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`expected ${what} within ${limitMs} ms, found it did not happen`);
}

describe('AlpacaFake market-data stream', () => {
  it('follows the v2 protocol: connected, errors before and at auth, the subscription, then the data, one instant per message', async () => {
    const fake = await AlpacaFake.start({ marketData: { items: [bar('AAPL', 0, '170.01'), bar('MSFT', 0, '410'), bar('AAPL', 1, '170.5')], fillOnStream: false } });
    fakes.push(fake);
    const { socket, messages } = await connect(fake.dataStreamUrl.replace('/v2/iex', '/v2/sip'));
    await until(() => messages.length === 1, 'the welcome');
    expect(messages[0]).toEqual([{ T: 'success', msg: 'connected' }]);
    socket.send(JSON.stringify({ action: 'subscribe', bars: ['AAPL'] }));
    socket.send('not json');
    socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: fake.secret }));
    socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: fake.secret }));
    socket.send(JSON.stringify({ action: 'subscribe', bars: ['AAPL', 'MSFT'], trades: ['AAPL'] }));
    await until(() => messages.length === 8, 'the answers and the data');
    expect(messages.slice(1, 6)).toEqual([
      [{ T: 'error', code: 401, msg: 'not authenticated' }],
      [{ T: 'error', code: 400, msg: 'invalid syntax' }],
      [{ T: 'success', msg: 'authenticated' }],
      [{ T: 'error', code: 403, msg: 'already authenticated' }],
      [{ T: 'subscription', trades: ['AAPL'], quotes: [], bars: ['AAPL', 'MSFT'], updatedBars: [], dailyBars: [], statuses: [], lulds: [], corrections: [], cancelErrors: [] }],
    ]);
    expect(messages[6]).toEqual([
      { T: 'b', S: 'AAPL', o: 170.01, h: 170.01, l: 170.01, c: 170.01, v: 500, t: '2024-03-15T13:30:00Z', n: 4, vw: 170.01 },
      { T: 'b', S: 'MSFT', o: 410, h: 410, l: 410, c: 410, v: 500, t: '2024-03-15T13:30:00Z', n: 4, vw: 410 },
    ]);
    expect(messages[7]).toEqual([{ T: 'b', S: 'AAPL', o: 170.5, h: 170.5, l: 170.5, c: 170.5, v: 500, t: '2024-03-15T13:31:00Z', n: 4, vw: 170.5 }]);
  });

  it('answers wrong keys with 402 and a second connection with 406, each closing it, and refuses upgrades during an outage', async () => {
    const fake = await AlpacaFake.start({ marketData: { items: [] } });
    fakes.push(fake);
    const wrong = await connect(fake.dataStreamUrl);
    const closedWrong = new Promise<void>((resolve) => wrong.socket.once('close', () => resolve()));
    wrong.socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: 'nope' }));
    await closedWrong;
    expect(wrong.messages.at(-1)).toEqual([{ T: 'error', code: 402, msg: 'auth failed' }]);

    const first = await connect(fake.dataStreamUrl);
    first.socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: fake.secret }));
    await until(() => first.messages.length === 2, 'the first connection authenticated');
    const second = await connect(fake.dataStreamUrl);
    const closedSecond = new Promise<void>((resolve) => second.socket.once('close', () => resolve()));
    second.socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: fake.secret }));
    await closedSecond;
    expect(second.messages.at(-1)).toEqual([{ T: 'error', code: 406, msg: 'connection limit exceeded' }]);

    fake.marketData.setOutage(true);
    await until(() => first.socket.readyState === WebSocket.CLOSED, 'the outage to cut the open connection');
    const refused = new WebSocket(fake.dataStreamUrl);
    refused.on('error', () => undefined); // the refused handshake also ends in an error event
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)));
    expect(status).toBe(503);
    expect(fake.marketData.stats.refusedDuringOutage).toBe(1);
  });

  it('fills a working order from the bars it streams, at the streamed close', async () => {
    const fake = await AlpacaFake.start({ marketData: { items: [] } });
    fakes.push(fake);
    const placed = await fetch(`${fake.restUrl}/v2/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret },
      body: JSON.stringify({ symbol: 'AAPL', qty: '10', side: 'buy', type: 'market', time_in_force: 'day', client_order_id: 'md-1' }),
    });
    expect(placed.status).toBe(200);
    fake.marketData.load([bar('AAPL', 0, '170.0125')]);
    const client = await connect(fake.dataStreamUrl);
    client.socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: fake.secret }));
    client.socket.send(JSON.stringify({ action: 'subscribe', bars: ['AAPL'] }));
    await until(() => client.messages.length === 4, 'the streamed bar');
    const order = fake.allOrders().find((found) => found.client_order_id === 'md-1')!;
    expect(order).toMatchObject({ status: 'filled', filled_qty: '10', filled_avg_price: '170.0125' });
  });
});
