// Sim mode of lock-contention: the same components as real mode on a virtual clock, against a model of
// DuckDB's locking that matches what @duckdb/node-api does (each point checked in real mode):
// - separate processes: an open read-write database holds an exclusive file lock and a read-only one a
//   shared lock; a conflicting open fails at once with "Could not set lock on file";
// - worker threads of one process: the file lock is per process (fcntl), so it never stops another thread,
//   and DuckDBInstance.fromCache keeps one cache per thread, so each thread gets its own instance of the
//   same file. No open fails; instead, instances whose lifetimes overlap overwrite each other's checkpoints.
//   Real mode saw both outcomes: acknowledged writes silently missing from the file (237 of 239 ticks) and,
//   in another run, a WAL that could not be replayed ("WAL cannot contain more than one checkpoint
//   marker"). The model takes the first: a write whose instance overlapped another instance is lost.
// - async tasks of one thread (event-loop): DuckDBInstance.fromCache gives every task the same cached instance
//   for the same configuration, so writers share it safely; but a read-only open while a read-write instance is
//   cached (or the reverse) fails at once with "Can't open a connection to same database file with a different
//   configuration than existing connections". The model keeps an instance cached while an access with its
//   configuration is open; real mode keeps it until the garbage collector frees it, so it sees more of these.
// Naive and retry open the file for each access and close it after; single-writer owns it for the whole
// run and serves everybody's reads and writes from one queue.
import { US_PER_SECOND } from '../../engine/types.ts';
import { History } from '../framework/history.ts';
import type { RunContext, RunRecord } from '../framework/scenario.ts';
import type { SeededRandom } from '../framework/seeded-random.ts';
import { VirtualScheduler } from '../framework/virtual-scheduler.ts';
import { lockMetrics } from './metrics.ts';
import {
  AGGREGATOR_PERIOD_US, CANDLE_US, DASHBOARD_READ_PERIOD_US, INGEST_QUEUE_LENGTH_MAX, RETRY_BACKOFFS_US, STRATEGY_READ_PERIOD_US,
  TICK_PERIOD_US, candleFromTicks, classifyError, tickPrice, tickSize, type Candle, type Layout, type LockTruth, type LockVariant, type StoredTick,
} from './workload.ts';

type AccessMode = 'read-write' | 'read-only';

/**
 * Costs in microseconds, measured with @duckdb/node-api on this machine: open + insert + close of a file
 * takes 30-45 ms and grows by about 20 ms per million stored rows (checkpoint on close); an insert on a
 * connection held open takes about 4 ms; the backfill of 3 million rows holds the lock about 0.65 s.
 */
export const SIM_COSTS_US = {
  openClose: 35_000,
  openClosePerMillionRows: 20_000,
  tickWrite: 1_000,
  heldOpenWrite: 4_000,
  aggregate: 6_000,
  read: 2_000,
  backfillRowsPerLoad: 3_000_000,
  backfillPerMillionRows: 220_000,
} as const;

const LOCK_ERROR = 'IO Error: Could not set lock on file "market.duckdb": Conflicting lock is held (simulated)';
const CONFIG_ERROR = "Connection Error: Can't open a connection to same database file with a different configuration than existing connections (simulated)";

class SimulatedDuckDbFile {
  private exclusiveHolders = 0;
  private sharedHolders = 0;
  private openInstances = 0;
  /** Threads layout: per open instance, whether another instance was open at any time during its life. */
  private readonly overlapped = new Set<{ overlapped: boolean }>();
  lostWrites = 0;

  constructor(private readonly layout: Layout) {}

  /** Returns an error message, or a handle for close() (threads layout: tracks overlap). */
  open(mode: AccessMode): string | { overlapped: boolean } {
    if (this.layout === 'event-loop') {
      if ((mode === 'read-write' ? this.sharedHolders : this.exclusiveHolders) > 0) return CONFIG_ERROR;
      if (mode === 'read-write') this.exclusiveHolders += 1; else this.sharedHolders += 1;
      return { overlapped: false };
    }
    if (this.layout === 'processes') {
      if (mode === 'read-write' ? this.exclusiveHolders + this.sharedHolders > 0 : this.exclusiveHolders > 0) return LOCK_ERROR;
      if (mode === 'read-write') this.exclusiveHolders += 1; else this.sharedHolders += 1;
      return { overlapped: false };
    }
    const handle = { overlapped: this.openInstances > 0 };
    if (handle.overlapped) for (const other of this.overlapped) other.overlapped = true;
    this.overlapped.add(handle);
    this.openInstances += 1;
    return handle;
  }

  /** Closes; true when the instance's writes survive (threads layout: it never overlapped another). */
  close(mode: AccessMode, handle: { overlapped: boolean }): boolean {
    if (this.layout === 'processes' || this.layout === 'event-loop') {
      if (mode === 'read-write') this.exclusiveHolders -= 1; else this.sharedHolders -= 1;
      return true;
    }
    this.openInstances -= 1;
    this.overlapped.delete(handle);
    if (handle.overlapped && mode === 'read-write') this.lostWrites += 1;
    return !handle.overlapped;
  }
}

interface Access {
  readonly process: string;
  readonly mode: AccessMode;
  readonly costUs: number;
  /** Runs inside the lock, at the end of the access (commit). */
  readonly apply: () => void;
}

export function runLockContentionSim(context: RunContext): RunRecord<LockTruth> {
  const variant = context.variant as LockVariant;
  const layout = String(context.options.layout) as Layout;
  const load = Number(context.options.load);
  const scheduler = new VirtualScheduler(0);
  const history = new History(() => scheduler.nowUs());
  const rng = context.rng;
  const jitter = rng.child('jitter');
  const file = new SimulatedDuckDbFile(layout);
  const endUs = context.durationUs;
  const ticks = new Map<number, StoredTick>();
  const ticksByMinute = new Map<number, StoredTick[]>();
  const storeTick = (tick: StoredTick) => {
    ticks.set(tick.id, tick);
    const minute = Math.floor(tick.timeUs / CANDLE_US);
    const list = ticksByMinute.get(minute);
    if (list) list.push(tick); else ticksByMinute.set(minute, [tick]);
  };
  const candles = new Map<number, Candle>();
  const errorMessages: Record<string, number> = {};
  let ioSlowdownUntilUs = -1;
  let ioSlowdownFactor = 1;

  const cost = (baseUs: number): number => {
    const factor = scheduler.nowUs() < ioSlowdownUntilUs ? ioSlowdownFactor : 1;
    return Math.round(baseUs * factor * (0.5 + jitter.next()));
  };

  // --- The storage access paths of the three variants.
  const ownerQueue: { access: Access; done: (error: string | null) => void }[] = [];
  let ownerBusy = false;
  const ownerNext = () => {
    if (ownerBusy || ownerQueue.length === 0) return;
    const { access, done } = ownerQueue.shift()!;
    ownerBusy = true;
    scheduler.after(access.costUs, () => {
      access.apply();
      ownerBusy = false;
      done(null);
      ownerNext();
    });
  };

  const attemptDirect = (access: Access, done: (error: string | null) => void) => {
    const opened = file.open(access.mode);
    if (typeof opened === 'string') {
      const error = opened;
      history.note(access.process, 'lock-error', classifyError(error));
      errorMessages[classifyError(error)] = (errorMessages[classifyError(error)] ?? 0) + 1;
      done(error);
      return;
    }
    const rowsMillions = (backfilledRows + ticks.size) / 1_000_000;
    scheduler.after(cost(SIM_COSTS_US.openClose + SIM_COSTS_US.openClosePerMillionRows * rowsMillions) + access.costUs, () => {
      // The write is acknowledged either way; in the threads layout it may silently not survive.
      if (file.close(access.mode, opened)) access.apply();
      done(null);
    });
  };

  const perform = (access: Access, done: (error: string | null) => void) => {
    if (variant === 'single-writer') {
      ownerQueue.push({ access, done });
      ownerNext();
      return;
    }
    if (variant === 'naive') {
      attemptDirect(access, done);
      return;
    }
    const attempt = (retryIndex: number) => {
      attemptDirect(access, (error) => {
        if (error === null || retryIndex >= RETRY_BACKOFFS_US.length) { done(error); return; }
        history.note(access.process, 'retry', { attempt: retryIndex + 2 });
        scheduler.after(RETRY_BACKOFFS_US[retryIndex], () => attempt(retryIndex + 1));
      });
    };
    attempt(0);
  };

  // --- Backfill at start and backfill faults: one long write.
  let backfilledRows = 0;
  const backfill = (process: string, rows: number) => {
    const entry = history.invoke(process, 'backfill', { rows });
    const holdUs = cost((SIM_COSTS_US.backfillPerMillionRows * rows) / 1_000_000);
    perform({ process, mode: 'read-write', costUs: holdUs, apply: () => { backfilledRows += rows; } }, (error) => {
      history.complete(entry, error === null ? 'ok' : 'failed', null, error);
    });
  };
  scheduler.at(0, () => backfill('backfill', Math.round(SIM_COSTS_US.backfillRowsPerLoad * load)));

  // Components run on their own timers: a seeded phase per component and a little jitter per period, so
  // their accesses do not line up artificially on common multiples of the periods.
  const phases = rng.child('phases');
  const periodic = (periodUs: number, action: () => void) => {
    const phaseUs = phases.int(periodUs);
    const step = (index: number) => {
      const timeUs = phaseUs + index * periodUs + phases.int(20_000);
      if (timeUs >= endUs) return;
      scheduler.at(timeUs, () => { action(); step(index + 1); });
    };
    step(1);
  };

  // --- Faults.
  for (const fault of context.faults) {
    scheduler.at(fault.atUs, () => {
      history.note('chaos', `fault-${fault.kind}`, fault);
      if (fault.kind === 'backfill-job') backfill('backfill-job', Math.round((fault.durationUs / SIM_COSTS_US.backfillPerMillionRows) * 1_000_000));
      if (fault.kind === 'io-stall') { ioSlowdownUntilUs = fault.atUs + fault.durationUs; ioSlowdownFactor = 20; }
      if (fault.kind === 'reader-burst') {
        for (let index = 0; index < 20; index += 1) scheduler.after(Math.round((fault.durationUs * index) / 20), () => read(`dashboard-burst-${index}`, 'burst-read'));
      }
    });
  }

  // --- Tick ingestor: one write at a time, queued in arrival order.
  const ingestQueue: { id: number; timeUs: number; entry: ReturnType<History['invoke']> }[] = [];
  let ingestBusy = false;
  const ingestNext = () => {
    if (ingestBusy || ingestQueue.length === 0) return;
    const item = ingestQueue.shift()!;
    ingestBusy = true;
    const tick: StoredTick = { id: item.id, timeUs: item.timeUs, priceTicks: tickPrice(item.id, context.seed), sizeLots: tickSize(item.id) };
    perform({ process: 'ingestor', mode: 'read-write', costUs: cost(variant === 'single-writer' ? SIM_COSTS_US.heldOpenWrite : SIM_COSTS_US.tickWrite), apply: () => storeTick(tick) }, (error) => {
      history.complete(item.entry, error === null ? 'ok' : 'failed', null, error);
      ingestBusy = false;
      ingestNext();
    });
  };
  let nextTickId = 1;
  periodic(TICK_PERIOD_US, () => {
    const id = nextTickId++;
    const entry = history.invoke('ingestor', 'ingest-tick', { id });
    if (ingestQueue.length >= INGEST_QUEUE_LENGTH_MAX) { history.complete(entry, 'failed', null, 'ingest queue full'); return; }
    ingestQueue.push({ id, timeUs: scheduler.nowUs(), entry });
    ingestNext();
  });

  // --- Aggregator: upserts the candles of the previous and the current minute from the stored ticks.
  let aggregatorBusy = false;
  periodic(AGGREGATOR_PERIOD_US, () => {
    if (aggregatorBusy) return;
    aggregatorBusy = true;
    const currentMinute = Math.floor(scheduler.nowUs() / CANDLE_US);
    const entry = history.invoke('aggregator', 'write-candles', { minutes: [currentMinute - 1, currentMinute] });
    perform({
      process: 'aggregator', mode: 'read-write', costUs: cost(SIM_COSTS_US.aggregate),
      apply: () => {
        for (const minute of [currentMinute - 1, currentMinute]) {
          const candle = candleFromTicks(minute, ticksByMinute.get(minute) ?? []);
          if (candle) candles.set(minute, candle);
        }
      },
    }, (error) => {
      history.complete(entry, error === null ? 'ok' : 'failed', null, error);
      aggregatorBusy = false;
    });
  });

  // --- Readers: the strategy and `load` dashboards read the newest candles.
  const readerBusy = new Set<string>();
  function read(process: string, operation = 'read-candles') {
    if (readerBusy.has(process)) return;
    readerBusy.add(process);
    const entry = history.invoke(process, operation, null);
    perform({ process, mode: 'read-only', costUs: cost(SIM_COSTS_US.read), apply: () => undefined }, (error) => {
      history.complete(entry, error === null ? 'ok' : 'failed', null, error);
      readerBusy.delete(process);
    });
  }
  periodic(STRATEGY_READ_PERIOD_US, () => read('strategy'));
  const dashboards = Math.max(1, Math.round(load));
  for (let index = 0; index < dashboards; index += 1) periodic(DASHBOARD_READ_PERIOD_US, () => read(`dashboard-${index + 1}`));

  // Let queued work drain for a few seconds after the feed stops, then close open operations.
  scheduler.runUntil(endUs + 5 * US_PER_SECOND);
  history.closeOpenOperations();
  const truth: LockTruth = {
    storedTicks: [...ticks.values()].sort((a, b) => a.id - b.id),
    candles: [...candles.values()].sort((a, b) => a.minute - b.minute),
    closedMinuteMax: Math.floor(endUs / CANDLE_US) - 2,
    errorMessages,
  };
  return { history: history.entries, truth, metrics: { ...lockMetrics(history.entries, truth, endUs), silentlyLostWrites: file.lostWrites }, details: { errorMessages } };
}

/** Seeded faults: extra backfill jobs, I/O stalls and dashboard refresh storms. */
/** The fault kinds of the sim driver: a long backfill, slow I/O, a burst of dashboard reads. */
export const LOCK_FAULT_KINDS: readonly string[] = ['backfill-job', 'io-stall', 'reader-burst'];

export function lockFaultSchedule(rng: SeededRandom, durationUs: number, load: number): { kind: string; atUs: number; durationUs: number }[] {
  const count = 2 + rng.int(Math.max(2, Math.round(durationUs / 3_600_000_000)) + 3);
  const faults: { kind: string; atUs: number; durationUs: number }[] = [];
  const kinds = LOCK_FAULT_KINDS;
  for (let index = 0; index < count; index += 1) {
    const kind = kinds[rng.int(kinds.length)];
    const lengthUs = kind === 'backfill-job' ? Math.round((200_000 + rng.int(3_000_000)) * load) : 1_000_000 + rng.int(9_000_000);
    faults.push({ kind, atUs: 10_000_000 + rng.int(Math.max(1, durationUs - 130_000_000)), durationUs: lengthUs });
  }
  return faults.sort((a, b) => a.atUs - b.atUs);
}
