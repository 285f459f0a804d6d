// The redis-loss workload: runners trading a paper broker under a leader lock, the three lock variants, the
// broker (with or without the epoch fence) and the timing of both modes.
import { EpochFence } from '../../adapters/leader-lock/epoch-fence.ts';
import { valueAsText, type LockStore, type TimerPort } from '../../adapters/leader-lock/lock-store.ts';
import { LeaderLock, type LeadershipPort } from '../../adapters/leader-lock/leader-lock.ts';

export type RedisVariant = 'naive' | 'decode-fix' | 'fenced';
export const LOCK_KEY = 'sim:leader';
/** Fault kinds the redis-loss drivers know (sim and real). */
export const REDIS_FAULT_KINDS: readonly string[] = ['redis-kill', 'redis-pause', 'leader-pause', 'buffer-values'];

export interface RedisTiming {
  readonly ttlMs: number;
  readonly refreshEveryMs: number;
  readonly tradeEveryMs: number;
  readonly backoffMs: { readonly initial: number; readonly max: number };
  /** Time between a runner deciding to trade and its request leaving (where a pause hurts). */
  readonly decisionMs: number;
  /** One-way latency to the broker. */
  readonly networkMs: number;
}

export const SIM_TIMING: RedisTiming = { ttlMs: 3_000, refreshEveryMs: 1_000, tradeEveryMs: 1_000, backoffMs: { initial: 100, max: 1_000 }, decisionMs: 5, networkMs: 2 };
export const REAL_TIMING: RedisTiming = { ttlMs: 1_000, refreshEveryMs: 300, tradeEveryMs: 250, backoffMs: { initial: 50, max: 300 }, decisionMs: 5, networkMs: 0 };

/** After Redis (or a paused leader) comes back, some runner must trade again within this bound. */
export function resumeBoundMs(timing: RedisTiming): number {
  return 2 * timing.ttlMs + timing.backoffMs.max + 2 * timing.tradeEveryMs;
}

export interface BrokerRequest {
  readonly kind: 'hello' | 'entry' | 'stop' | 'target' | 'bracket';
  readonly runner: string;
  /** Ground truth: the runner's tenure number (acquisition order), not visible to the broker's logic. */
  readonly tenure: number;
  readonly epoch: number;
  readonly clientOrderId: string;
  readonly group: string;
}

export interface BrokerReply {
  readonly accepted: boolean;
  readonly reason: string;
  readonly lastBar: number;
}

export interface AcceptedOrder {
  readonly clientOrderId: string;
  readonly runner: string;
  readonly tenure: number;
  readonly kind: BrokerRequest['kind'];
  readonly group: string;
  readonly timeUs: number;
}

/** The paper broker: accepts everything, or with a fence only requests at or above the newest epoch. */
export class PaperBroker {
  readonly accepted: AcceptedOrder[] = [];
  private readonly fence: EpochFence | null;

  constructor(fenced: boolean) {
    this.fence = fenced ? new EpochFence() : null;
  }

  private lastBar = -1;

  /** A hello's reply carries the newest bar traded, so a new leader reconciles before trading. */
  receive(request: BrokerRequest, timeUs: number): BrokerReply {
    if (this.fence && !this.fence.accept(request.epoch)) return { accepted: false, reason: `stale epoch ${request.epoch} < ${this.fence.newest()}`, lastBar: this.lastBar };
    if (request.kind !== 'hello') {
      this.accepted.push({ clientOrderId: request.clientOrderId, runner: request.runner, tenure: request.tenure, kind: request.kind, group: request.group, timeUs });
      this.lastBar = Math.max(this.lastBar, Number(request.group.slice(1)));
    }
    return { accepted: true, reason: 'ok', lastBar: this.lastBar };
  }
}

export interface LeadershipEvents {
  onAcquired(epoch: number): void;
  onLost(reason: string): void;
}

/**
 * The unfixed lock and the incident's fix, written the way the incident code was: acquire with SET NX PX,
 * no local deadline, store calls without a timeout. `naive` compares the raw GET reply with its token (===)
 * before a plain PEXPIRE (extends whoever holds the key by then) and releases by GET then DEL comparing with
 * ===: a Buffer value never equals, so under Buffer replies it steps down on every refresh and never releases.
 * `decode-fix` decodes string or Buffer and checks the token before extending or deleting. Neither fences.
 */
export class UnfencedLeadership implements LeadershipPort {
  private leading = false;
  private stopped = false;
  private token = '';
  private tokenCount = 0;

  constructor(
    private readonly variant: 'naive' | 'decode-fix',
    private readonly store: LockStore,
    private readonly timers: TimerPort,
    private readonly runner: string,
    private readonly timing: RedisTiming,
    private readonly events: LeadershipEvents,
  ) {}

  start(): void {
    this.timers.setTimer(0, () => void this.attempt());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.leading) return;
    this.leading = false;
    const value = await this.store.get(LOCK_KEY);
    const held = this.variant === 'naive' ? value : valueAsText(value);
    if (held === this.token) await this.store.releaseIfOwner(LOCK_KEY, this.token);
  }

  isLeader(): boolean {
    return this.leading;
  }

  epoch(): number {
    return 0;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    this.tokenCount += 1;
    const token = `${this.runner}:${this.tokenCount}`;
    let acquired = false;
    try {
      acquired = await this.store.setIfAbsent(LOCK_KEY, token, this.timing.ttlMs);
    } catch {
      acquired = false;
    }
    if (this.stopped) return;
    if (!acquired) {
      this.timers.setTimer(this.timing.backoffMs.max, () => void this.attempt());
      return;
    }
    this.token = token;
    this.leading = true;
    this.events.onAcquired(0);
    this.timers.setTimer(this.timing.refreshEveryMs, () => void this.refresh());
  }

  /** PEXPIRE key ttl: extends whoever holds the key (no token check); false when the key is gone. */
  private async pexpire(): Promise<boolean> {
    const current = valueAsText(await this.store.get(LOCK_KEY));
    return current !== null && this.store.extendIfOwner(LOCK_KEY, current, this.timing.ttlMs);
  }

  private async refresh(): Promise<void> {
    if (this.stopped || !this.leading) return;
    try {
      let stillOurs: boolean;
      if (this.variant === 'naive') {
        // The incident code: GET the key and compare the raw reply with the token (===), then a plain PEXPIRE
        // of whatever the key holds by then. A client that returns Buffers makes the comparison false on
        // every refresh, so the leader believes it lost a lock it still holds, steps down and waits out its
        // own lease (leadership flaps and trading stalls).
        const value: string | Buffer | null = await this.store.get(LOCK_KEY);
        stillOurs = value === this.token && await this.pexpire();
      } else {
        const held = valueAsText(await this.store.get(LOCK_KEY));
        stillOurs = held === this.token && await this.store.extendIfOwner(LOCK_KEY, this.token, this.timing.ttlMs);
      }
      if (!stillOurs) {
        this.leading = false;
        this.events.onLost('refresh found the key gone or not ours');
        this.timers.setTimer(this.timing.backoffMs.initial, () => void this.attempt());
        return;
      }
    } catch {
      // The incident code logged the error and carried on as leader: no deadline, no kill switch.
    }
    this.timers.setTimer(this.timing.refreshEveryMs, () => void this.refresh());
  }
}

export function leadershipFor(
  variant: RedisVariant, store: LockStore, timers: TimerPort, runner: string, timing: RedisTiming, events: LeadershipEvents,
): LeadershipPort {
  if (variant !== 'fenced') return new UnfencedLeadership(variant, store, timers, runner, timing, events);
  let count = 0;
  return new LeaderLock({
    store, timers, key: LOCK_KEY, ttlMs: timing.ttlMs, refreshEveryMs: timing.refreshEveryMs,
    tokens: { nextToken: () => `${runner}:${++count}` },
    backoffMs: { ...timing.backoffMs },
    onAcquired: (epoch) => events.onAcquired(epoch),
    onLost: (reason) => events.onLost(reason),
  });
}

/** The runner whose token a lock value is (tokens are `${runner}:${n}`). */
export function runnerOfToken(value: string | Buffer | null): string | null {
  const text = valueAsText(value);
  return text === null ? null : text.split(':')[0];
}
