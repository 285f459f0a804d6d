// Proves the catalog reads bars and ticks as ordered integer-tick columns and refuses unknown dates, unknown symbols, corrupt files and bad bars with stable codes.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles, openCatalog, type BadRowsReport, type Catalog } from '../adapters/catalog/index.ts';
import { isSimError, type SimError } from '../engine/errors.ts';
import type { BarColumns } from '../engine/types.ts';

let root: string;

async function writeCatalog(name: string): Promise<string> {
  const dir = path.join(root, name);
  const bars = path.join(root, `${name}-bars.csv`);
  // Two symbols, two dates; BBB has 3 decimals, AAA 2; rows deliberately not in (time, symbol) order.
  await fs.writeFile(bars, [
    'symbol,time,open,high,low,close,volume',
    'BBB,2024-03-14T14:30:00Z,5.125,5.2,5.1,5.15,7',
    'BBB,2024-03-14T14:31:00Z,5.15,5.15,5.15,5.15,1',
    'AAA,2024-03-14T14:31:00Z,100.5,101,100,100.25,3',
    'AAA,2024-03-14T14:30:00Z,100,100.5,99.5,100.5,2',
    'AAA,2024-03-18T14:30:00Z,101,101,101,101,4',
  ].join('\n'));
  await expect(importFiles({ catalogDir: dir, files: [bars] })).rejects.toThrow(/out-of-order/);
  await fs.writeFile(bars, [
    'symbol,time,open,high,low,close,volume',
    'BBB,2024-03-14T14:30:00Z,5.125,5.2,5.1,5.15,7',
    'BBB,2024-03-14T14:31:00Z,5.15,5.15,5.15,5.15,1',
    'AAA,2024-03-14T14:30:00Z,100,100.5,99.5,100.5,2',
    'AAA,2024-03-14T14:31:00Z,100.5,101,100,100.25,3',
    'AAA,2024-03-18T14:30:00Z,101,101,101,101,4',
  ].join('\n'));
  await importFiles({ catalogDir: dir, files: [bars] });
  const ticks = path.join(root, `${name}-ticks.csv`);
  await fs.writeFile(ticks, [
    'symbol,time,price,size,side,bid,ask',
    'AAA,2024-03-14T14:30:00.000001Z,100.01,2,buy,100,100.02',
    'AAA,2024-03-14T14:30:00.000001Z,100.02,1,sell,,',
    'BBB,2024-03-14T14:30:00Z,5.125,10,,5.12,5.13',
  ].join('\n'));
  await importFiles({ catalogDir: dir, files: [ticks], kind: 'ticks' });
  return dir;
}

async function collect(iterable: AsyncIterable<BarColumns>): Promise<number[][]> {
  const rows: number[][] = [];
  for await (const chunk of iterable) {
    for (let index = 0; index < chunk.length; index++) {
      rows.push([chunk.startUs[index], chunk.symbolIndex[index], chunk.open[index], chunk.high[index], chunk.low[index], chunk.close[index], chunk.volume[index]]);
    }
  }
  return rows;
}

async function expectCode(action: () => Promise<unknown> | unknown, code: string): Promise<SimError> {
  try {
    await action();
  } catch (error) {
    expect(isSimError(error), String(error)).toBe(true);
    expect((error as SimError).code, (error as Error).message).toBe(code);
    return error as SimError;
  }
  throw new Error(`expected ${code}, found success`);
}

async function drain(catalog: Catalog, query: Parameters<Catalog['readBars']>[0]): Promise<number> {
  let rows = 0;
  for await (const chunk of catalog.readBars(query)) rows += chunk.length;
  return rows;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-data-catalog-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('catalog reads', () => {
  it('delivers bars ordered by (start, symbol index) in integer ticks, and ticks with bid/ask', async () => {
    const catalog = await openCatalog(await writeCatalog('ok'));
    try {
      expect(catalog.symbols()).toEqual(['AAA', 'BBB']);
      expect(catalog.dates('bars')).toEqual(['2024-03-14', '2024-03-18']);
      expect(catalog.dates('ticks')).toEqual(['2024-03-14']);
      expect(catalog.instrument('BBB').priceScale).toBe(3);
      const t0 = Date.UTC(2024, 2, 14, 14, 30) * 1000;
      expect(await collect(catalog.readBars({ fromDate: '2024-03-14', toDate: '2024-03-14' }))).toEqual([
        [t0, 0, 10000, 10050, 9950, 10050, 2],
        [t0, 1, 5125, 5200, 5100, 5150, 7],
        [t0 + 60e6, 0, 10050, 10100, 10000, 10025, 3],
        [t0 + 60e6, 1, 5150, 5150, 5150, 5150, 1],
      ]);
      // Only BBB queried: its symbol index is 0.
      expect((await collect(catalog.readBars({ symbols: ['BBB'], fromDate: '2024-03-01', toDate: '2024-03-31' }))).map((row) => row[1])).toEqual([0, 0]);
      const ticks: number[][] = [];
      for await (const chunk of catalog.readTicks({ fromDate: '2024-03-14', toDate: '2024-03-14' })) {
        for (let index = 0; index < chunk.length; index++) ticks.push([chunk.timeUs[index], chunk.symbolIndex[index], chunk.price[index], chunk.size[index], chunk.bid![index], chunk.ask![index]]);
      }
      expect(ticks).toEqual([
        [t0, 1, 5125, 10, 5120, 5130],
        [t0 + 1, 0, 10001, 2, 10000, 10002],
        [t0 + 1, 0, 10002, 1, Number.NaN, Number.NaN],
      ]);
      const digest = catalog.dataDigest({ fromDate: '2024-03-14', toDate: '2024-03-18' });
      expect(digest).toMatch(/^[0-9a-f]{64}$/);
      expect(catalog.dataDigest({ symbols: ['AAA'], fromDate: '2024-03-14', toDate: '2024-03-18' })).not.toBe(digest);
      const again = await openCatalog(catalog.dir);
      expect(again.dataDigest({ fromDate: '2024-03-14', toDate: '2024-03-18' })).toBe(digest);
      await again.close();
    } finally {
      await catalog.close();
    }
  });

  it('refuses unknown dates (naming what exists), empty ranges and unknown symbols', async () => {
    const catalog = await openCatalog(await writeCatalog('errors'));
    try {
      const unknown = await expectCode(() => drain(catalog, { fromDate: '2024-03-15', toDate: '2024-03-15' }), 'DATA_UNKNOWN_DATE');
      expect(unknown.message).toContain('2 dates from 2024-03-14 to 2024-03-18');
      expect(unknown.message).toContain('nearest 2024-03-14 and 2024-03-18');
      await expectCode(() => drain(catalog, { fromDate: '2024-04-01', toDate: '2024-04-30' }), 'DATA_NO_DATES');
      await expectCode(() => drain(catalog, { fromDate: '2024-03-18', toDate: '2024-03-14' }), 'DATA_NO_DATES');
      const symbol = await expectCode(() => drain(catalog, { symbols: ['ZZZ'], fromDate: '2024-03-14', toDate: '2024-03-14' }), 'DATA_UNKNOWN_SYMBOL');
      expect(symbol.message).toContain('AAA, BBB');
      await expectCode(() => openCatalog(path.join(root, 'nothing-here')), 'DATA_NO_CATALOG');
      // A manifest that exists but cannot be read (here a folder in its place) is named, not a raw EISDIR.
      const blocked = path.join(root, 'manifest-is-a-folder');
      await fs.mkdir(path.join(blocked, 'manifest.json'), { recursive: true });
      const unreadable = await expectCode(() => openCatalog(blocked), 'DATA_MANIFEST_UNREADABLE');
      expect(unreadable.message).toMatch(/expected a readable catalog manifest at .*manifest\.json, found EISDIR$/);
    } finally {
      await catalog.close();
    }
  });

  it('names a truncated or empty Parquet file as DATA_CORRUPT_FILE', async () => {
    const dir = await writeCatalog('corrupt');
    const catalog = await openCatalog(dir);
    const [march14, march18] = catalog.manifest.files.filter((file) => file.kind === 'bars').map((file) => path.join(dir, file.path)).sort();
    const bytes = await fs.readFile(march14);
    await fs.writeFile(march14, bytes.subarray(0, Math.floor(bytes.length / 2)));
    try {
      const truncated = await expectCode(() => drain(catalog, { fromDate: '2024-03-14', toDate: '2024-03-18' }), 'DATA_CORRUPT_FILE');
      expect(truncated.message).toContain(march14);
      await fs.writeFile(march18, '');
      const empty = await expectCode(() => drain(catalog, { fromDate: '2024-03-18', toDate: '2024-03-18' }), 'DATA_CORRUPT_FILE');
      expect(empty.message).toContain(march18);
      expect(empty.message).toContain('empty');
    } finally {
      await catalog.close();
    }
  });

  it('refuses bad bars with counts and first rows; skipBad drops them and reports the count', async () => {
    const dir = await writeCatalog('bad-bars');
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { files: { kind: string; date: string; path: string }[] };
    const target = path.join(dir, manifest.files.find((file) => file.kind === 'bars' && file.date === '2024-03-14')!.path);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`COPY (SELECT * FROM (VALUES
        ('AAA', TIMESTAMP '2024-03-14 14:30:00', 100.0, 100.5, 99.5, 100.5, 2.0, NULL::DOUBLE, NULL::INTEGER),
        ('AAA', TIMESTAMP '2024-03-14 14:31:00', 'NaN'::DOUBLE, 101.0, 100.0, 100.25, 3.0, NULL, NULL),
        ('AAA', TIMESTAMP '2024-03-14 14:32:00', 100.0, 99.0, 101.0, 100.0, 3.0, NULL, NULL),
        ('BBB', TIMESTAMP '2024-03-14 14:30:00', -5.0, 5.2, 5.1, 5.15, 7.0, NULL, NULL),
        ('BBB', TIMESTAMP '2024-03-14 14:31:00', 5.15, 5.15, 5.15, 5.15, 1.0, NULL, NULL),
        ('BBB', TIMESTAMP '2024-03-14 14:32:00', 5.3, 5.2, 5.1, 5.15, 1.0, NULL, NULL)
      ) AS t(symbol, ts, open, high, low, close, volume, vwap, trades)) TO '${target}' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
    const catalog = await openCatalog(dir);
    try {
      const error = await expectCode(() => drain(catalog, { fromDate: '2024-03-14', toDate: '2024-03-14' }), 'DATA_BAD_BARS');
      expect(error.message).toContain('found 4 bad rows (1 NaN, 1 high < low, 1 non-positive price, 1 high/low do not bracket open/close)');
      expect(error.message).toContain('AAA at 2024-03-14T14:31:00Z (NaN)');
      let reported: BadRowsReport | undefined;
      const rows = await drain(catalog, { fromDate: '2024-03-14', toDate: '2024-03-14', skipBad: true, onSkipped: (report) => { reported = report; } });
      expect(rows).toBe(2);
      expect(reported?.total).toBe(4);
      expect(catalog.skipped?.total).toBe(4);
      // Only the queried symbol's bad rows count.
      await expectCode(() => drain(catalog, { symbols: ['BBB'], fromDate: '2024-03-14', toDate: '2024-03-14' }), 'DATA_BAD_BARS');
      expect(await drain(catalog, { symbols: ['AAA'], fromDate: '2024-03-18', toDate: '2024-03-18' })).toBe(1);
    } finally {
      await catalog.close();
    }
  });
});
