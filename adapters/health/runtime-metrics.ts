// What the live runner reports about itself: counters and gauges for Prometheus, and the readiness verdict
// (leading, every heartbeat fresh, reconciled) that /ready serves. The runner calls the record* methods; ages
// are computed at read time from the injected clock, so a stalled feed shows up even if nothing else happens.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../../engine/types.ts';

export interface HeartbeatStatus {
  source: string;
  /** Milliseconds since the last heartbeat; null when none has arrived yet. */
  ageMs: number | null;
  ageMsMax: number;
  fresh: boolean;
}

export interface Readiness {
  ready: boolean;
  leader: boolean;
  epoch: number;
  reconciled: boolean;
  killSwitchActive: boolean;
  heartbeats: HeartbeatStatus[];
  /** One line per failed condition; empty when ready. */
  reasons: string[];
}

/** What RuntimeMetrics can read from a leader lock (LeaderLock or NoLock) at scrape and readiness time. */
export interface LeadershipSource {
  isLeader(): boolean;
  epoch(): number;
  stats?(): { refreshesOk: number; refreshesFailed: number; losses: number };
}

export interface RuntimeMetricsOptions {
  clock: Clock;
  /** Heartbeat sources that readiness requires (market data, trade stream, strategy loop...) and each one's age limit. */
  heartbeatAgeMsMax: Record<string, number>;
  /** A registry of its own by default, so two runners in one process (tests) do not collide. */
  registry?: Registry;
}

const US_PER_MS = 1_000;

export class RuntimeMetrics {
  readonly registry: Registry;
  private readonly clock: Clock;
  private readonly limits: Map<string, number>;
  private readonly lastHeartbeatUs = new Map<string, number>();
  private leader = false;
  private currentEpoch = 0;
  private reconciled = false;
  private killSwitchActive = false;
  private leadership: LeadershipSource | null = null;
  private lockStatsSeen = { refreshesOk: 0, refreshesFailed: 0, losses: 0 };
  private readonly orders: Counter<'side'>;
  private readonly fills: Counter<'side'>;
  private readonly denials: Counter<'reason'>;
  private readonly rejections: Counter<'code'>;
  private readonly lockRefreshes: Counter<'outcome'>;
  private readonly killSwitchActivations: Counter<'reason'>;

  constructor(options: RuntimeMetricsOptions) {
    this.clock = options.clock;
    this.registry = options.registry ?? new Registry();
    this.limits = new Map(Object.entries(options.heartbeatAgeMsMax).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const registers = [this.registry];
    this.orders = new Counter({ name: 'sim_orders_submitted_total', help: 'Orders sent to the venue', labelNames: ['side'], registers });
    this.fills = new Counter({ name: 'sim_fills_total', help: 'Fills received from the venue', labelNames: ['side'], registers });
    this.denials = new Counter({ name: 'sim_order_denials_total', help: 'Orders refused by the engine risk checks, by reason', labelNames: ['reason'], registers });
    this.rejections = new Counter({ name: 'sim_order_rejections_total', help: 'Orders refused by the venue, by code', labelNames: ['code'], registers });
    this.lockRefreshes = new Counter({ name: 'sim_leader_lock_refreshes_total', help: 'Leader lock refresh attempts, by outcome', labelNames: ['outcome'], registers });
    this.killSwitchActivations = new Counter({ name: 'sim_kill_switch_activations_total', help: 'Kill switch activations, by reason', labelNames: ['reason'], registers });
    // collect() runs with the gauge as `this`; these closures read our state at scrape time.
    const heartbeats = (): HeartbeatStatus[] => this.heartbeats();
    const flags = (): { leader: boolean; epoch: number; reconciled: boolean; killSwitchActive: boolean } => {
      this.syncLeadership();
      return { leader: this.leader, epoch: this.currentEpoch, reconciled: this.reconciled, killSwitchActive: this.killSwitchActive };
    };
    new Gauge({
      name: 'sim_heartbeat_age_seconds', help: 'Seconds since the last heartbeat of each source (-1 before the first)', labelNames: ['source'], registers,
      collect() {
        for (const status of heartbeats()) this.set({ source: status.source }, status.ageMs === null ? -1 : status.ageMs / 1_000);
      },
    });
    new Gauge({ name: 'sim_leader', help: '1 while this process holds the leader lock', registers, collect() { this.set(flags().leader ? 1 : 0); } });
    new Gauge({ name: 'sim_leader_epoch', help: 'Fencing epoch of the current or last tenure', registers, collect() { this.set(flags().epoch); } });
    new Gauge({ name: 'sim_reconciled', help: '1 once startup reconciliation with the venue has completed', registers, collect() { this.set(flags().reconciled ? 1 : 0); } });
    new Gauge({ name: 'sim_kill_switch_active', help: '1 while the kill switch is engaged', registers, collect() { this.set(flags().killSwitchActive ? 1 : 0); } });
  }

  recordOrder(side: string): void { this.orders.inc({ side }); }
  recordFill(side: string): void { this.fills.inc({ side }); }
  recordDenial(reason: string): void { this.denials.inc({ reason }); }
  recordRejection(code: string): void { this.rejections.inc({ code }); }
  recordLockRefresh(outcome: 'ok' | 'failed' | 'lost'): void { this.lockRefreshes.inc({ outcome }); }

  recordKillSwitch(reason: string): void {
    this.killSwitchActive = true;
    this.killSwitchActivations.inc({ reason });
  }

  clearKillSwitch(): void { this.killSwitchActive = false; }

  recordHeartbeat(source: string): void {
    this.lastHeartbeatUs.set(source, this.clock.nowUs());
  }

  setLeader(leader: boolean, epoch: number): void {
    this.leader = leader;
    this.currentEpoch = epoch;
  }

  setReconciled(reconciled: boolean): void { this.reconciled = reconciled; }

  /**
   * Reads leadership from the lock itself whenever metrics or readiness are read, instead of relying on the
   * runner to call setLeader: /ready then turns 503 the moment the lock's local deadline passes.
   */
  watchLeadership(source: LeadershipSource): void {
    this.leadership = source;
    this.syncLeadership();
  }

  private syncLeadership(): void {
    const source = this.leadership;
    if (source === null) return;
    this.leader = source.isLeader();
    this.currentEpoch = source.epoch();
    const stats = source.stats?.();
    if (stats === undefined) return;
    // The lock keeps running totals; counters take the growth since the last read.
    this.lockRefreshes.inc({ outcome: 'ok' }, Math.max(0, stats.refreshesOk - this.lockStatsSeen.refreshesOk));
    this.lockRefreshes.inc({ outcome: 'failed' }, Math.max(0, stats.refreshesFailed - this.lockStatsSeen.refreshesFailed));
    this.lockRefreshes.inc({ outcome: 'lost' }, Math.max(0, stats.losses - this.lockStatsSeen.losses));
    this.lockStatsSeen = { refreshesOk: stats.refreshesOk, refreshesFailed: stats.refreshesFailed, losses: stats.losses };
  }

  heartbeats(): HeartbeatStatus[] {
    const nowUs = this.clock.nowUs();
    const sources = new Set([...this.limits.keys(), ...this.lastHeartbeatUs.keys()]);
    return [...sources].sort().map((source) => {
      const lastUs = this.lastHeartbeatUs.get(source);
      const ageMs = lastUs === undefined ? null : Math.max(0, Math.floor((nowUs - lastUs) / US_PER_MS));
      const ageMsMax = this.limits.get(source) ?? Number.POSITIVE_INFINITY;
      return { source, ageMs, ageMsMax, fresh: ageMs !== null && ageMs <= ageMsMax };
    });
  }

  readiness(): Readiness {
    this.syncLeadership();
    const heartbeats = this.heartbeats().filter((status) => this.limits.has(status.source));
    const reasons: string[] = [];
    if (!this.leader) reasons.push('expected to hold the leader lock, found standby');
    if (!this.reconciled) reasons.push('expected startup reconciliation complete, found pending');
    if (this.killSwitchActive) reasons.push('expected the kill switch released, found engaged');
    for (const status of heartbeats) {
      if (!status.fresh) reasons.push(`expected heartbeat ${status.source} within ${status.ageMsMax} ms, found ${status.ageMs === null ? 'none yet' : `${status.ageMs} ms`}`);
    }
    return { ready: reasons.length === 0, leader: this.leader, epoch: this.currentEpoch, reconciled: this.reconciled, killSwitchActive: this.killSwitchActive, heartbeats, reasons };
  }
}
