// Proves Atr equals a straightforward Wilder ATR (true range with previous close, mean-seeded) over random bars.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Atr } from './atr.ts';

interface Bar { high: number; low: number; close: number }

function naiveAtr(bars: readonly Bar[], period: number): number[] {
  const trueRanges = bars.map((bar, index) =>
    index === 0
      ? bar.high - bar.low
      : Math.max(bar.high - bar.low, Math.abs(bar.high - bars[index - 1].close), Math.abs(bar.low - bars[index - 1].close)),
  );
  const out = bars.map(() => Number.NaN);
  if (bars.length < period) return out;
  let atr = trueRanges.slice(0, period).reduce((sum, range) => sum + range, 0) / period;
  out[period - 1] = atr;
  for (let index = period; index < bars.length; index += 1) {
    atr = (atr * (period - 1) + trueRanges[index]) / period;
    out[index] = atr;
  }
  return out;
}

const barArbitrary = fc
  .tuple(fc.integer({ min: 1000, max: 2_000_000 }), fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([low, range, closeAt]): Bar => ({ high: low + range, low, close: low + Math.round(range * closeAt) }));

describe('Atr', () => {
  it('matches a naive recomputation within 1e-9 relative, before and after reset', () => {
    fc.assert(
      fc.property(fc.array(barArbitrary, { maxLength: 300 }), fc.integer({ min: 1, max: 30 }), (bars, period) => {
        const expected = naiveAtr(bars, period);
        const atr = new Atr(period);
        for (let pass = 0; pass < 2; pass += 1) {
          bars.forEach((bar, index) => {
            atr.update(bar.high, bar.low, bar.close);
            expect(atr.ready).toBe(index + 1 >= period);
            if (Number.isNaN(expected[index])) expect(atr.value).toBeNaN();
            else expect(Math.abs(atr.value - expected[index])).toBeLessThanOrEqual(1e-9 * Math.max(1, expected[index]));
          });
          atr.reset();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('uses the gap from the previous close in the true range', () => {
    const atr = new Atr(2);
    atr.update(110, 100, 105); // TR 10
    atr.update(130, 120, 125); // gap up: TR = 130 - 105 = 25
    expect(atr.value).toBe(17.5);
    atr.update(100, 95, 96); // gap down: TR = 125 - 95 = 30; (17.5 * 1 + 30) / 2
    expect(atr.value).toBe(23.75);
  });

  it('rejects a bar whose high is below its low', () => {
    expect(() => new Atr(3).update(1, 2, 1)).toThrow(/high >= low/);
  });
});
