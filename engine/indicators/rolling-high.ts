// Highest value over the last `period` values, O(1) amortized and allocation-free per update.
//
// A monotonic deque kept in preallocated ring buffers: it holds, oldest first, the positions (sequence
// numbers) and values of the candidates that can still become the maximum, with values strictly
// decreasing from front to back. Each value is pushed once and popped at most once, hence O(1) amortized;
// the deque never holds more than `period` entries, so the buffers never grow.
import { invariant } from '../errors.ts';

export class RollingHigh {
  readonly period: number;
  private readonly dequeSequence: Float64Array;
  private readonly dequeValue: Float64Array;
  /** Ring index of the deque's front (oldest candidate). */
  private head = 0;
  private length = 0;
  /** Values seen since the last reset; also the sequence number of the next value. */
  private count = 0;

  constructor(period: number) {
    invariant(Number.isInteger(period) && period >= 1, 'RollingHigh period must be an integer >= 1');
    this.period = period;
    this.dequeSequence = new Float64Array(period);
    this.dequeValue = new Float64Array(period);
  }

  update(value: number): void {
    invariant(Number.isFinite(value), 'RollingHigh.update expects a finite value');
    const sequence = this.count;
    this.count += 1;
    // Drop the front if it has left the window [sequence - period + 1, sequence].
    if (this.length > 0 && this.dequeSequence[this.head] <= sequence - this.period) {
      this.head = this.head + 1 === this.period ? 0 : this.head + 1;
      this.length -= 1;
    }
    // Drop candidates from the back that the new value dominates (ties: the newer one lives longer).
    while (this.length > 0) {
      let back = this.head + this.length - 1;
      if (back >= this.period) back -= this.period;
      if (this.dequeValue[back] > value) break;
      this.length -= 1;
    }
    let slot = this.head + this.length;
    if (slot >= this.period) slot -= this.period;
    this.dequeSequence[slot] = sequence;
    this.dequeValue[slot] = value;
    this.length += 1;
  }

  /** The maximum of the last `period` values; NaN until `period` values have been seen. */
  get value(): number {
    return this.count >= this.period ? this.dequeValue[this.head] : Number.NaN;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  reset(): void {
    this.head = 0;
    this.length = 0;
    this.count = 0;
  }
}
