// Wall-clock time for paper and live runs, behind the same ports the engine and the leader lock use in
// simulation: the engine's Clock (microseconds) and the lock's TimerPort (milliseconds plus timers).
//
// Time is anchored once to Date.now() and then advanced by the monotonic high-resolution counter, so it never
// steps backwards when NTP adjusts the system clock; `accelerated` replays a tape faster than real time.
import type { Clock } from '../engine/types.ts';
import { SimError } from '../engine/errors.ts';
import type { TimerPort } from './leader-lock/lock-store.ts';

export class RealTimeClock implements Clock, TimerPort {
  private readonly anchorUs: number;
  private readonly anchorMonotonicNs: bigint;
  private readonly factor: number;
  private lastUs: number;

  private constructor(anchorUs: number, factor: number) {
    this.anchorUs = anchorUs;
    this.anchorMonotonicNs = process.hrtime.bigint();
    this.factor = factor;
    this.lastUs = anchorUs;
  }

  /** Real time: starts at the system clock and advances with the monotonic counter. */
  static real(): RealTimeClock {
    return new RealTimeClock(Date.now() * 1_000, 1);
  }

  /**
   * Accelerated time for replaying a tape in paper mode: starts at `startUs` and runs `factor` times faster
   * than real time. Timers are scaled too: a timer of 1000 ms at factor 10 fires after 100 real ms.
   */
  static accelerated(factor: number, startUs: number): RealTimeClock {
    if (!(Number.isFinite(factor) && factor > 0)) throw new SimError('CLOCK_FACTOR_INVALID', `expected a finite factor > 0, found ${factor}`);
    if (!Number.isInteger(startUs)) throw new SimError('CLOCK_START_INVALID', `expected an integer start in microseconds, found ${startUs}`);
    return new RealTimeClock(startUs, factor);
  }

  nowUs(): number {
    const elapsedNs = process.hrtime.bigint() - this.anchorMonotonicNs;
    const nowUs = this.anchorUs + Math.floor((Number(elapsedNs) / 1_000) * this.factor);
    // Never report a time before one already reported, even if rounding at a high factor wobbles.
    if (nowUs > this.lastUs) this.lastUs = nowUs;
    return this.lastUs;
  }

  nowMs(): number {
    return Math.floor(this.nowUs() / 1_000);
  }

  /** `delayMs` is in this clock's time; the real wait is delayMs / factor. */
  setTimer(delayMs: number, callback: () => void): () => void {
    const handle = setTimeout(callback, Math.max(0, delayMs / this.factor));
    return () => clearTimeout(handle);
  }
}
