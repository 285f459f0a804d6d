// Real-mode EventScheduler: scenario time runs on the wall clock, compressed by a time scale (wall seconds
// per scenario second), with real timers. Events due at the same instant fire in the order they were set.
import type { EventScheduler, TimerHandle } from '../../scenarios/framework/virtual-scheduler.ts';

export class WallClockScheduler implements EventScheduler {
  private readonly startMs: number;
  private readonly handles = new Set<ReturnType<typeof setTimeout>>();
  /** The latest any timer fired after its due time, in scenario microseconds (event-loop stalls, load). */
  latenessUsMax = 0;

  /** `originAbsoluteMs` (performance.timeOrigin + performance.now() of some process) shares a zero across processes. */
  constructor(private readonly timeScale: number, originAbsoluteMs?: number) {
    this.startMs = originAbsoluteMs === undefined ? performance.now() : originAbsoluteMs - performance.timeOrigin;
  }

  nowUs(): number {
    return Math.round(((performance.now() - this.startMs) * 1000) / this.timeScale);
  }

  at(timeUs: number, action: () => void): TimerHandle {
    const delayMs = Math.max(0, ((timeUs / 1000) * this.timeScale) - (performance.now() - this.startMs));
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      const lateUs = this.nowUs() - timeUs;
      if (lateUs > this.latenessUsMax) this.latenessUsMax = lateUs;
      action();
    }, delayMs);
    this.handles.add(handle);
    return { cancel: () => { clearTimeout(handle); this.handles.delete(handle); } };
  }

  after(delayUs: number, action: () => void): TimerHandle {
    return this.at(this.nowUs() + delayUs, action);
  }

  async runUntil(endUs: number): Promise<void> {
    const remainingMs = (endUs / 1000) * this.timeScale - (performance.now() - this.startMs);
    if (remainingMs > 0) await new Promise((resolve) => setTimeout(resolve, remainingMs));
  }

  /** Cancels every pending timer (end of run). */
  dispose(): void {
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }
}
