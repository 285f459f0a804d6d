// Bars from ticks, or coarser bars from finer ones, aggregated inside DuckDB and written back into the
// catalog. From ticks: open and close are the first and last print in stored order (time, then arrival),
// high and low the extremes, volume the sum of sizes, trades the count, and VWAP computed on integer ticks and
// lots (sum(priceTicks * sizeLots) / sum(sizeLots) / 10^priceScale), so it is exact whatever order DuckDB adds
// in, and a plain TypeScript recomputation gives the same doubles.
import path from 'node:path';
import { SimError } from '../../engine/errors.ts';
import type { Instrument } from '../../engine/types.ts';
import { sqlString, sqlStringList } from './duckdb-columns.ts';
import { intervalUs, openCatalog, type BarQuery } from './open-catalog.ts';
import { BAR_SELECT, mergeIntoCatalog, type IncomingSource, type WriteReport } from './write-partitions.ts';
import type { DataKind } from './manifest.ts';

export interface AggregateOptions {
  readonly catalogDir: string;
  readonly interval: string;
  /** Source: 'ticks', or 'bars' (1-minute bars). Default: ticks for 1m, else bars. */
  readonly fromKind?: DataKind;
  readonly fromDate?: string;
  readonly toDate?: string;
  readonly symbols?: readonly string[];
}

function scalesSql(instruments: readonly Instrument[]): string {
  return `(SELECT * FROM (VALUES ${instruments.map((instrument) => `(${sqlString(instrument.symbol)}, ${10 ** instrument.priceScale}::DOUBLE, ${10 ** instrument.lotScale}::DOUBLE)`).join(', ')}) AS s(symbol, price_scale, lot_scale))`;
}

/** SELECT of bars (BAR_SELECT columns) at `interval` from Parquet files of ticks or bars. */
export function aggregateBarsSql(files: readonly string[], fromKind: DataKind, interval: string, instruments: readonly Instrument[], symbols: readonly string[]): string {
  const bucket = `time_bucket(to_microseconds(${intervalUs(interval)}::BIGINT), ts)`;
  const source = `read_parquet(${sqlStringList(files)}, hive_partitioning = false, file_row_number = true, filename = true)`;
  const where = `symbol IN (SELECT unnest(${sqlStringList(symbols)}))`;
  if (fromKind === 'ticks') {
    return `SELECT symbol, bucket AS ts, arg_min(price, order_key) AS open, max(price) AS high, min(price) AS low, arg_max(price, order_key) AS close,
        sum(size_lots) / any_value(lot_scale) AS volume,
        (sum(round(price * price_scale) * size_lots) / sum(size_lots)) / any_value(price_scale) AS vwap,
        count(*)::INTEGER AS trades
      FROM (SELECT t.symbol, ${bucket} AS bucket, price, round(size * s.lot_scale) AS size_lots, s.price_scale, s.lot_scale,
              (filename, file_row_number) AS order_key
            FROM ${source} t JOIN ${scalesSql(instruments)} s ON t.symbol = s.symbol WHERE t.${where})
      GROUP BY symbol, bucket`;
  }
  return `SELECT symbol, bucket AS ts, arg_min(open, ts) AS open, max(high) AS high, min(low) AS low, arg_max(close, ts) AS close,
      sum(round(volume * lot_scale)) / any_value(lot_scale) AS volume,
      CASE WHEN count(vwap) = count(*) AND sum(volume) > 0 THEN sum(vwap * volume) / sum(volume) END AS vwap,
      CASE WHEN count(trades) = count(*) THEN sum(trades)::INTEGER END AS trades
    FROM (SELECT t.*, ${bucket} AS bucket, s.lot_scale FROM ${source} t JOIN ${scalesSql(instruments)} s ON t.symbol = s.symbol WHERE t.${where})
    GROUP BY symbol, bucket`;
}

export async function aggregateBars(options: AggregateOptions): Promise<WriteReport & { readonly interval: string; readonly fromKind: DataKind; readonly files: number }> {
  const fromKind = options.fromKind ?? (options.interval === '1m' ? 'ticks' : 'bars');
  if (fromKind === 'bars' && options.interval === '1m') {
    throw new SimError('DATA_BAD_INTERVAL', 'expected an interval coarser than 1m when aggregating from bars, found 1m (use --from-kind ticks)');
  }
  const catalog = await openCatalog(options.catalogDir);
  let files: string[];
  let instruments: Instrument[];
  let symbols: string[];
  try {
    const dates = catalog.dates(fromKind, '1m');
    const query: BarQuery = {
      symbols: options.symbols, fromDate: options.fromDate ?? dates[0] ?? '0000-00-00', toDate: options.toDate ?? dates[dates.length - 1] ?? '0000-00-00', interval: '1m',
    };
    files = catalog.filePaths(query, fromKind);
    symbols = options.symbols && options.symbols.length > 0 ? [...options.symbols] : catalog.symbols();
    instruments = symbols.map((symbol) => catalog.instrument(symbol));
  } finally {
    await catalog.close();
  }
  const sql = aggregateBarsSql(files, fromKind, options.interval, instruments, symbols);
  const source: IncomingSource = {
    kind: 'bars', interval: options.interval, unique: true,
    load: async ({ connection }) => {
      await connection.run(`CREATE TEMP TABLE incoming AS SELECT ${BAR_SELECT}, 0::DOUBLE AS sequence FROM (${sql})`);
    },
  };
  const report = await mergeIntoCatalog({ catalogDir: options.catalogDir, sources: [source], instruments: [] });
  return { ...report, interval: options.interval, fromKind, files: files.length, ...{ catalogDir: path.resolve(options.catalogDir) } };
}
