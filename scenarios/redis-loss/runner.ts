// A trading runner under a leader lock, shared by sim and real mode: while it leads it sends one bracket
// (entry plus an OCO pair of exits) per trading period, with client order ids derived from the bar, so two
// leaders acting on the same bar send the same ids. The fenced runner announces its epoch to the broker on
// acquisition (startup reconciliation) and sends brackets atomically; the unfenced ones send leg by leg.
import type { LockStore, TimerPort } from '../../adapters/leader-lock/lock-store.ts';
import type { LeadershipPort } from '../../adapters/leader-lock/leader-lock.ts';
import type { History } from '../framework/history.ts';
import { leadershipFor, type BrokerReply, type BrokerRequest, type RedisTiming, type RedisVariant } from './workload.ts';

export interface RunnerPorts {
  readonly timers: TimerPort;
  readonly store: LockStore;
  readonly history: History;
  send(request: BrokerRequest): Promise<BrokerReply>;
  /** Ground truth: the next tenure number, in acquisition order across all runners. */
  nextTenure(): number;
  /** Called between the decision and the send: where a GC pause or SIGSTOP of the runner bites. */
  pauseIfArmed(): Promise<void>;
}

export class Runner {
  private readonly leadership: LeadershipPort;
  private tenure = 0;
  private ready = false;
  private stopped = false;
  /** Fenced runner: the newest bar already traded, learned from the broker when taking over. */
  private lastTradedBar = -1;

  constructor(readonly name: string, private readonly variant: RedisVariant, private readonly timing: RedisTiming, private readonly ports: RunnerPorts) {
    this.leadership = leadershipFor(variant, ports.store, ports.timers, name, timing, {
      onAcquired: (epoch) => this.onAcquired(epoch),
      onLost: (reason) => this.onLost(reason),
    });
  }

  isLeader(): boolean {
    return this.leadership.isLeader() && this.ready;
  }

  start(): void {
    this.leadership.start();
    this.ports.timers.setTimer(this.timing.tradeEveryMs, () => this.tradeTick());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ready) this.ports.history.note(this.name, 'lead-end', { runner: this.name, tenure: this.tenure, reason: 'stopped' });
    this.ready = false;
    await this.leadership.stop().catch(() => undefined);
  }

  private onAcquired(epoch: number): void {
    this.tenure = this.ports.nextTenure();
    const tenure = this.tenure;
    this.ports.history.note(this.name, 'lead-start', { runner: this.name, tenure, epoch });
    if (this.variant !== 'fenced') { this.ready = true; return; }
    // Announce the new epoch before trading, so the fence refuses the previous leader from now on, and
    // learn the newest bar the previous leader got through, so this one does not trade it again.
    void this.request({ kind: 'hello', runner: this.name, tenure, epoch, clientOrderId: `hello-${this.name}-${tenure}`, group: '' }).then((reply) => {
      if (!reply.accepted || this.tenure !== tenure || !this.leadership.isLeader()) return;
      this.lastTradedBar = Math.max(this.lastTradedBar, reply.lastBar);
      this.ready = true;
    });
  }

  private onLost(reason: string): void {
    if (this.tenure > 0) this.ports.history.note(this.name, 'lead-end', { runner: this.name, tenure: this.tenure, reason });
    this.ready = false;
  }

  private async request(request: BrokerRequest): Promise<BrokerReply> {
    const entry = this.ports.history.invoke(this.name, 'submit', request);
    const reply = await this.ports.send(request);
    this.ports.history.complete(entry, reply.accepted ? 'ok' : 'failed', null, reply.accepted ? null : reply.reason);
    return reply;
  }

  private tradeTick(): void {
    if (this.stopped) return;
    this.ports.timers.setTimer(this.timing.tradeEveryMs, () => this.tradeTick());
    if (!this.isLeader()) return;
    const bar = Math.floor(this.ports.timers.nowMs() / this.timing.tradeEveryMs);
    if (this.variant === 'fenced') {
      if (bar <= this.lastTradedBar) return;
      this.lastTradedBar = bar;
    }
    const tenure = this.tenure;
    const epoch = this.leadership.epoch();
    this.ports.history.note(this.name, 'decide', { runner: this.name, tenure, bar });
    this.ports.timers.setTimer(this.timing.decisionMs, () => void this.sendBracket(bar, tenure, epoch));
  }

  private async sendBracket(bar: number, tenure: number, epoch: number): Promise<void> {
    await this.ports.pauseIfArmed();
    const group = `b${bar}`;
    const base = { runner: this.name, tenure, epoch, group };
    if (this.variant === 'fenced') {
      await this.request({ ...base, kind: 'bracket', clientOrderId: `${group}-bracket` });
      return;
    }
    // Leg by leg, each after the previous one's reply; a runner that lost the lock stops between legs.
    for (const kind of ['entry', 'stop', 'target'] as const) {
      if (kind !== 'entry' && !this.stopped && !this.leadership.isLeader()) return;
      if (!(await this.request({ ...base, kind, clientOrderId: `${group}-${kind}` })).accepted) return;
    }
  }
}
