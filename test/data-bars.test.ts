// Proves DuckDB bar aggregation equals a plain TypeScript recomputation from the same ticks, exactly, and that generated data is byte-identical per seed.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../adapters/catalog/index.ts';
import { aggregateBars } from '../adapters/catalog/aggregate-bars.ts';
import { generateIntoCatalog } from '../adapters/catalog/generate-into-catalog.ts';
import { generateTicks } from '../adapters/catalog/generate-ticks.ts';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-data-bars-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

type Bar = [symbol: string, startUs: number, open: number, high: number, low: number, close: number, volume: number, vwap: number, trades: number];

async function recomputeFromTicks(dir: string, intervalUs: number): Promise<Bar[]> {
  const catalog = await openCatalog(dir);
  const symbols = catalog.symbols();
  const scale = symbols.map((symbol) => 10 ** catalog.instrument(symbol).priceScale);
  const open = new Map<string, { symbol: number; start: number; open: number; high: number; low: number; close: number; volume: number; notional: number; trades: number }>();
  const dates = catalog.dates('ticks');
  for await (const chunk of catalog.readTicks({ fromDate: dates[0], toDate: dates[dates.length - 1] })) {
    for (let index = 0; index < chunk.length; index++) {
      const symbol = chunk.symbolIndex[index];
      const start = Math.floor(chunk.timeUs[index] / intervalUs) * intervalUs;
      const price = chunk.price[index];
      const size = chunk.size[index];
      const key = `${symbol} ${start}`;
      const bar = open.get(key);
      if (!bar) {
        open.set(key, { symbol, start, open: price, high: price, low: price, close: price, volume: size, notional: price * size, trades: 1 });
        continue;
      }
      bar.high = Math.max(bar.high, price);
      bar.low = Math.min(bar.low, price);
      bar.close = price;
      bar.volume += size;
      bar.notional += price * size;
      bar.trades++;
    }
  }
  await catalog.close();
  return [...open.values()]
    .map((bar): Bar => {
      const priceScale = scale[bar.symbol];
      return [symbols[bar.symbol], bar.start, bar.open / priceScale, bar.high / priceScale, bar.low / priceScale, bar.close / priceScale, bar.volume, (bar.notional / bar.volume) / priceScale, bar.trades];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
}

async function storedBars(dir: string, interval: string): Promise<Bar[]> {
  const catalog = await openCatalog(dir);
  const dates = catalog.dates('bars', interval);
  const files = catalog.filePaths({ fromDate: dates[0], toDate: dates[dates.length - 1], interval }, 'bars');
  const { connection } = await catalog.session();
  const result = await connection.runAndReadAll(`SELECT symbol, epoch_us(ts)::DOUBLE, open, high, low, close, volume, vwap, trades::DOUBLE
    FROM read_parquet([${files.map((file) => `'${file}'`).join(', ')}], hive_partitioning = false) ORDER BY symbol, ts`);
  const rows = result.getRowsJson() as Bar[];
  await catalog.close();
  return rows;
}

describe('bar aggregation', () => {
  it('1m and 5m bars from ticks equal the TypeScript recomputation exactly', async () => {
    const dir = path.join(root, 'agg');
    const report = await generateIntoCatalog(dir, { symbols: 4, days: 2, seed: 11, ticksPerSecond: 1.5, halts: true });
    expect(report.ticks).toBeGreaterThan(100_000);
    const expected1m = await recomputeFromTicks(dir, 60e6);
    const actual1m = await storedBars(dir, '1m');
    expect(actual1m.length).toBe(expected1m.length);
    expect(actual1m).toEqual(expected1m);
    await aggregateBars({ catalogDir: dir, interval: '5m', fromKind: 'ticks' });
    expect(await storedBars(dir, '5m')).toEqual(await recomputeFromTicks(dir, 300e6));
    // 5m from 1m bars gives the same OHLC, volume and trades (VWAP from bars is a float average, not compared).
    const fromBarsDir = path.join(root, 'agg-from-bars');
    await fs.cp(dir, fromBarsDir, { recursive: true });
    await aggregateBars({ catalogDir: fromBarsDir, interval: '5m', fromKind: 'bars' });
    const strip = (bars: Bar[]): unknown[] => bars.map((bar) => [...bar.slice(0, 7), bar[8]]);
    expect(strip(await storedBars(fromBarsDir, '5m'))).toEqual(strip(await recomputeFromTicks(dir, 300e6)));
  });

  it('the same seed gives the same ticks and the same catalog bytes; another seed does not', async () => {
    const first = path.join(root, 'seed-a');
    const second = path.join(root, 'seed-b');
    const options = { symbols: 3, days: 1, seed: 42, ticksPerSecond: 1 };
    await generateIntoCatalog(first, options);
    await generateIntoCatalog(second, options);
    expect(await fs.readFile(path.join(second, 'manifest.json'), 'utf8')).toBe(await fs.readFile(path.join(first, 'manifest.json'), 'utf8'));
    const digests = (seed: number): number[] => {
      const out: number[] = [];
      generateTicks({ ...options, seed }, (chunk) => {
        let sum = 0;
        for (let index = 0; index < chunk.length; index++) sum = (sum * 31 + chunk.price[index] + chunk.timeUs[index] % 1e6 + chunk.size[index]) % 1e9;
        out.push(chunk.length, sum);
      });
      return out;
    };
    expect(digests(42)).toEqual(digests(42));
    expect(digests(43)).not.toEqual(digests(42));
  });
});
