// Proves the real-time clock: it starts at the wall clock, never goes backwards, fires timers, and in accelerated mode starts where told and runs (and scales timers) by its factor.
import { describe, expect, it } from 'vitest';
import { RealTimeClock } from '../adapters/real-time-clock.ts';

describe('RealTimeClock', () => {
  it('reads the wall clock in integer microseconds and never goes backwards', () => {
    const clock = RealTimeClock.real();
    const wallUs = Date.now() * 1_000;
    const first = clock.nowUs();
    expect(Number.isInteger(first)).toBe(true);
    expect(Math.abs(first - wallUs)).toBeLessThan(50_000);
    let previous = first;
    for (let read = 0; read < 10_000; read += 1) {
      const next = clock.nowUs();
      expect(next).toBeGreaterThanOrEqual(previous);
      previous = next;
    }
    const beforeUs = clock.nowUs();
    const ms = clock.nowMs();
    expect(ms).toBeGreaterThanOrEqual(Math.floor(beforeUs / 1_000));
    expect(ms).toBeLessThanOrEqual(Math.floor(clock.nowUs() / 1_000));
  });

  it('fires a timer after its delay and not after it is cancelled', async () => {
    const clock = RealTimeClock.real();
    const startedUs = clock.nowUs();
    const firedAtUs = await new Promise<number>((resolve) => clock.setTimer(20, () => resolve(clock.nowUs())));
    expect(firedAtUs - startedUs).toBeGreaterThanOrEqual(19_000);
    let fired = false;
    const cancel = clock.setTimer(5, () => { fired = true; });
    cancel();
    await new Promise((resolve) => clock.setTimer(30, () => resolve(undefined)));
    expect(fired).toBe(false);
  });

  it('runs accelerated from a given start, scaling both time and timers', async () => {
    const startUs = 1_704_205_800_000_000; // 2024-01-02 14:30 UTC
    const clock = RealTimeClock.accelerated(100, startUs);
    expect(clock.nowUs() - startUs).toBeLessThan(100_000);
    const realStartedMs = Date.now();
    // 2 seconds of clock time at factor 100 is 20 real milliseconds.
    await new Promise((resolve) => clock.setTimer(2_000, () => resolve(undefined)));
    const realElapsedMs = Date.now() - realStartedMs;
    expect(realElapsedMs).toBeLessThan(1_000);
    expect(clock.nowUs() - startUs).toBeGreaterThanOrEqual(1_900_000);
    expect(() => RealTimeClock.accelerated(0, startUs)).toThrow(expect.objectContaining({ code: 'CLOCK_FACTOR_INVALID' }));
  });
});
