// Proves `sim sweep`: every combination of the grid is one replay whose run digest is the one `sim replay` gives
// for it, the rows and the sweep digest do not depend on the number of worker threads, a combination the strategy
// refuses is a row saying why, and a bad grid is refused with one line.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isSimError } from '../engine/errors.ts';
import { DEFAULT_CATALOG_DIR } from '../adapters/catalog/index.ts';
import { runReplay } from '../adapters/replay/run-replay.ts';
import { combinations, parseGrid, runSweep } from '../adapters/sweep/run-sweep.ts';
import type { SweepBase } from '../adapters/sweep/sweep-task.ts';

const base: SweepBase = {
  catalogDir: DEFAULT_CATALOG_DIR, fromDate: '2024-03-11', toDate: '2024-03-15', symbols: ['AZO', 'FICO'], strategy: 'sma-cross', seed: 1,
  fill: 'next-open', intrabar: 'stop-first', feesBps: 1, feeMinimum: 0, slippageBps: 2, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1,
  initialCash: 100_000, risk: {}, skipBad: false,
};
const grid = parseGrid(['fast=5,10,30', 'slow=20,30']);
const work = mkdtempSync(path.join(os.tmpdir(), 'sim-sweep-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(isSimError(error), String(error)).toBe(true);
    return `${(error as { code: string }).code}: ${(error as Error).message}`;
  }
  return 'accepted';
}

describe('sim sweep', () => {
  it('runs every combination as the replay it names, the same rows for one worker or two', async () => {
    expect(combinations(grid)).toEqual([{ fast: '5', slow: '20' }, { fast: '5', slow: '30' }, { fast: '10', slow: '20' }, { fast: '10', slow: '30' }, { fast: '30', slow: '20' }, { fast: '30', slow: '30' }]);
    const fixed = { mode: 'long-only' };
    const one = await runSweep({ base, fixed, grid, workers: 1 });
    const two = await runSweep({ base, fixed, grid, workers: 2 });
    expect(two).toEqual(one);
    expect(one.combinations).toBe(6);
    expect(one.rows.filter((row) => row.status === 'refused').map((row) => [row.params.fast, row.params.slow, row.reason])).toEqual([
      ['30', '20', 'sma-cross: expected fast < slow, found fast 30, slow 20'], ['30', '30', 'sma-cross: expected fast < slow, found fast 30, slow 30'],
    ]);
    const accepted = one.rows.filter((row) => row.status === 'ok');
    expect(new Set(accepted.map((row) => row.runDigest)).size).toBe(4);
    for (const row of [accepted[0], accepted[3]]) {
      const replay = await runReplay({ ...base, params: row.params });
      expect(row.runDigest).toBe(replay.runDigest);
      expect([row.trades, row.totalPnl, row.fees]).toEqual([replay.summary.closedTrades, replay.totalPnl, replay.fees]);
    }
  }, 60_000);

  it('refuses a bad grid, a value the parameter cannot take, and a grid the strategy refuses whole', async () => {
    expect(await refusal(async () => parseGrid([]))).toBe('SWEEP_BAD_GRID: expected at least one --grid name=value1,value2,..., found none');
    expect(await refusal(async () => parseGrid(['fast']))).toBe("SWEEP_BAD_GRID: expected --grid name=value1,value2,..., found 'fast'");
    expect(await refusal(async () => parseGrid(['fast=5,,10']))).toBe("SWEEP_BAD_GRID: expected --grid name=value1,value2,..., found 'fast=5,,10'");
    expect(await refusal(async () => parseGrid(['fast=5', 'fast=10']))).toBe('SWEEP_BAD_GRID: expected each parameter once in --grid, found fast twice');
    expect(await refusal(() => runSweep({ base, fixed: {}, grid: parseGrid(['fast=5,05']), workers: 1 }))).toBe('SWEEP_BAD_GRID: expected distinct values for fast, found 5 and 05 (both 5)');
    expect(await refusal(() => runSweep({ base, fixed: {}, grid: parseGrid(['toString=1,2']), workers: 1 }))).toMatch(/^STRATEGY_BAD_PARAM: expected a parameter of sma-cross/);
    // A run option is checked once, before any combination (also when every combination would be refused).
    expect(await refusal(() => runSweep({ base: { ...base, seed: -1 }, fixed: {}, grid: parseGrid(['fast=40,50']), workers: 1 }))).toBe('BAD_OPTION: expected --seed to be a whole number >= 0, found -1');
    expect(await refusal(() => runSweep({ base, fixed: { fast: '5' }, grid: parseGrid(['fast=5,10']), workers: 1 }))).toBe('SWEEP_BAD_GRID: expected fast either in --grid or in --param, found it in both');
    expect(await refusal(() => runSweep({ base, fixed: {}, grid: parseGrid(['fast=0,5']), workers: 1 }))).toBe("STRATEGY_BAD_PARAM: --grid fast: expected an integer >= 1, found '0'");
    expect(await refusal(() => runSweep({ base, fixed: {}, grid: parseGrid(['speed=1,2']), workers: 1 }))).toMatch(/^STRATEGY_BAD_PARAM: expected a parameter of sma-cross \(fast, slow, mode, quantity\), found 'speed'$/);
    // An operating error of the runs crosses the worker threads with its code.
    expect(await refusal(() => runSweep({ base: { ...base, fromDate: '2024-07-04', toDate: '2024-07-04' }, fixed: {}, grid: parseGrid(['fast=5,10']), workers: 2 }))).toMatch(/^DATA_UNKNOWN_DATE: .*found 2024-07-04 \(an NYSE holiday\)/);
    expect(await refusal(() => runSweep({ base, fixed: {}, grid: parseGrid(['fast=40,50']), workers: 1 }))).toBe('SWEEP_ALL_REFUSED: expected at least one combination sma-cross accepts, found all 2 refused (first: sma-cross: expected fast < slow, found fast 40, slow 30)');
  });

  it('stops at an operating error of a run, the first in grid order whatever the workers, with its code and exit 2', async () => {
    // quantity 0.5 of a whole-share instrument is refused inside the run (BAD_QUANTITY), with runs in flight on
    // other workers: they end before the pool goes (destroying it under DuckDB once aborted the process).
    for (const workers of ['1', '4']) {
      const failed = await promisify(execFile)(process.execPath, ['bin/sim.mjs', 'sweep', '--date', '2024-03-15', '--symbols', 'AZO', '--strategy', 'sma-cross', '--grid', 'quantity=1.5,0.5,2.5,3.5', '--grid', 'fast=5,8', '--workers', workers])
        .then(() => null, (error: { code: number; stderr: string }) => error);
      expect(failed?.code, `--workers ${workers}`).toBe(2);
      expect(failed?.stderr).toBe('sim: error BAD_QUANTITY: expected a positive quantity in whole lots of 1, found 1.5\n');
    }
  }, 60_000);

  it('prints one JSON object and writes sweep.json from the command line', async () => {
    const out = path.join(work, 'out');
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/sim.mjs', 'sweep', '--date', '2024-03-15', '--strategy', 'sma-cross', '--grid', 'fast=5,10', '--grid', 'slow=30', '--workers', '2', '--sort', 'totalPnl', '--json', '--out', out]);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ strategy: 'sma-cross', from: '2024-03-15', to: '2024-03-15', combinations: 2, refused: 0, ranking: 'totalPnl' });
    expect(report.rows.map((row: { params: Record<string, string> }) => row.params)).toEqual([{ fast: '5', slow: '30' }, { fast: '10', slow: '30' }]);
    const [first, second] = report.rows as { totalPnl: number }[];
    expect(report.ranked).toEqual(first.totalPnl >= second.totalPnl ? [0, 1] : [1, 0]);
    expect(JSON.parse(readFileSync(path.join(out, 'sweep.json'), 'utf8'))).toEqual(report);
  }, 60_000);
});
