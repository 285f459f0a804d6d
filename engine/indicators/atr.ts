// Average true range (Wilder), O(1) and allocation-free per update.
//
// True range of a bar: max(high - low, |high - previousClose|, |low - previousClose|); the first bar has no
// previous close, so its true range is high - low. The first ATR is the simple mean of the first `period`
// true ranges (ready on the `period`-th bar); after that Wilder's smoothing applies:
// atr = (atr * (period - 1) + trueRange) / period.
import { invariant } from '../errors.ts';

export class Atr {
  readonly period: number;
  private count = 0;
  private previousClose = 0;
  /** Sum of true ranges while warming up, then the ATR itself. */
  private average = 0;

  constructor(period: number) {
    invariant(Number.isInteger(period) && period >= 1, 'Atr period must be an integer >= 1');
    this.period = period;
  }

  update(high: number, low: number, close: number): void {
    invariant(Number.isFinite(high) && Number.isFinite(low) && Number.isFinite(close), 'Atr.update expects finite prices');
    invariant(high >= low, 'Atr.update expects high >= low');
    let trueRange = high - low;
    if (this.count > 0) {
      const fromHigh = Math.abs(high - this.previousClose);
      const fromLow = Math.abs(low - this.previousClose);
      if (fromHigh > trueRange) trueRange = fromHigh;
      if (fromLow > trueRange) trueRange = fromLow;
    }
    this.previousClose = close;
    this.count += 1;
    if (this.count < this.period) {
      this.average += trueRange;
    } else if (this.count === this.period) {
      this.average = (this.average + trueRange) / this.period;
    } else {
      this.average = (this.average * (this.period - 1) + trueRange) / this.period;
    }
  }

  /** ATR in price units (ticks when fed ticks); NaN until `period` bars have been seen. */
  get value(): number {
    return this.count >= this.period ? this.average : Number.NaN;
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  reset(): void {
    this.count = 0;
    this.previousClose = 0;
    this.average = 0;
  }
}
