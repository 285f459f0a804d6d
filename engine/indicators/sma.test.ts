// Proves Sma equals a naive windowed mean: bit-exact for integer ticks, within rounding after the float fallback.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Sma } from './sma.ts';

function naiveSma(values: readonly number[], period: number, end: number): number {
  if (end + 1 < period) return Number.NaN;
  let sum = 0;
  for (let index = end - period + 1; index <= end; index += 1) sum += values[index];
  return sum / period;
}

describe('Sma', () => {
  it('matches a naive recomputation exactly on integer ticks, and again after reset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -2_000_000, max: 2_000_000 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        (values, period) => {
          const sma = new Sma(period);
          for (let pass = 0; pass < 2; pass += 1) {
            values.forEach((value, index) => {
              sma.update(value);
              const expected = naiveSma(values, period, index);
              expect(sma.ready).toBe(index + 1 >= period);
              if (Number.isNaN(expected)) expect(sma.value).toBeNaN();
              else expect(sma.value).toBe(expected);
            });
            expect(sma.exactSum).toBe(true);
            sma.reset();
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('falls back to a compensated float sum for non-integers and huge integers, staying within rounding', () => {
    const huge = fc.integer({ min: -(2 ** 52), max: 2 ** 52 }).map((value) => value * 3);
    const fractional = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(fc.array(fc.oneof(huge, fractional, fc.integer({ min: -1000, max: 1000 })), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (values, period) => {
        const sma = new Sma(period);
        values.forEach((value, index) => {
          sma.update(value);
          const expected = naiveSma(values, period, index);
          if (Number.isNaN(expected)) {
            expect(sma.value).toBeNaN();
            return;
          }
          let windowMagnitude = 0;
          for (let back = index - period + 1; back <= index; back += 1) windowMagnitude = Math.max(windowMagnitude, Math.abs(values[back]));
          let pastMagnitudeSum = 0;
          for (let back = 0; back <= index; back += 1) pastMagnitudeSum += Math.abs(values[back]);
          // The naive sum carries up to `period` ulps of the window's magnitude; the compensated running sum
          // adds a residue of order epsilon^2 times everything it has seen.
          const tolerance = windowMagnitude * (period + 4) * Number.EPSILON + 4 * pastMagnitudeSum * Number.EPSILON ** 2;
          expect(Math.abs(sma.value - expected), `index ${index}`).toBeLessThanOrEqual(tolerance);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an exact sum while the window sum stays below 2^53 and reports the fallback once it does not', () => {
    const sma = new Sma(2);
    sma.update(2 ** 52);
    sma.update(2 ** 52 - 1);
    expect(sma.exactSum).toBe(true);
    expect(sma.value).toBe(2 ** 52 - 0.5);
    sma.update(2 ** 52 + 1);
    expect(sma.exactSum).toBe(false);
    expect(sma.value).toBe(2 ** 52);
    sma.reset();
    expect(sma.exactSum).toBe(true);
    expect(sma.ready).toBe(false);
    expect(sma.value).toBeNaN();
  });

  it('rejects a period that is not a positive integer and non-finite values', () => {
    expect(() => new Sma(0)).toThrow(/period/);
    expect(() => new Sma(2.5)).toThrow(/period/);
    expect(() => new Sma(3).update(Number.NaN)).toThrow(/finite/);
  });
});
