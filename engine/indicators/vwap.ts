// Volume-weighted average price since the last `reset()`, O(1) and allocation-free per update.
//
// Anchoring is the caller's: call `reset()` at each session open for a session VWAP. For bars, feed a
// representative price such as `typicalPrice(high, low, close)` with the bar's volume. With integer ticks
// and integer lots the sums are exact while they stay below 2^53; beyond that they are ordinary float sums
// (relative error of order 1e-16 per update, far below a tick).
import { invariant } from '../errors.ts';

export class Vwap {
  private priceVolumeSum = 0;
  private volumeSum = 0;

  update(price: number, volume: number): void {
    invariant(Number.isFinite(price), 'Vwap.update expects a finite price');
    invariant(Number.isFinite(volume) && volume >= 0, 'Vwap.update expects a finite volume >= 0');
    this.priceVolumeSum += price * volume;
    this.volumeSum += volume;
  }

  /** The VWAP; NaN until some volume has been seen since the last reset. */
  get value(): number {
    return this.volumeSum > 0 ? this.priceVolumeSum / this.volumeSum : Number.NaN;
  }

  get ready(): boolean {
    return this.volumeSum > 0;
  }

  /** Total volume since the last reset. */
  get volume(): number {
    return this.volumeSum;
  }

  /** Starts a new anchor (for example a new session). */
  reset(): void {
    this.priceVolumeSum = 0;
    this.volumeSum = 0;
  }
}
