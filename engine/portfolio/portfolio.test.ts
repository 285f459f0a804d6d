// Proves the ledger is exact: under random fill sequences (many seeds) cash and positions equal the sums of the
// fills, equity - initial = realized + unrealized - fees to the cash unit, and round trips add up to the realized PnL.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Portfolio } from './portfolio.ts';
import { scalesOf } from '../core/instruments.ts';

const scales = [scalesOf({ symbol: 'A', priceScale: 2, lotScale: 0, calendar: 'us-equity' }), scalesOf({ symbol: 'B', priceScale: 4, lotScale: 2, calendar: 'always-open' })];

const fill = fc.record({
  symbol: fc.integer({ min: 0, max: 1 }),
  buy: fc.boolean(),
  quantity: fc.integer({ min: 1, max: 500 }),
  priceTicks: fc.integer({ min: 1, max: 5_000_000 }),
  feeCash: fc.integer({ min: 0, max: 5_000 }),
  markTicks: fc.integer({ min: 1, max: 5_000_000 }),
});

describe('portfolio ledger', () => {
  it('keeps cash, positions and PnL exactly equal to the sum of fills', () => {
    fc.assert(fc.property(fc.array(fill, { minLength: 1, maxLength: 200 }), (fills) => {
      const p = new Portfolio(100_000_000_000, scales);
      let expectedCash = 100_000_000_000;
      const expectedPosition = [0, 0];
      let expectedFees = 0;
      fills.forEach((f, i) => {
        const sign = f.buy ? 1 : -1;
        p.applyFill(f.symbol, f.buy ? 'buy' : 'sell', f.quantity, f.priceTicks, f.feeCash, i);
        expectedCash -= sign * f.quantity * f.priceTicks * scales[f.symbol].cashPerTickLot + f.feeCash;
        expectedPosition[f.symbol] += sign * f.quantity;
        expectedFees += f.feeCash;
        p.mark(f.symbol, f.markTicks);
        p.assertConsistent();
      });
      expect(p.cashCash).toBe(expectedCash);
      expect(Array.from(p.position)).toEqual(expectedPosition);
      expect(p.feesCash).toBe(expectedFees);
      // Closed trades' gross PnL plus the realized part of still-open trades is the realized total; with every
      // position flat, the trades account for all of it.
      if (expectedPosition.every((q) => q === 0)) {
        expect(p.closedTrades.reduce((sum, t) => sum + t.grossPnlCash, 0)).toBe(p.realizedGrossCash);
        expect(p.closedTrades.reduce((sum, t) => sum + t.feesCash, 0)).toBe(p.feesCash);
      }
    }), { numRuns: 300 });
  });

  it('realizes FIFO: closing part of two lots takes the oldest first', () => {
    const p = new Portfolio(0, scales);
    p.applyFill(0, 'buy', 10, 1000, 0, 1);
    p.applyFill(0, 'buy', 10, 2000, 0, 2);
    const realized = p.applyFill(0, 'sell', 15, 3000, 0, 3);
    // 10 x (30 - 10) + 5 x (30 - 20) = 250 currency = 250e6 cash units.
    expect(realized).toBe(250_000_000);
    expect(p.averagePriceTicks(0)).toBe(2000);
    p.assertConsistent();
  });

  it('records a flip as one closed trade and opens the next', () => {
    const p = new Portfolio(0, scales);
    p.applyFill(0, 'buy', 5, 1000, 0, 1);
    p.applyFill(0, 'sell', 8, 1100, 0, 2);
    expect(p.closedTrades).toHaveLength(1);
    expect(p.closedTrades[0]).toMatchObject({ direction: 'long', quantity: 5, grossPnlCash: 5_000_000 });
    expect(p.position[0]).toBe(-3);
    p.applyFill(0, 'buy', 3, 1000, 0, 3);
    expect(p.closedTrades[1]).toMatchObject({ direction: 'short', quantity: 3, grossPnlCash: 3_000_000 });
  });
});
