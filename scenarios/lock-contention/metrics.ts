// Measurements of a lock-contention run, computed from the history (both modes).
import type { HistoryEntry } from '../framework/history.ts';
import { notes, operations, percentile } from '../framework/history.ts';
import type { LockTruth } from './workload.ts';
import { stalenessEpisodes, storedTickIds } from './invariants.ts';

export function lockMetrics(history: readonly HistoryEntry[], truth: LockTruth, endUs: number): Record<string, number> {
  const ingests = operations(history, 'ingest-tick');
  const stored = storedTickIds(truth);
  const latenciesMs: number[] = [];
  let finalFailures = 0;
  let ticksLost = 0;
  for (const entry of ingests) {
    if (entry.outcome === 'ok' && entry.completedUs !== null) latenciesMs.push((entry.completedUs - entry.invokedUs) / 1000);
    if (entry.outcome === 'failed') finalFailures += 1;
    if (!stored.has((entry.input as { id: number }).id)) ticksLost += 1;
  }
  for (const entry of operations(history)) {
    if (entry.operation !== 'ingest-tick' && entry.outcome === 'failed') finalFailures += 1;
  }
  return {
    ticksDelivered: ingests.length,
    ticksLost,
    lockErrors: notes(history, 'lock-error').length,
    retries: notes(history, 'retry').length,
    finalFailures,
    writeLatencyP50Ms: round(percentile(latenciesMs, 0.5)),
    writeLatencyP99Ms: round(percentile(latenciesMs, 0.99)),
    readerStalenessMsMax: round(stalenessEpisodes(history, endUs).stalenessUsMax / 1000),
    candles: truth.candles.length,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
