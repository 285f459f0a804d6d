// Runs a session under a Redis leader lock: the runner starts on standby, leads from the moment the lock is
// acquired (reconciling first, under the new epoch, taking over what a previous leader left at the broker) and
// stops sending the moment it is lost, whether the lock says so (onLost) or the runner finds the lease's local
// deadline passed before applying the next record.
// Readiness (/ready) follows the lock itself and the runner's reconciliation.
import { Redis } from 'ioredis';
import { SimError } from '../../engine/index.ts';
import type { RuntimeMetrics } from '../health/index.ts';
import { CryptoTokenSource, LeaderLock, RedisLockStore } from '../leader-lock/index.ts';
import { RealTimeClock } from '../real-time-clock.ts';
import type { SessionRunner } from './session-runner.ts';

export interface SessionLeadershipOptions {
  /** redis://host:port */
  readonly redisUrl: string;
  readonly key: string;
  readonly ttlMs: number;
  readonly metrics?: RuntimeMetrics;
  /** A tenure could not start (reconciliation refused): the session must not trade; the caller stops it. */
  readonly onFatal: (error: Error) => void;
  readonly log?: (line: string) => void;
}

export class SessionLeadership {
  readonly lock: LeaderLock;
  private readonly redis: Redis;

  private constructor(lock: LeaderLock, redis: Redis) {
    this.lock = lock;
    this.redis = redis;
  }

  /**
   * Builds the lock (not started). The runner must be opened with `leader: { leader: false, epoch: 0 }` and
   * `leadershipCheck: () => leadership.isLeader()`; then `start()`.
   */
  static create(getRunner: () => SessionRunner, options: SessionLeadershipOptions): SessionLeadership {
    if (!(options.ttlMs >= 100)) throw new SimError('LOCK_CONFIG_INVALID', `expected --lock-ttl-ms >= 100, found ${options.ttlMs}`);
    // A command timeout well inside the lease: a stalled Redis must cost a refresh, not the whole tenure's safety.
    const redis = new Redis(options.redisUrl, { commandTimeout: Math.max(50, Math.floor(options.ttlMs / 4)), maxRetriesPerRequest: 1, retryStrategy: () => 100, lazyConnect: false });
    redis.on('error', () => undefined); // the lock sees failures as failed refreshes; reconnects are ioredis's
    const log = options.log ?? (() => {});
    const lock: LeaderLock = new LeaderLock({
      store: new RedisLockStore(redis), timers: RealTimeClock.real(), tokens: new CryptoTokenSource('sim'), key: options.key, ttlMs: options.ttlMs,
      refreshEveryMs: Math.max(1, Math.floor(options.ttlMs / 3)), backoffMs: { initial: Math.max(1, Math.floor(options.ttlMs / 20)), max: Math.max(1, Math.floor(options.ttlMs / 2)) },
      onAcquired: (epoch) => {
        log(`sim: leader lock acquired, epoch ${epoch}; reconciling`);
        options.metrics?.setReconciled(false);
        getRunner().onAcquired(epoch).then((summary) => {
          log(`sim: reconciled under epoch ${epoch}: resent ${summary.resent}, adopted ${summary.adopted} orders and ${summary.adoptedPositions} positions, cancelled ${summary.cancelledOrphans} orphan orders, protected ${summary.protectedPositions} positions`);
          // Still this tenure? A lock lost meanwhile leaves readiness off.
          if (lock.isLeader() && lock.epoch() === epoch) options.metrics?.setReconciled(true);
        }, (error: unknown) => options.onFatal(error instanceof Error ? error : new Error(String(error))));
      },
      onLost: (reason) => {
        log(`sim: leader lock lost: ${reason}`);
        options.metrics?.setReconciled(false);
        getRunner().onLost(`lock lost: ${reason}`);
      },
    });
    options.metrics?.watchLeadership(lock);
    options.metrics?.setReconciled(false);
    return new SessionLeadership(lock, redis);
  }

  start(): void {
    this.lock.start();
  }

  isLeader(): boolean {
    return this.lock.isLeader();
  }

  async stop(): Promise<void> {
    await this.lock.stop();
    this.redis.disconnect();
  }
}
