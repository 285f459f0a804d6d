// A paper or live session: the same engine and strategy as replay, driven by inbound records as they arrive.
// Every inbound record is journaled (fsync'd, checksummed) before it is applied, and every outbound intent before
// it is sent. Starting with an existing journal recovers: the journal's inbound records are re-applied to a fresh
// engine (which regenerates the journaled intents exactly, or the start is refused), then the session reconciles
// with the broker: orders the broker never received are sent (once: the broker said it has none by that client
// order id), orders it has are adopted, orphan exits are cancelled, a position without a working protective stop
// gets one, and positions that still differ from the broker's refuse the start, saying why. Orders placed by an
// earlier process are adopted (followed through replaces), and journaled intents the broker never saw are resent
// once, marked `resend` so that replays skip them.
//
// Under a leader lock (`leader: { leader: false }`), the session starts on standby (journaled), reconciles on
// each acquisition before market records resume, and stops sending on a loss, or as soon as the lock's local
// deadline is found passed before the next record (`leadershipCheck`).
import {
  SimError, type ExecutionReport, type Instrument, type Order, type StrategyDefinition, resolveParams,
} from '../../engine/index.ts';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { findStrategy } from '../../strategies/index.ts';
import { Journal } from '../journal/index.ts';
import { toRiskLimits, type RiskOptions } from '../replay/run-replay.ts';
import { SessionCore } from './session-core.ts';
import {
  SESSION_FORMAT_VERSION, intentKey, isInbound, isOutbound, type InboundRecord, type MarketRecord, type ModifyRecord, type OutboundRecord, type SessionHeader,
  type SessionRecord,
} from './session-records.ts';
import type { RuntimeVenue } from './runtime-venue.ts';

export interface SessionConfig {
  readonly runId: string;
  readonly strategy: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly instruments: readonly Instrument[];
  readonly initialCash: number;
  readonly risk: RiskOptions;
  readonly venue: string;
}

export interface SessionRunnerOptions {
  readonly config: SessionConfig;
  readonly venue: RuntimeVenue;
  readonly journalPath: string;
  readonly nowUs: () => number;
  /**
   * Initial leadership (single-process mode: leader at epoch 0). `{ leader: false }` starts on standby: no
   * reconciliation and no orders until `onAcquired(epoch)`, which reconciles before trading resumes.
   */
  readonly leader?: { leader: boolean; epoch: number };
  /**
   * The lock's own local judgement (e.g. LeaderLock.isLeader: lease deadline not passed). Checked before each
   * inbound record while leading: a lease that lapsed unnoticed (the process was paused) is journaled as lost
   * before anything else is applied, so nothing is sent under it.
   */
  readonly leadershipCheck?: () => boolean;
  /** Test hook: SIGKILL this process right after the journal's Nth record (1-based, counting this process's appends). */
  readonly crashAfterRecord?: number;
  readonly onRecord?: (record: SessionRecord) => void;
  /** Strategy lookup by name (default: the shipped strategies). */
  readonly resolveStrategy?: StrategyResolver;
}

export interface ReconcileSummary {
  readonly recovered: boolean;
  readonly replayedRecords: number;
  readonly resent: number;
  readonly adopted: number;
  readonly cancelledOrphans: number;
  readonly protectedPositions: number;
}

function headerOf(config: SessionConfig): SessionHeader {
  return {
    k: 'session', version: SESSION_FORMAT_VERSION, runId: config.runId, strategy: config.strategy, params: config.params,
    instruments: config.instruments, initialCash: config.initialCash, risk: config.risk as Record<string, unknown>, venue: config.venue,
  };
}

/** Finds a strategy by name: the shipped ones by default; tests may add their own (in their own process). */
export type StrategyResolver = (name: string) => StrategyDefinition;

export function buildCore(header: SessionHeader, capabilities: RuntimeVenue['capabilities'], outbound: (record: OutboundRecord) => void, leader: { leader: boolean; epoch: number }, resolveStrategy: StrategyResolver = findStrategy): { core: SessionCore; definition: StrategyDefinition } {
  const definition = resolveStrategy(header.strategy);
  const params = resolveParams(definition, header.params);
  const lotsPerUnit = 10 ** (header.instruments[0]?.lotScale ?? 0);
  const core = new SessionCore({
    runId: header.runId, strategyId: definition.name, instruments: header.instruments, initialCash: header.initialCash,
    risk: toRiskLimits(header.risk as RiskOptions, lotsPerUnit),
  }, definition.create(params), capabilities, outbound, leader);
  return { core, definition };
}

/** Re-apply a journal's inbound records to a fresh core; return it with the regenerated and the journaled intents. */
export function replayJournal(records: readonly SessionRecord[], capabilities: RuntimeVenue['capabilities'], resolveStrategy: StrategyResolver = findStrategy): {
  header: SessionHeader; core: SessionCore; regenerated: OutboundRecord[]; journaled: OutboundRecord[];
} {
  const header = records[0];
  if (!header || header.k !== 'session') throw new SimError('SESSION_NO_HEADER', `expected a session header as the first journal record, found ${header ? header.k : 'an empty journal'}`);
  if (header.version !== SESSION_FORMAT_VERSION) throw new SimError('SESSION_VERSION', `expected session format ${SESSION_FORMAT_VERSION}, found ${header.version}`);
  const regenerated: OutboundRecord[] = [];
  const journaled: OutboundRecord[] = [];
  const { core } = buildCore(header, capabilities, (record) => regenerated.push(record), { leader: true, epoch: 0 }, resolveStrategy);
  for (const record of records.slice(1)) {
    if (isInbound(record)) core.apply(record);
    else if (isOutbound(record) && !(record.k === 'submit' && record.resend) && !(record.k === 'cancel' && record.orphan) && !(record.k === 'modify' && record.resend)) journaled.push(record);
  }
  return { header, core, regenerated, journaled };
}

/** The first index where two intent sequences differ, or -1 when `prefix` is a prefix of `full`. */
export function firstDifference(prefix: readonly OutboundRecord[], full: readonly OutboundRecord[]): number {
  for (let i = 0; i < prefix.length; i++) {
    if (i >= full.length || intentKey(prefix[i]) !== intentKey(full[i])) return i;
  }
  return -1;
}

export class SessionRunner {
  readonly core: SessionCore;
  readonly header: SessionHeader;
  private readonly journal: Journal;
  private readonly venue: RuntimeVenue;
  private readonly options: SessionRunnerOptions;
  private readonly inbox: InboundRecord[] = [];
  private draining = false;
  private appended = 0;
  private stopped = false;
  reconciled = false;
  lastMarketUs = -Infinity;
  /** Market records the journal held when this process opened it: a restarted feed skips that many. */
  marketRecordsJournaled = 0;
  private standbyRecordPending = false;
  private replayedAtOpen = 0;
  private pendingAtOpen: OutboundRecord[] = [];
  private reconciling: Promise<void> | null = null;
  /** Journaled modifies with no `modified` or `modify-rejected` report after them, when the journal was opened. */
  private unresolvedModifies: ModifyRecord[] = [];

  private constructor(options: SessionRunnerOptions, core: SessionCore, header: SessionHeader, journal: Journal) {
    this.options = options;
    this.venue = options.venue;
    this.core = core;
    this.header = header;
    this.journal = journal;
  }

  get engine() {
    return this.core.engine;
  }

  /** Open a session: a new journal, or recovery from an existing one followed by reconciliation with the venue. */
  static async open(options: SessionRunnerOptions): Promise<{ runner: SessionRunner; summary: ReconcileSummary }> {
    const records = existsSync(options.journalPath) ? Journal.readAll<SessionRecord>(options.journalPath).records : [];
    const header = headerOf(options.config);
    let core: SessionCore;
    let pending: OutboundRecord[] = [];
    let recovered = false;
    if (records.length > 0) {
      const replay = replayJournal(records, options.venue.capabilities, options.resolveStrategy);
      const journaledHeader = replay.header;
      for (const key of ['runId', 'strategy', 'venue'] as const) {
        if (journaledHeader[key] !== header[key]) {
          throw new SimError('SESSION_CONFIG_CHANGED', `expected ${key} '${journaledHeader[key]}' as journaled in ${options.journalPath}, found '${header[key]}'`);
        }
      }
      if (JSON.stringify(journaledHeader.params) !== JSON.stringify(resolveParams((options.resolveStrategy ?? findStrategy)(header.strategy), header.params))
        && JSON.stringify(journaledHeader.params) !== JSON.stringify(header.params)) {
        throw new SimError('SESSION_CONFIG_CHANGED', `expected the journaled parameters ${JSON.stringify(journaledHeader.params)}, found ${JSON.stringify(header.params)}`);
      }
      const difference = firstDifference(replay.journaled, replay.regenerated);
      if (difference >= 0) {
        const expected = intentKey(replay.journaled[difference]);
        const found = replay.regenerated[difference] ? intentKey(replay.regenerated[difference]) : 'nothing';
        throw new SimError('SESSION_DIVERGED', `expected the journal to replay to its own intents, found intent ${difference + 1} differs: journaled '${expected}', regenerated '${found}'`);
      }
      core = replay.core;
      pending = replay.regenerated.slice(replay.journaled.length);
      recovered = true;
    } else {
      core = buildCore(header, options.venue.capabilities, () => {}, options.leader ?? { leader: true, epoch: 0 }, options.resolveStrategy).core;
    }
    mkdirSync(path.dirname(options.journalPath), { recursive: true });
    // Group commit: market records are written at once (a killed process keeps them: they are in the OS) and
    // fsync'd in batches; a broker report and every outbound intent are fsync'd before they are acted on.
    const journal = Journal.open(options.journalPath, { durability: 'batched', batchRecordsMax: 4_096 });
    const runner = new SessionRunner(options, core, recovered ? (records[0] as SessionHeader) : header, journal);
    const unresolved = new Map<string, ModifyRecord>();
    for (const record of records) {
      if (record.k === 'modify') unresolved.set(record.id, record);
      else if (record.k === 'report' && (record.r.type === 'modified' || record.r.type === 'modify-rejected')) unresolved.delete(record.r.clientOrderId);
    }
    runner.unresolvedModifies = [...unresolved.values()];
    for (const record of records) {
      if (record.k === 'bar' || record.k === 'tick') {
        runner.marketRecordsJournaled++;
        runner.lastMarketUs = record.t;
      }
    }
    if (!recovered) runner.append(header);
    core.redirect((record) => runner.sendOutbound(record));
    await options.venue.connect((report) => runner.onVenueReport(report));
    const notReconciled = { recovered, replayedRecords: records.length, resent: 0, adopted: 0, cancelledOrphans: 0, protectedPositions: 0 };
    if (options.leader !== undefined && !options.leader.leader) {
      // Standby: the journal says so before anything else this process applies; reconciliation waits for the lock.
      runner.standbyRecordPending = true;
      runner.replayedAtOpen = records.length;
      runner.pendingAtOpen = pending;
      return { runner, summary: notReconciled };
    }
    const summary = recovered ? await runner.reconcile(records.length, pending) : { ...notReconciled, replayedRecords: 0 };
    runner.reconciled = true;
    return { runner, summary };
  }

  private append(record: SessionRecord): void {
    this.journal.append(record);
    if (record.k !== 'bar' && record.k !== 'tick' && record.k !== 'timer') this.journal.flush();
    this.appended++;
    this.options.onRecord?.(record);
    if (this.options.crashAfterRecord !== undefined && this.appended === this.options.crashAfterRecord) {
      // Test hook for crash recovery: die the hardest way right after this record is durable.
      process.kill(process.pid, 'SIGKILL');
    }
  }

  private sendOutbound(record: OutboundRecord): void {
    this.append(record);
    this.sendToVenue(record);
  }

  private sendToVenue(record: OutboundRecord): void {
    switch (record.k) {
      case 'submit': this.venue.submit(record.r); break;
      case 'cancel': this.venue.cancel(record.id); break;
      case 'modify': this.venue.modify(record.id, record.c); break;
    }
  }

  private onVenueReport(report: ExecutionReport): void {
    this.enqueue({ k: 'report', t: Math.max(this.options.nowUs(), this.engine.nowUs()), r: report });
  }

  /**
   * A market record: the venue sees it first (paper), then the engine, in journal order. When the venue needs
   * time to see it (a test fake told over HTTP), the returned promise resolves once the engine has it too.
   */
  pushMarket(record: MarketRecord): void | Promise<void> {
    if (this.stopped) return;
    // Trading waits while a new tenure reconciles.
    if (this.reconciling !== null) return this.reconciling.then(() => this.pushMarket(record));
    const seen = this.venue.onMarket?.(record);
    if (seen instanceof Promise) return seen.then(() => this.enqueueMarket(record));
    this.enqueueMarket(record);
  }

  private enqueueMarket(record: MarketRecord): void {
    if (this.stopped) return;
    this.lastMarketUs = record.t;
    this.enqueue(record);
  }

  /** Fire the engine's timers that are due by now. */
  pushTimers(nowUs: number): void {
    if (this.engine.nextEventUs() <= nowUs) this.enqueue({ k: 'timer', t: nowUs });
  }

  pushLeadership(leader: boolean, epoch: number, reason: string): void {
    this.enqueue({ k: 'leader', t: Math.max(this.options.nowUs(), this.engine.nowUs()), leader, epoch, reason });
  }

  /**
   * The lock was acquired: lead under `epoch`, then reconcile with the broker (a new tenure trusts nothing from
   * before) while market records wait. Rejects (and the session must not trade) when positions disagree.
   */
  async onAcquired(epoch: number): Promise<ReconcileSummary> {
    const work = (async () => {
      this.pushLeadership(true, epoch, 'lock acquired');
      const summary = await this.reconcile(this.replayedAtOpen, this.pendingAtOpen);
      this.pendingAtOpen = [];
      this.reconciled = true;
      return summary;
    })();
    this.reconciling = work.then(() => undefined, () => undefined);
    try {
      return await work;
    } finally {
      this.reconciling = null;
    }
  }

  /** The lock was lost: stop sending at once (journaled), and count as not reconciled until the next tenure. */
  onLost(reason: string): void {
    this.reconciled = false;
    if (this.core.leader) this.pushLeadership(false, this.engine.epoch, reason);
  }

  private enqueue(record: InboundRecord): void {
    this.inbox.push(record);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let record = this.inbox.shift(); record !== undefined; record = this.inbox.shift()) {
        const t = record.k === 'bar' ? record.st : record.t;
        if (this.standbyRecordPending) {
          this.standbyRecordPending = false;
          this.applyNow({ k: 'leader', t, leader: false, epoch: this.engine.epoch, reason: 'standby until the lock is held' });
        } else if (this.core.leader && record.k !== 'leader' && this.options.leadershipCheck !== undefined && !this.options.leadershipCheck()) {
          this.reconciled = false;
          this.applyNow({ k: 'leader', t: Math.max(t, this.engine.nowUs()), leader: false, epoch: this.engine.epoch, reason: 'lease lapsed (checked before applying)' });
        }
        this.applyNow(record);
      }
    } finally {
      this.draining = false;
    }
  }

  private applyNow(record: InboundRecord): void {
    this.append(record);
    this.core.apply(record);
  }

  /** Graceful stop: no new entries, exits keep working, state is durable; then close. */
  async stop(reason: string): Promise<void> {
    if (this.stopped) return;
    this.enqueue({ k: 'stop', t: Math.max(this.options.nowUs(), this.engine.nowUs()), reason });
    this.stopped = true;
    this.journal.flush();
  }

  async close(): Promise<void> {
    this.journal.close();
    await this.venue.close();
  }

  private async reconcile(replayedRecords: number, pending: readonly OutboundRecord[]): Promise<ReconcileSummary> {
    const engine = this.engine;
    let resent = 0;
    let adopted = 0;
    let cancelledOrphans = 0;
    let protectedPositions = 0;
    // 1. Orders the engine believes sent and open (their submit is journaled): adopt what the broker has, and
    //    resend, once, what it never received (it said so when asked by client order id).
    const pendingIds = new Set(pending.flatMap((record) => (record.k === 'submit' ? [record.r.clientOrderId] : [])));
    const resend: Order[] = [];
    for (const order of [...engine.openOrders()]) {
      if (pendingIds.has(order.clientOrderId)) continue;
      const request = order.request();
      const state = await this.venue.lookupByClientOrderId(order.clientOrderId, request);
      if (state === null) {
        resend.push(order);
      } else {
        await this.venue.adopt?.(request, { accepted: order.status !== 'submitted', quantity: order.quantity, filledQuantity: order.filledQuantity, filledNotionalTickLots: order.filledNotionalTickLots });
        adopted++;
      }
    }
    // A journaled modify the broker never acted on (the crash came between journal and send): adoption reported
    // what the broker did; if the order still differs from what was asked, the modify goes out again.
    const modifies: ModifyRecord[] = [];
    for (const record of this.unresolvedModifies) {
      const order = engine.orders.get(record.id);
      if (order === undefined || !order.isOpen || resend.includes(order)) continue;
      const c = record.c;
      const differs = (c.quantity !== undefined && c.quantity !== order.quantity) || (c.limitPriceTicks !== undefined && c.limitPriceTicks !== order.limitPriceTicks)
        || (c.stopPriceTicks !== undefined && c.stopPriceTicks !== order.stopPriceTicks);
      if (differs) modifies.push({ k: 'modify', t: engine.nowUs(), id: record.id, c, resend: true });
    }
    this.unresolvedModifies = [];
    // 2. Intents the engine regenerated that never reached the journal (the crash came first): send the ones the
    //    broker lacks. Everything goes out in one step, after the lookups, so the two legs of an OCO pair (one
    //    journaled, one not) reach the venue together.
    const send: OutboundRecord[] = [];
    for (const record of pending) {
      if (record.k === 'submit') {
        const order = engine.orders.get(record.r.clientOrderId);
        if ((await this.venue.lookupByClientOrderId(record.r.clientOrderId, record.r)) !== null) {
          await this.venue.adopt?.(record.r, { accepted: order !== undefined && order.status !== 'submitted', filledQuantity: order?.filledQuantity ?? 0, filledNotionalTickLots: order?.filledNotionalTickLots ?? 0 });
          adopted++;
          continue;
        }
      }
      send.push(record);
    }
    // What goes out now goes out under the current tenure's epoch (a broker fence refuses older ones).
    const requests = resend.map((order) => ({ ...order.request(), epoch: engine.epoch }));
    const stamped = send.map((record) => (record.k === 'submit' ? { ...record, r: { ...record.r, epoch: engine.epoch } } : record));
    for (const request of requests) {
      this.append({ k: 'submit', t: engine.nowUs(), r: request, resend: true });
      resent++;
    }
    for (const record of stamped) this.append(record);
    for (const record of modifies) this.append(record);
    for (const request of requests) this.venue.submit(request);
    for (const record of stamped) this.sendToVenue(record);
    for (const record of modifies) this.sendToVenue(record);
    resent += modifies.length;
    resent += send.length;
    await this.settle();
    // 3. Orphans: our orders open at the broker that the engine does not hold open (an exit left behind).
    const prefix = `${this.header.runId}-`;
    for (const open of await this.venue.fetchOpenOrders()) {
      const id = open.request?.clientOrderId ?? open.clientOrderId ?? '';
      if (!id.startsWith(prefix)) continue;
      const order = engine.orders.get(id);
      if (order && (order.isOpen || order.status === 'held')) continue;
      this.append({ k: 'cancel', t: engine.nowUs(), id, orphan: true });
      // An order the venue adapter does not track (left by an earlier process or another runner) is cancelled by
      // the venue's id; reports about it would reach no engine order anyway.
      if (open.venueOrderId !== undefined && this.venue.cancelOrphan !== undefined && order?.venueOrderId !== open.venueOrderId) await this.venue.cancelOrphan(open.venueOrderId);
      else this.venue.cancel(id);
      cancelledOrphans++;
    }
    await this.settle();
    // 4. Every open position keeps a working protective stop.
    for (let s = 0; s < engine.scales.length; s++) {
      const position = engine.portfolio.position[s];
      if (position === 0) continue;
      if (this.protectionOf(s) >= Math.abs(position)) continue;
      const stopTicks = this.lastStopPriceTicks(s);
      if (stopTicks === undefined) {
        throw new SimError('RECONCILE_UNPROTECTED', `expected a stop price to protect ${engine.scales[s].instrument.symbol} position ${position}, found no bracket stop in the session`);
      }
      this.enqueue({ k: 'protect', t: engine.nowUs(), s, stop: stopTicks, q: Math.abs(position) - this.protectionOf(s) });
      protectedPositions++;
    }
    await this.settle();
    // 5. Positions must now agree with the broker's.
    const brokerPositions = new Map((await this.venue.fetchPositions()).map((p) => [p.symbol, p.quantity]));
    for (let s = 0; s < engine.scales.length; s++) {
      const symbol = engine.scales[s].instrument.symbol;
      const ours = engine.portfolio.position[s];
      const theirs = brokerPositions.get(symbol) ?? 0;
      if (ours !== theirs) {
        throw new SimError('RECONCILE_POSITION_MISMATCH', `expected the broker's position in ${symbol} to equal the session's after reconciliation, found broker ${theirs}, session ${ours}; refusing to trade`);
      }
    }
    this.append({ k: 'reconciled', t: engine.nowUs(), resent, adopted, cancelledOrphans });
    return { recovered: true, replayedRecords, resent, adopted, cancelledOrphans, protectedPositions };
  }

  /** Let the venue's reports arrive (bounded wait). */
  private async settle(): Promise<void> {
    const venue = this.venue as RuntimeVenue & { idle?: () => Promise<void>; catchUp?: () => Promise<void> };
    if (venue.catchUp) await venue.catchUp();
    if (venue.idle) await venue.idle();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Working reduce-only stop quantity protecting symbol `s`, in lots. */
  private protectionOf(s: number): number {
    let total = 0;
    for (const order of this.engine.openOrders()) {
      if (order.symbolIndex === s && order.reduceOnly && (order.type === 'stop' || order.type === 'stop-limit' || order.type === 'trailing-stop')) total += order.remainingQuantity;
    }
    return total;
  }

  private lastStopPriceTicks(s: number): number | undefined {
    let found: Order | undefined;
    for (const order of this.engine.orders.values()) {
      if (order.symbolIndex === s && order.role === 'stop-loss' && order.stopPriceTicks !== undefined) found = order;
    }
    return found?.stopPriceTicks;
  }
}

