// A parameter sweep: the cartesian product of a grid of strategy parameters, each combination one replay over
// the same data and costs, spread over a piscina pool of worker threads. Rows come back in grid order whatever
// the number of workers, and each row's run digest is the one `sim replay` prints for that combination, so the
// sweep's digest (over the rows' parameters and digests) does not depend on the workers either.
import { Piscina } from 'piscina';
import { SimError, isSimError, resolveParamValues } from '../../engine/index.ts';
import { findStrategy } from '../../strategies/index.ts';
import { checkReplayRun, stableHash, type ReplayDataCache } from '../replay/run-replay.ts';
import { runSweepTask, type SweepBase, type SweepRow, type SweepTask, type SweepTaskOutcome } from './sweep-task.ts';

export const SWEEP_COMBINATIONS_MAX = 10_000;

export interface SweepAxis {
  readonly name: string;
  readonly values: readonly string[];
}

export interface SweepOptions {
  /** The replay every combination shares; `fixed` are the parameters not swept. */
  readonly base: SweepBase;
  readonly fixed: Readonly<Record<string, string>>;
  readonly grid: readonly SweepAxis[];
  readonly workers: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SweepResult {
  readonly strategy: string;
  readonly grid: readonly SweepAxis[];
  readonly fixed: Readonly<Record<string, string>>;
  readonly combinations: number;
  readonly refused: number;
  /** sha256 over the rows' parameters and run digests, in grid order. */
  readonly sweepDigest: string;
  readonly rows: readonly SweepRow[];
}

/** Parses `--grid name=v1,v2,...` values into axes, refusing malformed, empty or repeated ones (values equal once resolved are refused by runSweep). */
export function parseGrid(pairs: readonly string[]): SweepAxis[] {
  const axes: SweepAxis[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at).trim() : '';
    const values = at > 0 ? pair.slice(at + 1).split(',').map((value) => value.trim()) : [];
    if (name === '' || values.length === 0 || values.some((value) => value === '')) {
      throw new SimError('SWEEP_BAD_GRID', `expected --grid name=value1,value2,..., found '${pair}'`);
    }
    if (axes.some((axis) => axis.name === name)) throw new SimError('SWEEP_BAD_GRID', `expected each parameter once in --grid, found ${name} twice`);
    axes.push({ name, values });
  }
  if (axes.length === 0) throw new SimError('SWEEP_BAD_GRID', 'expected at least one --grid name=value1,value2,..., found none');
  return axes;
}

/** Every combination of the grid, the last axis varying fastest. */
export function combinations(grid: readonly SweepAxis[]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const axis of grid) out = out.flatMap((partial) => axis.values.map((value) => ({ ...partial, [axis.name]: value })));
  return out;
}

export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const definition = findStrategy(options.base.strategy);
  const { grid, fixed } = options;
  for (const axis of grid) {
    if (Object.hasOwn(fixed, axis.name)) throw new SimError('SWEEP_BAD_GRID', `expected ${axis.name} either in --grid or in --param, found it in both`);
    // Each value alone, the others at their fixed or default values: a value the parameter cannot take refuses
    // the sweep (a combination the strategy refuses only as a whole is a row marked refused).
    const resolved = new Map<string, string>();
    for (const value of axis.values) {
      let values;
      try {
        values = resolveParamValues(definition, { ...fixed, [axis.name]: value });
      } catch (error) {
        // Named as the user gave it: a swept value comes from --grid.
        if (isSimError(error)) throw new SimError(error.code, error.message.replace(`--param ${axis.name}:`, `--grid ${axis.name}:`));
        throw error;
      }
      const same = resolved.get(String(values[axis.name]));
      if (same !== undefined) throw new SimError('SWEEP_BAD_GRID', `expected distinct values for ${axis.name}, found ${same} and ${value} (both ${values[axis.name]})`);
      resolved.set(String(values[axis.name]), value);
    }
  }
  // The checks every run would make, once: a bad option, date or symbol is the sweep's error, not each row's.
  await checkReplayRun(options.base);
  const total = grid.reduce((product, axis) => product * axis.values.length, 1);
  if (total > SWEEP_COMBINATIONS_MAX) throw new SimError('SWEEP_TOO_LARGE', `expected at most ${SWEEP_COMBINATIONS_MAX} combinations, found ${total}`);
  if (!(Number.isInteger(options.workers) && options.workers >= 1)) throw new SimError('BAD_OPTION', `expected --workers to be a whole number >= 1, found ${options.workers}`);
  const tasks: SweepTask[] = combinations(grid).map((combination, index) => ({ base: options.base, index, params: { ...fixed, ...combination } }));
  let done = 0;
  const progress = <T>(row: T): T => {
    options.onProgress?.(++done, tasks.length);
    return row;
  };
  let rows: SweepRow[];
  const workers = Math.min(options.workers, tasks.length);
  if (workers <= 1) {
    rows = [];
    const cache: ReplayDataCache = new Map();
    for (const task of tasks) rows.push(progress(await runSweepTask(task, cache)));
  } else {
    const pool = new Piscina({ filename: new URL('./sweep-worker.mjs', import.meta.url).href, minThreads: workers, maxThreads: workers, idleTimeout: 1_000 });
    const outcomes: SweepTaskOutcome[] = [];
    let crash: unknown = null;
    try {
      // One lane per worker, taking the combinations in grid order; after a failure no lane starts another.
      // Every run in flight ends before the pool goes: destroying the pool under a run inside DuckDB aborts the
      // process. Runs start in grid order, so every combination before a failed one has run, and the first
      // failure in grid order is the same for any number of workers.
      let next = 0;
      let failed = false;
      const lane = async () => {
        while (crash === null && !failed && next < tasks.length) {
          const task = tasks[next++];
          try {
            const outcome = (await pool.run(task)) as SweepTaskOutcome;
            outcomes[task.index] = outcome;
            if ('error' in outcome) failed = true;
            else progress(outcome.row);
          } catch (error) {
            crash ??= error;
          }
        }
      };
      await Promise.all(Array.from({ length: workers }, lane));
    } finally {
      await pool.destroy();
    }
    if (crash !== null) throw crash;
    const failure = outcomes.find((outcome) => outcome !== undefined && 'error' in outcome);
    if (failure !== undefined && 'error' in failure) throw new SimError(failure.error.code, failure.error.message);
    rows = outcomes.map((outcome) => (outcome as { row: SweepRow }).row);
  }
  // Rows are in grid order: built in it with one worker, placed by index with several.
  if (rows.every((row) => row.status === 'refused')) {
    throw new SimError('SWEEP_ALL_REFUSED', `expected at least one combination ${definition.name} accepts, found all ${rows.length} refused (first: ${rows[0].reason})`);
  }
  return {
    strategy: definition.name, grid, fixed, combinations: rows.length, refused: rows.filter((row) => row.status === 'refused').length,
    sweepDigest: stableHash(rows.map((row) => [row.params, row.runDigest ?? null])), rows,
  };
}
