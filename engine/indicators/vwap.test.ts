// Proves Vwap equals sum(price * volume) / sum(volume) since the last reset, and is NaN before any volume.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Vwap } from './vwap.ts';
import { typicalPrice } from './typical-price.ts';

describe('Vwap', () => {
  it('matches a naive recomputation over random sessions, anchored by reset', () => {
    const trade = fc.tuple(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 0, max: 100_000 }));
    fc.assert(
      fc.property(fc.array(fc.array(trade, { maxLength: 100 }), { maxLength: 5 }), (sessions) => {
        const vwap = new Vwap();
        for (const session of sessions) {
          vwap.reset();
          let priceVolume = 0;
          let volume = 0;
          for (const [price, size] of session) {
            vwap.update(price, size);
            priceVolume += price * size;
            volume += size;
            expect(vwap.ready).toBe(volume > 0);
            expect(vwap.volume).toBe(volume);
            if (volume === 0) expect(vwap.value).toBeNaN();
            else expect(vwap.value).toBe(priceVolume / volume);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives a known value and starts over on reset', () => {
    const vwap = new Vwap();
    expect(vwap.value).toBeNaN();
    vwap.update(100, 1);
    vwap.update(110, 3);
    expect(vwap.value).toBe(107.5);
    vwap.reset();
    expect(vwap.ready).toBe(false);
    vwap.update(typicalPrice(12, 9, 9), 2);
    expect(vwap.value).toBe(10);
  });

  it('rejects a negative volume', () => {
    expect(() => new Vwap().update(100, -1)).toThrow(/volume/);
  });
});
