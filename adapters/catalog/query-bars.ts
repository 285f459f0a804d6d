// Queries beyond plain date reads: bars aggregated on the fly into engine columns, and the latest N bars of
// one symbol. Both go through DuckDB into typed arrays like Catalog.readBars.
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { BarColumns } from '../../engine/types.ts';
import { copyNumberColumn, sqlString, sqlStringList } from './duckdb-columns.ts';
import { aggregateBarsSql } from './aggregate-bars.ts';
import { intervalUs, type BarQuery, type Catalog } from './open-catalog.ts';
import type { DataKind } from './manifest.ts';
import { parquetSource } from './write-partitions.ts';

const CHUNK_ROWS = 65_536;

/**
 * Runs `sql` (columns: symbol_index INTEGER, start_us DOUBLE, open, high, low, close, volume DOUBLE in
 * currency units and instrument units) and yields BarColumns in ticks and lots, at most CHUNK_ROWS per chunk.
 */
export async function* streamBarColumns(connection: DuckDBConnection, sql: string, priceScale: Float64Array, lotScale: Float64Array, stepUs: number): AsyncGenerator<BarColumns> {
  // Materialized, not streamed: a streaming result costs several milliseconds of hand-offs per query, which
  // dominates small reads such as the latest 200 bars.
  const result = await connection.run(sql);
  let buffer = newBars(CHUNK_ROWS);
  let offset = 0;
  const finish = (length: number): BarColumns => {
    const symbolIndex = buffer.symbolIndex.subarray(0, length);
    const columns = [buffer.open, buffer.high, buffer.low, buffer.close];
    for (const column of columns) for (let index = 0; index < length; index++) column[index] = Math.round(column[index] * priceScale[symbolIndex[index]]);
    for (let index = 0; index < length; index++) buffer.volume[index] = Math.round(buffer.volume[index] * lotScale[symbolIndex[index]]);
    return {
      kind: 'bars', length, intervalUs: stepUs, symbolIndex, startUs: buffer.startUs.subarray(0, length), open: buffer.open.subarray(0, length),
      high: buffer.high.subarray(0, length), low: buffer.low.subarray(0, length), close: buffer.close.subarray(0, length), volume: buffer.volume.subarray(0, length),
    };
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    if (offset + chunk.rowCount > CHUNK_ROWS) {
      yield finish(offset);
      buffer = newBars(CHUNK_ROWS);
      offset = 0;
    }
    const targets = [buffer.symbolIndex, buffer.startUs, buffer.open, buffer.high, buffer.low, buffer.close, buffer.volume];
    for (let column = 0; column < targets.length; column++) copyNumberColumn(chunk, column, targets[column], offset);
    offset += chunk.rowCount;
  }
  if (offset > 0) yield finish(offset);
}

function newBars(capacity: number) {
  return {
    symbolIndex: new Int32Array(capacity), startUs: new Float64Array(capacity), open: new Float64Array(capacity), high: new Float64Array(capacity),
    low: new Float64Array(capacity), close: new Float64Array(capacity), volume: new Float64Array(capacity),
  };
}

function scalesOf(catalog: Catalog, symbols: readonly string[]): { price: Float64Array; lot: Float64Array } {
  return {
    price: Float64Array.from(symbols, (symbol) => 10 ** catalog.instrument(symbol).priceScale),
    lot: Float64Array.from(symbols, (symbol) => 10 ** catalog.instrument(symbol).lotScale),
  };
}

/** The SQL that aggregateBarColumns runs, for a same-SQL baseline. */
export function aggregateBarColumnsSql(catalog: Catalog, query: BarQuery, fromKind: DataKind, interval: string): { sql: string; symbols: string[] } {
  const files = catalog.filePaths({ ...query, interval: '1m' }, fromKind);
  const symbols = query.symbols && query.symbols.length > 0 ? [...new Set(query.symbols)].sort() : catalog.symbols();
  const instruments = symbols.map((symbol) => catalog.instrument(symbol));
  const inner = aggregateBarsSql(files, fromKind, interval, instruments, symbols);
  const sql = `SELECT (list_position(${sqlStringList(symbols)}, symbol) - 1)::INTEGER AS symbol_index, epoch_us(ts)::DOUBLE AS start_us,
      open, high, low, close, volume FROM (${inner}) ORDER BY start_us, symbol_index`;
  return { sql, symbols };
}

/** Bars at `interval` aggregated on the fly from ticks (or 1m bars), ordered by (startUs, symbolIndex). */
export async function* aggregateBarColumns(catalog: Catalog, query: BarQuery, fromKind: DataKind, interval: string): AsyncGenerator<BarColumns> {
  const { sql, symbols } = aggregateBarColumnsSql(catalog, query, fromKind, interval);
  const { connection } = await catalog.session();
  const scale = scalesOf(catalog, symbols);
  yield* streamBarColumns(connection, sql, scale.price, scale.lot, intervalUs(interval));
}

/** The latest `count` bars of one symbol (ascending time), reading the newest date partitions first. */
export async function latestBars(catalog: Catalog, symbol: string, count: number, interval = '1m'): Promise<BarColumns> {
  const instrument = catalog.instrument(symbol);
  const files = catalog.manifest.files
    .filter((file) => file.kind === 'bars' && (file.interval ?? '1m') === interval && file.symbols.includes(symbol))
    .sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0));
  const { connection } = await catalog.session();
  const picked: string[] = [];
  let rows = 0;
  // Take the newest dates until they hold `count` rows of the symbol (manifests without per-symbol rows:
  // until they could, then let the LIMIT decide and widen if short).
  for (const file of files) {
    picked.push(path.join(catalog.dir, file.path));
    rows += file.symbolRows ? file.symbolRows[file.symbols.indexOf(symbol)] : file.rows / (2 * file.symbols.length);
    if (rows >= count) break;
  }
  const scale = { price: Float64Array.of(10 ** instrument.priceScale), lot: Float64Array.of(10 ** instrument.lotScale) };
  let pickedCount = picked.length;
  for (;;) {
    const sql = `SELECT 0::INTEGER, epoch_us(ts)::DOUBLE AS start_us, open, high, low, close, volume FROM (
        SELECT ts, open, high, low, close, volume FROM ${parquetSource(picked.slice(0, pickedCount))} WHERE symbol = ${sqlString(symbol)} ORDER BY ts DESC LIMIT ${count}
      ) ORDER BY start_us`;
    const chunks: BarColumns[] = [];
    for await (const chunk of streamBarColumns(connection, sql, scale.price, scale.lot, intervalUs(interval))) chunks.push(chunk);
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (length >= count || pickedCount >= files.length) return chunks[0] ?? emptyBars(intervalUs(interval));
    // Too few rows of this symbol in the picked dates: widen.
    for (const file of files.slice(pickedCount, pickedCount * 2 + 1)) picked.push(path.join(catalog.dir, file.path));
    pickedCount = picked.length;
  }
}

function emptyBars(stepUs: number): BarColumns {
  const empty = new Float64Array(0);
  return { kind: 'bars', length: 0, intervalUs: stepUs, symbolIndex: new Int32Array(0), startUs: empty, open: empty, high: empty, low: empty, close: empty, volume: empty };
}
