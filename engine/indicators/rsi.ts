// Relative strength index (Wilder), O(1) and allocation-free per update.
//
// Each value after the first gives a change: gain = max(change, 0), loss = max(-change, 0). The first
// average gain and loss are the simple means of the first `period` gains and losses (so the indicator is
// ready after period + 1 values); after that Wilder's smoothing applies:
// average = (average * (period - 1) + current) / period.
// RSI = 100 - 100 / (1 + averageGain / averageLoss), computed as 100 * averageGain / (averageGain + averageLoss),
// which is the same number but also defined when averageLoss is 0 (RSI 100). When both averages are 0 (a
// flat series) the RSI is 50 by convention: no evidence either way.
import { invariant } from '../errors.ts';

export class Rsi {
  readonly period: number;
  /** Values seen, including the first one that only sets the previous value. */
  private count = 0;
  private previous = 0;
  private averageGain = 0;
  private averageLoss = 0;

  constructor(period: number) {
    invariant(Number.isInteger(period) && period >= 1, 'Rsi period must be an integer >= 1');
    this.period = period;
  }

  update(value: number): void {
    invariant(Number.isFinite(value), 'Rsi.update expects a finite value');
    this.count += 1;
    if (this.count === 1) {
      this.previous = value;
      return;
    }
    const change = value - this.previous;
    this.previous = value;
    const gain = change > 0 ? change : 0;
    const loss = change < 0 ? -change : 0;
    if (this.count <= this.period) {
      // Warming up: accumulate sums of the first changes (exact for integer ticks).
      this.averageGain += gain;
      this.averageLoss += loss;
      return;
    }
    if (this.count === this.period + 1) {
      this.averageGain = (this.averageGain + gain) / this.period;
      this.averageLoss = (this.averageLoss + loss) / this.period;
      return;
    }
    this.averageGain = (this.averageGain * (this.period - 1) + gain) / this.period;
    this.averageLoss = (this.averageLoss * (this.period - 1) + loss) / this.period;
  }

  /** RSI in [0, 100]; NaN until period + 1 values have been seen. */
  get value(): number {
    if (this.count <= this.period) return Number.NaN;
    const total = this.averageGain + this.averageLoss;
    if (total === 0) return 50;
    // 100 * (gain / total), not (100 * gain) / total: the quotient of gain <= total is at most 1 after rounding,
    // so the RSI never leaves [0, 100]; rounding 100 * gain first can end above it (100.00000000000001).
    return 100 * (this.averageGain / total);
  }

  get ready(): boolean {
    return this.count > this.period;
  }

  reset(): void {
    this.count = 0;
    this.previous = 0;
    this.averageGain = 0;
    this.averageLoss = 0;
  }
}
