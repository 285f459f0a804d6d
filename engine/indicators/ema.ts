// Exponential moving average, O(1) and allocation-free per update.
//
// Smoothing factor alpha = 2 / (period + 1). Seeding: the first `period` values are averaged (their simple
// mean is the first EMA value, so the indicator becomes ready on the `period`-th value); from then on
// ema = ema + alpha * (value - ema), which equals alpha * value + (1 - alpha) * ema but rounds better.
import { invariant } from '../errors.ts';

export class Ema {
  readonly period: number;
  readonly alpha: number;
  private count = 0;
  /** Sum of the seed values while warming up. Exact for integer ticks below 2^53. */
  private seedSum = 0;
  private average = Number.NaN;

  constructor(period: number) {
    invariant(Number.isInteger(period) && period >= 1, 'Ema period must be an integer >= 1');
    this.period = period;
    this.alpha = 2 / (period + 1);
  }

  update(value: number): void {
    invariant(Number.isFinite(value), 'Ema.update expects a finite value');
    if (this.count < this.period) {
      this.count += 1;
      this.seedSum += value;
      if (this.count === this.period) this.average = this.seedSum / this.period;
      return;
    }
    this.average += this.alpha * (value - this.average);
  }

  /** The current EMA; NaN until `period` values have been seen. */
  get value(): number {
    return this.average;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  reset(): void {
    this.count = 0;
    this.seedSum = 0;
    this.average = Number.NaN;
  }
}
