// Proves summarizeRun's documented rules on hand-computed runs and its invariants (finite, bounded) on random runs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { summarizeRun, type RunSummaryInput } from './summarize-run.ts';
import { US_PER_DAY, US_PER_MINUTE } from '../types.ts';

const sessionOpenUs = 1_700_000_000_000_000 - (1_700_000_000_000_000 % US_PER_DAY) + 14 * 3_600_000_000 + 30 * US_PER_MINUTE;

function run(equity: number[], options: Partial<RunSummaryInput> & { days?: number[] } = {}): RunSummaryInput {
  const days = options.days;
  return {
    initialCashUnits: options.initialCashUnits ?? 1000,
    equityCash: Float64Array.from(equity),
    timeUs: options.timeUs ?? Float64Array.from(equity, (_, index) => sessionOpenUs + (days ? days[index] * US_PER_DAY : 0) + index * US_PER_MINUTE),
    dayIndex: days ? Int32Array.from(days) : options.dayIndex,
    closedTrades: options.closedTrades ?? [],
    feesCash: options.feesCash ?? 0,
    exposureSamples: options.exposureSamples ?? 0,
  };
}

/** Sample standard deviation written out by hand. */
function sampleStd(values: number[]): number {
  const average = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}

describe('summarizeRun', () => {
  it('computes daily Sharpe, Sortino and drawdown on a hand-checked three-day run', () => {
    // Day closes 1020, 990, 1039.5: returns +2%, 990/1020 - 1, +5%.
    const summary = summarizeRun(run([1010, 1020, 1000, 990, 1030, 1039.5], { days: [0, 0, 1, 1, 2, 2], exposureSamples: 3, feesCash: 7 }));
    const returns = [0.02, 990 / 1020 - 1, 0.05];
    const average = (returns[0] + returns[1] + returns[2]) / 3;
    const downside = Math.sqrt(returns[1] ** 2 / 3);
    expect(summary.returnBasis).toBe('daily');
    expect(summary.tradingDays).toBe(3);
    expect(summary.returnCount).toBe(3);
    expect(summary.periodsPerYear).toBe(252);
    expect(summary.sharpe).toBeCloseTo((average / sampleStd(returns)) * Math.sqrt(252), 9);
    expect(summary.sortino).toBeCloseTo((average / downside) * Math.sqrt(252), 9);
    expect(summary.maxDrawdownCash).toBe(30);
    expect(summary.maxDrawdownFraction).toBeCloseTo(30 / 1020, 15);
    expect(summary.finalEquityCash).toBe(1039.5);
    expect(summary.netPnlCash).toBe(39.5);
    expect(summary.returnFraction).toBeCloseTo(0.0395, 15);
    expect(summary.exposureFraction).toBe(0.5);
    expect(summary.feesCash).toBe(7);
  });

  it('falls back to per-bar returns annualized by sqrt(252 * 390) on a single day', () => {
    const summary = summarizeRun(run([1100, 990, 1089], { days: [4, 4, 4] }));
    const returns = [0.1, -0.1, 0.1];
    const average = 0.1 / 3;
    expect(summary.returnBasis).toBe('per-bar');
    expect(summary.periodsPerYear).toBe(252 * 390);
    expect(summary.sharpe).toBeCloseTo((average / sampleStd(returns)) * Math.sqrt(252 * 390), 6);
    expect(summary.sortino).toBeCloseTo((average / Math.sqrt(0.01 / 3)) * Math.sqrt(252 * 390), 6);
    expect(summary.maxDrawdownCash).toBe(110);
    expect(summary.maxDrawdownFraction).toBeCloseTo(0.1, 15);
  });

  it('derives trading days from UTC dates when dayIndex is absent', () => {
    const timeUs = Float64Array.from([0, 1, 2, 3], (day) => sessionOpenUs + day * US_PER_DAY);
    const summary = summarizeRun(run([1010, 1000, 1020, 1030], { timeUs }));
    expect(summary.returnBasis).toBe('daily');
    expect(summary.tradingDays).toBe(4);
    expect(summary.returnCount).toBe(4);
  });

  it('counts winners, losers and gross P&L; a zero trade is neither', () => {
    const summary = summarizeRun(run([1000], { closedTrades: [{ pnlCash: 10 }, { pnlCash: -5 }, { pnlCash: 0 }, { pnlCash: 20 }] }));
    expect(summary.closedTrades).toBe(4);
    expect(summary.winners).toBe(2);
    expect(summary.losers).toBe(1);
    expect(summary.winRate).toBe(0.5);
    expect(summary.grossProfitCash).toBe(30);
    expect(summary.grossLossCash).toBe(-5);
  });

  it('gives zeros, never NaN, for degenerate runs: no samples, one sample, flat and constant-growth equity, no losses', () => {
    const empty = summarizeRun(run([]));
    expect(empty).toMatchObject({ sampleCount: 0, tradingDays: 0, returnBasis: 'none', periodsPerYear: 0, sharpe: 0, sortino: 0 });
    expect(empty).toMatchObject({ winRate: 0, exposureFraction: 0, finalEquityCash: 1000, returnFraction: 0, maxDrawdownCash: 0 });
    expect(summarizeRun(run([1100])).sharpe).toBe(0);
    const flat = summarizeRun(run([1000, 1000, 1000, 1000], { days: [0, 1, 2, 3] }));
    expect([flat.sharpe, flat.sortino]).toEqual([0, 0]);
    // 10% every day: the std is rounding noise, so Sharpe is 0 rather than a huge number; no losing day, so Sortino is 0.
    const growth = summarizeRun(run([1100, 1210, 1331, 1464.1], { days: [0, 1, 2, 3] }));
    expect([growth.sharpe, growth.sortino]).toEqual([0, 0]);
    for (const summary of [empty, flat, growth]) expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('keeps its invariants on random runs: finite JSON, drawdown as a naive scan, fractions in [0, 1], scale-free ratios', () => {
    const randomRun = fc
      .record({
        initialCashUnits: fc.integer({ min: 1, max: 10_000_000 }),
        equity: fc.array(fc.integer({ min: 0, max: 20_000_000 }), { maxLength: 120 }),
        dayStarts: fc.array(fc.boolean(), { maxLength: 120 }),
        pnls: fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { maxLength: 30 }),
        exposureShare: fc.double({ min: 0, max: 1, noNaN: true }),
      })
      .map(({ initialCashUnits, equity, dayStarts, pnls, exposureShare }) => {
        let day = 0;
        const days = equity.map((_, index) => (index > 0 && dayStarts[index] ? (day += 1) : day));
        return run(equity, {
          initialCashUnits,
          days,
          closedTrades: pnls.map((pnlCash) => ({ pnlCash })),
          exposureSamples: Math.floor(exposureShare * equity.length),
        });
      });
    fc.assert(
      fc.property(randomRun, (input) => {
        const summary = summarizeRun(input);
        for (const value of Object.values(summary)) if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
        expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);

        const equity = [input.initialCashUnits, ...input.equityCash];
        let naiveDrawdownCash = 0;
        let naiveDrawdownFraction = 0;
        for (let later = 1; later < equity.length; later += 1) {
          for (let earlier = 0; earlier < later; earlier += 1) {
            const peak = Math.max(...equity.slice(0, earlier + 1));
            naiveDrawdownCash = Math.max(naiveDrawdownCash, peak - equity[later]);
            naiveDrawdownFraction = Math.max(naiveDrawdownFraction, (peak - equity[later]) / peak);
          }
        }
        expect(summary.maxDrawdownCash).toBe(naiveDrawdownCash);
        expect(summary.maxDrawdownFraction).toBe(naiveDrawdownFraction);
        expect(summary.maxDrawdownCash).toBeGreaterThanOrEqual(0);
        expect(summary.maxDrawdownFraction).toBeGreaterThanOrEqual(0);
        expect(summary.maxDrawdownFraction).toBeLessThanOrEqual(1);
        for (const fraction of [summary.winRate, summary.exposureFraction]) {
          expect(fraction).toBeGreaterThanOrEqual(0);
          expect(fraction).toBeLessThanOrEqual(1);
        }
        expect(summary.winners + summary.losers).toBeLessThanOrEqual(summary.closedTrades);
        expect(summary.sortino === 0 || Math.sign(summary.sortino) === Math.sign(summary.sharpe) || summary.sharpe === 0).toBe(true);

        // Sharpe and Sortino depend on returns only, so scaling all cash by 4 (exact in binary) changes nothing.
        const scaled = summarizeRun({ ...input, initialCashUnits: input.initialCashUnits * 4, equityCash: input.equityCash.map((value) => value * 4) });
        expect(scaled.sharpe).toBe(summary.sharpe);
        expect(scaled.sortino).toBe(summary.sortino);
        expect(scaled.maxDrawdownFraction).toBe(summary.maxDrawdownFraction);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects inputs that break its contract', () => {
    expect(() => summarizeRun(run([1000], { initialCashUnits: 0 }))).toThrow(/initialCashUnits/);
    expect(() => summarizeRun({ ...run([1000, 1001]), timeUs: new Float64Array(1) })).toThrow(/timeUs/);
    expect(() => summarizeRun(run([1000, 1001], { days: [1, 0] }))).toThrow(/time order|trading days/);
    expect(() => summarizeRun(run([1000], { exposureSamples: 2 }))).toThrow(/exposureSamples/);
  });
});
