// A TimerPort on virtual time: nothing happens until the test or scenario advances the clock. Timers due at
// the same instant fire in the order they were set.
import { invariantFailed } from '../../engine/errors.ts';
import type { TimerPort } from './lock-store.ts';

interface PendingTimer {
  dueMs: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

/** Upper bound on timers fired by one advance; a runaway zero-delay loop fails loudly instead of hanging. */
const FIRINGS_PER_ADVANCE_MAX = 1_000_000;

export class SimulatedTimerPort implements TimerPort {
  private currentMs: number;
  private sequence = 0;
  private pending: PendingTimer[] = [];

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer: PendingTimer = { dueMs: this.currentMs + Math.max(0, delayMs), sequence: this.sequence++, callback, cancelled: false };
    this.pending.push(timer);
    return () => { timer.cancelled = true; };
  }

  /** Number of timers still waiting to fire. */
  pendingCount(): number {
    return this.pending.filter((timer) => !timer.cancelled).length;
  }

  /**
   * Moves time forward by `deltaMs`, firing due timers in (due time, sequence) order. Between firings it lets
   * promise callbacks run (store replies are promises), so a whole acquire or refresh completes in virtual time.
   */
  async advance(deltaMs: number): Promise<void> {
    const targetMs = this.currentMs + deltaMs;
    await settle();
    for (let fired = 0; fired < FIRINGS_PER_ADVANCE_MAX; fired += 1) {
      const next = this.nextDue(targetMs);
      if (next === undefined) {
        this.currentMs = targetMs;
        await settle();
        return;
      }
      this.currentMs = next.dueMs;
      this.pending = this.pending.filter((timer) => timer !== next);
      next.callback();
      await settle();
    }
    invariantFailed(`expected at most ${FIRINGS_PER_ADVANCE_MAX} timers to fire in one advance, found more (a timer that re-arms itself at the same time?)`);
  }

  private nextDue(targetMs: number): PendingTimer | undefined {
    this.pending = this.pending.filter((timer) => !timer.cancelled);
    let best: PendingTimer | undefined;
    for (const timer of this.pending) {
      if (timer.dueMs > targetMs) continue;
      if (best === undefined || timer.dueMs < best.dueMs || (timer.dueMs === best.dueMs && timer.sequence < best.sequence)) best = timer;
    }
    return best;
  }
}

/** Lets queued promise callbacks run; a bounded number of macrotask-free turns of the microtask queue. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 50; turn += 1) await Promise.resolve();
}
