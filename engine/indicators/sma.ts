// Simple moving average over the last `period` values, O(1) and allocation-free per update.
//
// Exactness: prices reach strategies as integer ticks, so the running sum is kept as a plain sum of
// integers, which is exact as long as every input and every partial sum is a safe integer (|x| < 2^53).
// The average is then `sum / period`, one correctly rounded division, bit-identical to a naive
// recomputation. No compensated summation is needed in that mode. If a value is not a safe integer, or the
// sum would leave the safe range, the indicator falls back for good (until `reset()`) to a float running
// sum with Neumaier compensation: its error is a few ulps of the window's magnitude plus a residue of order
// epsilon^2 (about 5e-32) times the sum of magnitudes ever seen, instead of epsilon times that sum for a
// plain running sum.
import { invariant } from '../errors.ts';

export class Sma {
  readonly period: number;
  private readonly window: Float64Array;
  /** Index in `window` where the next value goes (the oldest value when the window is full). */
  private nextSlot = 0;
  private count = 0;
  /**
   * `period` once the window is full, NaN before: `value` divides by it, so that it is NaN until ready without a
   * test, and small enough to be inlined wherever it is read (an accessor call is inlined early only when small).
   */
  private divisor = Number.NaN;
  private sum = 0;
  /** Neumaier compensation term, only nonzero in float mode. */
  private compensation = 0;
  private exact = true;

  constructor(period: number) {
    invariant(Number.isInteger(period) && period >= 1, 'Sma period must be an integer >= 1');
    this.period = period;
    this.window = new Float64Array(period);
  }

  update(value: number): void {
    const slot = this.nextSlot;
    // The slots not written since construction or `reset` hold 0, so before the window is full the value leaving
    // it is 0 without a test.
    const outgoing = this.window[slot];
    this.window[slot] = value;
    this.nextSlot = slot + 1 === this.period ? 0 : slot + 1;
    if (this.count < this.period && ++this.count === this.period) this.divisor = this.period;
    if (this.exact) {
      // An addition or subtraction of two safe integers is exact exactly when its true result is a safe
      // integer, and a true result outside the safe range rounds to a number outside it too, so checking
      // each computed result detects every inexact step. (A non-finite value is not a safe integer either.)
      const withoutOutgoing = this.sum - outgoing;
      const sum = withoutOutgoing + value;
      if (Number.isSafeInteger(value) && Number.isSafeInteger(withoutOutgoing) && Number.isSafeInteger(sum)) {
        this.sum = sum;
        return;
      }
      this.leaveExactMode(value);
      return;
    }
    invariant(Number.isFinite(value), 'Sma.update expects a finite value');
    this.addFloat(-outgoing);
    this.addFloat(value);
  }

  /** The first value that is not a safe integer (or a sum that left the safe range): float sums from now on. */
  private leaveExactMode(value: number): void {
    invariant(Number.isFinite(value), 'Sma.update expects a finite value');
    this.exact = false;
    this.sum = 0;
    this.compensation = 0;
    // Rebuild the float sum from the window (at most once per reset, so O(1) amortized).
    for (let index = 0; index < this.count; index += 1) this.addFloat(this.window[index]);
  }

  /** Neumaier's variant of Kahan summation: also exact when the addend is larger than the sum. */
  private addFloat(addend: number): void {
    const total = this.sum + addend;
    if (Math.abs(this.sum) >= Math.abs(addend)) this.compensation += (this.sum - total) + addend;
    else this.compensation += (addend - total) + this.sum;
    this.sum = total;
  }

  /** The mean of the last `period` values; NaN until `period` values have been seen. */
  get value(): number {
    return (this.sum + this.compensation) / this.divisor;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  /** True while the running sum is an exact integer sum (all inputs so far were safe integers). */
  get exactSum(): boolean {
    return this.exact;
  }

  reset(): void {
    this.window.fill(0);
    this.nextSlot = 0;
    this.count = 0;
    this.divisor = Number.NaN;
    this.sum = 0;
    this.compensation = 0;
    this.exact = true;
  }
}
