// Proves the takeover adoption on real parts in one process: an `adopt` record gives a standby's engine the broker's position through the ledger (exact cash, ledger identity, a between-ticks average) and its OCO exits under their own ids (superseding the standby's refused intents of those ids, never an open order), continues the id sequence, follows the exits' later reports like its own, and replays to the same digest; and a runner taking over a paper broker from a leader that stopped adopts its position and exits from the broker and trades on without reusing an id.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASH_UNITS_PER_CURRENCY, InvariantError, type Instrument, type OrderRequest } from '../engine/index.ts';
import { Journal } from '../adapters/journal/index.ts';
import { PaperBroker } from '../adapters/runtime/paper-broker.ts';
import { SessionCore } from '../adapters/runtime/session-core.ts';
import type { AdoptRecord, InboundRecord, MarketRecord, SessionRecord } from '../adapters/runtime/session-records.ts';
import { SessionRunner, replayJournal } from '../adapters/runtime/session-runner.ts';
import { bracketHold } from './support/test-strategies.ts';

const instrument: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const startUs = Date.UTC(2024, 0, 2, 15, 0, 0) * 1_000;
const capabilities = new PaperBroker([instrument], {}, 1).capabilities;
const tick = (i: number, priceTicks: number): MarketRecord => ({ k: 'tick', t: startUs + i * 1_000_000, s: 0, p: priceTicks, q: 100, b: null, a: null });

let directory: string;
beforeAll(() => { directory = mkdtempSync(path.join(os.tmpdir(), 'sim-adoption-')); });
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function standbyCore(): SessionCore {
  return new SessionCore({ runId: 'ADOPT', strategyId: bracketHold.name, instruments: [instrument], initialCash: 100_000, risk: {}, checkLedger: true }, bracketHold.create({}), capabilities, () => {}, { leader: false, epoch: 0 });
}

const prefix = `ADOPT-${bracketHold.name}`;
const takeProfit = (id: string, sibling: string): OrderRequest => ({ clientOrderId: id, symbol: 'AAPL', side: 'sell', type: 'limit', quantity: 2, timeInForce: 'gtc', limitPriceTicks: 11_000, reduceOnly: true, ocoWithClientOrderId: sibling, epoch: 1 });
const stopLoss = (id: string, sibling: string): OrderRequest => ({ clientOrderId: id, symbol: 'AAPL', side: 'sell', type: 'stop', quantity: 2, timeInForce: 'gtc', stopPriceTicks: 9_500, reduceOnly: true, ocoWithClientOrderId: sibling, epoch: 1 });

describe('adoption', () => {
  it('puts the broker\'s position and exits into a standby\'s engine, follows them, and replays', () => {
    const records: InboundRecord[] = [
      { k: 'leader', t: startUs, leader: false, epoch: 0, reason: 'standby until the lock is held' }, tick(0, 10_000), tick(1, 10_000),
      { k: 'leader', t: startUs + 1_500_000, leader: true, epoch: 2, reason: 'lock acquired' },
    ];
    const tp = `${prefix}-2`;
    const sl = `${tp}-oco-stop`;
    const adopt: AdoptRecord = {
      k: 'adopt', t: startUs + 1_600_000, reason: 'takeover under epoch 2', sequence: 40,
      // An average between ticks (the broker's): 2 lots for 20001 tick-lots, one at 100.00 and one at 100.01.
      positions: [{ s: 0, q: 2, p: 10_000.5 }],
      orders: [
        { r: takeProfit(tp, sl), status: 'accepted', filled: 0, notional: 0, venueId: 'V1', role: 'take-profit' },
        { r: stopLoss(sl, tp), status: 'accepted', filled: 0, notional: 0, venueId: 'V2', role: 'stop-loss' },
      ],
    };
    const after: InboundRecord[] = [
      tick(2, 10_000),
      // The stop fills at 95.00 at the broker, which cancels its OCO sibling.
      { k: 'report', t: startUs + 3_000_000, r: { type: 'triggered', clientOrderId: sl, timeUs: startUs + 3_000_000 } },
      { k: 'report', t: startUs + 3_000_000, r: { type: 'fill', clientOrderId: sl, fillId: 'X1', symbol: 'AAPL', side: 'sell', quantity: 2, priceTicks: 9_500, feeCash: 0, liquidity: 'taker', timeUs: startUs + 3_000_000 } },
      { k: 'report', t: startUs + 3_000_000, r: { type: 'cancelled', clientOrderId: tp, reason: 'oco', timeUs: startUs + 3_000_000 } },
    ];
    const core = standbyCore();
    const engine = core.engine;
    for (const record of records) core.apply(record);
    // The standby's strategy tried a bracket on each tick; its gate refused them: ids 1..6, all finished.
    expect(engine.orders.get(tp)?.status).toBe('cancelled');
    expect(engine.openOrderCount()).toBe(0);
    core.apply(adopt);
    const cashPerTickLot = engine.scales[0].cashPerTickLot;
    expect(engine.portfolio.position[0]).toBe(2);
    expect(engine.portfolio.cashCash).toBe(100_000 * CASH_UNITS_PER_CURRENCY - 20_001 * cashPerTickLot);
    engine.portfolio.assertConsistent();
    expect([...engine.openOrders()].map((order) => [order.clientOrderId, order.role, order.status, order.reduceOnly, order.ocoWithClientOrderId, order.venueOrderId])).toEqual([
      [tp, 'take-profit', 'accepted', true, sl, 'V1'], [sl, 'stop-loss', 'accepted', true, tp, 'V2'],
    ]);
    expect(engine.log.events.filter((event) => event.type === 'order.adopted').map((event) => event.fields.superseded)).toEqual(['cancelled', null]);
    expect(engine.ctx.portfolio.position('AAPL')).toBe(2);
    // Adopting over an order the engine holds open is a bug of the caller.
    expect(() => engine.adoptOrder(takeProfit(tp, sl), { status: 'accepted', filledQuantity: 0 })).toThrow(InvariantError);
    for (const record of after) core.apply(record);
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.openOrderCount()).toBe(0);
    expect(engine.portfolio.realizedGrossCash).toBe((2 * 9_500 - 20_001) * cashPerTickLot);
    engine.portfolio.assertConsistent();
    // Flat again at 100.00: the strategy buys anew, under an id after the adopted sequence, and the new epoch.
    let sent: OrderRequest | null = null;
    core.redirect((record) => { if (record.k === 'submit' && sent === null) sent = record.r; });
    core.apply(tick(4, 10_000));
    expect(sent).toMatchObject({ clientOrderId: `${prefix}-43`, epoch: 2 });

    // The same records from a journal replay to the same run digest.
    const journalPath = path.join(directory, 'adopt.journal');
    const journal = Journal.open(journalPath);
    journal.append({ k: 'session', version: 2, runId: 'ADOPT', strategy: bracketHold.name, params: {}, instruments: [instrument], initialCash: 100_000, risk: {}, venue: 'paper' });
    for (const record of [...records, adopt, ...after, tick(4, 10_000)]) journal.append(record);
    journal.close();
    const replay = replayJournal(Journal.readAll<SessionRecord>(journalPath).records, capabilities, () => bracketHold);
    // (The engine under test ran with checkLedger, which logs nothing; the replay's engine without it.)
    expect(replay.core.engine.log.digest()).toBe(engine.log.digest());
  });

  it('keeps the broker\'s average fill price of a partly filled adopted exit, and fills it on from there', () => {
    const core = standbyCore();
    const engine = core.engine;
    for (const record of [tick(0, 10_000), { k: 'leader', t: startUs + 500_000, leader: true, epoch: 2, reason: 'lock acquired' } as InboundRecord]) core.apply(record);
    const tp = `${prefix}-9`;
    // A take-profit for 2 with 1 lot filled at the broker at 110.00, the position left is 1 lot.
    core.apply({
      k: 'adopt', t: startUs + 600_000, reason: 'takeover under epoch 2', sequence: 9, positions: [{ s: 0, q: 1, p: 10_000 }],
      orders: [{ r: { ...takeProfit(tp, 'none'), ocoWithClientOrderId: undefined }, status: 'partially-filled', filled: 1, notional: 11_000, venueId: 'V9', role: 'take-profit' }],
    });
    const adopted = engine.orders.get(tp)!;
    expect([adopted.status, adopted.filledQuantity, adopted.averageFillPriceTicks]).toEqual(['partially-filled', 1, 11_000]);
    // The second lot fills at 110.10: the average is over both fills, and the ledger has only the new one.
    core.apply({ k: 'report', t: startUs + 700_000, r: { type: 'fill', clientOrderId: tp, fillId: 'X9', symbol: 'AAPL', side: 'sell', quantity: 1, priceTicks: 11_010, feeCash: 0, liquidity: 'maker', timeUs: startUs + 700_000 } });
    expect([adopted.status, adopted.filledQuantity, adopted.averageFillPriceTicks]).toEqual(['filled', 2, 11_005]);
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.portfolio.realizedGrossCash).toBe((11_010 - 10_000) * engine.scales[0].cashPerTickLot);
    engine.portfolio.assertConsistent();
    // A notional that cannot belong to the filled lots is a caller's bug.
    expect(() => engine.adoptOrder(takeProfit(`${prefix}-20`, 'none'), { status: 'partially-filled', filledQuantity: 1, filledNotionalTickLots: 0 })).toThrow(InvariantError);
  });

  it('takes over a paper broker from a leader that stopped, and trades on without reusing an id', async () => {
    const broker = new PaperBroker([instrument], {}, 3);
    const config = { runId: 'PTAKE', strategy: bracketHold.name, params: {}, instruments: [instrument], initialCash: 100_000, risk: {}, venue: 'paper' };
    const first = (await SessionRunner.open({ config, venue: broker, journalPath: path.join(directory, 'first.journal'), nowUs: () => 0, resolveStrategy: () => bracketHold })).runner;
    // 100.00: the bracket goes out; the next print fills the entry and the OCO exits go out.
    first.pushMarket(tick(0, 10_000));
    first.pushMarket(tick(1, 10_000));
    expect(first.engine.portfolio.position[0]).toBe(1);
    expect((await broker.fetchOpenOrders()).map((order) => order.request.type).sort()).toEqual(['limit', 'stop']);
    // The first runner stops hearing the broker (it is gone); a second one takes over.
    const second = (await SessionRunner.open({
      config, venue: broker, journalPath: path.join(directory, 'second.journal'), nowUs: () => 0, resolveStrategy: () => bracketHold, leader: { leader: false, epoch: 0 },
    })).runner;
    const summary = await second.onAcquired(2);
    expect(summary).toMatchObject({ adopted: 2, adoptedPositions: 1, cancelledOrphans: 0, protectedPositions: 0 });
    const engine = second.engine;
    expect(engine.portfolio.position[0]).toBe(1);
    expect([...engine.openOrders()].map((order) => `${order.clientOrderId} ${order.role}`)).toEqual([`PTAKE-${bracketHold.name}-1 stop-loss`, `PTAKE-${bracketHold.name}-2 take-profit`]);
    // 94.00: the adopted stop fills at the broker, which cancels the take-profit; the engine follows both. Flat
    // at 94.00 the strategy buys anew: its ids continue after the first runner's three.
    second.pushMarket(tick(2, 9_400));
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.orders.get(`PTAKE-${bracketHold.name}-2`)?.status).toBe('cancelled');
    engine.portfolio.assertConsistent();
    const journaled = Journal.readAll<SessionRecord>(path.join(directory, 'second.journal')).records;
    expect(journaled.flatMap((record) => (record.k === 'submit' ? [record.r.clientOrderId] : []))).toEqual([`PTAKE-${bracketHold.name}-6`]);
    expect([4, 5].map((n) => engine.orders.get(`PTAKE-${bracketHold.name}-${n}`)?.status)).toEqual(['held', 'held']);
    expect(journaled.filter((record) => record.k === 'report' && record.r.type === 'rejected')).toEqual([]);
    await second.stop('test');
    await second.close();
    const replay = replayJournal(Journal.readAll<SessionRecord>(path.join(directory, 'second.journal')).records, capabilities, () => bracketHold);
    expect(replay.core.engine.log.digest()).toBe(engine.log.digest());
    await first.close();
  });
});
