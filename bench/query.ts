// `npm run bench -- query [--json] [--ticks N] [--symbols N] [--seed S]`: the market data path, in one process.
// - aggregationOverhead: 1-minute OHLCV bars for 50 symbols from 10,000,000 generated ticks through the project's
//   query path into typed arrays (aggregateBarColumns), over the same SQL run inside DuckDB alone
//   (CREATE TEMP TABLE AS). Counts only if both give the same rows and the same checksum.
// - latestBarsP50Ms / P99Ms: the latest 200 one-minute bars of AZO from the bundled real catalog (latestBars).
// - tapeReplayRatio: ticks/s reading a tape of the same ticks through readTape, over a raw scan of the same
//   Arrow columns (tableFromIPC on the file's bytes, then a loop over the typed arrays).
// - importRowsPerSecond: the six real CSV files into an empty catalog through importFiles.
// The 10M-tick data set (catalog and tape) is cached under os.tmpdir() keyed by seed, size and symbols.
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { Bench } from 'tinybench';
import { DEFAULT_CATALOG_DIR, importFiles, openCatalog } from '../adapters/catalog/index.ts';
import { generateIntoCatalog } from '../adapters/catalog/generate-into-catalog.ts';
import { generateTicks, generatedInstruments } from '../adapters/catalog/generate-ticks.ts';
import { aggregateBarColumns, aggregateBarColumnsSql, latestBars } from '../adapters/catalog/query-bars.ts';
import { TapeRecorder, readTape } from '../adapters/tape/index.ts';

// The shared real data sits beside the repository (../shared), in a working tree and in CI alike.
const REAL_CSV_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/data/real/stocks-1m-2024');
const SESSION_SECONDS = 23_400;

function option(args: readonly string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
}

function stats(task: { result: unknown }): { p50: number; p99: number } {
  const result = task.result as { latency?: { p50?: number; p99?: number } };
  return { p50: result.latency?.p50 ?? Number.NaN, p99: result.latency?.p99 ?? Number.NaN };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

/** Generates (once per seed and size) the tick catalog and a tape of the same ticks. */
async function dataset(ticks: number, symbols: number, seed: number): Promise<{ catalogDir: string; tapeFile: string; generated: boolean }> {
  const dir = path.join(os.tmpdir(), `sim-bench-query-${seed}-${ticks}-${symbols}`);
  const catalogDir = path.join(dir, 'catalog');
  const tapeFile = path.join(dir, 'ticks.arrow');
  const ready = path.join(dir, 'ready');
  if (await exists(ready)) return { catalogDir, tapeFile, generated: false };
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const options = { symbols, days: 1, seed, ticksPerSecond: ticks / symbols / SESSION_SECONDS };
  await generateIntoCatalog(catalogDir, options);
  const recorder = TapeRecorder.create(tapeFile, generatedInstruments(symbols), { fsyncEveryMs: 1000 });
  generateTicks({ ...options, chunkRows: 65_536 }, (chunk) => recorder.append(chunk));
  recorder.close();
  await fs.writeFile(ready, '');
  return { catalogDir, tapeFile, generated: true };
}

export async function run(args: readonly string[]): Promise<object> {
  const tickTarget = option(args, 'ticks', 10_000_000);
  const symbolCount = option(args, 'symbols', 50);
  const seed = option(args, 'seed', 1);
  const setupStartMs = performance.now();
  const data = await dataset(tickTarget, symbolCount, seed);
  const setupMs = performance.now() - setupStartMs;

  // 1. Latest 200 one-minute bars of one symbol from the real catalog.
  const real = await openCatalog(DEFAULT_CATALOG_DIR);
  let latestLength = 0;
  const latestBench = new Bench({ iterations: 1000, warmupIterations: 20, time: 0, warmupTime: 0 });
  latestBench.add('latest 200 bars of AZO', async () => {
    latestLength = (await latestBars(real, 'AZO', 200)).length;
  });
  await latestBench.run();
  const latest = stats(latestBench.tasks[0]);
  // Reference: the whole year of AZO through readBars, last 200 bars.
  const closes: number[] = [];
  const starts: number[] = [];
  for await (const chunk of real.readBars({ symbols: ['AZO'], fromDate: '2024-01-01', toDate: '2024-12-31' })) {
    for (let index = 0; index < chunk.length; index++) {
      closes.push(chunk.close[index]);
      starts.push(chunk.startUs[index]);
    }
  }
  const latestOnce = await latestBars(real, 'AZO', 200);
  const latestMatches = latestOnce.length === 200
    && Array.from(latestOnce.close).every((close, index) => close === closes[closes.length - 200 + index])
    && Array.from(latestOnce.startUs).every((start, index) => start === starts[starts.length - 200 + index]);
  await real.close();

  // 2. Aggregation through the query path vs DuckDB alone.
  const catalog = await openCatalog(data.catalogDir);
  const dates = catalog.dates('ticks');
  const query = { fromDate: dates[0], toDate: dates[dates.length - 1] };
  const { sql } = aggregateBarColumnsSql(catalog, query, 'ticks', '1m');
  const { connection } = await catalog.session();
  let projectRows = 0;
  let projectChecksum = 0;
  const runProject = async (): Promise<void> => {
    projectRows = 0;
    projectChecksum = 0;
    for await (const chunk of aggregateBarColumns(catalog, query, 'ticks', '1m')) {
      projectRows += chunk.length;
      for (let index = 0; index < chunk.length; index++) projectChecksum = (projectChecksum + chunk.close[index] + chunk.volume[index]) % 1e12;
    }
  };
  const runDuckdb = async (): Promise<void> => {
    await connection.run(`CREATE OR REPLACE TEMP TABLE bench_bars AS ${sql}`);
  };
  // Rounds of one measured iteration each, alternating which side goes first, so that load from other processes
  // falls on both sides alike; the overhead is the median of the per-round ratios.
  const projectTimes: number[] = [];
  const duckdbTimes: number[] = [];
  const ratios: number[] = [];
  await runProject();
  await runDuckdb();
  for (let roundIndex = 0; roundIndex < 7; roundIndex++) {
    const bench = new Bench({ iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 });
    if (roundIndex % 2 === 0) bench.add('aggregate: query path into typed arrays', runProject).add('aggregate: same SQL inside DuckDB (CREATE TEMP TABLE AS)', runDuckdb);
    else bench.add('aggregate: same SQL inside DuckDB (CREATE TEMP TABLE AS)', runDuckdb).add('aggregate: query path into typed arrays', runProject);
    await bench.run();
    const byName = new Map(bench.tasks.map((task) => [task.name, stats(task).p50]));
    const projectRound = byName.get('aggregate: query path into typed arrays')!;
    const duckdbRound = byName.get('aggregate: same SQL inside DuckDB (CREATE TEMP TABLE AS)')!;
    projectTimes.push(projectRound);
    duckdbTimes.push(duckdbRound);
    ratios.push(projectRound / duckdbRound);
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const reference = (await connection.runAndReadAll(`SELECT count(*)::DOUBLE AS rows, (sum(round(close * 100) + volume) % 1e12)::DOUBLE AS checksum FROM bench_bars`)).getRowObjectsJson()[0] as { rows: number; checksum: number };
  const projectMs = median(projectTimes);
  const duckdbMs = median(duckdbTimes);
  const overheadRatio = median(ratios);
  const tickCount = catalog.manifest.files.filter((file) => file.kind === 'ticks').reduce((sum, file) => sum + file.rows, 0);
  await catalog.close();

  // 3. Tape replay through readTape vs a raw scan of the same Arrow columns.
  let tapeTicks = 0;
  let tapeChecksum = 0;
  let rawTicks = 0;
  let rawChecksum = 0;
  const tapeBench = new Bench({ iterations: 3, warmupIterations: 1, time: 0, warmupTime: 0 });
  tapeBench.add('tape: readTape', async () => {
    tapeTicks = 0;
    tapeChecksum = 0;
    for await (const chunk of readTape(data.tapeFile)) {
      for (let index = 0; index < chunk.length; index++) tapeChecksum = (tapeChecksum + chunk.price[index] * chunk.size[index]) % 1e12;
      tapeTicks += chunk.length;
    }
  });
  tapeBench.add('tape: raw Arrow scan', () => {
    const table = tableFromIPC(readFileSync(data.tapeFile));
    rawTicks = 0;
    rawChecksum = 0;
    for (const batch of table.batches) {
      const price = batch.getChild('price')!.toArray() as Float64Array;
      const size = batch.getChild('size')!.toArray() as Float64Array;
      for (let index = 0; index < batch.numRows; index++) rawChecksum = (rawChecksum + price[index] * size[index]) % 1e12;
      rawTicks += batch.numRows;
    }
  });
  await tapeBench.run();
  const tapeMs = stats(tapeBench.tasks[0]).p50;
  const rawMs = stats(tapeBench.tasks[1]).p50;

  // 4. Import of the real CSVs.
  const importDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-bench-import-'));
  const files = (await fs.readdir(REAL_CSV_DIR)).filter((name) => name.endsWith('.csv')).sort().map((name) => path.join(REAL_CSV_DIR, name));
  const importStartMs = performance.now();
  const imported = await importFiles({ catalogDir: importDir, files });
  const importMs = performance.now() - importStartMs;
  await fs.rm(importDir, { recursive: true, force: true });

  const aggregationMatches = projectRows === reference.rows && round(projectChecksum, 0) === round(reference.checksum, 0);
  return {
    suite: 'query',
    ticks: tickCount,
    symbols: symbolCount,
    seed,
    setupMs: round(setupMs, 0),
    datasetCached: !data.generated,
    aggregation: { bars: projectRows, queryPathMsP50: round(projectMs), duckdbAloneMsP50: round(duckdbMs), matches: aggregationMatches },
    aggregationOverhead: aggregationMatches ? round(overheadRatio) : null,
    latestBars: { bars: latestLength, iterations: 1000, matches: latestMatches },
    latestBarsP50Ms: latestMatches ? round(latest.p50) : null,
    latestBarsP99Ms: latestMatches ? round(latest.p99) : null,
    tape: { ticks: tapeTicks, readTapeMsP50: round(tapeMs), rawScanMsP50: round(rawMs), readTapeTicksPerSecond: round(tapeTicks / (tapeMs / 1000), 0), rawTicksPerSecond: round(rawTicks / (rawMs / 1000), 0), matches: tapeTicks === rawTicks && tapeChecksum === rawChecksum },
    tapeReplayRatio: tapeTicks === rawTicks && tapeChecksum === rawChecksum ? round(rawMs / tapeMs) : null,
    import: { rows: imported.rowsAfter, ms: round(importMs, 0) },
    importRowsPerSecond: round(imported.rowsAfter / (importMs / 1000), 0),
    targets: { aggregationOverhead: '<= 1.3', latestBarsP50Ms: '<= 10', latestBarsP99Ms: '<= 25', tapeReplayRatio: '>= 0.3' },
  };
}
