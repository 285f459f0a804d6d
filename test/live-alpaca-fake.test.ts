// Proves the Alpaca fake follows Alpaca's protocol over real loopback HTTP and WebSocket: auth headers, error envelope and codes, client_order_id uniqueness, order classes with legs, replace, 429 past the request budget, and the trade_updates stream handshake and event shapes.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import type { AlpacaOrderWire, AlpacaTradeUpdateWire } from '../adapters/alpaca/alpaca-wire.ts';

let fake: AlpacaFake;
afterEach(async () => { await fake.close(); });

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret }): Promise<{ status: number; json: any }> {
  const response = await fetch(`${fake.restUrl}${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text.length > 0 ? JSON.parse(text) : null };
}

/** A stream client speaking the wire protocol directly; collects trade_updates data. */
async function openStream(): Promise<{ updates: AlpacaTradeUpdateWire[]; frames: any[]; close(): void }> {
  const socket = new WebSocket(fake.streamUrl);
  const frames: any[] = [];
  const updates: AlpacaTradeUpdateWire[] = [];
  socket.on('message', (raw, isBinary) => {
    expect(isBinary).toBe(true);
    const frame = JSON.parse(String(raw));
    frames.push(frame);
    if (frame.stream === 'trade_updates') updates.push(frame.data);
  });
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
  socket.send(JSON.stringify({ action: 'auth', key: fake.keyId, secret: fake.secret }));
  socket.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
  await until(() => frames.some((frame) => frame.stream === 'listening'), 'listening ack');
  return { updates, frames, close: () => socket.close() };
}

async function until(condition: () => boolean, what: string, limitMs = 3_000): Promise<void> {
  for (let waited = 0; waited <= limitMs; waited += 5) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`expected ${what} within ${limitMs} ms, found it did not happen`);
}

describe('Alpaca fake REST', () => {
  it('refuses requests without the right APCA-API-* headers with 401 and the error envelope', async () => {
    fake = await AlpacaFake.start();
    const response = await call('GET', '/v2/account', undefined, { 'APCA-API-KEY-ID': 'wrong', 'APCA-API-SECRET-KEY': 'nope' });
    expect(response).toEqual({ status: 401, json: { code: 40110000, message: 'request is not authorized' } });
  });

  it('accepts an order, finds it by client_order_id, and refuses the same client_order_id with 422', async () => {
    fake = await AlpacaFake.start();
    const body = { symbol: 'AAPL', qty: '5', side: 'buy', type: 'limit', limit_price: '150.10', time_in_force: 'day', client_order_id: 'unique-1' };
    const created = await call('POST', '/v2/orders', body);
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ client_order_id: 'unique-1', symbol: 'AAPL', qty: '5', filled_qty: '0', limit_price: '150.10', order_class: 'simple', type: 'limit', side: 'buy', status: 'accepted' });
    const found = await call('GET', '/v2/orders:by_client_order_id?client_order_id=unique-1');
    expect(found.json.id).toBe(created.json.id);
    expect((await call('POST', '/v2/orders', body))).toEqual({ status: 422, json: { code: 40010001, message: 'client_order_id must be unique' } });
    expect((await call('GET', '/v2/orders:by_client_order_id?client_order_id=missing')).status).toBe(404);
    expect((await call('POST', '/v2/orders', { ...body, client_order_id: 'x', limit_price: undefined })).status).toBe(422);
  });

  it('holds bracket legs until the entry fills, then works them as an OCO pair: take-profit new, stop-loss still held', async () => {
    fake = await AlpacaFake.start();
    const stream = await openStream();
    const created = await call('POST', '/v2/orders', { symbol: 'SPY', qty: '10', side: 'buy', type: 'market', time_in_force: 'gtc', order_class: 'bracket', take_profit: { limit_price: '301' }, stop_loss: { stop_price: '299', limit_price: '298.5' }, client_order_id: 'br-1' });
    expect(created.json.legs.map((leg: AlpacaOrderWire) => [leg.type, leg.status, leg.side])).toEqual([['limit', 'held', 'sell'], ['stop_limit', 'held', 'sell']]);
    fake.pushTrade('SPY', '300.00', 100);
    await until(() => stream.updates.filter((update) => update.event === 'new').length >= 2, 'take-profit released');
    // As Alpaca: the take-profit leg becomes new, the stop-loss leg stays held (working) until it triggers.
    const released = (await call('GET', `/v2/orders/${created.json.id}`)).json.legs as AlpacaOrderWire[];
    expect(released.map((leg) => [leg.type, leg.status])).toEqual([['limit', 'new'], ['stop_limit', 'held']]);
    expect(stream.updates.filter((update) => update.event === 'new').map((update) => update.order.type)).toEqual(['market', 'limit']);
    const fill = stream.updates.find((update) => update.event === 'fill')!;
    expect(fill).toMatchObject({ price: '300.00', qty: '10', position_qty: '10', order: { client_order_id: 'br-1', status: 'filled', filled_qty: '10', filled_avg_price: '300' } });
    expect(typeof fill.execution_id).toBe('string');
    fake.pushTrade('SPY', '301.50', 100);
    await until(() => stream.updates.some((update) => update.event === 'canceled'), 'stop leg cancelled');
    const legs = (await call('GET', `/v2/orders/${created.json.id}`)).json.legs as AlpacaOrderWire[];
    expect(legs.map((leg) => leg.status)).toEqual(['filled', 'canceled']);
    expect((await call('GET', '/v2/positions')).json).toEqual([]);
    stream.close();
  });

  it('holds an oto leg until the entry fills, and fills through a plugged-in matcher', async () => {
    // A matcher that fills everything working at the print, ignoring prices: the fake must follow it.
    fake = await AlpacaFake.start({ matcher: { onTrade: (trade, working) => ({ fills: working.map((order) => ({ orderId: order.id, quantity: order.remainingQuantity, priceText: trade.priceText })), triggered: [], highWaterMarks: [] }) } });
    const created = await call('POST', '/v2/orders', { symbol: 'QQQ', qty: '2', side: 'buy', type: 'limit', limit_price: '10', time_in_force: 'gtc', order_class: 'oto', stop_loss: { stop_price: '9' } });
    expect(created.json.legs).toHaveLength(1);
    expect(created.json.legs[0]).toMatchObject({ status: 'held', type: 'stop', side: 'sell' });
    fake.pushTrade('QQQ', '400', 1);
    const afterEntry = (await call('GET', `/v2/orders/${created.json.id}`)).json;
    expect(afterEntry).toMatchObject({ status: 'filled', filled_avg_price: '400' });
    // A stop-loss leg stays held once released (as a bracket's), and works: the next print fills it.
    expect(afterEntry.legs[0].status).toBe('held');
    fake.pushTrade('QQQ', '401', 5);
    expect((await call('GET', '/v2/positions')).json).toEqual([]);
  });

  it('keeps an oco stop-loss leg held (a held event, never new) while it works, and fills it from held at its stop', async () => {
    fake = await AlpacaFake.start();
    const stream = await openStream();
    await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '4', side: 'buy', type: 'market', time_in_force: 'gtc' });
    fake.pushTrade('AAPL', '100', 10);
    const created = await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '4', side: 'sell', type: 'limit', time_in_force: 'gtc', order_class: 'oco', take_profit: { limit_price: '110' }, stop_loss: { stop_price: '95' }, client_order_id: 'oco-1' });
    expect(created.json.legs.map((leg: AlpacaOrderWire) => [leg.type, leg.status])).toEqual([['stop', 'held']]);
    await until(() => stream.updates.some((update) => update.event === 'held'), 'held event of the stop leg');
    expect(stream.updates.filter((update) => update.order.type === 'stop').map((update) => update.event)).toEqual(['held']);
    fake.pushTrade('AAPL', '96', 10);
    expect((await call('GET', `/v2/orders/${created.json.id}`)).json.legs[0].status).toBe('held');
    fake.pushTrade('AAPL', '94.5', 10);
    const after = (await call('GET', `/v2/orders/${created.json.id}`)).json;
    expect([after.status, after.legs[0].status, after.legs[0].filled_avg_price]).toEqual(['canceled', 'filled', '94.5']);
    expect((await call('GET', '/v2/positions')).json).toEqual([]);
    stream.close();
  });

  it('trails a trail_percent stop from its high-water mark and keeps trail_percent across a replace', async () => {
    fake = await AlpacaFake.start({ cash: '1000000' });
    await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '10', side: 'buy', type: 'market', time_in_force: 'gtc' });
    fake.pushTrade('AAPL', '100', 100);
    const trail = await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '10', side: 'sell', type: 'trailing_stop', trail_percent: '5', time_in_force: 'gtc', client_order_id: 'tp' });
    expect(trail.json).toMatchObject({ status: 'accepted', trail_percent: '5', trail_price: null });
    const order = async (): Promise<AlpacaOrderWire> => (await call('GET', '/v2/orders:by_client_order_id?client_order_id=tp.r1')).json;
    fake.pushTrade('AAPL', '101', 100); // rising: a 5% trailing sell stop (95.95) must not fill
    fake.pushTrade('AAPL', '110', 100); // new high-water mark 110: stop 104.5
    const replaced = await call('PATCH', `/v2/orders/${trail.json.id}`, { trail: '4', client_order_id: 'tp.r1' });
    expect(replaced.json).toMatchObject({ trail_percent: '4', trail_price: null, status: 'new' });
    fake.pushTrade('AAPL', '106', 100); // hwm of the replacement starts here: 106, stop 101.76
    expect((await order()).status).toBe('new');
    fake.pushTrade('AAPL', '101.5', 100);
    expect(await order()).toMatchObject({ status: 'filled', filled_qty: '10', filled_avg_price: '101.5', hwm: '106' });
  });

  it('answers lookups by client_order_id with 404 for a while under a lookup-lag fault, though the order exists', async () => {
    fake = await AlpacaFake.start();
    fake.injectNext('lookup-lag');
    const created = await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '1', side: 'buy', type: 'limit', limit_price: '90', time_in_force: 'gtc', client_order_id: 'lag-1' });
    expect(created.status).toBe(200);
    const lookups: number[] = [];
    for (let lookup = 0; lookup < 3; lookup += 1) lookups.push((await call('GET', '/v2/orders:by_client_order_id?client_order_id=lag-1')).status);
    expect(lookups).toEqual([404, 404, 200]);
    expect(fake.stats.laggedLookups).toBe(2);
    expect((await call('GET', `/v2/orders/${created.json.id}`)).status).toBe(200);
  });

  it('replaces an order: the old one becomes replaced, the new one replaces it, and a replaced event is streamed', async () => {
    fake = await AlpacaFake.start();
    const stream = await openStream();
    const created = await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '5', side: 'buy', type: 'limit', limit_price: '100', time_in_force: 'gtc', client_order_id: 'r-1' });
    const replaced = await call('PATCH', `/v2/orders/${created.json.id}`, { limit_price: '101', client_order_id: 'r-1.r1' });
    expect(replaced.json).toMatchObject({ replaces: created.json.id, limit_price: '101', client_order_id: 'r-1.r1', qty: '5' });
    expect((await call('GET', `/v2/orders/${created.json.id}`)).json).toMatchObject({ status: 'replaced', replaced_by: replaced.json.id });
    await until(() => stream.updates.some((update) => update.event === 'replaced'), 'replaced event');
    expect((await call('DELETE', `/v2/orders/${created.json.id}`)).status).toBe(422);
    expect((await call('DELETE', `/v2/orders/${replaced.json.id}`)).status).toBe(204);
    stream.close();
  });

  it('answers 429 with the error envelope and X-RateLimit headers past the per-window budget', async () => {
    fake = await AlpacaFake.start({ requestsPerWindowMax: 200 });
    const statuses: number[] = [];
    for (let request = 0; request < 205; request += 1) statuses.push((await call('GET', '/v2/clock')).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(200);
    expect(statuses.slice(200)).toEqual([429, 429, 429, 429, 429]);
    const limited = await fetch(`${fake.restUrl}/v2/account`, { headers: { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret } });
    expect(limited.headers.get('x-ratelimit-limit')).toBe('200');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await limited.json()).toEqual({ code: 42910000, message: 'rate limit exceeded' });
  });

  it('reports positions, account and clock in Alpaca shapes', async () => {
    fake = await AlpacaFake.start({ cash: '10000' });
    await call('POST', '/v2/orders', { symbol: 'AAPL', qty: '3', side: 'buy', type: 'market', time_in_force: 'day' });
    fake.pushTrade('AAPL', '100.5', 10);
    fake.pushTrade('AAPL', '101', 1);
    expect((await call('GET', '/v2/positions')).json).toEqual([expect.objectContaining({ symbol: 'AAPL', qty: '3', side: 'long', avg_entry_price: '100.5', current_price: '101', market_value: '303', cost_basis: '301.5' })]);
    expect((await call('GET', '/v2/account')).json).toMatchObject({ status: 'ACTIVE', currency: 'USD', cash: '9698.5', equity: '10001.5' });
    expect(Object.keys((await call('GET', '/v2/clock')).json).sort()).toEqual(['is_open', 'next_close', 'next_open', 'timestamp']);
  });
});

describe('Alpaca fake stream', () => {
  it('refuses a bad key with an unauthorized authorization frame and closes', async () => {
    fake = await AlpacaFake.start();
    const socket = new WebSocket(fake.streamUrl);
    const frames: any[] = [];
    socket.on('message', (raw) => frames.push(JSON.parse(String(raw))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ action: 'authenticate', data: { key_id: 'bad', secret_key: 'bad' } }));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(frames).toEqual([{ stream: 'authorization', data: { status: 'unauthorized', action: 'authenticate', message: 'access key verification failed' } }]);
  });

  it('draws the same faults from the same seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      fake = await AlpacaFake.start({ seed, faults: { serverError: 0.3 } });
      const statuses: number[] = [];
      for (let request = 0; request < 30; request += 1) statuses.push((await call('GET', '/v2/clock')).status);
      await fake.close();
      return statuses;
    };
    const first = await run(99);
    expect(first).toContain(500);
    expect(await run(99)).toEqual(first);
    fake = await AlpacaFake.start();
  });
});
