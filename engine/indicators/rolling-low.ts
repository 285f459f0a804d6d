// Lowest value over the last `period` values, O(1) amortized and allocation-free per update: the rolling high of
// the negated values (negation is exact in floating point, so nothing is lost and ties behave the same).
import { RollingHigh } from './rolling-high.ts';

export class RollingLow {
  readonly period: number;
  private readonly high: RollingHigh;

  constructor(period: number) {
    this.high = new RollingHigh(period);
    this.period = period;
  }

  update(value: number): void {
    this.high.update(-value);
  }

  /** The minimum of the last `period` values; NaN until `period` values have been seen. */
  get value(): number {
    return -this.high.value;
  }

  get ready(): boolean {
    return this.high.ready;
  }

  reset(): void {
    this.high.reset();
  }
}
