// Proves RollingHigh and RollingLow equal the naive max and min of the last `period` values over random series.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RollingHigh } from './rolling-high.ts';
import { RollingLow } from './rolling-low.ts';

function naiveExtreme(values: readonly number[], period: number, end: number, pick: (a: number, b: number) => number): number {
  if (end + 1 < period) return Number.NaN;
  let extreme = values[end];
  for (let index = end - period + 1; index < end; index += 1) extreme = pick(extreme, values[index]);
  return extreme;
}

describe('RollingHigh and RollingLow', () => {
  it('match a naive window scan, including long monotonic runs and ties, before and after reset', () => {
    const series = fc.oneof(
      fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 300 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 300 }),
      fc.integer({ min: 0, max: 300 }).map((length) => Array.from({ length }, (_, index) => index)),
      fc.integer({ min: 0, max: 300 }).map((length) => Array.from({ length }, (_, index) => -index)),
    );
    fc.assert(
      fc.property(series, fc.integer({ min: 1, max: 40 }), (values, period) => {
        const high = new RollingHigh(period);
        const low = new RollingLow(period);
        for (let pass = 0; pass < 2; pass += 1) {
          values.forEach((value, index) => {
            high.update(value);
            low.update(value);
            expect(high.ready).toBe(index + 1 >= period);
            expect(low.ready).toBe(index + 1 >= period);
            const expectedHigh = naiveExtreme(values, period, index, Math.max);
            const expectedLow = naiveExtreme(values, period, index, Math.min);
            if (Number.isNaN(expectedHigh)) {
              expect(high.value).toBeNaN();
              expect(low.value).toBeNaN();
            } else {
              expect(high.value).toBe(expectedHigh);
              expect(low.value).toBe(expectedLow);
            }
          });
          high.reset();
          low.reset();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives known values over a small window', () => {
    const high = new RollingHigh(3);
    const low = new RollingLow(3);
    const highs: number[] = [];
    const lows: number[] = [];
    for (const value of [5, 1, 4, 2, 8, 3, 3, 0]) {
      high.update(value);
      low.update(value);
      highs.push(high.value);
      lows.push(low.value);
    }
    expect(highs.slice(2)).toEqual([5, 4, 8, 8, 8, 3]);
    expect(lows.slice(2)).toEqual([1, 1, 2, 2, 3, 0]);
  });
});
