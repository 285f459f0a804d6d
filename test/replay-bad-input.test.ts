// Proves `sim replay` refuses each bad input with a one-line error naming what was expected and what was found, a
// nonzero exit and no stack trace (unless --verbose): unknown date, symbol, strategy or parameter; empty and
// corrupt Parquet; bars with NaN, non-positive prices or high < low (refused with counts and first rows, or
// skipped under --skip-bad).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = path.resolve(import.meta.dirname, '..');
const CATALOG = path.join(ROOT, 'data/catalog');
const exec = promisify(execFile);

async function sim(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(ROOT, 'bin/sim.mjs'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function expectOneLineError(result: { code: number; stderr: string }, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

let work: string;

/** The Parquet file of 2024-03-15 in a catalog folder (names are content-addressed). */
function partFile(dir: string): string {
  const folder = path.join(dir, 'bars/1m/date=2024-03-15');
  const name = readdirSync(folder).find((n) => n.endsWith('.parquet'));
  if (!name) throw new Error(`no Parquet file in ${folder}`);
  return path.join(folder, name);
}

/** A one-date copy of the bundled catalog with its Parquet file replaced by `mutate`d rows. */
async function catalogWith(name: string, mutateSql: string | null): Promise<string> {
  const dir = path.join(work, name);
  cpSync(CATALOG, dir, { recursive: true });
  if (mutateSql !== null) {
    const file = partFile(dir);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE bars AS SELECT * FROM read_parquet('${file}')`);
    await connection.run(mutateSql);
    await connection.run(`COPY (SELECT * FROM bars ORDER BY symbol, ts) TO '${file}' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
  }
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'sim-bad-input-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sim replay refuses bad input', () => {
  it('an unknown date says which dates exist, and why the exchange had none', async () => {
    expectOneLineError(await sim('replay', '--date', '2024-03-16'), /DATA_UNKNOWN_DATE.*found 2024-03-16 \(a Saturday\);.*2024-03-15.*2024-03-18/);
    expectOneLineError(await sim('replay', '--date', '2024-03-29'), /DATA_UNKNOWN_DATE.*found 2024-03-29 \(an NYSE holiday\);.*nearest 2024-03-28 and 2024-04-01/);
    expectOneLineError(await sim('replay', '--date', '2025-03-14'), /DATA_UNKNOWN_DATE.*found 2025-03-14; there are 252 dates from 2024-01-02 to 2024-12-31/);
  });

  it('a malformed date and an inverted range', async () => {
    expectOneLineError(await sim('replay', '--date', '2024-13-01'), /expected .*YYYY-MM-DD|real calendar/);
    expectOneLineError(await sim('replay', '--from', '2024-03-15', '--to', '2024-03-01'), /expected --from on or before --to/);
  });

  it('a tape with options that choose catalog data is refused, not replayed whole', async () => {
    expectOneLineError(await sim('replay', '--tape', 'session.arrow', '--symbols', 'AZO'), /BAD_OPTION: expected --tape alone .*found also --symbols AZO$/);
    expectOneLineError(await sim('replay', '--tape', 'session.arrow', '--date', '2024-03-15', '--skip-bad'), /found also --date 2024-03-15 --skip-bad$/);
  });

  it('an unknown symbol lists the known ones', async () => {
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--symbols', 'ZZZ'), /DATA_UNKNOWN_SYMBOL.*AZO.*TYL/);
  });

  it('an unknown strategy lists the known ones', async () => {
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--strategy', 'nope'), /STRATEGY_UNKNOWN: expected a strategy \(orb, sma-cross, trend-pullback, trailing\), found 'nope'/);
  });

  it('a bad parameter says which and why', async () => {
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--strategy', 'sma-cross', '--param', 'fast=abc'), /--param fast: expected an integer >= 1, found 'abc'/);
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--strategy', 'sma-cross', '--param', 'fast=40'), /expected fast < slow, found fast 40, slow 30/);
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--strategy', 'sma-cross', '--param', 'fats=4'), /expected a parameter of sma-cross .*found 'fats'/);
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--param', 'novalue'), /expected --param key=value, found 'novalue'/);
  });

  it('an empty Parquet file is named', async () => {
    const dir = await catalogWith('empty', null);
    writeFileSync(partFile(dir), '');
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--catalog', dir), /DATA_CORRUPT_FILE: expected Parquet data in .*date=2024-03-15.*found an empty file/);
  });

  it('a corrupt Parquet file is named', async () => {
    const dir = await catalogWith('corrupt', null);
    const file = partFile(dir);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expectOneLineError(await sim('replay', '--date', '2024-03-15', '--catalog', dir), /DATA_CORRUPT_FILE: expected readable Parquet in .*date=2024-03-15/);
  });

  it('bad bars are refused with counts and the first offending rows, or skipped with --skip-bad', async () => {
    const dir = await catalogWith('bad-bars', `
      UPDATE bars SET close = 'NaN'::DOUBLE WHERE symbol = 'AZO' AND ts = (SELECT min(ts) FROM bars WHERE symbol = 'AZO');
      UPDATE bars SET low = high + 1 WHERE symbol = 'GWW' AND ts IN (SELECT ts FROM bars WHERE symbol = 'GWW' ORDER BY ts LIMIT 2);
      UPDATE bars SET open = -1 WHERE symbol = 'NVR' AND ts = (SELECT max(ts) FROM bars WHERE symbol = 'NVR');`);
    const refused = await sim('replay', '--date', '2024-03-15', '--catalog', dir);
    expectOneLineError(refused, /^sim: error DATA_BAD_BARS: expected valid bars, found 4 bad rows \(/);
    // The counts per reason, and the first offending rows with their time, reason and file.
    expect(refused.stderr).toMatch(/\b1 NaN\b/);
    expect(refused.stderr).toMatch(/\b2 high < low\b/);
    expect(refused.stderr).toMatch(/\b1 non-positive price\b/);
    expect(refused.stderr).toMatch(/AZO at 2024-03-15T13:30:00(\.000)?Z \(NaN\) in bars\/1m\/date=2024-03-15\/[^ ;]+\.parquet/);
    expect(refused.stderr).toMatch(/GWW at 2024-03-15T\S+ \(high < low\)/);
    const skipped = await sim('replay', '--date', '2024-03-15', '--catalog', dir, '--skip-bad', '--json', '--no-artefacts');
    expect(skipped.code).toBe(0);
    const report = JSON.parse(skipped.stdout) as { bars: number; skippedRows: { total: number; counts: Record<string, number> } };
    expect(report.skippedRows.total).toBe(4);
    expect(report.skippedRows.counts).toEqual({ NaN: 1, 'high < low': 2, 'non-positive price': 1 });
    expect(report.bars).toBe(900 - 4);
    expect(skipped.stderr).toMatch(/skipped 4 bad bars/);
  });

  it('shows the stack trace only with --verbose', async () => {
    const result = await sim('replay', '--date', '2024-03-16', '--verbose');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('ends quietly when the reader closes the pipe early', async () => {
    // `head -1` closes the pipe after the first line, while `sim chaos list` is still writing the others.
    const { stdout, stderr } = await exec('sh', ['-c', `"${process.execPath}" bin/sim.mjs chaos list | head -1`], { cwd: ROOT });
    expect(stdout).toMatch(/^lock-contention /);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
  });
});
