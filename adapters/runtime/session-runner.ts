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
// A new journal (see startFresh and fresh-start.ts): the run id repeats with the configuration, so the broker may
// hold the run's ids already; ids continue after them, and working orders of the run, or a position in its symbols
// once it has traded there, refuse the start.
//
// Under a leader lock (`leader: { leader: false }`), the session starts on standby (journaled), reconciles on
// each acquisition before market records resume, and stops sending on a loss, or as soon as the lock's local
// deadline is found passed before the next record (`leadershipCheck`).
//
// Takeover (issue 4). A standby's engine has seen the market but only its own refused intents; the runner it
// replaces may have left a position and its protective exits at the broker. On each acquisition, after its own
// orders are settled, the runner compares the broker's positions with its engine's: where they differ, another
// runner of the session traded, and the difference is adopted (at the broker's average price), together with the
// session's open orders there that reduce the broker's position (its exits: OCO pairs stay pairs, the engine then
// follows their reports, the broker keeps cancelling one leg when the other fills). The session's other orders the
// engine does not hold are cancelled as orphans, as before. All of it comes in as one journaled `adopt` record,
// so a replay and a crash recovery adopt the same at the same point, and the strategy sees the position like any
// other (it may sell it, modify or cancel the exits). Outside a takeover a differing position still refuses the
// start: then something outside the session traded. Positions and orders are read in one consistent snapshot
// (positions read before and after the orders agree, bounded retries).
// Client order ids: both runners share the run id, so the standby generated, for intents its gate refused, the
// same ids the leader sent (`<run>-<strategy>-<n>`, on the wire `.e<epoch>` with epochOnWire). Adopted orders keep
// the ids the broker knows them by, each superseding the standby's refused (finished, never sent) order of that
// id; an id the engine holds open is never adopted over. The OCO stop leg's own id is not on the broker's wire
// (it rides on its take-profit), so it is adopted as `<take-profit id>-oco-stop`, which the engine never
// generates; it is looked up through its take-profit, like any OCO stop leg. Then the engine's id sequence
// continues after the highest sequence of the session the broker holds (`adopt.sequence`), so no id the broker
// has seen is reused, even without the epoch on the wire (Alpaca's ids are unique account-wide).
//
// In-process venue (the paper broker, `rebuiltFromJournal`): its state dies with the process. It is a
// deterministic function of the calls it receives, so the journal holds all of them: each market record is
// journaled `venueFirst` before the venue sees it (the engine applies it at the following `apply-market` record,
// after the venue's reports about it, as live), and every submit, cancel and modify before it is sent. A restart
// rebuilds the venue by calling it again from the journal, checking each report it produces against the journal
// (rebuildVenue), and carries on exactly where the crashed process stopped. Persisting the broker's state instead
// would mean serializing the engine's simulated venue from outside it; the journal already holds its inputs.
// Reconciliation that sends a batch (resends, regenerated intents) sends it as one step while the reports it
// causes wait for the batch, so the journal order is the same whatever the venue, and a rebuild can repeat it.
import {
  SimError, type ExecutionReport, type Instrument, type Order, type StrategyDefinition, resolveParams,
} from '../../engine/index.ts';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { findStrategy } from '../../strategies/index.ts';
import { Journal } from '../journal/index.ts';
import { toRiskLimits, type RiskOptions } from '../replay/run-replay.ts';
import { SessionCore } from './session-core.ts';
import { highestSequence, planFreshStart } from './fresh-start.ts';
import {
  SESSION_FORMAT_VERSION, SESSION_FORMATS_READABLE, intentKey, isAppliedMarket, isInbound, isOutbound, type AdoptedOrder, type InboundRecord,
  type MarketRecord, type ModifyRecord, type OutboundRecord, type ReportRecord, type SessionHeader, type SessionRecord,
} from './session-records.ts';
import type { RuntimeVenue, VenuePosition } from './runtime-venue.ts';

/** Bound on reading a consistent snapshot of the broker at a takeover. */
const TAKEOVER_SNAPSHOT_ATTEMPTS_MAX = 3;

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
  /** Positions taken over from another runner of the session (a takeover's `adopt` record). */
  readonly adoptedPositions: number;
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
  if (!SESSION_FORMATS_READABLE.includes(header.version)) throw new SimError('SESSION_VERSION', `expected session format ${SESSION_FORMATS_READABLE.join(' or ')}, found ${header.version}`);
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
  /** While an in-process venue is rebuilt from the journal, its reports go here instead (rebuildVenue). */
  private venueSink: ((report: ExecutionReport) => void) | null = null;
  private appended = 0;
  private stopped = false;
  reconciled = false;
  lastMarketUs = -Infinity;
  /**
   * Market records the engine had applied when this process opened the journal: a restarted feed skips that many.
   * (A venue-first record the venue saw but the engine had not applied yet is the next one the feed delivers.)
   */
  marketRecordsJournaled = 0;
  /** The end of the last bar of each symbol (by index) the journal held when this process opened it (live feeds resume after). */
  readonly lastBarEndUsBySymbol = new Map<number, number>();
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

  /**
   * The torn tail the journal cut when it opened (the process died mid-write; those records were never acted on),
   * and the file its bytes were saved to first. Zero bytes: the journal ended cleanly.
   */
  get journalTornTail(): { readonly bytes: number; readonly savedTo: string | undefined } {
    return { bytes: this.journal.droppedTailBytes, savedTo: this.journal.droppedTailFile };
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
      if (isAppliedMarket(record)) {
        runner.marketRecordsJournaled++;
        runner.lastMarketUs = record.t;
      }
      if (record.k === 'bar') runner.lastBarEndUsBySymbol.set(record.s, record.t);
    }
    if (!recovered) runner.append(header);
    core.redirect((record) => runner.sendOutbound(record));
    await options.venue.connect((report) => runner.onVenueReport(report));
    try {
      return await runner.start(records, pending, recovered);
    } catch (error) {
      // A refused start closes what it opened (the venue's stream would keep the process alive).
      await runner.close();
      throw error;
    }
  }

  private async start(records: readonly SessionRecord[], pending: OutboundRecord[], recovered: boolean): Promise<{ runner: SessionRunner; summary: ReconcileSummary }> {
    const options = this.options;
    const notReconciled = { recovered, replayedRecords: records.length, resent: 0, adopted: 0, cancelledOrphans: 0, protectedPositions: 0, adoptedPositions: 0 };
    const standby = options.leader !== undefined && !options.leader.leader;
    // Standby: the journal says so before anything else this process applies; reconciliation waits for the lock.
    if (standby) this.standbyRecordPending = true;
    if (recovered && options.venue.rebuiltFromJournal === true) {
      // The in-process venue starts empty: call it again as the journal says it was called. A standby does not
      // send what the engine regenerated; its first tenure's reconciliation does.
      this.rebuildVenue(records, standby ? [] : pending);
      if (!standby) pending = [];
    }
    if (standby) {
      this.replayedAtOpen = records.length;
      this.pendingAtOpen = pending;
      return { runner: this, summary: notReconciled };
    }
    const summary = recovered ? await this.reconcile(records.length, pending, false) : { ...notReconciled, replayedRecords: 0 };
    if (!recovered) await this.startFresh();
    this.reconciled = true;
    return { runner: this, summary };
  }

  private append(record: SessionRecord): void {
    this.journal.append(record);
    // Market data (and its apply-market marks) and timers ride the batch; anything else is fsync'd at once.
    if (record.k !== 'bar' && record.k !== 'tick' && record.k !== 'apply-market' && record.k !== 'timer') this.journal.flush();
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
      case 'cancel': this.venue.cancel(record.id, record.epoch); break;
      case 'modify': this.venue.modify(record.id, record.c, record.epoch); break;
    }
  }

  /** An intent going out again (or for the first time) now: under the current tenure's epoch. */
  private stampEpoch(record: OutboundRecord): OutboundRecord {
    const epoch = this.engine.epoch;
    return record.k === 'submit' ? { ...record, r: { ...record.r, epoch } } : { ...record, epoch };
  }

  private reportRecord(report: ExecutionReport): ReportRecord {
    return { k: 'report', t: Math.max(this.options.nowUs(), this.engine.nowUs()), r: report };
  }

  private onVenueReport(report: ExecutionReport): void {
    if (this.venueSink !== null) this.venueSink(report);
    else this.enqueue(this.reportRecord(report));
  }

  /**
   * A market record: the venue sees it first (paper), then the engine, in journal order. When the venue needs
   * time to see it (a test fake told over HTTP), the returned promise resolves once the engine has it too.
   */
  pushMarket(record: MarketRecord): void | Promise<void> {
    if (this.stopped) return;
    // Trading waits while a new tenure reconciles.
    if (this.reconciling !== null) return this.reconciling.then(() => this.pushMarket(record));
    if (this.venue.rebuiltFromJournal === true) return this.pushMarketVenueFirst(record);
    const seen = this.venue.onMarket?.(record);
    if (seen instanceof Promise) return seen.then(() => this.enqueueMarket(record));
    this.enqueueMarket(record);
  }

  /**
   * In-process venue: the record is journaled before the venue sees it, the venue's reports follow, then the
   * engine applies it (`apply-market`). A record the venue saw before a crash, which the engine never applied,
   * comes again from the restarted feed: the engine applies it now, and the venue does not see it twice.
   */
  private pushMarketVenueFirst(record: MarketRecord): void {
    const held = this.core.heldMarket;
    if (held === null) {
      this.enqueue({ ...record, venueFirst: true } as MarketRecord);
      if (this.venue.onMarket?.(record) instanceof Promise) {
        throw new SimError('VENUE_NOT_IN_PROCESS', 'expected an in-process venue (rebuilt from the journal) to see market records synchronously, found a promise');
      }
    } else if (held.k !== record.k || held.t !== record.t || held.s !== record.s) {
      throw new SimError('FEED_DIVERGED', `expected the feed's next record to be the ${held.k} of symbol ${held.s} at ${held.t} us the venue saw before the restart, found a ${record.k} of symbol ${record.s} at ${record.t} us`);
    }
    this.lastMarketUs = record.t;
    this.enqueue({ k: 'apply-market', t: record.t });
  }

  /**
   * A live feed never delivers a record twice, so after a restart the venue-first record the paper broker saw
   * before the crash (journaled, not yet applied by the engine) is applied now, as its second delivery would be.
   */
  releaseHeldMarket(): void {
    const held = this.core.heldMarket;
    if (held === null || this.stopped) return;
    this.lastMarketUs = held.t;
    this.enqueue({ k: 'apply-market', t: held.t });
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
      const summary = await this.reconcile(this.replayedAtOpen, this.pendingAtOpen, true);
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
    if (!this.draining) this.drainInbox();
  }

  /** Journal and apply what is waiting, in order, including what arrives meanwhile. */
  private drainInbox(): void {
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

  /**
   * Rebuilds an in-process venue (`rebuiltFromJournal`) after a restart by calling it again as the journal says
   * it was called: each venue-first market record and each submit, cancel and modify, in journal order, checking
   * every report it produces against the journaled one (a different report refuses the start: the venue's
   * settings, e.g. seed, fill, latency or fees, are not the ones the session ran with). The calls nest as they
   * did live: the intents journaled after a report go out while the venue is still delivering that report (the
   * runner applied it there and sent what it caused), and reports the venue produces meanwhile wait, as they
   * waited in the runner's inbox. At the journal's end the rebuild stands where the crashed process stopped, and
   * the runner carries on from there: the reports the venue produced beyond the journal become its inbox, the
   * intents the engine regenerated but never journaled (`pending`) go out, and later reports take the normal path.
   */
  private rebuildVenue(records: readonly SessionRecord[], pending: readonly OutboundRecord[]): void {
    const venue = this.venue;
    const end = records.length;
    let cursor = 1; // after the header
    const produced: ExecutionReport[] = [];
    let handling = false;
    let live = false;
    const diverged = (found: string): never => {
      const record = records[cursor];
      throw new SimError('PAPER_REBUILD_DIVERGED', `expected the paper broker rebuilt from the journal to report what record ${cursor + 1} holds (${record === undefined ? 'the journal ends' : JSON.stringify(record)}), found ${found}; it must run with the settings (seed, fill, latency, fees) the session was journaled with`);
    };
    // Carry on as the crashed process would have: inside the drain that applied the last journaled inbound record.
    const carryOn = (): void => {
      live = true;
      this.venueSink = null;
      const wasDraining = this.draining;
      this.draining = true;
      try {
        for (const report of produced.splice(0)) this.inbox.push(this.reportRecord(report));
        for (const record of pending) this.sendOutbound(this.stampEpoch(record));
      } finally {
        this.draining = wasDraining;
      }
      if (!wasDraining) this.drainInbox();
    };
    // The intents journaled next were sent at this point.
    const sendIntents = (): void => {
      for (let record = records[cursor]; !live && cursor < end && isOutbound(record); record = records[cursor]) {
        cursor++;
        this.sendToVenue(record);
      }
      if (!live && cursor === end) carryOn();
    };
    // Each report produced is the next journaled record; what it caused was journaled right after it.
    const handleProduced = (): void => {
      while (!live && produced.length > 0) {
        if (cursor === end) {
          carryOn();
          return;
        }
        const report = produced.shift()!;
        const record = records[cursor];
        if (record.k !== 'report' || JSON.stringify(record.r) !== JSON.stringify(report)) diverged(`report ${JSON.stringify(report)}`);
        cursor++;
        sendIntents();
      }
    };
    this.venueSink = (report) => {
      produced.push(report);
      if (handling) return;
      handling = true;
      try {
        handleProduced();
      } finally {
        handling = false;
      }
    };
    try {
      while (!live && cursor < end) {
        const record = records[cursor];
        if (record.k === 'report') diverged('no report there');
        if (record.k === 'bar' || record.k === 'tick') {
          if (record.venueFirst !== true) {
            throw new SimError('PAPER_REBUILD_UNSUPPORTED', `expected market records journaled before the paper broker saw them (session format 2), found a ${record.k} at record ${cursor + 1} that was not: a paper journal of an earlier version cannot be rebuilt`);
          }
          cursor++;
          venue.onMarket!(record); // its reports are handled as they come
          continue;
        }
        if (isInbound(record)) cursor++; // applied inside the runner's drain: what it caused follows it
        else if (!isOutbound(record)) {
          cursor++; // header, reconciled
          continue;
        }
        // The intents that follow (or a batch reconciliation sent), then the reports they caused, as one drain.
        handling = true;
        try {
          sendIntents();
          handleProduced();
        } finally {
          handling = false;
        }
      }
      if (!live) carryOn();
    } finally {
      this.venueSink = null;
    }
  }

  /** `takeover`: a new tenure under the lock, which may find what another runner of the session left. */
  private async reconcile(replayedRecords: number, pending: readonly OutboundRecord[], takeover: boolean): Promise<ReconcileSummary> {
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
      if (differs) modifies.push({ k: 'modify', t: engine.nowUs(), id: record.id, c, resend: true, epoch: engine.epoch });
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
    const stamped = send.map((record) => this.stampEpoch(record));
    for (const request of requests) {
      this.append({ k: 'submit', t: engine.nowUs(), r: request, resend: true });
      resent++;
    }
    for (const record of stamped) this.append(record);
    for (const record of modifies) this.append(record);
    // One step: the reports these cause (at once, from an in-process venue) wait until the whole batch is out.
    const wasDraining = this.draining;
    this.draining = true;
    try {
      for (const request of requests) this.venue.submit(request);
      for (const record of stamped) this.sendToVenue(record);
      for (const record of modifies) this.sendToVenue(record);
    } finally {
      this.draining = wasDraining;
    }
    if (!wasDraining) this.drainInbox();
    resent += modifies.length;
    resent += send.length;
    await this.settle();
    // 2b. A takeover: what another runner of the session left at the broker becomes this engine's.
    let adoptedPositions = 0;
    if (takeover) {
      const taken = await this.adoptFromBroker();
      adopted += taken.orders;
      adoptedPositions = taken.positions;
    }
    // 3. Orphans: our orders open at the broker that the engine does not hold open (an exit left behind).
    const prefix = `${this.header.runId}-`;
    for (const open of await this.venue.fetchOpenOrders()) {
      const id = open.request?.clientOrderId ?? open.clientOrderId ?? '';
      if (!id.startsWith(prefix)) continue;
      const order = engine.orders.get(id);
      if (order && (order.isOpen || order.status === 'held')) continue;
      this.append({ k: 'cancel', t: engine.nowUs(), id, orphan: true, epoch: engine.epoch });
      // An order the venue adapter does not track (left by an earlier process or another runner) is cancelled by
      // the venue's id; reports about it would reach no engine order anyway.
      if (open.venueOrderId !== undefined && this.venue.cancelOrphan !== undefined && order?.venueOrderId !== open.venueOrderId) await this.venue.cancelOrphan(open.venueOrderId, engine.epoch);
      else this.venue.cancel(id, engine.epoch);
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
    return { recovered: true, replayedRecords, resent, adopted, cancelledOrphans, protectedPositions, adoptedPositions };
  }

  /**
   * A new journal for a run id the broker may already know (the same configuration gives the same run id, and a
   * journal can be lost: a new machine, a cleaned `runs/` folder). The broker refuses a client order id it has seen,
   * also of a finished order, so the id sequence continues after the highest of the run's ids there (one journaled
   * `adopt` record that adopts nothing, so replays continue it too). Orders of the run still working there belong to
   * the lost journal's session, which may hold a position they protect, and so may a position in the run's symbols
   * once the run has traded there: the start is refused, naming them. (A position at a broker where the run never
   * traded is someone else's, as before.)
   */
  private async startFresh(): Promise<void> {
    const venue = this.venue;
    if (venue.fetchSessionOrders === undefined || venue.rebuiltFromJournal === true) return;
    const held = await venue.fetchSessionOrders(`${this.header.runId}-`);
    const plan = planFreshStart({
      runId: this.header.runId, journalPath: this.options.journalPath, idPrefix: this.engine.orders.prefix,
      workingIds: held.open.map((order) => order.request.clientOrderId), heldIds: held.clientOrderIds,
      // Read only when the run has traded there (rule 3 of fresh-start.ts); before, a refusal or a start from 1.
      positions: held.open.length === 0 && highestSequence(this.engine.orders.prefix, held.clientOrderIds) > 0 ? await venue.fetchPositions() : [],
      symbols: this.header.instruments.map((instrument) => instrument.symbol),
    });
    if (!plan.start) throw new SimError(plan.code, plan.message);
    if (plan.sequence === 0) return;
    this.enqueue({ k: 'adopt', t: Math.max(this.options.nowUs(), this.engine.nowUs()), reason: plan.reason, sequence: plan.sequence, positions: [], orders: [] });
    await this.settle();
  }

  /**
   * The takeover step of reconciliation (see the header): adopt, in one journaled `adopt` record, the positions
   * that differ from the broker's and the session's open exits there, and continue the id sequence after the
   * broker's. Returns how many positions and orders were adopted.
   */
  private async adoptFromBroker(): Promise<{ positions: number; orders: number }> {
    const venue = this.venue;
    if (venue.fetchSessionOrders === undefined) return { positions: 0, orders: 0 };
    const engine = this.engine;
    let snapshot: { positions: VenuePosition[]; orders: Awaited<ReturnType<NonNullable<RuntimeVenue['fetchSessionOrders']>>> } | null = null;
    for (let attempt = 1; snapshot === null; attempt++) {
      const before = await venue.fetchPositions();
      const orders = await venue.fetchSessionOrders(`${this.header.runId}-`);
      const after = await venue.fetchPositions();
      if (positionsKey(before) === positionsKey(after)) snapshot = { positions: after, orders };
      else if (attempt >= TAKEOVER_SNAPSHOT_ATTEMPTS_MAX) {
        throw new SimError('RECONCILE_TAKEOVER_UNSETTLED', `expected the broker's positions to hold still while its orders were read, found them changed in each of ${attempt} attempts`);
      }
    }
    const brokerPositions = new Map(snapshot.positions.map((position) => [position.symbol, position]));
    const positions: { s: number; q: number; p: number }[] = [];
    const orders: AdoptedOrder[] = [];
    for (let s = 0; s < engine.scales.length; s++) {
      const symbol = engine.scales[s].instrument.symbol;
      const broker = brokerPositions.get(symbol);
      const theirs = broker?.quantity ?? 0;
      const ours = engine.portfolio.position[s];
      if (theirs === ours) continue;
      // What the broker holds is priced at its average entry; a position closed there (flat now) at the last mark,
      // the best price this session knows (the broker does not say where it was closed).
      const priceTicks = theirs !== 0 ? broker?.averagePriceTicks : (Number.isNaN(engine.portfolio.markTicks[s]) ? engine.portfolio.averagePriceTicks(s) : engine.portfolio.markTicks[s]);
      if (priceTicks === undefined || !(priceTicks >= 1)) {
        throw new SimError('RECONCILE_TAKEOVER_PRICE', `expected a price to adopt the broker's ${symbol} position ${theirs} (session ${ours}), found ${priceTicks ?? 'none'}`);
      }
      positions.push({ s, q: theirs - ours, p: priceTicks });
      if (theirs === 0) continue;
      const exitSide = theirs > 0 ? 'sell' : 'buy';
      for (const held of snapshot.orders.open) {
        const request = held.request;
        if (request.symbol !== symbol || request.side !== exitSide || request.type === 'market') continue;
        const mine = engine.orders.get(request.clientOrderId);
        if (mine !== undefined && (mine.isOpen || mine.status === 'held')) continue;
        if (request.quantity - held.filledQuantity > Math.abs(theirs)) continue; // more than it could reduce: not an exit
        const isStop = request.type === 'stop' || request.type === 'stop-limit' || request.type === 'trailing-stop';
        orders.push({
          r: { ...request, reduceOnly: true }, status: held.status, filled: held.filledQuantity, notional: held.filledNotionalTickLots,
          ...(held.venueOrderId === undefined ? {} : { venueId: held.venueOrderId }), role: held.ocoRole ?? (isStop ? 'stop-loss' : 'plain'),
        });
      }
    }
    // An OCO member goes with its sibling or not at all (alone it would be cancelled with its pair anyway).
    const ids = new Set(orders.map((order) => order.r.clientOrderId));
    const paired = orders.filter((order) => order.r.ocoWithClientOrderId === undefined || ids.has(order.r.ocoWithClientOrderId));
    // Sequence numbers of this session's ids (other ids count as none).
    const book = engine.orders;
    const sequence = Math.max(highestSequence(book.prefix, snapshot.orders.clientOrderIds), highestSequence(book.prefix, paired.map((order) => order.r.clientOrderId)));
    const localSequence = highestSequence(book.prefix, book.keys());
    if (positions.length === 0 && paired.length === 0 && sequence <= localSequence) return { positions: 0, orders: 0 };
    // (A standby that took over before any market record has an engine clock that has not started.)
    this.enqueue({ k: 'adopt', t: Math.max(this.options.nowUs(), engine.nowUs()), reason: `takeover under epoch ${engine.epoch}`, sequence, positions, orders: paired });
    // The venue adapter follows them from now on (their later reports reach the engine under these ids).
    for (const order of paired) await venue.adopt?.(order.r, { accepted: true, quantity: order.r.quantity, filledQuantity: order.filled, filledNotionalTickLots: order.notional });
    await this.settle();
    return { positions: positions.length, orders: paired.length };
  }

  /** Let the venue's reports arrive (bounded wait). */
  private async settle(): Promise<void> {
    const venue = this.venue as RuntimeVenue & { idle?: () => Promise<void>; catchUp?: () => Promise<void> };
    if (venue.catchUp) await venue.catchUp();
    if (venue.idle) await venue.idle();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Lots of symbol `s` covered by working reduce-only stops, or by a reduce-only market order already closing
   * them (a flatten in flight, its exits cancelled: a stop beside it would be one exit too many).
   */
  private protectionOf(s: number): number {
    let total = 0;
    for (const order of this.engine.openOrders()) {
      if (order.symbolIndex === s && order.reduceOnly && (order.type === 'stop' || order.type === 'stop-limit' || order.type === 'trailing-stop' || order.type === 'market')) total += order.remainingQuantity;
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

/** Positions in a comparable form (symbol and quantity, sorted). */
function positionsKey(positions: readonly VenuePosition[]): string {
  return positions.map((position) => `${position.symbol} ${position.quantity}`).sort().join(',');
}
