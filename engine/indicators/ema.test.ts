// Proves Ema equals a straightforward SMA-seeded exponential average over random series, and resets cleanly.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ema } from './ema.ts';

function naiveEma(values: readonly number[], period: number): number[] {
  const alpha = 2 / (period + 1);
  const out: number[] = [];
  let ema = Number.NaN;
  for (let index = 0; index < values.length; index += 1) {
    if (index + 1 < period) {
      out.push(Number.NaN);
    } else if (index + 1 === period) {
      let sum = 0;
      for (let seed = 0; seed < period; seed += 1) sum += values[seed];
      ema = sum / period;
      out.push(ema);
    } else {
      ema = alpha * values[index] + (1 - alpha) * ema;
      out.push(ema);
    }
  }
  return out;
}

describe('Ema', () => {
  it('matches a naive recomputation within 1e-9 relative, before and after reset', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5_000_000 }), { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (values, period) => {
        const expected = naiveEma(values, period);
        const ema = new Ema(period);
        for (let pass = 0; pass < 2; pass += 1) {
          values.forEach((value, index) => {
            ema.update(value);
            expect(ema.ready).toBe(index + 1 >= period);
            if (Number.isNaN(expected[index])) expect(ema.value).toBeNaN();
            else expect(Math.abs(ema.value - expected[index])).toBeLessThanOrEqual(1e-9 * Math.abs(expected[index]));
          });
          ema.reset();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives known values: period 3 on 1..6 is seeded with 2 then halves the distance each step', () => {
    const ema = new Ema(3);
    expect(ema.alpha).toBe(0.5);
    const seen: number[] = [];
    for (const value of [1, 2, 3, 4, 5, 6]) {
      ema.update(value);
      seen.push(ema.value);
    }
    expect(seen.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(seen.slice(2)).toEqual([2, 3, 4, 5]);
  });
});
