// Proves the simulated venue's matching rules: fill timing, the intrabar path policy, gaps through stops, partial
// fills bounded by volume, native OCO, stop-limit, trailing stops, IOC, DAY expiry, reduce-only, fees, slippage
// and latency, through the full engine with real bars.
import { describe, expect, it } from 'vitest';
import { run, fillsOf, MINUTE_US, T0_US } from '../../test/support/engine-harness.ts';
import { EventQueue, SeededRng, SimulatedVenue, scalesOf, type BracketIds, type ExecutionReport, type OrderRequest } from '../index.ts';

describe('market orders', () => {
  it('fill at the next bar open by default', () => {
    const { engine } = run([[100, 101, 99, 100.5], [102, 103, 101, 102]], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 10);
    });
    expect(fillsOf(engine)).toEqual([expect.objectContaining({ side: 'buy', quantity: 10, price: 10_200 })]);
    expect(engine.portfolio.position[0]).toBe(10);
  });

  it('fill at the signal bar close with fill mode close', () => {
    const { engine } = run([[100, 101, 99, 100.5], [102, 103, 101, 102]], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 10);
    }, { venue: { fillMode: 'close' } });
    expect(fillsOf(engine)[0].price).toBe(10_050);
  });

  // Finding 8: the close fill mode filled the whole order at the close, ignoring maxVolumeShare.
  it('respect the volume cap in the close fill mode, the rest filling on the next bars', () => {
    const rows: [number, number, number, number, number][] = [[100, 100, 100, 100, 10], [101, 101, 101, 101, 10], [102, 102, 102, 102, 10]];
    const { engine } = run(rows, (ctx, _bar, i) => { if (i === 0) ctx.market('TEST', 'buy', 500); }, { venue: { fillMode: 'close', maxVolumeShare: 0.1 } });
    expect(fillsOf(engine).map((f) => [f.quantity, f.price])).toEqual([[1, 10_000], [1, 10_100], [1, 10_200]]);
    // A bar whose cap the book already used leaves nothing for an order that arrives at its close.
    const used = run([[100, 100, 100, 100, 10], [100, 100, 100, 100, 10], [101, 101, 101, 101, 10]], (ctx, _bar, i) => {
      if (i === 0) ctx.limit('TEST', 'buy', 5, 100);
      if (i === 1) ctx.market('TEST', 'buy', 3);
    }, { venue: { fillMode: 'close', maxVolumeShare: 0.2 } }).engine;
    expect(fillsOf(used).map((f) => [f.side, f.quantity, f.price])).toEqual([['buy', 2, 10_000], ['buy', 2, 10_100]]);
  });

  it('arrive after the latency and fill at the open of the first bar starting after arrival', () => {
    const { engine } = run([[100, 100, 100, 100], [101, 101, 101, 101], [102, 102, 102, 102], [103, 103, 103, 103]], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 1);
    }, { venue: { latency: { kind: 'fixed', latencyUs: 90_000_000 } } });
    // Sent at the close of bar 0 (T0 + 1 min), arrives at T0 + 2.5 min: the bar starting at T0 + 3 min fills it.
    expect(fillsOf(engine)[0].price).toBe(10_300);
    const fill = engine.log.events.find((e) => e.type === 'order.filled')!;
    expect(fill.timeUs).toBe(T0_US + 3 * MINUTE_US);
  });

  it('pay adverse slippage rounded against the taker, and a per-order minimum fee once', () => {
    const { engine } = run([[100, 100, 100, 100], [100, 100, 100, 100, 6], [100, 100, 100, 100, 6]], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 10);
    }, { venue: { slippageBps: 10, feeBps: 10, feeMinimumCash: 1_000_000, maxVolumeShare: 1 } });
    const fills = fillsOf(engine);
    // Bar volumes 6 then 6 (bar 0 has the default volume but the order arrives after it): two partial fills.
    expect(fills.map((f) => f.quantity)).toEqual([6, 4]);
    expect(fills.every((f) => f.price === 10_010)).toBe(true);
    // 6 x 100.10 = 600.60 -> 0.6006 fee -> the $1 minimum; then 4 x 100.10 x 10bps = 0.40040 exactly.
    expect(fills.map((f) => f.fee)).toEqual([1_000_000, 400_400]);
    expect(engine.portfolio.feesCash).toBe(1_400_400);
  });
});

describe('brackets', () => {
  const entryBar: [number, number, number, number] = [100, 100.5, 99.5, 100];

  function bracketRun(rows: [number, number, number, number, number?][], options: Parameters<typeof run>[2] = {}) {
    let ids: BracketIds | undefined;
    const built = run([entryBar, ...rows], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 10, entry: { type: 'market' }, stopLoss: 95, takeProfit: 110 });
    }, options);
    return { ...built, ids: ids! };
  }

  it('release both exits as an OCO pair sized to the entry fill', () => {
    const { engine, ids } = bracketRun([[100, 101, 99, 100], [100, 101, 99, 100]]);
    const stopLoss = engine.orders.get(ids.stopLoss)!;
    const takeProfit = engine.orders.get(ids.takeProfit)!;
    expect(engine.orders.get(ids.entry)!.status).toBe('filled');
    expect(stopLoss.status).toBe('accepted');
    expect(takeProfit.status).toBe('accepted');
    expect(stopLoss.quantity).toBe(10);
    expect(stopLoss.ocoWithClientOrderId).toBe(ids.takeProfit);
  });

  it('fill the stop, not the target, when both are touched in one bar (stop-first, the default)', () => {
    const { engine, ids } = bracketRun([[100, 101, 99, 100], [100, 111, 94, 100]]);
    expect(engine.orders.get(ids.stopLoss)!.status).toBe('filled');
    expect(engine.orders.get(ids.takeProfit)!.status).toBe('cancelled');
    expect(fillsOf(engine).map((f) => f.price)).toEqual([10_000, 9_500]);
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.portfolio.realizedGrossCash).toBe(-50_000_000);
  });

  it('fill the target first under the target-first policy', () => {
    const { engine, ids } = bracketRun([[100, 101, 99, 100], [100, 111, 94, 100]], { venue: { intrabarPolicy: 'target-first' } });
    expect(engine.orders.get(ids.takeProfit)!.status).toBe('filled');
    expect(engine.orders.get(ids.stopLoss)!.status).toBe('cancelled');
    expect(engine.portfolio.realizedGrossCash).toBe(100_000_000);
  });

  it('fill a stop gapped through at the open, not at the stop price', () => {
    const { engine, ids } = bracketRun([[100, 101, 99, 100], [90, 92, 88, 91]]);
    expect(engine.orders.get(ids.stopLoss)!.status).toBe('filled');
    expect(fillsOf(engine)[1].price).toBe(9_000);
    expect(engine.portfolio.realizedGrossCash).toBe(-100_000_000);
  });

  it('grow exits with partial entry fills and shrink the other exit on a partial exit fill; never more exit than position', () => {
    const { engine, ids } = bracketRun([
      [100, 100, 100, 100, 5], // entry fills 5 (volume 5 at share 1): exits released with 5
      [100, 100, 100, 100, 5], // entry fills 5 more: exits grown to 10
      [96, 96, 94, 95, 4], // stop touched, volume 4: stop fills 4, target shrinks to 6
      [94, 94, 93, 93, 100], // stop fills the remaining 6 at the gap open, target cancelled
    ], { venue: { maxVolumeShare: 1 } });
    const fills = fillsOf(engine);
    expect(fills.map((f) => [f.id === ids.entry ? 'entry' : f.id === ids.stopLoss ? 'stop' : 'target', f.quantity, f.price])).toEqual([
      ['entry', 5, 10_000], ['entry', 5, 10_000], ['stop', 4, 9_500], ['stop', 6, 9_400],
    ]);
    expect(engine.orders.get(ids.takeProfit)!.status).toBe('cancelled');
    expect(engine.portfolio.position[0]).toBe(0);
    // At no point did working exit quantity on one side exceed the position.
    const modified = engine.log.events.filter((e) => e.type === 'order.modified' && e.fields.id === ids.takeProfit).map((e) => e.fields.quantity);
    expect(modified).toEqual([10, 6]);
  });

  it('cancel held exits when the entry is cancelled before any fill', () => {
    let ids: BracketIds | undefined;
    const { engine } = run([[100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100]], (ctx, _bar, i) => {
      if (i === 0) ids = ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 1, entry: { type: 'limit', price: 90 }, stopLoss: 85, takeProfit: 95 });
      if (i === 1) ctx.cancel(ids!.entry);
    });
    expect(engine.orders.get(ids!.entry)!.status).toBe('cancelled');
    expect(engine.orders.get(ids!.stopLoss)!.status).toBe('cancelled');
    expect(engine.orders.get(ids!.takeProfit)!.status).toBe('cancelled');
  });

  it('refuse a bracket whose stop is on the wrong side of its target', () => {
    expect(() => run([[100, 100, 100, 100]], (ctx) => {
      ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 1, entry: { type: 'market' }, stopLoss: 110, takeProfit: 90 });
    })).toThrow(/expected the stop-loss below the take-profit/);
  });
});

describe('resting orders', () => {
  it('fill a limit at its price when touched and at the open when the bar gaps through it', () => {
    const touched = run([[100, 100, 100, 100], [100, 100.5, 98.5, 99]], (ctx, _bar, i) => { if (i === 0) ctx.limit('TEST', 'buy', 1, 99); });
    expect(fillsOf(touched.engine)[0].price).toBe(9_900);
    const gapped = run([[100, 100, 100, 100], [97, 98, 96, 97]], (ctx, _bar, i) => { if (i === 0) ctx.limit('TEST', 'buy', 1, 99); });
    expect(fillsOf(gapped.engine)[0].price).toBe(9_700);
  });

  it('trigger a stop-limit on the way up and fill it as a limit', () => {
    const { engine } = run([[100, 100, 100, 100], [100, 108, 99, 107]], (ctx, _bar, i) => { if (i === 0) ctx.stopLimit('TEST', 'buy', 1, 105, 106); });
    expect(engine.log.count('order.triggered')).toBe(1);
    expect(fillsOf(engine)[0].price).toBe(10_500);
  });

  it('ratchet a trailing stop behind the high and fill it when price falls back by the offset', () => {
    const { engine } = run([
      [100, 100, 100, 100],
      [100, 100, 100, 100], // buy fills at 100
      [100, 105, 100, 104], // trailing sell (offset 2) ratchets from 98 to 103
      [104, 104, 102, 103], // falls to 102: stop at 103 fills
    ], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 1);
      if (i === 1) ctx.trailingStop('TEST', 'sell', 1, 2, { reduceOnly: true });
    });
    expect(fillsOf(engine).map((f) => f.price)).toEqual([10_000, 10_300]);
  });

  // Finding 7: once an unrelated market order used up the bar's volume cap at the open, the unfixed walk stopped,
  // so the trailing stop never followed the run to 110 and did not fill on the fall to 104.
  it('keep following the price with a trailing stop after the volume cap is used up', () => {
    const rows: [number, number, number, number, number][] = [
      [100, 100, 100, 100, 20],
      [100, 100, 100, 100, 20], // buy 10 fills at 100
      [100, 100, 100, 100, 20], // trailing sell (offset 2) arrives: stop 98
      [100, 110, 100, 110, 10], // a market buy takes the whole cap (10) at the open; the price runs to 110: stop 108
      [105, 105, 104, 104, 20], // opens at 105, below the stop: fills at the open
    ];
    const { engine } = run(rows, (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 10);
      if (i === 1) ctx.trailingStop('TEST', 'sell', 10, 2, { reduceOnly: true });
      if (i === 2) ctx.market('TEST', 'buy', 10);
    }, { venue: { maxVolumeShare: 1 } });
    expect(fillsOf(engine).map((f) => [f.side, f.quantity, f.price])).toEqual([['buy', 10, 10_000], ['buy', 10, 10_000], ['sell', 10, 10_500]]);
  });

  it('cancel what an IOC order could not fill on its first bar', () => {
    const { engine } = run([[100, 100, 100, 100], [100, 101, 99, 100], [90, 90, 90, 90]], (ctx, _bar, i) => { if (i === 0) ctx.limit('TEST', 'buy', 1, 95, { timeInForce: 'ioc' }); });
    expect(fillsOf(engine)).toEqual([]);
    expect(engine.log.events.find((e) => e.type === 'order.cancelled')?.fields.reason).toBe('ioc');
  });

  it('expire a DAY order at the 16:00 New York close', () => {
    // 2024-03-15 19:58 UTC is 15:58 in New York (daylight saving time).
    const start = Date.UTC(2024, 2, 15, 19, 58) * 1000;
    const built = run([[100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100]], (ctx, _bar, i) => {
      if (i === 0) ctx.limit('TEST', 'buy', 1, 50, { timeInForce: 'day' });
    }, { startUs: start });
    const expired = built.engine.log.events.find((e) => e.type === 'order.expired');
    expect(expired?.timeUs).toBe(Date.UTC(2024, 2, 15, 20, 0) * 1000);
  });

  it('expire a DAY order at the 13:00 close of an early-close day (the day before Independence Day)', () => {
    // 2024-07-03 16:58 UTC is 12:58 in New York; the exchange closes at 13:00 that day.
    const start = Date.UTC(2024, 6, 3, 16, 58) * 1000;
    const built = run([[100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 100, 100]], (ctx, _bar, i) => {
      if (i === 0) ctx.limit('TEST', 'buy', 1, 50, { timeInForce: 'day' });
    }, { startUs: start });
    expect(built.engine.log.events.find((e) => e.type === 'order.expired')?.timeUs).toBe(Date.UTC(2024, 6, 3, 17, 0) * 1000);
  });

  it('cancel a reduce-only order that finds no position to reduce', () => {
    const { engine } = run([[100, 100, 100, 100], [100, 100, 100, 100]], (ctx, _bar, i) => { if (i === 0) ctx.market('TEST', 'sell', 1, { reduceOnly: true }); });
    expect(fillsOf(engine)).toEqual([]);
    expect(engine.log.events.find((e) => e.type === 'order.cancelled')?.fields.reason).toMatch(/reduce-only/);
  });
});

describe('modify and plain OCO', () => {
  it('moves a resting limit with modify, and the venue fills it at the new price', () => {
    let id = '';
    const { engine } = run([[100, 100, 100, 100], [100, 100, 98, 99], [99, 99, 96, 97]], (ctx, _bar, i) => {
      if (i === 0) id = ctx.limit('TEST', 'buy', 3, 95);
      if (i === 1) ctx.modify(id, { price: 97.5, quantity: 4 });
    });
    expect(engine.log.events.find((e) => e.type === 'order.modified')?.fields).toMatchObject({ quantity: 4, limit: 9_750 });
    expect(fillsOf(engine)).toEqual([expect.objectContaining({ quantity: 4, price: 9_750 })]);
  });

  it('cancels the other leg of a plain OCO pair when one fills', () => {
    let legs: [string, string] = ['', ''];
    const { engine } = run([[100, 100, 100, 100], [100, 100, 100, 100], [100, 104, 99.5, 103]], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 5);
      if (i === 1) legs = ctx.oco({ type: 'limit', price: 103 }, { type: 'stop', price: 97 }, 'TEST', 'sell', 5, { reduceOnly: true });
    });
    expect(engine.orders.get(legs[0])!.status).toBe('filled');
    expect(engine.orders.get(legs[1])!.status).toBe('cancelled');
    expect(engine.orders.get(legs[1])!.reason).toBe('oco');
    expect(engine.portfolio.position[0]).toBe(0);
  });
});

describe('stranded exits', () => {
  it('cancels a standalone reduce-only stop when the position is closed another way', () => {
    let stopId = '';
    const { engine } = run([[100, 100, 100, 100], [100, 100, 100, 100], [101, 101, 101, 101], [100, 100, 100, 100], [80, 80, 80, 80]], (ctx, _bar, i) => {
      if (i === 0) ctx.market('TEST', 'buy', 5);
      if (i === 1) stopId = ctx.stop('TEST', 'sell', 5, 95, { reduceOnly: true });
      if (i === 2) ctx.market('TEST', 'sell', 5);
    });
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.orders.get(stopId)!.status).toBe('cancelled');
    expect(engine.log.events.find((e) => e.type === 'order.cancel-requested' && e.fields.id === stopId)?.fields.reason).toBe('flat');
    // The bar at 80 would have triggered the stop: no fill happened after the position closed.
    expect(fillsOf(engine)).toHaveLength(2);
  });

  it('leaves the closing of a bracket to its OCO pair (no extra cancel requests)', () => {
    const { engine } = run([[100, 100, 100, 100], [100, 100, 100, 100], [100, 101, 99, 100], [100, 111, 94, 100]], (ctx, _bar, i) => {
      if (i === 0) ctx.bracket({ symbol: 'TEST', side: 'buy', quantity: 10, entry: { type: 'market' }, stopLoss: 95, takeProfit: 110 });
    });
    expect(engine.portfolio.position[0]).toBe(0);
    expect(engine.log.count('order.cancel-requested')).toBe(0);
    expect(engine.log.events.filter((e) => e.type === 'order.cancelled').map((e) => e.fields.reason)).toEqual(['oco']);
  });
});

describe('strategy context', () => {
  it('refuses history reads from a strategy that declared no history', async () => {
    const { Engine, SimulatedVenue, SeededRng, Strategy } = await import('../index.ts');
    const { barChunk, instrument } = await import('../../test/support/engine-harness.ts');
    class NoHistory extends Strategy {
      override onBar(ctx: import('../index.ts').StrategyContext): void { ctx.history('TEST'); }
    }
    const engine = new Engine({ runId: 't', strategyId: 'n', instruments: [instrument()], initialCash: 1000, risk: {} }, new NoHistory());
    const venue = new SimulatedVenue(engine.scales, {}, new SeededRng(1));
    engine.connect(venue, venue);
    const chunk = barChunk([[1, 1, 1, 1]]);
    engine.start(chunk.startUs[0]);
    expect(() => engine.processBars(chunk)).toThrow(/expected the strategy to declare historyBars > 0/);
  });

  it('refuses a read past the current bar', () => {
    expect(() => run([[100, 100, 100, 100]], (ctx) => { ctx.history('TEST').close(-1); })).toThrow(/LOOKAHEAD|reads past the current time/);
    run([[100, 101, 99, 100.5], [102, 103, 101, 102.5]], (ctx, _bar, i) => {
      if (i === 1) {
        expect(ctx.history('TEST').close(0)).toBe(102.5);
        expect(ctx.history('TEST').close(1)).toBe(100.5);
        expect(Number.isNaN(ctx.history('TEST').close(2))).toBe(true);
      }
    });
  });
});

describe('simulated venue behind an ExecutionPort host that submits from inside a report', () => {
  it('leaves a stop that arrives during a market fill to the rest of the bar (it does not fill at the open)', () => {
    const queue = new EventQueue();
    let nowUs = 1_000_000;
    const reports: ExecutionReport[] = [];
    const venue = new SimulatedVenue([scalesOf({ symbol: 'X', priceScale: 2, lotScale: 0, calendar: 'always-open' })], {}, new SeededRng(1));
    const drain = (): void => { while (queue.nextTimeUs <= nowUs) queue.runNext(); };
    const request = (id: string, side: 'buy' | 'sell', type: 'market' | 'stop', stopPriceTicks?: number): OrderRequest => ({
      clientOrderId: id, symbol: 'X', side, type, quantity: 5, timeInForce: 'gtc', stopPriceTicks, reduceOnly: type === 'stop', epoch: 0,
    });
    venue.attach({
      onReport: (report) => {
        reports.push(report);
        // Like the paper broker: the entry's fill releases a protective stop at once, and its arrival runs now.
        if (report.type === 'fill' && report.clientOrderId === 'entry') {
          venue.submit(request('stop', 'sell', 'stop', 9_000));
          drain();
        }
      },
    }, { nowUs: () => nowUs, queue });
    venue.submit(request('entry', 'buy', 'market'));
    drain();
    nowUs = 2_000_000;
    venue.onBar(0, nowUs, 10_000, 10_100, 9_950, 10_050, 1_000);
    expect(reports.filter((r) => r.type === 'fill').map((r) => r.clientOrderId)).toEqual(['entry']);
    expect(reports.at(-1)).toMatchObject({ type: 'accepted', clientOrderId: 'stop' });
  });
});
