// An in-memory LockStore on virtual time, with fault hooks for chaos scenarios: the store can be down
// (every call rejects), stalled (calls hang until it comes back, like a SIGSTOPped redis-server), restarted
// empty (keys and the epoch counter are lost), and can answer `get` with Buffers instead of strings.
import { SimError } from '../../engine/errors.ts';
import type { LockStore, TimerPort } from './lock-store.ts';

interface Entry {
  value: string;
  /** Virtual time at which the key disappears; Infinity for keys without a TTL (the epoch counter). */
  expiresAtMs: number;
}

type Mode = 'up' | 'down' | 'stalled';

/** Calls held while stalled; a bound so a scenario that never resumes cannot grow memory without limit. */
const STALLED_CALLS_MAX = 10_000;

export class SimulatedLockStore implements LockStore {
  private readonly timers: TimerPort;
  private readonly entries = new Map<string, Entry>();
  private mode: Mode = 'up';
  private buffers = false;
  private stalled: Array<() => void> = [];
  /** Count of calls made, by operation: lets scenarios assert how often the lock touched the store. */
  readonly calls = { setIfAbsent: 0, extendIfOwner: 0, releaseIfOwner: 0, nextEpoch: 0, get: 0 };

  constructor(timers: TimerPort) {
    this.timers = timers;
  }

  /** Every call rejects until up(). Calls stalled earlier reject too (the connection broke). */
  down(): void {
    this.mode = 'down';
    const stalled = this.stalled;
    this.stalled = [];
    for (const run of stalled) run();
  }

  /** Calls hang (neither resolve nor reject) until up(); then they run in arrival order. */
  stall(): void {
    this.mode = 'stalled';
  }

  /** Back in service. With restartEmpty, every key, the epoch counters included, is gone (no persistence). */
  up(restartEmpty: boolean): void {
    if (restartEmpty) this.entries.clear();
    this.mode = 'up';
    const stalled = this.stalled;
    this.stalled = [];
    for (const run of stalled) run();
  }

  valuesAsBuffers(on: boolean): void {
    this.buffers = on;
  }

  /** The live value of a key at the current virtual time (test helper; no fault applies). */
  peek(key: string): string | null {
    return this.live(key)?.value ?? null;
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.calls.setIfAbsent += 1;
    return this.run(() => {
      if (this.live(key) !== undefined) return false;
      this.entries.set(key, { value, expiresAtMs: this.timers.nowMs() + ttlMs });
      return true;
    });
  }

  extendIfOwner(key: string, token: string, ttlMs: number): Promise<boolean> {
    this.calls.extendIfOwner += 1;
    return this.run(() => {
      const entry = this.live(key);
      if (entry === undefined || entry.value !== token) return false;
      entry.expiresAtMs = this.timers.nowMs() + ttlMs;
      return true;
    });
  }

  releaseIfOwner(key: string, token: string): Promise<boolean> {
    this.calls.releaseIfOwner += 1;
    return this.run(() => {
      const entry = this.live(key);
      if (entry === undefined || entry.value !== token) return false;
      this.entries.delete(key);
      return true;
    });
  }

  nextEpoch(key: string): Promise<number> {
    this.calls.nextEpoch += 1;
    return this.run(() => {
      const entry = this.live(key);
      const next = (entry === undefined ? 0 : Number(entry.value)) + 1;
      this.entries.set(key, { value: String(next), expiresAtMs: Number.POSITIVE_INFINITY });
      return next;
    });
  }

  get(key: string): Promise<string | Buffer | null> {
    this.calls.get += 1;
    return this.run(() => {
      const value = this.live(key)?.value ?? null;
      return value !== null && this.buffers ? Buffer.from(value, 'utf8') : value;
    });
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.timers.nowMs() >= entry.expiresAtMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private run<T>(operation: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        if (this.mode === 'down') reject(new SimError('LOCK_STORE_DOWN', 'expected the lock store to be up, found it down'));
        else resolve(operation());
      };
      if (this.mode === 'stalled') {
        if (this.stalled.length >= STALLED_CALLS_MAX) {
          reject(new SimError('LOCK_STORE_STALLED_QUEUE_FULL', `expected at most ${STALLED_CALLS_MAX} stalled calls, found one more`));
          return;
        }
        this.stalled.push(attempt);
        return;
      }
      attempt();
    });
  }
}
