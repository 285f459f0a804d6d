// Proves, over many seeds of random bars and random order sequences through the whole engine (venue, brackets,
// OCO, risk, portfolio), that the ledger identity holds after every fill, that cash and positions equal the sums
// of the fills in the event log, that exits never take a position past flat, and that a seed replays exactly.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeededRng, type BarView, type StrategyContext } from '../engine/index.ts';
import { makeEngine, barChunk, type BarRow } from './support/engine-harness.ts';

function randomBars(seed: number, count: number): BarRow[] {
  const rng = new SeededRng(seed).child('bars');
  const rows: BarRow[] = [];
  let price = 100;
  for (let i = 0; i < count; i++) {
    const open = Math.max(1, Math.round((price + (rng.next() - 0.5) * 2) * 100) / 100);
    const close = Math.max(1, Math.round((open + (rng.next() - 0.5) * 3) * 100) / 100);
    const high = Math.round((Math.max(open, close) + rng.next() * 1.5) * 100) / 100;
    const low = Math.max(0.5, Math.round((Math.min(open, close) - rng.next() * 1.5) * 100) / 100);
    rows.push([open, high, low, close, 1 + rng.int(40)]);
    price = close;
  }
  return rows;
}

function randomActions(seed: number) {
  const rng = new SeededRng(seed).child('actions');
  return (ctx: StrategyContext, bar: BarView): void => {
    const roll = rng.int(12);
    const quantity = 1 + rng.int(20);
    const side = rng.next() < 0.5 ? 'buy' : 'sell';
    const px = bar.close;
    switch (roll) {
      case 0: ctx.market('TEST', side, quantity); break;
      case 1: ctx.limit('TEST', side, quantity, Math.round((side === 'buy' ? px - rng.next() * 2 : px + rng.next() * 2) * 100) / 100); break;
      case 2: ctx.stop('TEST', side, quantity, Math.round((side === 'buy' ? px + rng.next() * 2 : Math.max(0.1, px - rng.next() * 2)) * 100) / 100); break;
      case 3: {
        const long = side === 'buy';
        const stopLoss = Math.round((long ? px - 1 - rng.next() * 2 : px + 1 + rng.next() * 2) * 100) / 100;
        const takeProfit = Math.round((long ? px + 1 + rng.next() * 3 : px - 1 - rng.next() * 3) * 100) / 100;
        if (stopLoss > 0 && takeProfit > 0) ctx.bracket({ symbol: 'TEST', side, quantity, entry: { type: 'market' }, stopLoss, takeProfit });
        break;
      }
      case 4: {
        const open = ctx.openOrders('TEST');
        if (open.length > 0) ctx.cancel(open[rng.int(open.length)].clientOrderId);
        break;
      }
      case 5: ctx.trailingStop('TEST', side, quantity, 0.5 + Math.round(rng.next() * 100) / 100, { reduceOnly: true }); break;
      case 6: ctx.market('TEST', side, quantity, { reduceOnly: true }); break;
      case 7: if (rng.next() < 0.05) ctx.flatten('TEST'); break;
      default: break;
    }
  };
}

function runSeed(seed: number) {
  const act = randomActions(seed);
  const { engine } = makeEngine((ctx, bar) => act(ctx, bar), {
    venue: { maxVolumeShare: 0.5, feeBps: 3, feeMinimumCash: 10_000, slippageBps: 2, latency: { kind: 'uniform', minUs: 0, maxUs: 90_000_000 } },
    risk: { maxOpenOrders: 8, maxPositionLots: 60 },
    seed,
  });
  const chunk = barChunk(randomBars(seed, 300));
  engine.start(chunk.startUs[0]);
  engine.processBars(chunk);
  engine.stop();
  return engine;
}

describe('ledger under random order sequences', () => {
  it('holds its invariants on every seed', () => {
    const seen = { fills: 0, released: 0, ocoCancels: 0, denied: 0 };
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
      const engine = runSeed(seed);
      seen.fills += engine.log.count('order.filled');
      seen.released += engine.log.count('order.released');
      seen.denied += engine.log.count('order.denied');
      seen.ocoCancels += engine.log.events.filter((e) => e.type === 'order.cancelled' && e.fields.reason === 'oco').length;
      const p = engine.portfolio;
      p.assertConsistent();
      let cash = p.initialCash;
      let position = 0;
      let fees = 0;
      for (const event of engine.log.events) {
        if (event.type !== 'order.filled') continue;
        const sign = event.fields.side === 'buy' ? 1 : -1;
        const quantity = Number(event.fields.quantity);
        cash -= sign * quantity * Number(event.fields.price) * engine.scales[0].cashPerTickLot + Number(event.fields.fee);
        position += sign * quantity;
        fees += Number(event.fields.fee);
        expect(Number(event.fields.position)).toBe(position);
      }
      expect(p.cashCash).toBe(cash);
      expect(p.position[0]).toBe(position);
      expect(p.feesCash).toBe(fees);
      // Reduce-only exits never carried the position through flat to the other side.
      for (const order of engine.orders.values()) {
        if (!order.reduceOnly || order.filledQuantity === 0) continue;
        const fills = engine.log.events.filter((e) => e.type === 'order.filled' && e.fields.id === order.clientOrderId);
        for (const f of fills) {
          const after = Number(f.fields.position);
          const sign = f.fields.side === 'buy' ? 1 : -1;
          const before = after - sign * Number(f.fields.quantity);
          expect(Math.sign(after) === 0 || Math.sign(after) === Math.sign(before)).toBe(true);
        }
      }
    }), { numRuns: 60 });
    // The sequences really exercised fills, bracket releases, OCO cancels and risk denials.
    expect(seen.fills).toBeGreaterThan(60 * 20);
    expect(seen.released).toBeGreaterThan(60);
    expect(seen.ocoCancels).toBeGreaterThan(10);
    expect(seen.denied).toBeGreaterThan(0);
    console.log(`ledger property: ${JSON.stringify(seen)}`);
  });

  it('replays a seed to the same event log', () => {
    for (const seed of [1, 2, 3, 12345]) expect(runSeed(seed).log.digest()).toBe(runSeed(seed).log.digest());
  });
});
