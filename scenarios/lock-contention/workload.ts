// The lock-contention workload and its shared vocabulary: which components touch the DuckDB file, how
// often, and the ground truth both modes report (stored ticks and candles). Sim and real mode use the
// same schedule constants (real mode compresses them by its time scale) and the same checkers.
import { US_PER_MINUTE, US_PER_SECOND } from '../../engine/types.ts';

/** processes: one OS process per component; threads: worker threads of one process; event-loop: async tasks of one thread. */
export type Layout = 'threads' | 'processes' | 'event-loop';
export type LockVariant = 'naive' | 'retry' | 'single-writer';

export const TICK_PERIOD_US = 500_000;
export const AGGREGATOR_PERIOD_US = 1_500_000;
export const STRATEGY_READ_PERIOD_US = 1_000_000;
export const DASHBOARD_READ_PERIOD_US = 2_000_000;
export const CANDLE_US = US_PER_MINUTE;
/** The incident's fix: up to three retries after the first attempt, waiting 0.1, 0.2 and 0.3 s. */
export const RETRY_BACKOFFS_US: readonly number[] = [100_000, 200_000, 300_000];
/** A reader whose view is older than this has stale data. */
export const READER_STALENESS_US_MAX = 10 * US_PER_SECOND;
/** The ingestor queues at most this many ticks while a write is pending; beyond it ticks are dropped. */
export const INGEST_QUEUE_LENGTH_MAX = 10_000;

export interface StoredTick {
  readonly id: number;
  readonly timeUs: number;
  readonly priceTicks: number;
  readonly sizeLots: number;
}

export interface Candle {
  readonly minute: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly tickCount: number;
}

export interface LockTruth {
  /** Live ticks (ids >= 1) present in the file at the end of the run, ordered by id. */
  readonly storedTicks: readonly StoredTick[];
  /** Candles present in the file at the end, ordered by minute. */
  readonly candles: readonly Candle[];
  /** Minutes the run covered completely (candles are expected for each one with ticks). */
  readonly closedMinuteMax: number;
  /** The error messages the storage layer raised, with counts (real DuckDB text in real mode). */
  readonly errorMessages: Readonly<Record<string, number>>;
}

/** A candle of one minute from its ticks in (time, id) order; one pass, no sort (the aggregator's hot path). */
export function candleFromTicks(minute: number, ticks: readonly StoredTick[]): Candle | null {
  if (ticks.length === 0) return null;
  let first = ticks[0];
  let last = ticks[0];
  let high = Number.NEGATIVE_INFINITY;
  let low = Number.POSITIVE_INFINITY;
  let volume = 0;
  for (const tick of ticks) {
    if (tick.timeUs < first.timeUs || (tick.timeUs === first.timeUs && tick.id < first.id)) first = tick;
    if (tick.timeUs > last.timeUs || (tick.timeUs === last.timeUs && tick.id > last.id)) last = tick;
    if (tick.priceTicks > high) high = tick.priceTicks;
    if (tick.priceTicks < low) low = tick.priceTicks;
    volume += tick.sizeLots;
  }
  return { minute, open: first.priceTicks, high, low, close: last.priceTicks, volume, tickCount: ticks.length };
}

export function sameCandle(a: Candle, b: Candle): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume && a.tickCount === b.tickCount;
}

/** The price path of tick `id`: a deterministic walk so both modes store the same values. */
export function tickPrice(id: number, seed: number): number {
  let value = (id * 2654435761 + seed * 40503) >>> 0;
  value = Math.imul(value ^ (value >>> 15), 0x2c1b3c6d) >>> 0;
  return 10_000 + (value % 200) - 100;
}

export function tickSize(id: number): number {
  return 1 + (id % 7);
}

export function classifyError(message: string): string {
  if (message.includes('Could not set lock on file')) return 'Could not set lock on file';
  if (message.includes('different configuration')) return "Can't open a connection to same database file with a different configuration";
  if (message.includes('WAL')) return 'WAL replay failure';
  return message.split('\n')[0].slice(0, 120);
}
