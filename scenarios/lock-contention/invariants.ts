// The lock-contention invariants: pure functions over the history and the file's final contents.
import type { HistoryEntry } from '../framework/history.ts';
import { operations } from '../framework/history.ts';
import type { Invariant, Violation } from '../framework/scenario.ts';
import { CANDLE_US, READER_STALENESS_US_MAX, candleFromTicks, sameCandle, type LockTruth, type StoredTick } from './workload.ts';

const storedIdsCache = new WeakMap<LockTruth, Set<number>>();

/** Ids of the ticks in the file at the end (built once per run: the checker and the metrics both need it). */
export function storedTickIds(truth: LockTruth): Set<number> {
  let ids = storedIdsCache.get(truth);
  if (ids === undefined) {
    ids = new Set<number>();
    for (const tick of truth.storedTicks) ids.add(tick.id);
    storedIdsCache.set(truth, ids);
  }
  return ids;
}

const noTickLost: Invariant<LockTruth> = {
  name: 'no-tick-lost',
  describe: 'every tick the ingestor took from the feed (the feed never redelivers) is in the file',
  check(history, truth) {
    const stored = storedTickIds(truth);
    const violations: Violation[] = [];
    for (const entry of operations(history, 'ingest-tick')) {
      const id = (entry.input as { id: number }).id;
      if (!stored.has(id)) violations.push({ invariant: 'no-tick-lost', message: `tick ${id} delivered at ${entry.invokedUs} us is not stored (${entry.error ?? entry.outcome})`, timeUs: entry.invokedUs });
    }
    return { violations, checked: operations(history, 'ingest-tick').length };
  },
};

function ticksByMinute(ticks: readonly StoredTick[]): Map<number, StoredTick[]> {
  const byMinute = new Map<number, StoredTick[]>();
  for (const tick of ticks) {
    const minute = Math.floor(tick.timeUs / CANDLE_US);
    const list = byMinute.get(minute);
    if (list) list.push(tick); else byMinute.set(minute, [tick]);
  }
  return byMinute;
}

const candleMatchesTicks: Invariant<LockTruth> = {
  name: 'candle-matches-ticks',
  describe: 'every stored 1-minute candle equals its recomputation from the stored ticks',
  check(_history, truth) {
    const byMinute = ticksByMinute(truth.storedTicks);
    const violations: Violation[] = [];
    let checked = 0;
    for (const candle of truth.candles) {
      if (candle.minute > truth.closedMinuteMax) continue;
      checked += 1;
      const expected = candleFromTicks(candle.minute, byMinute.get(candle.minute) ?? []);
      if (!expected || !sameCandle(candle, expected)) {
        violations.push({ invariant: 'candle-matches-ticks', message: `candle of minute ${candle.minute} has ${candle.tickCount} ticks, close ${candle.close}; the stored ticks give ${expected?.tickCount ?? 0} ticks, close ${expected?.close ?? 'none'}` });
      }
    }
    return { violations, checked };
  },
};

const noMissingCandle: Invariant<LockTruth> = {
  name: 'no-missing-candle',
  describe: 'every closed minute with stored ticks has a stored candle',
  check(_history, truth) {
    const byMinute = ticksByMinute(truth.storedTicks);
    const present = new Set(truth.candles.map((candle) => candle.minute));
    const violations: Violation[] = [];
    let checked = 0;
    for (const minute of [...byMinute.keys()].sort((a, b) => a - b)) {
      if (minute > truth.closedMinuteMax) continue;
      checked += 1;
      if (!present.has(minute)) violations.push({ invariant: 'no-missing-candle', message: `minute ${minute} has ${byMinute.get(minute)!.length} stored ticks and no candle` });
    }
    return { violations, checked };
  },
};

const episodesCache = new WeakMap<readonly HistoryEntry[], { endUs: number; length: number; result: { violations: Violation[]; stalenessUsMax: number } }>();

/** One violation per episode in which a reader went longer than the bound without a successful read. */
export function stalenessEpisodes(history: readonly HistoryEntry[], endUs: number): { violations: Violation[]; stalenessUsMax: number } {
  // The checker and the metrics both ask for this over the same finished history: compute it once.
  const cached = episodesCache.get(history);
  if (cached !== undefined && cached.endUs === endUs && cached.length === history.length) return cached.result;
  const result = computeStalenessEpisodes(history, endUs);
  episodesCache.set(history, { endUs, length: history.length, result });
  return result;
}

function computeStalenessEpisodes(history: readonly HistoryEntry[], endUs: number): { violations: Violation[]; stalenessUsMax: number } {
  const lastOkByReader = new Map<string, number>();
  const violations: Violation[] = [];
  let stalenessUsMax = 0;
  const readers = operations(history, 'read-candles');
  const firstInvoked = new Map<string, number>();
  for (const entry of readers) if (!firstInvoked.has(entry.process)) firstInvoked.set(entry.process, entry.invokedUs);
  const judge = (process: string, fromUs: number, toUs: number) => {
    const gap = toUs - fromUs;
    stalenessUsMax = Math.max(stalenessUsMax, gap);
    if (gap > READER_STALENESS_US_MAX) violations.push({ invariant: 'reader-staleness', message: `${process} had no fresh read for ${Math.round(gap / 1000)} ms (from ${fromUs} us)`, timeUs: fromUs });
  };
  for (const entry of readers) {
    if (entry.outcome !== 'ok' || entry.completedUs === null) continue;
    const previous = lastOkByReader.get(entry.process) ?? firstInvoked.get(entry.process)!;
    judge(entry.process, previous, entry.completedUs);
    lastOkByReader.set(entry.process, entry.completedUs);
  }
  for (const [process, first] of firstInvoked) judge(process, lastOkByReader.get(process) ?? first, endUs);
  return { violations, stalenessUsMax };
}

const readerStaleness: Invariant<LockTruth> = {
  name: 'reader-staleness',
  describe: `no reader goes longer than ${READER_STALENESS_US_MAX / 1_000_000} s without a successful read`,
  check(history, _truth, context) {
    // One case per reader and successful read judged (and each reader's tail to the end of the run).
    const readers = operations(history, 'read-candles');
    const checked = new Set(readers.map((entry) => entry.process)).size + readers.filter((entry) => entry.outcome === 'ok').length;
    return { violations: stalenessEpisodes(history, context.durationUs).violations, checked };
  },
};

export const lockInvariants: readonly Invariant<LockTruth>[] = [noTickLost, candleMatchesTicks, noMissingCandle, readerStaleness];
