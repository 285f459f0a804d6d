// A Redis-style lease for leader election with a fencing epoch. One instance per process; the process sends
// orders only while `isLeader()` is true and stamps them with `epoch()`, which a broker-side EpochFence checks.
//
// Safety rule: leadership is judged locally and pessimistically. A tenure ends the moment a refresh fails or
// comes back "not owner", or the local deadline (time the last successful SET/refresh was *sent* + ttl - a
// safety margin) passes, whichever is first. Timing from the send, not the reply, means a slow reply can only
// shorten our belief, never stretch it past the store's own expiry.
import { SimError } from '../../engine/errors.ts';
import { epochKeyOf, valueAsText, type LockStore, type TimerPort, type TokenSource } from './lock-store.ts';

export interface LeaderLockOptions {
  store: LockStore;
  timers: TimerPort;
  tokens: TokenSource;
  key: string;
  ttlMs: number;
  refreshEveryMs: number;
  backoffMs: { initial: number; max: number };
  onAcquired(epoch: number): void;
  onLost(reason: string): void;
}

/** The common face of LeaderLock and NoLock, for callers that run either way. */
export interface LeadershipPort {
  start(): void;
  stop(): Promise<void>;
  isLeader(): boolean;
  epoch(): number;
}

const noop = (): void => undefined;

/** Counters for monitoring (the runner copies them into RuntimeMetrics); read-only, additive to the lock API. */
export interface LeaderLockStats {
  acquisitions: number;
  acquireAttemptsFailed: number;
  refreshesOk: number;
  refreshesFailed: number;
  losses: number;
}

type Phase = 'idle' | 'following' | 'leading' | 'stopped';

export class LeaderLock implements LeadershipPort {
  private readonly options: LeaderLockOptions;
  private readonly safetyMarginMs: number;
  /** Each store call gets at most this long; a hung store (SIGSTOP) must not stall the loop. */
  private readonly operationTimeoutMs: number;
  private phase: Phase = 'idle';
  private token: string | null = null;
  /** A token whose SET timed out: it may have landed, so the next attempt checks for it first. */
  private ambiguousToken: string | null = null;
  private deadlineMs = 0;
  private currentEpoch = 0;
  private lastEpochSeen = 0;
  private failedAttempts = 0;
  /** Bumped on every phase change; an async result from an older generation is ignored. */
  private generation = 0;
  /** At most two timers are pending at once: the next step (acquire, retry or refresh) and the lease deadline. */
  private readonly counters: LeaderLockStats = { acquisitions: 0, acquireAttemptsFailed: 0, refreshesOk: 0, refreshesFailed: 0, losses: 0 };
  private cancelNextStep: () => void = noop;
  private cancelDeadline: () => void = noop;

  constructor(options: LeaderLockOptions) {
    if (!(options.ttlMs > 0 && options.refreshEveryMs > 0 && options.refreshEveryMs < options.ttlMs)) {
      throw new SimError('LOCK_CONFIG_INVALID', `expected 0 < refreshEveryMs < ttlMs, found refreshEveryMs ${options.refreshEveryMs}, ttlMs ${options.ttlMs}`);
    }
    if (!(options.backoffMs.initial > 0 && options.backoffMs.max >= options.backoffMs.initial)) {
      throw new SimError('LOCK_CONFIG_INVALID', `expected 0 < backoffMs.initial <= backoffMs.max, found ${options.backoffMs.initial}, ${options.backoffMs.max}`);
    }
    this.options = options;
    // A tenth of the lease (at least 1 ms) covers clock drift between us and the store over one lease.
    this.safetyMarginMs = Math.max(1, Math.floor(options.ttlMs / 10));
    this.operationTimeoutMs = Math.max(1, Math.floor(options.ttlMs / 2));
  }

  start(): void {
    if (this.phase !== 'idle') return;
    this.enter('following');
    this.schedule(0, () => void this.attemptAcquire());
  }

  async stop(): Promise<void> {
    const token = this.phase === 'leading' ? this.token : null;
    this.enter('stopped');
    this.token = null;
    // stop() is the caller's choice, so onLost does not fire. Releasing lets a standby take over at once
    // instead of after the TTL; a failure here only delays the standby, it is not a safety problem.
    if (token !== null) {
      try {
        await this.withTimeout(this.options.store.releaseIfOwner(this.options.key, token));
      } catch {
        // The lease will expire on its own within one TTL.
      }
    }
  }

  isLeader(): boolean {
    return this.phase === 'leading' && this.options.timers.nowMs() < this.deadlineMs;
  }

  epoch(): number {
    return this.currentEpoch;
  }

  stats(): Readonly<LeaderLockStats> {
    return { ...this.counters };
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.generation += 1;
    this.cancelNextStep();
    this.cancelNextStep = noop;
    this.cancelDeadline();
    this.cancelDeadline = noop;
  }

  private schedule(delayMs: number, callback: () => void): void {
    this.cancelNextStep();
    this.cancelNextStep = this.options.timers.setTimer(delayMs, callback);
  }

  private withTimeout<T>(operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cancel = this.options.timers.setTimer(this.operationTimeoutMs, () => {
        if (settled) return;
        settled = true;
        reject(new SimError('LOCK_STORE_TIMEOUT', `expected a lock store reply within ${this.operationTimeoutMs} ms, found none`));
      });
      operation.then(
        (value) => { if (!settled) { settled = true; cancel(); resolve(value); } },
        (error: unknown) => { if (!settled) { settled = true; cancel(); reject(error); } },
      );
    });
  }

  private backoffDelayMs(): number {
    const { initial, max } = this.options.backoffMs;
    // The exponent is capped so the product never overflows; the delay is capped at `max`.
    const exponent = Math.min(this.failedAttempts, 30);
    return Math.min(max, initial * 2 ** exponent);
  }

  private async attemptAcquire(): Promise<void> {
    const generation = this.generation;
    const { store, key, ttlMs, timers } = this.options;
    const sentAtMs = timers.nowMs();
    let acquiredToken: string | null = null;
    try {
      if (this.ambiguousToken !== null) {
        // A previous SET timed out: if it did land, the key holds that token and the lease is ours.
        const held = valueAsText(await this.withTimeout(store.get(key)));
        if (generation !== this.generation) return;
        if (held === this.ambiguousToken && await this.withTimeout(store.extendIfOwner(key, held, ttlMs))) acquiredToken = held;
        this.ambiguousToken = null;
      }
      if (acquiredToken === null) {
        const token = this.options.tokens.nextToken();
        try {
          if (await this.withTimeout(store.setIfAbsent(key, token, ttlMs))) acquiredToken = token;
        } catch (error) {
          this.ambiguousToken = token;
          throw error;
        }
      }
      if (generation !== this.generation) {
        // stop() ran while the SET was out: a lease that landed anyway is given back, not left to expire.
        if (acquiredToken !== null) void store.releaseIfOwner(key, acquiredToken).catch(() => undefined);
        return;
      }
      if (acquiredToken === null) {
        this.retryAcquireLater();
        return;
      }
      const counted = await this.withTimeout(store.nextEpoch(epochKeyOf(key)));
      if (generation !== this.generation) return;
      this.becomeLeader(acquiredToken, sentAtMs, this.fencingEpoch(counted));
    } catch {
      if (generation !== this.generation) return;
      // If the SET succeeded but the epoch could not be read, we hold a lease we cannot fence: give it back
      // (best effort) and try again later rather than lead without an epoch.
      if (acquiredToken !== null) void store.releaseIfOwner(key, acquiredToken).catch(() => undefined);
      this.retryAcquireLater();
    }
  }

  /**
   * The epoch of a new tenure: max(INCR result, last epoch this process saw + 1, now in ms).
   * Why the time floor: INCR alone is monotonic only while the store keeps the epoch key. A store restarted
   * empty (no persistence) answers INCR with 1 again, and a broker fence that has seen epoch 57 would then
   * refuse the new leader forever -- or worse, a fence reset would accept two leaders' orders. Wall-clock
   * milliseconds only move forward and two tenures never start within the same millisecond (a new tenure
   * needs the previous lease to expire or be released), so `now` keeps epochs increasing across an empty
   * restart. "last seen + 1" covers the same process re-acquiring within one millisecond of virtual time.
   * The residual risk is clock skew between hosts larger than the gap between tenures: then the new leader's
   * epoch is too small and the fence rejects its orders -- a stall, never two leaders trading.
   */
  private fencingEpoch(counted: number): number {
    const epoch = Math.max(counted, this.lastEpochSeen + 1, Math.floor(this.options.timers.nowMs()));
    this.lastEpochSeen = epoch;
    return epoch;
  }

  private retryAcquireLater(): void {
    this.counters.acquireAttemptsFailed += 1;
    const delayMs = this.backoffDelayMs();
    this.failedAttempts += 1;
    this.schedule(delayMs, () => void this.attemptAcquire());
  }

  private becomeLeader(token: string, sentAtMs: number, epoch: number): void {
    this.enter('leading');
    this.counters.acquisitions += 1;
    this.token = token;
    this.failedAttempts = 0;
    this.currentEpoch = epoch;
    this.setDeadline(sentAtMs);
    this.schedule(this.options.refreshEveryMs, () => void this.refresh());
    this.options.onAcquired(epoch);
  }

  private setDeadline(sentAtMs: number): void {
    this.deadlineMs = sentAtMs + this.options.ttlMs - this.safetyMarginMs;
    const delayMs = Math.max(0, this.deadlineMs - this.options.timers.nowMs());
    const generation = this.generation;
    this.cancelDeadline();
    this.cancelDeadline = this.options.timers.setTimer(delayMs, () => {
      if (generation === this.generation && this.phase === 'leading' && this.options.timers.nowMs() >= this.deadlineMs) {
        this.loseLeadership(`lease deadline passed without a successful refresh (ttl ${this.options.ttlMs} ms, margin ${this.safetyMarginMs} ms)`);
      }
    });
  }

  private async refresh(): Promise<void> {
    const generation = this.generation;
    const token = this.token;
    if (this.phase !== 'leading' || token === null) return;
    const { store, key, ttlMs, timers } = this.options;
    const sentAtMs = timers.nowMs();
    let extended: boolean;
    try {
      extended = await this.withTimeout(store.extendIfOwner(key, token, ttlMs));
    } catch (error) {
      this.counters.refreshesFailed += 1;
      if (generation === this.generation) this.loseLeadership(`refresh failed: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (generation !== this.generation) return;
    if (!extended) {
      this.counters.refreshesFailed += 1;
      this.loseLeadership('refresh found the lease held by another owner or expired');
      return;
    }
    this.counters.refreshesOk += 1;
    this.setDeadline(sentAtMs);
    this.schedule(this.options.refreshEveryMs, () => void this.refresh());
  }

  private loseLeadership(reason: string): void {
    const token = this.token;
    this.enter('following');
    this.token = null;
    this.deadlineMs = 0;
    this.counters.losses += 1;
    // Give the lease back in case it is still ours (a failed refresh may have been a transient error), so a
    // re-acquisition -- ours or a standby's -- need not wait for the TTL. Any outcome is acceptable.
    if (token !== null) void this.options.store.releaseIfOwner(this.options.key, token).catch(() => undefined);
    this.options.onLost(reason);
    this.retryAcquireLater();
  }
}
