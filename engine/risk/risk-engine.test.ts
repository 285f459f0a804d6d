// Proves every risk check denies with its reason code and an event, that the daily loss limit moves trading to
// REDUCING (exits still pass) or HALTED, that a new day lifts it, and that the kill switch halts, cancels
// everything and flattens.
import { describe, expect, it } from 'vitest';
import { run, fillsOf, MINUTE_US } from '../../test/support/engine-harness.ts';
import type { Engine } from '../index.ts';

const flat: [number, number, number, number] = [100, 100, 100, 100];

function denials(engine: Engine): string[] {
  return engine.log.events.filter((e) => e.type === 'order.denied').map((e) => String(e.fields.code));
}

describe('risk checks on submit', () => {
  it('denies a position beyond the per-symbol maximum, counting working orders', () => {
    const { engine } = run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.limit('TEST', 'buy', 6, 90); ctx.limit('TEST', 'buy', 5, 90); }
    }, { risk: { maxPositionLots: 10 } });
    expect(denials(engine)).toEqual(['RISK_MAX_POSITION']);
    const event = engine.log.events.find((e) => e.type === 'order.denied')!;
    expect(event.fields.message).toMatch(/expected position at most 10 lots, found 11/);
  });

  it('denies past the gross notional, the open order count, and outside the price band', () => {
    const notional = run([flat, flat], (ctx, _bar, i) => { if (i === 0) ctx.market('TEST', 'buy', 11); }, { risk: { maxGrossNotionalCash: 1_000 * 1e6 } });
    expect(denials(notional.engine)).toEqual(['RISK_MAX_NOTIONAL']);
    const open = run([flat, flat], (ctx, _bar, i) => { if (i === 0) for (let k = 0; k < 3; k++) ctx.limit('TEST', 'buy', 1, 90); }, { risk: { maxOpenOrders: 2 } });
    expect(denials(open.engine)).toEqual(['RISK_MAX_OPEN_ORDERS']);
    const band = run([flat, flat], (ctx, _bar, i) => { if (i === 0) { ctx.limit('TEST', 'buy', 1, 94); ctx.limit('TEST', 'buy', 1, 96); } }, { risk: { priceBandFraction: 0.05 } });
    expect(denials(band.engine)).toEqual(['RISK_PRICE_BAND']);
  });

  it('denies a bracket whose loss at the stop exceeds the risk per trade', () => {
    const { engine } = run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) {
        ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 100, entry: { type: 'market' }, stopLoss: 89, takeProfit: 120 }); // 1,100 at risk
        ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 50, entry: { type: 'market' }, stopLoss: 90, takeProfit: 120 }); // 500 at risk
      }
    }, { risk: { riskPerTradeFraction: 0.01 }, cash: 100_000 });
    expect(denials(engine)).toEqual(['RISK_PER_TRADE']);
    // The denied bracket's exits were cancelled with it; the allowed one entered.
    expect(engine.log.events.filter((e) => e.type === 'order.cancelled' && e.fields.reason === 'parent-denied')).toHaveLength(2);
    expect(engine.portfolio.position[0]).toBe(50);
  });

  it('denies orders past the rate limit within its window and allows them after', () => {
    const { engine } = run([flat, flat, flat], (ctx, _bar, i) => {
      if (i === 0) for (let k = 0; k < 4; k++) ctx.limit('TEST', 'buy', 1, 90);
      if (i === 2) ctx.limit('TEST', 'buy', 1, 90);
    }, { risk: { orderRate: { count: 3, windowUs: 90_000_000 } } });
    expect(denials(engine)).toEqual(['RISK_RATE_LIMIT']);
    expect(engine.log.count('order.submitted')).toBe(4);
  });

  it('denies new entries on stale data but lets exits through', () => {
    // Bars at minutes 0, 1 and 30: a timer at minute 12 acts on data last seen at minute 2 (10 minutes old).
    const { engine } = run([flat, flat, flat], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 5);
      if (i === 1) ctx.setTimer(ctx.nowUs + 10 * MINUTE_US, 'late');
    }, {
      risk: { staleDataUs: 5 * MINUTE_US }, minuteOffsets: [0, 1, 30],
      onTimer: (ctx) => { ctx.market('TEST', 'buy', 1); ctx.market('TEST', 'sell', 5); },
    });
    expect(denials(engine)).toEqual(['RISK_STALE_DATA']);
    expect(engine.log.events.find((e) => e.type === 'order.denied')!.fields.message).toMatch(/expected market data newer than 300s, found 600s old/);
    expect(engine.portfolio.position[0]).toBe(0);
  });
});

describe('daily loss limit', () => {
  it('moves to REDUCING after the loss: entries denied, exits allowed', () => {
    const { engine } = run([flat, flat, [80, 80, 80, 80], [80, 80, 80, 80], flat], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 100);
      if (i === 2) { ctx.market('TEST', 'buy', 1); ctx.market('TEST', 'sell', 100); }
    }, { risk: { dailyLossLimitCash: 1_000 * 1e6, dailyLossAction: 'reduce' } });
    expect(engine.risk.state).toBe('reducing');
    expect(denials(engine)).toEqual(['RISK_REDUCING']);
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.log.events.find((e) => e.type === 'risk.state')?.fields).toMatchObject({ state: 'reducing', reason: 'daily-loss' });
  });

  it('halts and cancels working orders with the halt action', () => {
    const { engine } = run([flat, flat, [80, 80, 80, 80], flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.market('TEST', 'buy', 100); ctx.limit('TEST', 'buy', 1, 50); }
      if (i === 2) ctx.market('TEST', 'sell', 100);
    }, { risk: { dailyLossLimitCash: 1_000 * 1e6, dailyLossAction: 'halt' } });
    expect(engine.risk.state).toBe('halted');
    expect(denials(engine)).toEqual(['RISK_HALTED']);
    // The halt's reason travels with the cancel: requested and reported as 'daily-loss', not 'requested'.
    expect(engine.log.events.filter((e) => e.type.startsWith('order.cancel')).map((e) => [e.type, e.fields.reason])).toEqual([
      ['order.cancel-requested', 'daily-loss'], ['order.cancelled', 'daily-loss'],
    ]);
  });
});

describe('kill switch', () => {
  it('halts, cancels all open orders and flattens', () => {
    const { engine } = run([flat, flat, flat, flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.market('TEST', 'buy', 7); ctx.limit('TEST', 'buy', 1, 50); }
      if (i === 1) ctx.killSwitch('operator', true);
      if (i === 2) ctx.market('TEST', 'buy', 1);
    });
    expect(engine.risk.state).toBe('halted');
    expect(engine.log.count('kill-switch')).toBe(1);
    expect(engine.portfolio.position[0]).toBe(0);
    expect(fillsOf(engine).map((f) => [f.side, f.quantity])).toEqual([['buy', 7], ['sell', 7]]);
    expect(denials(engine)).toEqual(['RISK_HALTED']);
    expect([...engine.orders.values()].filter((o) => o.isOpen)).toEqual([]);
  });
});

describe('audit regressions', () => {
  // Finding 5: an order "reduced" whenever it alone fit in the position, ignoring orders already working on its
  // side, so two sells of a whole long both passed in REDUCING (position -100), and under maxPositionLots 10 a
  // working limit sell and two market sells of 10 against a long of 10 all passed (position -20).
  it('counts working orders on the same side when deciding that an order reduces the position', () => {
    const reducing = run([flat, flat, [80, 80, 80, 80], [80, 80, 80, 80], flat, flat], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 100);
      if (i === 2) { ctx.market('TEST', 'sell', 100); ctx.market('TEST', 'sell', 100); }
    }, { risk: { dailyLossLimitCash: 1_000 * 1e6, dailyLossAction: 'reduce' } }).engine;
    expect(reducing.risk.state).toBe('reducing');
    expect(denials(reducing)).toEqual(['RISK_REDUCING']);
    expect(reducing.portfolio.position[0]).toBe(0);

    const capped = run([flat, flat, flat, [101, 101, 101, 101], flat], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 10);
      if (i === 1) { ctx.limit('TEST', 'sell', 10, 101); ctx.market('TEST', 'sell', 10); ctx.market('TEST', 'sell', 10); }
    }, { risk: { maxPositionLots: 10 } }).engine;
    expect(denials(capped)).toEqual(['RISK_MAX_POSITION']);
    expect(capped.portfolio.position[0]).toBe(-10);
  });

  // Finding 6: a modify that changed only a price was treated as reducing, so it skipped the price band and, while
  // REDUCING, the reducing check (a resting buy moved to the market grew a long of 100 to 150).
  it('checks a new price of a modify against the price band and the reducing state', () => {
    let id = '';
    const band = run([flat, flat, flat, [110, 125, 110, 120]], (ctx, _bar, i) => {
      if (i === 0) id = ctx.limit('TEST', 'buy', 1, 99);
      if (i === 1) ctx.modify(id, { price: 130 });
    }, { risk: { priceBandFraction: 0.05 } }).engine;
    expect(band.log.events.filter((e) => e.type === 'order.modify-denied').map((e) => [e.fields.id, e.fields.code])).toEqual([[id, 'RISK_PRICE_BAND']]);
    expect(band.log.count('order.modified')).toBe(0);
    expect(fillsOf(band)).toEqual([]);

    const reducing = run([flat, flat, [80, 80, 80, 80], [80, 80, 80, 80], [80, 80, 79, 80], flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.market('TEST', 'buy', 100); id = ctx.limit('TEST', 'buy', 50, 50); }
      if (i === 2) ctx.modify(id, { price: 80 });
    }, { risk: { dailyLossLimitCash: 1_000 * 1e6, dailyLossAction: 'reduce' } }).engine;
    expect(reducing.log.events.filter((e) => e.type === 'order.modify-denied').map((e) => e.fields.code)).toEqual(['RISK_REDUCING']);
    expect(reducing.portfolio.position[0]).toBe(100);

    // A smaller quantity at the same price still reduces, and a reduce-only order may move its price.
    const smaller = run([flat, flat, [80, 80, 80, 80], [80, 80, 80, 80], flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.market('TEST', 'buy', 100); id = ctx.limit('TEST', 'buy', 50, 50); }
      if (i === 2) ctx.modify(id, { quantity: 20 });
    }, { risk: { dailyLossLimitCash: 1_000 * 1e6, dailyLossAction: 'reduce' } }).engine;
    expect(smaller.log.count('order.modify-denied')).toBe(0);
    expect(smaller.log.count('order.modified')).toBe(1);
  });

  // Finding 9: an OCO pair was checked as one order against maxOpenOrders (3 open with a limit of 2).
  it('counts both legs of an OCO pair against the open order limit', () => {
    const { engine } = run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.limit('TEST', 'buy', 1, 90); ctx.oco({ type: 'limit', price: 80 }, { type: 'stop', price: 120 }, 'TEST', 'buy', 1); }
    }, { risk: { maxOpenOrders: 2 } });
    expect(denials(engine)).toEqual(['RISK_MAX_OPEN_ORDERS', 'RISK_MAX_OPEN_ORDERS']);
    expect(engine.openOrderCount()).toBe(1);
    const fits = run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) ctx.oco({ type: 'limit', price: 80 }, { type: 'stop', price: 120 }, 'TEST', 'buy', 1);
    }, { risk: { maxOpenOrders: 2 } }).engine;
    expect(fits.openOrderCount()).toBe(2);
  });

  // An OCO pair's risk check looked at the first leg's price only: a second leg far outside the band passed.
  it('checks both legs of an OCO pair against the price band', () => {
    const far = run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) ctx.oco({ type: 'limit', price: 97 }, { type: 'stop', price: 130 }, 'TEST', 'buy', 1);
    }, { risk: { priceBandFraction: 0.05 } }).engine;
    expect(denials(far)).toEqual(['RISK_PRICE_BAND', 'RISK_PRICE_BAND']);
    expect(far.log.events.find((e) => e.type === 'order.denied')!.fields.message).toMatch(/found 13000 ticks/);
    const near = run([flat, flat], (ctx, _bar, i) => {
      if (i === 0) ctx.oco({ type: 'limit', price: 97 }, { type: 'stop', price: 104 }, 'TEST', 'buy', 1);
    }, { risk: { priceBandFraction: 0.05 } }).engine;
    expect(denials(near)).toEqual([]);
    expect(near.openOrderCount()).toBe(2);
  });

  // Finding 11: the kill switch cancelled working orders as 'requested'.
  it('carries the kill switch as the reason of the cancels it sends', () => {
    const { engine } = run([flat, flat, flat, flat], (ctx, _bar, i) => {
      if (i === 0) { ctx.market('TEST', 'buy', 7); ctx.limit('TEST', 'buy', 1, 50); }
      if (i === 1) ctx.killSwitch('operator', true);
    });
    expect(engine.log.events.filter((e) => e.type.startsWith('order.cancel')).map((e) => [e.type, e.fields.reason])).toEqual([
      ['order.cancel-requested', 'kill-switch'], ['order.cancelled', 'kill-switch'],
    ]);
  });
});
