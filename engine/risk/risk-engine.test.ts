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
    expect(engine.log.events.some((e) => e.type === 'order.cancelled' && e.fields.reason === 'requested')).toBe(true);
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
