// Proves `data import` reads the real stock CSVs, Binance klines and plain CSVs, refuses bad rows by row number, leaves the catalog untouched on failure, and re-imports idempotently.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles, openCatalog } from '../adapters/catalog/index.ts';
import { MANIFEST_FILE, emptyManifest, writeManifest } from '../adapters/catalog/manifest.ts';
import { parseTimeUs, symbolFromFileName } from '../adapters/catalog/parse-market-csv.ts';
import { isSimError, type SimError } from '../engine/errors.ts';

const REAL = '/work/shared/data/real/stocks-1m-2024';
let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-data-import-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(current: string): Promise<void> {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out[path.relative(dir, full)] = (await fs.readFile(full)).toString('base64');
    }
  }
  await walk(dir);
  return out;
}

async function expectSimError(promise: Promise<unknown>, code: string): Promise<SimError> {
  try {
    await promise;
  } catch (error) {
    expect(isSimError(error), String(error)).toBe(true);
    expect((error as SimError).code).toBe(code);
    return error as SimError;
  }
  throw new Error(`expected ${code}, found success`);
}

describe('time and name parsing', () => {
  it('reads epoch times by magnitude and zoned text', () => {
    const us = 1_704_205_800_000_000;
    expect(parseTimeUs('1704205800')).toBe(us);
    expect(parseTimeUs('1704205800000')).toBe(us);
    expect(parseTimeUs('1704205800000000')).toBe(us);
    expect(parseTimeUs('1704205800000000000')).toBe(us);
    expect(parseTimeUs('1704205800000001499')).toBe(us + 1);
    expect(parseTimeUs('Tue, 02 Jan 2024 14:30:00 GMT')).toBe(us);
    expect(parseTimeUs('2024-01-02T14:30:00Z')).toBe(us);
    expect(parseTimeUs('2024-01-02T09:30:00.000250-05:00')).toBe(us + 250);
    expect(parseTimeUs('2024-01-02 14:30:00')).toBeNaN();
    expect(symbolFromFileName('/x/AZO-2024-1min.csv')).toBe('AZO');
    expect(symbolFromFileName('BTCUSDT-1m-2024-01.csv')).toBe('BTCUSDT');
  });
});

describe('import', () => {
  it('imports the six real files: 6 symbols, 252 dates each, AZO 25,833 bars, 114 on 2024-03-15', async () => {
    const dir = path.join(root, 'real');
    const files = (await fs.readdir(REAL)).filter((name) => name.endsWith('.csv')).sort().map((name) => path.join(REAL, name));
    expect(files).toHaveLength(6);
    const report = await importFiles({ catalogDir: dir, files });
    expect(report.rowsAfter).toBe(207_609);
    expect(report.datesWritten).toHaveLength(252);
    const catalog = await openCatalog(dir);
    try {
      expect(catalog.symbols()).toEqual(['AZO', 'FICO', 'GWW', 'NVR', 'TDG', 'TYL']);
      expect(catalog.dates('bars')).toHaveLength(252);
      expect(catalog.instrument('AZO')).toEqual({ symbol: 'AZO', priceScale: 6, lotScale: 0, calendar: 'us-equity' });
      let azoYear = 0;
      const chunkDays = new Set<number>();
      for await (const chunk of catalog.readBars({ symbols: ['AZO'], fromDate: '2024-01-01', toDate: '2024-12-31' })) {
        azoYear += chunk.length;
        const day = Math.floor(chunk.startUs[0] / 86_400_000_000);
        expect(Math.floor(chunk.startUs[chunk.length - 1] / 86_400_000_000)).toBe(day);
        chunkDays.add(day);
        for (let index = 1; index < chunk.length; index++) expect(chunk.startUs[index]).toBeGreaterThan(chunk.startUs[index - 1]);
      }
      expect(azoYear).toBe(25_833);
      expect(chunkDays.size).toBe(252);
      let azoDay = 0;
      let first: number[] = [];
      for await (const chunk of catalog.readBars({ symbols: ['AZO'], fromDate: '2024-03-15', toDate: '2024-03-15' })) {
        if (azoDay === 0) first = [chunk.startUs[0], chunk.open[0], chunk.volume[0]];
        azoDay += chunk.length;
      }
      expect(azoDay).toBe(114);
      expect(first[0]).toBe(Date.UTC(2024, 2, 15, 13, 30) * 1000);
      const perSymbolDates = new Map<string, Set<string>>();
      for (const file of catalog.manifest.files) {
        for (const symbol of file.symbols) {
          const set = perSymbolDates.get(symbol) ?? new Set<string>();
          set.add(file.date);
          perSymbolDates.set(symbol, set);
        }
      }
      for (const symbol of catalog.symbols()) expect(perSymbolDates.get(symbol)?.size, symbol).toBe(252);
    } finally {
      await catalog.close();
    }
    // Re-importing a file changes nothing, not even a byte.
    const before = await snapshot(dir);
    const again = await importFiles({ catalogDir: dir, files: [files[0]] });
    expect(again.datesWritten).toHaveLength(0);
    expect(again.datesUnchanged).toBe(252);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('reads Binance klines (no header, ms open time) and plain time,open,high,low,close,volume', async () => {
    const dir = path.join(root, 'layouts');
    const binance = path.join(root, 'BTCUSDT-1m-2024-01.csv');
    await fs.writeFile(binance, [
      '1704067200000,42283.58000000,42298.62000000,42261.02000000,42298.61000000,35.92724000,1704067259999,1518942.39,1327,18.4,778.6,0',
      '1704067260000,42298.62000000,42320.00000000,42298.61000000,42320.00000000,21.06184000,1704067319999,891161.11,1094,13.8,584.9,0',
    ].join('\n'));
    const plain = path.join(root, 'plain.csv');
    await fs.writeFile(plain, 'time,open,high,low,close,volume\n2024-01-02T14:30:00Z,10.5,10.75,10.25,10.5,100\n2024-01-02T14:31:00Z,10.5,10.5,10.5,10.5,0\n');
    const report = await importFiles({ catalogDir: dir, files: [binance, plain], symbol: undefined });
    expect(report.files.map((file) => [file.symbols[0], file.rowsImported])).toEqual([['BTCUSDT', 2], ['PLAIN', 2]]);
    const catalog = await openCatalog(dir);
    try {
      expect(catalog.instrument('BTCUSDT')).toEqual({ symbol: 'BTCUSDT', priceScale: 2, lotScale: 5, calendar: 'always-open' });
      expect(catalog.instrument('PLAIN').priceScale).toBe(2);
      const rows: number[][] = [];
      for await (const chunk of catalog.readBars({ symbols: ['BTCUSDT'], fromDate: '2024-01-01', toDate: '2024-01-01' })) {
        for (let index = 0; index < chunk.length; index++) rows.push([chunk.startUs[index], chunk.open[index], chunk.high[index], chunk.volume[index]]);
      }
      expect(rows).toEqual([[1_704_067_200_000_000, 4_228_358, 4_229_862, 3_592_724], [1_704_067_260_000_000, 4_229_862, 4_232_000, 2_106_184]]);
    } finally {
      await catalog.close();
    }
  });

  it('reads quoted CSV (through csv-parse) and CRLF line endings with the same row numbers', async () => {
    const dir = path.join(root, 'quoted');
    const quoted = path.join(root, 'QUOTED.csv');
    await fs.writeFile(quoted, '"time","open","high","low","close","volume"\r\n"2024-01-02T14:30:00Z","10.5","10.75","10.25","10.5","100"\r\n\r\n"2024-01-02T14:31:00Z","10.5","10.4","10.6","10.5","1"\r\n');
    const error = await expectSimError(importFiles({ catalogDir: dir, files: [quoted] }), 'DATA_BAD_ROWS');
    expect(error.message).toContain('row 4 (high < low)');
    const crlf = path.join(root, 'CRLF.csv');
    await fs.writeFile(crlf, 'time;open;high;low;close;volume\r\n1704205800;10;11;9;10;5\r\n\r\n1704205860;10;9;11;10;5\r\n');
    const plainError = await expectSimError(importFiles({ catalogDir: dir, files: [crlf] }), 'DATA_BAD_ROWS');
    expect(plainError.message).toContain('row 4 (high < low)');
    const report = await importFiles({ catalogDir: dir, files: [quoted, crlf], skipBad: true });
    expect(report.files.map((file) => file.rowsImported)).toEqual([1, 1]);
  });

  it('reads Binance trades and aggTrades tick files (no header; is_buyer_maker gives the side)', async () => {
    const dir = path.join(root, 'binance-ticks');
    const trades = path.join(root, 'ETHUSDT-trades-2024-01.csv');
    await fs.writeFile(trades, '1,2281.87000000,0.05000000,114.09,1704067200000,True,True\n2,2281.88000000,0.10000000,228.19,1704067200500,False,True\n');
    const aggregated = path.join(root, 'BNBUSDT-aggTrades-2024-01.csv');
    await fs.writeFile(aggregated, '7,312.1,1.5,10,11,1704067200000,False,True\n');
    await importFiles({ catalogDir: dir, files: [trades, aggregated], kind: 'ticks' });
    const catalog = await openCatalog(dir);
    try {
      expect(catalog.instrument('ETHUSDT')).toEqual({ symbol: 'ETHUSDT', priceScale: 2, lotScale: 2, calendar: 'always-open' });
      const rows: number[][] = [];
      for await (const chunk of catalog.readTicks({ fromDate: '2024-01-01', toDate: '2024-01-01' })) {
        for (let index = 0; index < chunk.length; index++) rows.push([chunk.symbolIndex[index], chunk.timeUs[index], chunk.price[index], chunk.size[index]]);
      }
      expect(rows).toEqual([[0, 1_704_067_200_000_000, 3121, 15], [1, 1_704_067_200_000_000, 228_187, 5], [1, 1_704_067_200_500_000, 228_188, 10]]);
      const { connection } = await catalog.session();
      const sides = (await connection.runAndReadAll(`SELECT side FROM read_parquet('${catalog.filePaths({ fromDate: '2024-01-01', toDate: '2024-01-01' }, 'ticks')[0]}') ORDER BY symbol, ts`)).getColumnsJson()[0];
      expect(sides).toEqual(['buy', 'sell', 'buy']);
    } finally {
      await catalog.close();
    }
  });

  it('refuses a file with bad rows by row number and leaves the catalog exactly as it was; --skip-bad imports the rest', async () => {
    const dir = path.join(root, 'bad');
    const good = path.join(root, 'GOOD.csv');
    await fs.writeFile(good, 'timestamp;open;high;low;close;volume\n1704205800000;10;11;9;10;5\n');
    await importFiles({ catalogDir: dir, files: [good] });
    const before = await snapshot(dir);
    const bad = path.join(root, 'BAD.csv');
    await fs.writeFile(bad, [
      'timestamp;open;high;low;close;volume',
      '1704205800000;10;11;9;10;5', // 2 good
      '1704205860000;10;11;x;10;5', // 3 malformed
      '1704205920000;0;11;9;10;5', // 4 non-positive price
      '1704205980000;10;9;11;10;5', // 5 high < low
      '1704206040000;10;11;9;10;-1', // 6 negative volume
      '1704206100000;10;11;9;10;5', // 7 good
      '1704206100000;10;11;9;10;5', // 8 duplicate
      '1704205740000;10;11;9;10;5', // 9 out of order
      '1704206160000;12;11;9;10;5', // 10 high/low do not bracket open
      '1704206220000;10;11', // 11 malformed (short)
    ].join('\n'));
    const error = await expectSimError(importFiles({ catalogDir: dir, files: [bad] }), 'DATA_BAD_ROWS');
    expect(error.message).toContain('found 8 bad of 10');
    expect(error.message).toContain('row 3 (malformed row)');
    expect(error.message).toContain('row 4 (non-positive price)');
    const details = error.details as { files: { counts: Record<string, number>; first: { row: number; reason: string }[] }[] };
    expect(details.files[0].counts).toEqual({
      'malformed row': 2, 'non-positive price': 1, 'high < low': 1, 'negative volume': 1, 'duplicate timestamp': 1,
      'out-of-order timestamp': 1, 'high/low do not bracket open/close': 1,
    });
    expect(details.files[0].first.map((row) => row.row)).toEqual([3, 4, 5, 6, 8, 9, 10, 11]);
    expect(await snapshot(dir)).toEqual(before);

    const report = await importFiles({ catalogDir: dir, files: [bad], skipBad: true });
    expect(report.files[0].rowsImported).toBe(2);
    expect(report.files[0].rejected).toBe(8);
    expect(path.dirname(report.files[0].rejectsFile!)).toBe(path.join(dir, 'rejects'));
    expect(path.basename(report.files[0].rejectsFile!)).toMatch(/^BAD\.csv\.[0-9a-f]{12}\.rejects\.csv$/);
    const rejects = (await fs.readFile(report.files[0].rejectsFile!, 'utf8')).trim().split('\n');
    expect(rejects).toHaveLength(9);
    expect(rejects[0]).toBe('source,row,reason,detail,text');
    expect(rejects[1].startsWith(`${bad},3,malformed row,`)).toBe(true);
    // Re-importing the same file writes the same report (same name, same bytes), not a second one.
    const again = await importFiles({ catalogDir: dir, files: [bad], skipBad: true });
    expect(again.files[0].rejectsFile).toBe(report.files[0].rejectsFile);
    expect(await fs.readdir(path.join(dir, 'rejects'))).toHaveLength(1);
  });

  it('keeps one reject report per source (same-named files from two folders), each naming its source, committed with the import', async () => {
    const dir = path.join(root, 'same-name');
    await fs.mkdir(path.join(root, 'a'), { recursive: true });
    await fs.mkdir(path.join(root, 'b'), { recursive: true });
    const first = path.join(root, 'a', 'X.csv');
    const second = path.join(root, 'b', 'X.csv');
    await fs.writeFile(first, 'time,open,high,low,close,volume\n1704205800,10,11,9,10,5\n1704205860,10,9,11,10,5\n');
    await fs.writeFile(second, 'time,open,high,low,close,volume\n1704292200,10,11,9,10,5\n1704292260,0,11,9,10,5\n1704292320,10,11,9,10,-5\n');
    const report = await importFiles({ catalogDir: dir, files: [first, second], skipBad: true, symbol: 'X' });
    const [one, two] = report.files.map((file) => file.rejectsFile!);
    expect(one).not.toBe(two);
    const firstColumns = async (file: string): Promise<string[]> => (await fs.readFile(file, 'utf8')).trim().split('\n').slice(1).map((line) => line.split(',').slice(0, 3).join(','));
    expect(await firstColumns(one)).toEqual([`${first},3,high < low`]);
    expect(await firstColumns(two)).toEqual([`${second},3,non-positive price`, `${second},4,negative volume`]);
    expect((await fs.readdir(path.join(dir, 'rejects'))).sort()).toEqual([path.basename(one), path.basename(two)].sort());

    // The reports are part of the commit: when they cannot be placed, nothing is committed.
    const blocked = path.join(root, 'rejects-blocked');
    const good = path.join(root, 'BLOCKED.csv');
    await fs.writeFile(good, 'time,open,high,low,close,volume\n1704205800,10,11,9,10,5\n');
    await importFiles({ catalogDir: blocked, files: [good] });
    await fs.writeFile(path.join(blocked, 'rejects'), 'a file where the rejects folder belongs\n');
    const before = await snapshot(blocked);
    const failed = await expectSimError(importFiles({ catalogDir: blocked, files: [second], skipBad: true, symbol: 'BLOCKED' }), 'DATA_COMMIT_FAILED');
    expect(failed.message).toMatch(/expected to place .*rejects.* before the catalog's commit, found (ENOTDIR|EEXIST)/);
    expect(await snapshot(blocked)).toEqual(before);
  });

  it('a failed commit leaves the catalog as it was', async () => {
    const dir = path.join(root, 'atomic');
    const first = path.join(root, 'ATOM.csv');
    await fs.writeFile(first, 'time,open,high,low,close,volume\n1704205800,10,11,9,10,5\n');
    await importFiles({ catalogDir: dir, files: [first] });
    const before = await snapshot(dir);
    // Block the manifest's temporary file with a folder, so the commit fails after the partitions are written.
    const blocker = path.join(dir, `manifest.json.tmp-${process.pid}`);
    await fs.mkdir(blocker);
    const second = path.join(root, 'ATOM2.csv');
    await fs.writeFile(second, 'time,open,high,low,close,volume\n1704205860,10,11,9,10,5\n1704292260,10,11,9,10,5\n');
    const error = await expectSimError(importFiles({ catalogDir: dir, files: [second], symbol: 'ATOM' }), 'DATA_COMMIT_FAILED');
    expect(error.message).toBe(`expected to create ${blocker} (the catalog's commit), found EISDIR; the catalog is as it was`);
    await fs.rm(blocker, { recursive: true });
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a manifest that cannot be renamed into place is DATA_COMMIT_FAILED and leaves no temporary file', async () => {
    const dir = path.join(root, 'rename-fails');
    // A non-empty folder where the manifest belongs: the temporary file is written, the rename fails.
    await fs.mkdir(path.join(dir, MANIFEST_FILE, 'inside'), { recursive: true });
    const error = await expectSimError(writeManifest(dir, emptyManifest()), 'DATA_COMMIT_FAILED');
    expect(error.message).toMatch(/^expected to rename .*manifest\.json\.tmp-\d+ to .*manifest\.json \(the catalog's commit\), found E\w+; the catalog is as it was$/);
    expect(await fs.readdir(dir)).toEqual([MANIFEST_FILE]);
  });

  it('an import killed with SIGKILL mid-way leaves the catalog folder exactly as it was; the next import recovers', async () => {
    const dir = path.join(root, 'killed');
    const small = path.join(root, 'KILL.csv');
    await fs.writeFile(small, 'time,open,high,low,close,volume\n1704205800,10,11,9,10,5\n');
    await importFiles({ catalogDir: dir, files: [small] });
    const before = await snapshot(dir);
    const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const files = (await fs.readdir(REAL)).filter((name) => name.endsWith('.csv')).sort().map((name) => path.join(REAL, name));
    const child = spawn(process.execPath, [path.join(repo, 'bin/sim.mjs'), 'data', 'import', ...files, '--catalog', dir], { cwd: repo, stdio: 'ignore' });
    // Staging is per call: `<catalog>.staging-<pid>-<n>`.
    const stagingPrefix = `${path.basename(dir)}.staging-${child.pid}-`;
    // Poll (bounded) until partitions are being staged, then kill the importer.
    let staged = 0;
    for (let attempt = 0; attempt < 1200 && staged < 5 && child.exitCode === null; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const staging = (await fs.readdir(root)).find((name) => name.startsWith(stagingPrefix));
      staged = staging === undefined ? 0 : (await fs.readdir(path.join(root, staging)).catch(() => [])).length;
    }
    expect(staged).toBeGreaterThanOrEqual(5);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await snapshot(dir)).toEqual(before);
    const report = await importFiles({ catalogDir: dir, files: [files[0]] });
    expect(report.rowsAfter).toBe(1 + 25_833);
    const leftovers = (await fs.readdir(root)).filter((name) => name.startsWith('killed.'));
    expect(leftovers).toEqual([]);
  });
});
