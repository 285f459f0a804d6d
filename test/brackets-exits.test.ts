// Regression tests for bracket exits (audit findings 1-4 and 10): the two exits of one bracket never both fill,
// exits never outlive or outgrow the position they protect, and the position a bracket opened is never left
// without exits. Each scenario is one the unfixed engine got wrong (see the comment on each test).
import { describe, expect, it } from 'vitest';
import type { BracketIds, Engine } from '../engine/index.ts';
import { fillsOf, run, type BarRow } from './support/engine-harness.ts';

const flat: BarRow = [100, 100, 100, 100];

function exitFills(engine: Engine, ids: BracketIds): number {
  let sum = 0;
  for (const order of engine.orders.values()) if (order.parentClientOrderId === ids.entry) sum += order.filledQuantity;
  return sum;
}

function events(engine: Engine, id: string): string[] {
  return engine.log.events.filter((e) => e.fields.id === id).map((e) => `${e.type}${e.fields.reason === undefined ? '' : `:${String(e.fields.reason)}`}`);
}

describe('bracket exits under random latency (finding 1)', () => {
  // Latency uniform in 0-150 s: the take-profit can arrive, fill and finish before the stop-loss arrives, so the
  // venue never linked the pair; the unfixed stop then worked on alone and sold a later, unrelated long (seed 12).
  it('never fill both exits of one bracket, nor touch a later position, whatever the arrival order', () => {
    const rows: BarRow[] = [flat, flat, flat, [106, 106, 106, 106], [106, 106, 106, 106], [106, 106, 106, 106], [106, 106, 106, 106],
      [106, 106, 106, 106], [106, 106, 106, 106], [94, 94, 94, 94], [94, 94, 94, 94]];
    let bothArrivalOrders = 0;
    for (let seed = 1; seed <= 60; seed++) {
      let ids: BracketIds | undefined;
      const { engine } = run(rows, (ctx, _bar, i) => {
        if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 10, entry: { type: 'market' }, stopLoss: 95, takeProfit: 105 });
        if (i === 6) ctx.market('TEST', 'buy', 10);
      }, { seed, venue: { latency: { kind: 'uniform', minUs: 0, maxUs: 150_000_000 } } });
      const entry = engine.orders.get(ids!.entry)!;
      const stopLoss = engine.orders.get(ids!.stopLoss)!;
      const takeProfit = engine.orders.get(ids!.takeProfit)!;
      expect({ seed, exits: exitFills(engine, ids!) }).toEqual({ seed, exits: entry.filledQuantity });
      expect({ seed, both: stopLoss.filledQuantity > 0 && takeProfit.filledQuantity > 0 }).toEqual({ seed, both: false });
      if (takeProfit.status === 'filled') {
        // The later long of 10 is the strategy's alone: no exit of the old bracket sold it.
        expect({ seed, position: engine.portfolio.position[0] }).toEqual({ seed, position: 10 });
        const slAccepted = engine.log.events.findIndex((e) => e.type === 'order.accepted' && e.fields.id === ids!.stopLoss);
        const tpFilled = engine.log.events.findIndex((e) => e.type === 'order.filled' && e.fields.id === ids!.takeProfit);
        if (slAccepted > tpFilled) bothArrivalOrders++;
      }
    }
    // The seeds really contain the race (the stop-loss arriving after the take-profit filled).
    expect(bothArrivalOrders).toBeGreaterThan(0);
  });

  it('ends a stop-loss that arrives after its take-profit filled completely, as an OCO cancel', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([flat, flat, flat, [106, 106, 106, 106], [106, 106, 106, 106], [106, 106, 106, 106], [106, 106, 106, 106],
      [106, 106, 106, 106], [106, 106, 106, 106], [94, 94, 94, 94], [94, 94, 94, 94]], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 10, entry: { type: 'market' }, stopLoss: 95, takeProfit: 105 });
      if (i === 6) ctx.market('TEST', 'buy', 10);
    }, { seed: 12, venue: { latency: { kind: 'uniform', minUs: 0, maxUs: 150_000_000 } } });
    expect(engine.orders.get(ids!.takeProfit)!.status).toBe('filled');
    expect(engine.orders.get(ids!.stopLoss)!.status).toBe('cancelled');
    expect(engine.orders.get(ids!.stopLoss)!.reason).toBe('oco');
    expect(engine.portfolio.position[0]).toBe(10);
  });
});

describe('a bracket closed another way (finding 2)', () => {
  // The unfixed engine kept both exits of a live OCO pair when the position went flat: the stop at 95 later sold a
  // new, separate long of 10.
  it('cancels both exits when the position goes flat, so they cannot close a later position', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([flat, flat, flat, flat, flat, flat, [94, 94, 94, 94], flat], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 10, entry: { type: 'market' }, stopLoss: 95, takeProfit: 110 });
      if (i === 2) ctx.market('TEST', 'sell', 10);
      if (i === 4) ctx.market('TEST', 'buy', 10);
    });
    expect(engine.orders.get(ids!.stopLoss)!.status).toBe('cancelled');
    expect(engine.orders.get(ids!.takeProfit)!.status).toBe('cancelled');
    expect(events(engine, ids!.stopLoss)).toContain('order.cancel-requested:flat');
    expect(events(engine, ids!.takeProfit)).toContain('order.cancel-requested:flat');
    expect(fillsOf(engine).map((f) => [f.side, f.quantity])).toEqual([['buy', 10], ['sell', 10], ['buy', 10]]);
    expect(engine.portfolio.position[0]).toBe(10);
  });
});

describe('partial entry fills (finding 3)', () => {
  // (a) Volume cap 10 per bar: the entry fills 10, the take-profit fills those 10 and the OCO cancels the stop; the
  // unfixed entry then filled its last 5 with no exit at all (and the collapse to 80 cost them).
  it('cancels the rest of the entry once an exit closed the bracket', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([[101, 101, 99, 100, 20], [101, 101, 99, 100, 20], [101, 106, 101, 104, 20], [101, 101, 99, 100, 20], [90, 90, 80, 80, 30]], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 15, entry: { type: 'limit', price: 100 }, stopLoss: 95, takeProfit: 105 });
    }, { venue: { maxVolumeShare: 0.5 } });
    const entry = engine.orders.get(ids!.entry)!;
    expect(entry.status).toBe('cancelled');
    expect(entry.reason).toBe('bracket-closed');
    expect(entry.filledQuantity).toBe(10);
    expect(events(engine, ids!.entry)).toContain('order.cancel-requested:bracket-closed');
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.openOrderCount()).toBe(0);
  });

  // (b) Zero latency: in one bar walk the entry fills its last 5 (the growth of the exits to 15 is queued) and the
  // take-profit fills its 10; the unfixed engine then had both growths refused and 5 lots without exits.
  it('gives lots that an exit could not take a fresh OCO pair', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([[101, 101, 99, 100, 20], [101, 101, 99, 100, 20], [101, 106, 99, 104, 30], [104, 104, 104, 104, 30], [90, 90, 80, 80, 30]], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 15, entry: { type: 'limit', price: 100 }, stopLoss: 95, takeProfit: 105 });
    }, { venue: { maxVolumeShare: 0.5 } });
    const exits = [...engine.orders.values()].filter((o) => o.parentClientOrderId === ids!.entry);
    expect(exits.map((o) => [o.role, o.quantity, o.filledQuantity, o.status])).toEqual([
      ['stop-loss', 10, 0, 'cancelled'], ['take-profit', 10, 10, 'filled'], ['stop-loss', 5, 5, 'filled'], ['take-profit', 5, 0, 'cancelled'],
    ]);
    // The fresh pair carries the bracket's prices, and its stop closed the 5 lots in the collapse.
    expect(exits[2].stopPriceTicks).toBe(9_500);
    expect(exits[3].limitPriceTicks).toBe(10_500);
    expect(exitFills(engine, ids!)).toBe(15);
    expect(engine.portfolio.position[0]).toBe(0);
  });

  // (c) With orderRate {count: 3}, the unfixed engine's growth of the exits went through the pre-trade risk check
  // and was denied RISK_RATE_LIMIT: exits 10 for a position of 15.
  it('grows the exits without the pre-trade risk check', () => {
    let ids: BracketIds | undefined;
    const { engine } = run(Array.from({ length: 5 }, (): BarRow => [100, 100, 100, 100, 5]), (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 15, entry: { type: 'market' }, stopLoss: 95, takeProfit: 110 });
    }, { venue: { maxVolumeShare: 1 }, risk: { orderRate: { count: 3, windowUs: 3_600_000_000 } } });
    expect(engine.portfolio.position[0]).toBe(15);
    expect(engine.orders.get(ids!.stopLoss)!.quantity).toBe(15);
    expect(engine.orders.get(ids!.takeProfit)!.quantity).toBe(15);
    expect(engine.log.count('order.modify-denied')).toBe(0);
  });
});

describe('exit growth while an OCO shrink happens (finding 4)', () => {
  // The engine grows both exits to 15 while the take-profit fills 5 and the venue shrinks the stop to 5; the
  // unfixed (absolute) growth then set the stop back to 15 against a position of 10.
  it('never leaves an exit larger than the position it protects', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([[101, 101, 99, 100, 20], [101, 101, 99, 100, 20], [101, 106, 99, 104, 20], [104, 104, 104, 104, 20], [104, 104, 104, 104, 20]], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 15, entry: { type: 'limit', price: 100 }, stopLoss: 95, takeProfit: 105 });
    }, { venue: { maxVolumeShare: 0.5 } });
    const position = engine.portfolio.position[0];
    expect(position).toBe(10);
    for (const id of [ids!.stopLoss, ids!.takeProfit]) {
      const exit = engine.orders.get(id)!;
      expect({ id, left: exit.quantity - exit.filledQuantity }).toEqual({ id, left: position });
    }
  });

  // Entry fills on consecutive bars while each growth travels 90 s: the unfixed engine computed the next growth
  // from the quantity last acknowledged, losing the growth still on its way (exits 10 for a position of 15).
  it('counts a growth still on its way when the next entry fill comes in', () => {
    let ids: BracketIds | undefined;
    // Volume 5 a bar: the entry fills 5 at 3, 4 and 5 minutes; each growth arrives 90 s after it is sent.
    const { engine } = run([...Array.from({ length: 6 }, (): BarRow => [100, 100, 100, 100, 5]), flat, flat, flat], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 15, entry: { type: 'market' }, stopLoss: 95, takeProfit: 110 });
    }, { venue: { maxVolumeShare: 1, latency: { kind: 'fixed', latencyUs: 90_000_000 } } });
    expect(engine.portfolio.position[0]).toBe(15);
    expect(engine.orders.get(ids!.stopLoss)!.quantity).toBe(15);
    expect(engine.orders.get(ids!.takeProfit)!.quantity).toBe(15);
  });
});

describe('modifying a held exit (finding 10)', () => {
  // The unfixed engine dropped the change silently: the stop-loss was released at 90, not 96.
  it('takes the new price into the held exit and releases it with that price', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([flat, flat, [99, 99, 97, 98], [98, 98, 98, 98]], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 1, entry: { type: 'limit', price: 98 }, stopLoss: 90, takeProfit: 110 });
      if (i === 1) ctx.modify(ids!.stopLoss, { stopPrice: 96 });
    });
    expect(events(engine, ids!.stopLoss)).toEqual(['order.held', 'order.modified', 'order.released', 'order.accepted']);
    expect(engine.orders.get(ids!.stopLoss)!.stopPriceTicks).toBe(9_600);
    expect(engine.orders.get(ids!.stopLoss)!.status).toBe('accepted');
  });

  it('refuses a quantity for a held exit (its quantity follows the entry) with ORDER_HELD', () => {
    let ids: BracketIds | undefined;
    expect(() => run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 1, entry: { type: 'limit', price: 98 }, stopLoss: 90, takeProfit: 110 });
      if (i === 1) ctx.modify(ids!.stopLoss, { quantity: 2 });
    })).toThrow(/expected only new prices for held exit .* found quantity 2/);
  });
});
