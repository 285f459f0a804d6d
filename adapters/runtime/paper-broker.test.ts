// Proves the paper broker keeps the order it holds under a client order id when a second order arrives under the
// same id: the duplicate is refused (DUPLICATE_CLIENT_ORDER_ID) and the original's request, state and fills stay
// its own, in lookups, open orders and session orders alike.
import { describe, expect, it } from 'vitest';
import type { ExecutionReport, Instrument, OrderRequest } from '../../engine/types.ts';
import { PaperBroker } from './paper-broker.ts';

const instrument: Instrument = { symbol: 'SIM', priceScale: 2, lotScale: 0, calendar: 'always-open' };
const START_US = 1_704_205_800_000_000;

describe('PaperBroker', () => {
  it('refuses a duplicate client order id without touching the order recorded under it', async () => {
    const broker = new PaperBroker([instrument], { fillMode: 'close' }, 7);
    let nowUs = START_US;
    broker.advanceTo(nowUs);
    const reports: ExecutionReport[] = [];
    broker.connect((report) => reports.push(report));
    const original: OrderRequest = { clientOrderId: 'a-1', symbol: 'SIM', side: 'buy', type: 'limit', limitPriceTicks: 9_000, quantity: 10, timeInForce: 'gtc', reduceOnly: false, epoch: 0 };
    broker.submit(original);
    broker.advanceTo((nowUs += 1_000_000));
    broker.submit({ ...original, limitPriceTicks: 9_100, quantity: 3 });
    broker.advanceTo((nowUs += 1_000_000));
    expect(reports.map((report) => `${report.type}${'code' in report ? ` ${report.code}` : ''}`)).toEqual(['accepted', 'rejected DUPLICATE_CLIENT_ORDER_ID']);
    expect(await broker.lookupByClientOrderId('a-1')).toEqual({ request: original, status: 'accepted', filledQuantity: 0 });
    expect((await broker.fetchOpenOrders()).map((order) => order.request.clientOrderId)).toEqual(['a-1']);
    expect((await broker.fetchSessionOrders('a-')).open.map((order) => [order.request.limitPriceTicks, order.request.quantity, order.status])).toEqual([[9_000, 10, 'accepted']]);
    broker.onMarket({ k: 'tick', t: (nowUs += 1_000_000), s: 0, p: 8_900, q: 100, b: null, a: null });
    expect(await broker.lookupByClientOrderId('a-1')).toMatchObject({ status: 'filled', filledQuantity: 10, request: { limitPriceTicks: 9_000 } });
    expect(await broker.fetchPositions()).toEqual([{ symbol: 'SIM', quantity: 10, averagePriceTicks: 8_900 }]);
  });
});
