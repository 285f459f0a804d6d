// The summary of a finished run: P&L, trade statistics, drawdown, exposure and risk-adjusted returns.
//
// Rules (these numbers are compared across runs, so they are fixed here and documented):
// - Returns. Daily returns when the run spans at least 2 trading days: the last equity of each trading day
//   against the previous day's last equity, the first day against the initial cash. Trading days come from
//   `dayIndex` when given, otherwise from the UTC calendar day of `timeUs` (a US equity session never crosses
//   UTC midnight). With a single trading day, per-sample (per-bar) returns instead: each sample against the
//   previous one, the first against the initial cash. A return whose base equity is <= 0 (a blown account)
//   is undefined and left out.
// - Annualization. Daily returns by sqrt(252); per-bar returns by sqrt(252 * 390), i.e. 1-minute bars of a
//   6.5-hour session.
// - Sharpe = mean(returns) / std(returns) * sqrt(periods per year), risk-free rate 0, std the sample standard
//   deviation (n - 1). Sortino = mean(returns) / downside deviation * sqrt(periods per year), the downside
//   deviation being the root mean square of min(return, 0) over all returns (target 0).
// - Both are 0 when there are fewer than 2 returns or when their deviation is 0. A deviation below 1e-12 of
//   the largest return's magnitude counts as 0: it is rounding noise of a constant series (mathjs computes
//   the std in two passes, so a constant series gives a residue, not an exact 0). The output never holds
//   NaN or Infinity, so it stays valid JSON.
// - Drawdown from the running peak of equity, the peak starting at the initial cash: the largest
//   peak - equity in cash units, and separately the largest (peak - equity) / peak (the two maxima may
//   occur at different samples). The fraction is in [0, 1] while equity stays >= 0.
// - Win rate = trades with pnlCash > 0 / closed trades, 0 when there are none. A trade at exactly 0 is
//   neither a winner nor a loser.
// - Exposure = samples with a nonzero position / samples, 0 when there are no samples.
import { mean, std } from 'mathjs/number';
import { invariant, invariantFailed } from '../errors.ts';
import { US_PER_DAY } from '../types.ts';

export const TRADING_DAYS_PER_YEAR = 252;
export const BARS_PER_TRADING_DAY = 390;
/** A deviation at or below this fraction of the largest return's magnitude is rounding noise. */
const DEVIATION_NOISE_FRACTION = 1e-12;

export interface RunSummaryInput {
  readonly initialCashUnits: number;
  /** Equity in cash units, one sample per bar, in time order. */
  readonly equityCash: Float64Array;
  /** Time of each equity sample, microseconds UTC; same length as `equityCash`, nondecreasing. */
  readonly timeUs: Float64Array;
  /** Trading-day ordinal of each sample, nondecreasing; defaults to the UTC day of `timeUs`. */
  readonly dayIndex?: Int32Array;
  readonly closedTrades: readonly { readonly pnlCash: number }[];
  readonly feesCash: number;
  /** Number of samples at which the position was nonzero. */
  readonly exposureSamples: number;
}

export type ReturnBasis = 'daily' | 'per-bar' | 'none';

export interface RunSummary {
  readonly sampleCount: number;
  readonly tradingDays: number;
  /** Last equity sample, or the initial cash when there are no samples. */
  readonly finalEquityCash: number;
  /** finalEquityCash - initial cash. */
  readonly netPnlCash: number;
  /** netPnlCash / initial cash. */
  readonly returnFraction: number;
  readonly closedTrades: number;
  readonly winners: number;
  readonly losers: number;
  /** winners / closedTrades, 0 when there are no closed trades. */
  readonly winRate: number;
  /** Sum of the P&L of winning trades (>= 0). */
  readonly grossProfitCash: number;
  /** Sum of the P&L of losing trades (<= 0). */
  readonly grossLossCash: number;
  readonly feesCash: number;
  /** Largest fall from the running peak of equity, in cash units (>= 0). */
  readonly maxDrawdownCash: number;
  /** Largest fall from the running peak as a fraction of that peak (>= 0; <= 1 while equity stays >= 0). */
  readonly maxDrawdownFraction: number;
  /** Which returns the Sharpe and Sortino ratios were computed from. */
  readonly returnBasis: ReturnBasis;
  readonly returnCount: number;
  /** Return periods per year used to annualize: 252 (daily), 252 * 390 (per bar) or 0 (none). */
  readonly periodsPerYear: number;
  readonly sharpe: number;
  readonly sortino: number;
  /** Fraction of samples with a nonzero position, in [0, 1]. */
  readonly exposureFraction: number;
}

export function summarizeRun(input: RunSummaryInput): RunSummary {
  const { initialCashUnits: initialCash, equityCash, timeUs, dayIndex } = input;
  const sampleCount = equityCash.length;
  invariant(Number.isFinite(initialCash) && initialCash > 0, 'summarizeRun expects initialCashUnits > 0');
  invariant(timeUs.length === sampleCount, 'summarizeRun expects timeUs as long as equityCash');
  invariant(dayIndex === undefined || dayIndex.length === sampleCount, 'summarizeRun expects dayIndex as long as equityCash');
  invariant(Number.isFinite(input.feesCash), 'summarizeRun expects finite feesCash');
  invariant(
    Number.isInteger(input.exposureSamples) && input.exposureSamples >= 0 && input.exposureSamples <= sampleCount,
    'summarizeRun expects exposureSamples to be an integer in [0, sample count]',
  );

  // Drawdown and trading-day boundaries in one pass.
  const dayOf = (sample: number): number => (dayIndex === undefined ? Math.floor(timeUs[sample] / US_PER_DAY) : dayIndex[sample]);
  let peakCash = initialCash;
  let maxDrawdownCash = 0;
  let maxDrawdownFraction = 0;
  /** Index of the last sample of each trading day. */
  const dayLastSamples: number[] = [];
  for (let sample = 0; sample < sampleCount; sample += 1) {
    const equity = equityCash[sample];
    invariant(Number.isFinite(equity), 'summarizeRun expects finite equity samples');
    invariant(Number.isFinite(timeUs[sample]), 'summarizeRun expects finite sample times');
    if (sample > 0) {
      invariant(timeUs[sample] >= timeUs[sample - 1], 'summarizeRun expects samples in time order');
      invariant(dayOf(sample) >= dayOf(sample - 1), 'summarizeRun expects nondecreasing trading days');
      if (dayOf(sample) !== dayOf(sample - 1)) dayLastSamples.push(sample - 1);
    }
    if (equity > peakCash) peakCash = equity;
    const drawdownCash = peakCash - equity;
    if (drawdownCash > maxDrawdownCash) maxDrawdownCash = drawdownCash;
    const drawdownFraction = drawdownCash / peakCash;
    if (drawdownFraction > maxDrawdownFraction) maxDrawdownFraction = drawdownFraction;
  }
  if (sampleCount > 0) dayLastSamples.push(sampleCount - 1);
  const tradingDays = dayLastSamples.length;

  // Returns on the chosen basis.
  let returnBasis: ReturnBasis = 'none';
  let periodsPerYear = 0;
  const returns: number[] = [];
  if (tradingDays >= 2) {
    returnBasis = 'daily';
    periodsPerYear = TRADING_DAYS_PER_YEAR;
    let previous = initialCash;
    for (const sample of dayLastSamples) {
      if (previous > 0) returns.push(equityCash[sample] / previous - 1);
      previous = equityCash[sample];
    }
  } else if (tradingDays === 1) {
    returnBasis = 'per-bar';
    periodsPerYear = TRADING_DAYS_PER_YEAR * BARS_PER_TRADING_DAY;
    let previous = initialCash;
    for (let sample = 0; sample < sampleCount; sample += 1) {
      if (previous > 0) returns.push(equityCash[sample] / previous - 1);
      previous = equityCash[sample];
    }
  }
  const { sharpe, sortino } = riskAdjustedReturns(returns, periodsPerYear);

  // Trades.
  let winners = 0;
  let losers = 0;
  let grossProfitCash = 0;
  let grossLossCash = 0;
  for (const trade of input.closedTrades) {
    invariant(Number.isFinite(trade.pnlCash), 'summarizeRun expects finite trade pnlCash');
    if (trade.pnlCash > 0) {
      winners += 1;
      grossProfitCash += trade.pnlCash;
    } else if (trade.pnlCash < 0) {
      losers += 1;
      grossLossCash += trade.pnlCash;
    }
  }
  const closedTrades = input.closedTrades.length;

  const finalEquityCash = sampleCount > 0 ? equityCash[sampleCount - 1] : initialCash;
  const netPnlCash = finalEquityCash - initialCash;
  const summary: RunSummary = {
    sampleCount,
    tradingDays,
    finalEquityCash,
    netPnlCash,
    returnFraction: netPnlCash / initialCash,
    closedTrades,
    winners,
    losers,
    winRate: closedTrades > 0 ? winners / closedTrades : 0,
    grossProfitCash,
    grossLossCash,
    feesCash: input.feesCash,
    maxDrawdownCash,
    maxDrawdownFraction,
    returnBasis,
    returnCount: returns.length,
    periodsPerYear,
    sharpe,
    sortino,
    exposureFraction: sampleCount > 0 ? input.exposureSamples / sampleCount : 0,
  };
  for (const [name, value] of Object.entries(summary)) {
    if (typeof value === 'number') { if (!(Number.isFinite(value))) invariantFailed(`summarizeRun produced a non-finite ${name}`); }
  }
  return summary;
}

function riskAdjustedReturns(returns: readonly number[], periodsPerYear: number): { sharpe: number; sortino: number } {
  if (returns.length < 2) return { sharpe: 0, sortino: 0 };
  let largestMagnitude = 0;
  for (const value of returns) largestMagnitude = Math.max(largestMagnitude, Math.abs(value));
  const noise = DEVIATION_NOISE_FRACTION * largestMagnitude;
  const average = mean(returns as number[]) as number;
  const deviation = std(returns as number[], 'unbiased') as number;
  const downsideDeviation = Math.sqrt(mean(returns.map((value) => (value < 0 ? value * value : 0))) as number);
  const annualization = Math.sqrt(periodsPerYear);
  return {
    sharpe: deviation > noise ? (average / deviation) * annualization : 0,
    sortino: downsideDeviation > noise ? (average / downsideDeviation) * annualization : 0,
  };
}
