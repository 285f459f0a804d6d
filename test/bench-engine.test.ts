// Proves that the engine benchmark compares like with like: the full engine's sma-cross and the plain typed-array
// loop produce the same closed trades (count and every trade's PnL) on the benchmark's generated bars, so a
// speed ratio between them is a ratio for the same results.
import { describe, expect, it } from 'vitest';
import { generateBars, runBaseline, runEngine } from '../bench/engine.ts';

describe('engine benchmark', () => {
  it('the engine and the plain loop close the same trades', () => {
    const chunks = generateBars(200_000, 42);
    const engine = runEngine(chunks);
    const baseline = runBaseline(chunks);
    expect(engine.length).toBeGreaterThan(1_000);
    expect(engine).toEqual(baseline);
  });

  it('the bars are reproducible from the seed and differ between seeds', () => {
    const [a] = generateBars(1_000, 7);
    const [b] = generateBars(1_000, 7);
    const [c] = generateBars(1_000, 8);
    expect(Array.from(a.close)).toEqual(Array.from(b.close));
    expect(Array.from(a.close)).not.toEqual(Array.from(c.close));
  });
});
