// Proves that cancels and modifies are fenced like submits: the paper broker refuses them under an epoch older than the newest it has seen, and the Alpaca adapter carries the epoch on the wire (a header on cancels, a suffix on replacements) so that the fake refuses a deposed leader's cancel and replace of an order the new leader keeps, while the adapter itself refuses an epoch older than its own newest without a request.
import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { AlpacaVenue } from '../adapters/alpaca/index.ts';
import { RealTimeClock } from '../adapters/real-time-clock.ts';
import { PaperBroker } from '../adapters/runtime/paper-broker.ts';
import type { ExecutionReport, Instrument, OrderRequest } from '../engine/index.ts';
import { RecordingSink } from './conformance/recording-sink.ts';

const instrument: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const limit = (clientOrderId: string, epoch: number): OrderRequest => ({ clientOrderId, symbol: 'AAPL', side: 'buy', type: 'limit', quantity: 1, timeInForce: 'gtc', limitPriceTicks: 5_000, reduceOnly: false, epoch });
const closing: Array<() => Promise<void>> = [];
afterEach(async () => { for (const close of closing.splice(0).reverse()) await close(); });

describe('fencing of cancels and modifies', () => {
  it('paper broker: refuses a cancel or modify under an older epoch, takes the newest', () => {
    const broker = new PaperBroker([instrument], {}, 1);
    const reports: ExecutionReport[] = [];
    broker.connect((report) => reports.push(report));
    broker.onMarket({ k: 'tick', t: 1_000_000, s: 0, p: 10_000, q: 100, b: null, a: null });
    broker.submit(limit('p-1', 2));
    broker.modify('p-1', { limitPriceTicks: 5_100 }, 1);
    broker.cancel('p-1', 1);
    expect(reports.map((report) => `${report.type} ${'code' in report ? report.code : ''}`.trim())).toEqual(['accepted', 'modify-rejected STALE_EPOCH', 'cancel-rejected STALE_EPOCH']);
    broker.modify('p-1', { limitPriceTicks: 5_100 }, 2);
    broker.cancel('p-1', 3);
    expect(reports.slice(3).map((report) => report.type)).toEqual(['modified', 'cancelled']);
  });

  it('alpaca: the deposed leader\'s cancel and replace are refused at the fake, the order stays as it is', async () => {
    const fake = await AlpacaFake.start({ seed: 2, requestsPerWindowMax: 100_000 });
    closing.push(() => fake.close());
    const adapter = async () => {
      const sink = new RecordingSink();
      const venue = new AlpacaVenue({
        keyId: fake.keyId, secret: fake.secret, restUrl: fake.restUrl, streamUrl: fake.streamUrl, instruments: [instrument], sink,
        clock: RealTimeClock.real(), requestsPerMinuteMax: 60_000, epochOnWire: true,
      });
      closing.push(() => venue.close());
      await venue.connect();
      return { venue, sink };
    };
    const old = await adapter();
    const successor = await adapter();
    old.venue.submit(limit('f-1', 1));
    await old.sink.waitFor((report) => report.type === 'accepted', 3_000, 'the old leader\'s order accepted');
    // The successor trades under epoch 2: the fake has now seen it.
    successor.venue.submit(limit('g-1', 2));
    await successor.sink.waitFor((report) => report.type === 'accepted', 3_000, 'the new leader\'s order accepted');
    old.venue.cancel('f-1', 1);
    old.venue.modify('f-1', { limitPriceTicks: 5_100 }, 1);
    const refusedCancel = await old.sink.waitFor((report) => report.type === 'cancel-rejected', 3_000, 'the stale cancel refused');
    const refusedModify = await old.sink.waitFor((report) => report.type === 'modify-rejected', 3_000, 'the stale replace refused');
    expect([refusedCancel, refusedModify]).toMatchObject([{ code: 'STALE_EPOCH', clientOrderId: 'f-1' }, { code: 'STALE_EPOCH', clientOrderId: 'f-1' }]);
    expect(fake.stats.fencedRejections).toBe(2);
    expect(fake.allOrders().map((order) => `${order.client_order_id} ${order.status} ${order.limit_price}`)).toEqual(['f-1.e1 new 50', 'g-1.e2 new 50']);
    // Older than the adapter's own newest: refused at once, nothing sent.
    const requests = fake.stats.requests;
    old.venue.cancel('f-1', 0);
    expect(old.sink.reports.at(-1)).toMatchObject({ type: 'cancel-rejected', code: 'STALE_EPOCH' });
    expect(fake.stats.requests).toBe(requests);
    // The current epoch gets through: a replacement stamped with it, then the cancel.
    successor.venue.modify('g-1', { limitPriceTicks: 5_100 }, 2);
    await successor.sink.waitFor((report) => report.type === 'modified', 3_000, 'the new leader\'s replace');
    successor.venue.cancel('g-1', 2);
    await successor.sink.waitFor((report) => report.type === 'cancelled', 3_000, 'the new leader\'s cancel');
    expect(fake.allOrders().map((order) => `${order.client_order_id} ${order.status}`)).toEqual(['f-1.e1 new', 'g-1.e2 replaced', 'g-1.r1.e2 canceled']);
  });
});
