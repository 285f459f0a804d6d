// Sim mode of redis-loss: two runners, the production SimulatedLockStore and SimulatedTimerPort on virtual
// time, a paper broker, and seeded faults: Redis killed and restarted empty, Redis paused past the TTL, the
// leader paused mid-decision past the TTL, values coming back as Buffers. Deterministic: no wall clock, and
// every promise settles inside the timer port's advance.
import { SimulatedLockStore } from '../../adapters/leader-lock/simulated-lock-store.ts';
import { SimulatedTimerPort } from '../../adapters/leader-lock/simulated-timer-port.ts';
import type { LockStore, TimerPort } from '../../adapters/leader-lock/lock-store.ts';
import { History } from '../framework/history.ts';
import type { Fault, RunContext, RunRecord } from '../framework/scenario.ts';
import type { SeededRandom } from '../framework/seeded-random.ts';
import { redisMetrics, type RedisTruth } from './invariants.ts';
import { Runner } from './runner.ts';
import { LOCK_KEY, PaperBroker, REDIS_FAULT_KINDS, SIM_TIMING, resumeBoundMs, runnerOfToken, type RedisVariant } from './workload.ts';

/** Virtual start: an epoch-like millisecond count, so LeaderLock's time floor on epochs behaves as in production. */
const START_MS = 1_700_000_000_000;
const RUNNERS = ['runner-a', 'runner-b'];

/** A runner's view of the timers: while paused (a GC pause or SIGSTOP), callbacks that come due wait. */
class PausableTimers implements TimerPort {
  private pausedUntilMs = -1;
  private waiting: (() => void)[] = [];

  constructor(private readonly base: SimulatedTimerPort) {}

  nowMs(): number {
    return this.base.nowMs();
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    let cancelled = false;
    const cancel = this.base.setTimer(delayMs, () => {
      if (cancelled) return;
      if (this.base.nowMs() < this.pausedUntilMs) this.waiting.push(() => { if (!cancelled) callback(); });
      else callback();
    });
    return () => { cancelled = true; cancel(); };
  }

  pauseFor(durationMs: number): void {
    this.pausedUntilMs = this.base.nowMs() + durationMs;
    this.base.setTimer(durationMs, () => {
      const waiting = this.waiting;
      this.waiting = [];
      for (const run of waiting) run();
    });
  }
}

/**
 * The store as the runners see it, reporting after every call so the ground truth of who holds the lock is
 * exact without sampling: a change can only come from a call, a fault, or a key expiring (observed at the
 * expiry instant of every lease written).
 */
class ObservedStore implements LockStore {
  constructor(private readonly inner: SimulatedLockStore, private readonly timers: SimulatedTimerPort, private readonly observe: () => void) {}

  private watch<T>(promise: Promise<T>, ttlMs: number | null): Promise<T> {
    return promise.then((value) => {
      this.observe();
      if (ttlMs !== null && value === true) this.timers.setTimer(ttlMs, this.observe);
      return value;
    }, (error: unknown) => { this.observe(); throw error; });
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> { return this.watch(this.inner.setIfAbsent(key, value, ttlMs), ttlMs); }
  extendIfOwner(key: string, token: string, ttlMs: number): Promise<boolean> { return this.watch(this.inner.extendIfOwner(key, token, ttlMs), ttlMs); }
  releaseIfOwner(key: string, token: string): Promise<boolean> { return this.watch(this.inner.releaseIfOwner(key, token), null); }
  nextEpoch(key: string): Promise<number> { return this.watch(this.inner.nextEpoch(key), null); }
  get(key: string): Promise<string | Buffer | null> { return this.watch(this.inner.get(key), null); }
}

export async function runRedisLossSim(context: RunContext): Promise<RunRecord<RedisTruth>> {
  const variant = context.variant as RedisVariant;
  const timing = SIM_TIMING;
  const timers = new SimulatedTimerPort(START_MS);
  const store = new SimulatedLockStore(timers);
  const history = new History(() => (timers.nowMs() - START_MS) * 1000);
  const broker = new PaperBroker(variant === 'fenced');
  const nowUs = () => (timers.nowMs() - START_MS) * 1000;
  let tenureCount = 0;
  let storeState: 'up' | 'down' | 'stalled' = 'up';
  const holderChanges: { timeUs: number; holder: string | null }[] = [];
  const recoveriesUs: number[] = [];
  const observe = () => {
    const holder = storeState === 'up' ? runnerOfToken(store.peek(LOCK_KEY)) : 'unreachable';
    const last = holderChanges[holderChanges.length - 1];
    if (!last || last.holder !== holder) holderChanges.push({ timeUs: nowUs(), holder });
  };

  const observedStore = new ObservedStore(store, timers, observe);
  const runnerTimers = new Map<string, PausableTimers>();
  const pauseArmed = new Map<string, number>();
  const runners: Runner[] = [];
  for (const name of RUNNERS) {
    const own = new PausableTimers(timers);
    runnerTimers.set(name, own);
    runners.push(new Runner(name, variant, timing, {
      timers: own,
      store: observedStore,
      history,
      nextTenure: () => ++tenureCount,
      send: (request) => new Promise((resolve) => {
        timers.setTimer(timing.networkMs, () => { resolve(broker.receive(request, nowUs())); observe(); });
      }),
      pauseIfArmed: () => {
        const durationMs = pauseArmed.get(name) ?? 0;
        if (durationMs === 0) return Promise.resolve();
        pauseArmed.delete(name);
        history.note(name, 'paused', { durationMs });
        own.pauseFor(durationMs);
        recoveriesUs.push(nowUs() + durationMs * 1000);
        return new Promise((resolve) => own.setTimer(0, resolve));
      },
    }));
  }

  const applyFault = (fault: Fault) => {
    const durationMs = Math.round(fault.durationUs / 1000);
    history.note('chaos', `fault-${fault.kind}`, fault);
    if (fault.kind === 'redis-kill') {
      storeState = 'down';
      store.down();
      timers.setTimer(durationMs, () => { store.up(true); storeState = 'up'; recoveriesUs.push(nowUs()); history.note('chaos', 'redis-restarted-empty'); observe(); });
    } else if (fault.kind === 'redis-pause') {
      storeState = 'stalled';
      store.stall();
      timers.setTimer(durationMs, () => { store.up(false); storeState = 'up'; recoveriesUs.push(nowUs()); history.note('chaos', 'redis-resumed'); observe(); });
    } else if (fault.kind === 'leader-pause') {
      // Freeze whichever runner leads now, at its next decision (between deciding and sending).
      const leader = runners.find((runner) => runner.isLeader());
      if (leader) pauseArmed.set(leader.name, durationMs);
    } else if (fault.kind === 'buffer-values') {
      store.valuesAsBuffers(true);
      timers.setTimer(durationMs, () => store.valuesAsBuffers(false));
    }
    observe();
  };
  for (const fault of context.faults) timers.setTimer(Math.round(fault.atUs / 1000), () => applyFault(fault));
  const endMs = Math.round(context.durationUs / 1000);
  observe();
  for (const runner of runners) runner.start();
  await timers.advance(endMs);
  for (const runner of runners) void runner.stop();
  await timers.advance(2 * timing.tradeEveryMs);
  history.closeOpenOperations();
  const truth: RedisTruth = {
    holderChanges, accepted: broker.accepted, recoveriesUs, ttlUs: timing.ttlMs * 1000, resumeBoundUs: resumeBoundMs(timing) * 1000, endUs: context.durationUs,
  };
  return { history: history.entries, truth, metrics: redisMetrics(history.entries, truth) };
}

export function redisFaultSchedule(rng: SeededRandom, durationUs: number, ttlMs: number): Fault[] {
  const kinds = REDIS_FAULT_KINDS;
  const count = 2 + rng.int(Math.max(2, Math.round(durationUs / 300_000_000)));
  const faults: Fault[] = [];
  // Faults start after a warm-up and are spaced so each one's effect can settle before the next.
  const slotUs = Math.floor((durationUs - 20_000_000) / count);
  for (let index = 0; index < count; index += 1) {
    let kind = kinds[rng.int(kinds.length)];
    // At least one Redis outage per schedule, so trading-resumes always has a recovery to check.
    if (index === count - 1 && kind !== 'redis-kill' && kind !== 'redis-pause' && !faults.some((fault) => fault.kind === 'redis-kill' || fault.kind === 'redis-pause')) {
      kind = rng.chance(0.5) ? 'redis-kill' : 'redis-pause';
    }
    const lengthMs = kind === 'buffer-values' ? 5_000 + rng.int(30_000) : Math.round(ttlMs * (0.3 + rng.next() * 2.7));
    const atUs = 10_000_000 + index * slotUs + rng.int(Math.max(1, slotUs - lengthMs * 1000 - 10_000_000));
    faults.push({ kind, atUs, durationUs: lengthMs * 1000 });
  }
  return faults;
}
