// Proves, over many seeds of random bars and random order sequences through the whole engine (venue, brackets,
// OCO, risk, portfolio), that the ledger identity holds after every fill, that cash and positions equal the sums
// of the fills in the event log, that exits never take a position past flat, that the exits of a bracket never
// fill more than its entry, and that a seed replays exactly.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runRandomOrders as runSeed } from './support/random-orders.ts';

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
      // The exits of a bracket (every pair it had) never filled more than its entry did: both exits of one pair
      // never closed the same lots twice, whatever order their arrivals took.
      const exitFilled = new Map<string, number>();
      for (const order of engine.orders.values()) {
        if (order.role !== 'stop-loss' && order.role !== 'take-profit') continue;
        const entry = order.parentClientOrderId!;
        exitFilled.set(entry, (exitFilled.get(entry) ?? 0) + order.filledQuantity);
      }
      for (const [entry, filled] of exitFilled) {
        expect({ seed, entry, filled: Math.min(filled, engine.orders.get(entry)!.filledQuantity) }).toEqual({ seed, entry, filled });
      }
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
