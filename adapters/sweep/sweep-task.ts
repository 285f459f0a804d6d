// One run of a parameter sweep: a replay with one combination of the grid, summarized as a row. Runs in a
// worker thread of the sweep's pool (or in the calling thread with one worker); the catalog's chunks are kept
// per thread, so each worker reads the data once for all the combinations it runs.
import { isSimError, resolveParams } from '../../engine/index.ts';
import { findStrategy } from '../../strategies/index.ts';
import { runReplay, type ReplayDataCache, type ReplayOptions } from '../replay/run-replay.ts';
import { buildReport } from '../replay/write-artefacts.ts';

export type SweepBase = Omit<ReplayOptions, 'params' | 'source' | 'onProgress' | 'dataCache' | 'runId'>;

export interface SweepTask {
  readonly base: SweepBase;
  readonly index: number;
  /** Every parameter of the run: the fixed ones and this combination's grid values, as given. */
  readonly params: Readonly<Record<string, string>>;
}

export interface SweepRow {
  readonly index: number;
  readonly params: Readonly<Record<string, string>>;
  /** 'refused': the strategy refuses this combination (for example fast >= slow); `reason` says why. */
  readonly status: 'ok' | 'refused';
  readonly reason?: string;
  readonly runDigest?: string;
  readonly configHash?: string;
  readonly trades?: number;
  readonly winRate?: number;
  readonly realizedPnl?: number;
  readonly totalPnl?: number;
  readonly fees?: number;
  readonly returnFraction?: number;
  readonly maxDrawdown?: number;
  readonly sharpe?: number | null;
  readonly sortino?: number | null;
  readonly exposure?: number;
  readonly riskDenials?: number;
  /** Bad bars the run skipped (--skip-bad), by reason; the same for every row of a sweep. */
  readonly skippedRows?: { readonly total: number; readonly counts: Readonly<Record<string, number>> } | null;
}

/** The worker thread's chunks, kept for the runs it makes (the thread ends with its sweep's pool). */
const workerCache: ReplayDataCache = new Map();

/** What a worker thread sends back: a row, or the operating error of the run (a SimError loses its class crossing threads). */
export type SweepTaskOutcome = { readonly row: SweepRow } | { readonly error: { readonly code: string; readonly message: string } };

export async function runSweepTaskInWorker(task: SweepTask): Promise<SweepTaskOutcome> {
  try {
    return { row: await runSweepTask(task, workerCache) };
  } catch (error) {
    if (isSimError(error)) return { error: { code: error.code, message: error.message } };
    throw error;
  }
}

export async function runSweepTask(task: SweepTask, cache: ReplayDataCache): Promise<SweepRow> {
  try {
    // The strategy's own check of the values together (a hole in the grid, not an error of the sweep).
    resolveParams(findStrategy(task.base.strategy), task.params);
  } catch (error) {
    if (isSimError(error) && error.code === 'STRATEGY_BAD_PARAM') return { index: task.index, params: task.params, status: 'refused', reason: error.message };
    throw error;
  }
  const result = await runReplay({ ...task.base, params: task.params, dataCache: cache });
  const report = buildReport(result, null);
  const denials = Object.values(result.riskDenials).reduce((sum, count) => sum + count, 0);
  return {
    index: task.index, params: task.params, status: 'ok', runDigest: result.runDigest, configHash: result.configHash,
    trades: report.trades as number, winRate: report.winRate as number, realizedPnl: result.realizedPnl, totalPnl: result.totalPnl, fees: result.fees,
    returnFraction: report.returnFraction as number, maxDrawdown: report.maxDrawdown as number, sharpe: report.sharpe as number | null,
    sortino: report.sortino as number | null, exposure: report.exposure as number, riskDenials: denials,
    skippedRows: result.skipped ? { total: result.skipped.total, counts: result.skipped.counts } : null,
  };
}
