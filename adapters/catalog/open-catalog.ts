// Reads a catalog: the manifest says which Parquet files hold which dates; DuckDB reads them into typed
// columns, one or more chunks per date, ordered by (time, symbol index). Prices leave here as integer ticks
// and quantities as integer lots of each instrument (engine/types.ts).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SimError } from '../../engine/errors.ts';
import type { BarColumns, Instrument, TickColumns } from '../../engine/types.ts';
import { US_PER_DAY, US_PER_MINUTE } from '../../engine/types.ts';
import { parseDate, usEquityCloseMinute, weekdayOfDays } from '../../engine/index.ts';
import { copyNumberColumn, openDuckDB, sqlStringList, type DuckDBSession } from './duckdb-columns.ts';
import { readManifest, type DataKind, type Manifest, type ManifestFile } from './manifest.ts';
import { fileMatches, parquetSource } from './write-partitions.ts';

export interface BarQuery {
  readonly symbols?: readonly string[];
  readonly fromDate: string;
  readonly toDate: string;
  /** Bar interval; default '1m'. Ignored for ticks. */
  readonly interval?: string;
  /** Drop bad rows instead of refusing the query; the count arrives through `onSkipped` and `Catalog.skipped`. */
  readonly skipBad?: boolean;
  readonly onSkipped?: (report: BadRowsReport) => void;
}

export interface BadRow {
  readonly file: string;
  readonly symbol: string;
  readonly timeUs: number;
  readonly reason: string;
}

export interface BadRowsReport {
  readonly total: number;
  readonly counts: Readonly<Record<string, number>>;
  /** The first offending rows in (file, symbol, time) order, at most 10. */
  readonly first: readonly BadRow[];
}

export interface Catalog {
  readonly dir: string;
  dates(kind: DataKind, interval?: string): string[];
  symbols(): string[];
  instrument(symbol: string): Instrument;
  readBars(query: BarQuery): AsyncIterable<BarColumns>;
  readTicks(query: BarQuery): AsyncIterable<TickColumns>;
  dataDigest(query: BarQuery, kind?: DataKind): string;
  /** Bad rows dropped by the latest read with skipBad, or undefined. */
  readonly skipped: BadRowsReport | undefined;
  /** The manifest as read at open. */
  readonly manifest: Manifest;
  /** The shared DuckDB session (opened on first use), for callers that run their own SQL over `filePaths`. */
  session(): Promise<DuckDBSession>;
  /** Absolute paths of the Parquet files a query reads, after the same checks as readBars/readTicks. */
  filePaths(query: BarQuery, kind: DataKind): string[];
  close(): Promise<void>;
}

export const INTERVAL_US: Readonly<Record<string, number>> = {
  '1m': US_PER_MINUTE, '5m': 5 * US_PER_MINUTE, '15m': 15 * US_PER_MINUTE, '30m': 30 * US_PER_MINUTE,
  '1h': 60 * US_PER_MINUTE, '1d': 1440 * US_PER_MINUTE,
};

export function intervalUs(interval: string): number {
  const value = INTERVAL_US[interval];
  if (value === undefined) throw new SimError('DATA_UNKNOWN_INTERVAL', `expected an interval (${Object.keys(INTERVAL_US).join(', ')}), found ${interval}`);
  return value;
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const TICK_CHUNK_ROWS = 65_536;
const BAR_FILES_PER_QUERY = 64;
const BAR_ROWS_PER_QUERY = 262_144;

/** Why a bar row is bad, or NULL: NaN or missing values, non-positive prices, high < low, high/low not bracketing. */
export const BAD_BAR_SQL = `CASE
  WHEN open IS NULL OR high IS NULL OR low IS NULL OR close IS NULL OR volume IS NULL
    OR isnan(open) OR isnan(high) OR isnan(low) OR isnan(close) OR isnan(volume) THEN 'NaN'
  WHEN open <= 0 OR high <= 0 OR low <= 0 OR close <= 0 THEN 'non-positive price'
  WHEN high < low THEN 'high < low'
  WHEN high < greatest(open, close) OR low > least(open, close) THEN 'high/low do not bracket open/close'
  WHEN volume < 0 THEN 'negative volume'
END`;

export const BAD_TICK_SQL = `CASE
  WHEN price IS NULL OR size IS NULL OR isnan(price) OR isnan(size) THEN 'NaN'
  WHEN price <= 0 THEN 'non-positive price'
  WHEN size <= 0 THEN 'non-positive size'
END`;

function nearestDates(dates: readonly string[], wanted: string): string[] {
  let index = 0;
  while (index < dates.length && dates[index] < wanted) index++;
  return [dates[index - 1], dates[index]].filter((date): date is string => date !== undefined);
}

function describeDates(dates: readonly string[]): string {
  if (dates.length === 0) return 'no dates';
  return `${dates.length} dates from ${dates[0]} to ${dates[dates.length - 1]}`;
}

class ParquetCatalog implements Catalog {
  readonly dir: string;
  readonly manifest: Manifest;
  skipped: BadRowsReport | undefined;
  private duckdb: DuckDBSession | undefined;
  private readonly checkedFiles = new Map<string, readonly BadRow[]>();

  constructor(dir: string, manifest: Manifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  dates(kind: DataKind, interval = '1m'): string[] {
    const dates = new Set<string>();
    for (const file of this.manifest.files) if (fileMatches(file, kind, interval)) dates.add(file.date);
    return [...dates].sort();
  }

  symbols(): string[] {
    return Object.keys(this.manifest.instruments).sort();
  }

  instrument(symbol: string): Instrument {
    const instrument = this.manifest.instruments[symbol];
    if (!instrument) {
      throw new SimError('DATA_UNKNOWN_SYMBOL', `expected a symbol of ${this.dir} (${this.symbols().join(', ')}), found ${symbol}`);
    }
    return instrument;
  }

  async session(): Promise<DuckDBSession> {
    this.duckdb ??= await openDuckDB(2);
    return this.duckdb;
  }

  private resolve(query: BarQuery, kind: DataKind): { files: ManifestFile[]; symbols: string[]; interval: string } {
    const interval = query.interval ?? '1m';
    for (const date of [query.fromDate, query.toDate]) {
      if (typeof date !== 'string' || !DATE_PATTERN.test(date)) throw new SimError('DATA_BAD_DATE', `expected a date as YYYY-MM-DD, found ${String(date)}`);
    }
    const symbols = query.symbols && query.symbols.length > 0 ? [...new Set(query.symbols)].sort() : this.symbols();
    for (const symbol of symbols) this.instrument(symbol);
    const all = this.dates(kind, interval);
    const what = kind === 'bars' ? `${interval} bars` : 'ticks';
    if (query.fromDate === query.toDate && !all.includes(query.fromDate)) {
      const near = nearestDates(all, query.fromDate);
      // Why a US equity catalog has no data that day, when the exchange was closed.
      const closed = symbols.every((symbol) => this.instrument(symbol).calendar === 'us-equity') ? closedReason(query.fromDate) : '';
      throw new SimError('DATA_UNKNOWN_DATE',
        `expected a date with ${what} in ${this.dir}, found ${query.fromDate}${closed}; there are ${describeDates(all)}${near.length > 0 ? `, nearest ${near.join(' and ')}` : ''}`,
        { first: all[0], last: all[all.length - 1], count: all.length, nearest: near });
    }
    if (query.fromDate > query.toDate) {
      throw new SimError('DATA_NO_DATES', `expected fromDate <= toDate, found ${query.fromDate} > ${query.toDate}`);
    }
    const wanted = new Set(symbols);
    const files = this.manifest.files
      .filter((file) => fileMatches(file, kind, interval) && file.date >= query.fromDate && file.date <= query.toDate)
      .filter((file) => file.symbols.some((symbol) => wanted.has(symbol)))
      .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    if (files.length === 0) {
      throw new SimError('DATA_NO_DATES',
        `expected ${what} of ${symbols.join(', ')} between ${query.fromDate} and ${query.toDate} in ${this.dir}, found none; there are ${describeDates(all)}`,
        { first: all[0], last: all[all.length - 1], count: all.length });
    }
    return { files, symbols, interval };
  }

  filePaths(query: BarQuery, kind: DataKind): string[] {
    return this.resolve(query, kind).files.map((file) => path.join(this.dir, file.path));
  }

  dataDigest(query: BarQuery, kind: DataKind = 'bars'): string {
    const { files, symbols } = this.resolve(query, kind);
    const hash = createHash('sha256');
    hash.update(`symbols ${symbols.join(',')}\n`);
    for (const file of files) hash.update(`${file.path} ${file.sha256}\n`);
    return hash.digest('hex');
  }

  /** Fails with DATA_CORRUPT_FILE for a missing, empty or unreadable file, naming it. */
  private async checkReadable(files: readonly string[]): Promise<void> {
    const { connection } = await this.session();
    for (const file of files) {
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat) throw new SimError('DATA_CORRUPT_FILE', `expected the Parquet file ${file} listed in the manifest, found no file`);
      if (stat.size === 0) throw new SimError('DATA_CORRUPT_FILE', `expected Parquet data in ${file}, found an empty file`);
    }
    try {
      await connection.run(`SELECT count(*) FROM ${parquetSource(files)}`);
    } catch {
      for (const file of files) {
        try {
          await connection.run(`SELECT count(*) FROM ${parquetSource([file])}`);
        } catch (error) {
          throw new SimError('DATA_CORRUPT_FILE', `expected readable Parquet in ${file}, found ${(error as Error).message.split('\n')[0]}`);
        }
      }
      throw new SimError('DATA_CORRUPT_FILE', `expected readable Parquet files in ${this.dir}, found a read error across ${files.length} files`);
    }
  }

  /** Bad rows of the files (all symbols), checked once per file per catalog handle. */
  private async badRows(files: readonly string[], kind: DataKind): Promise<BadRow[]> {
    const unchecked = files.filter((file) => !this.checkedFiles.has(file));
    if (unchecked.length > 0) {
      await this.checkReadable(unchecked);
      const { connection } = await this.session();
      const reason = kind === 'bars' ? BAD_BAR_SQL : BAD_TICK_SQL;
      const result = await connection.runAndReadAll(`SELECT filename, symbol, epoch_us(ts)::DOUBLE AS time_us, reason FROM (
          SELECT filename, symbol, ts, ${reason} AS reason FROM read_parquet(${sqlStringList(unchecked)}, hive_partitioning = false, filename = true)
        ) WHERE reason IS NOT NULL ORDER BY filename, symbol, ts`);
      const rows = result.getRowObjectsJson() as { filename: string; symbol: string; time_us: number; reason: string }[];
      const byFile = new Map<string, BadRow[]>();
      for (const file of unchecked) byFile.set(file, []);
      for (const row of rows) byFile.get(row.filename)?.push({ file: row.filename, symbol: row.symbol, timeUs: row.time_us, reason: row.reason });
      for (const [file, bad] of byFile) this.checkedFiles.set(file, bad);
    }
    return files.flatMap((file) => this.checkedFiles.get(file) ?? []);
  }

  private async prepare(query: BarQuery, kind: DataKind): Promise<{ files: string[]; rows: number[]; symbols: string[]; interval: string; filter: string }> {
    const resolved = this.resolve(query, kind);
    const files = resolved.files.map((file) => path.join(this.dir, file.path));
    const wanted = new Set(resolved.symbols);
    const bad = (await this.badRows(files, kind)).filter((row) => wanted.has(row.symbol));
    const counts: Record<string, number> = {};
    for (const row of bad) counts[row.reason] = (counts[row.reason] ?? 0) + 1;
    const report: BadRowsReport = { total: bad.length, counts, first: bad.slice(0, 10) };
    const reason = kind === 'bars' ? BAD_BAR_SQL : BAD_TICK_SQL;
    let filter = '';
    if (bad.length > 0) {
      if (!query.skipBad) {
        const countText = Object.entries(counts).map(([name, count]) => `${count} ${name}`).join(', ');
        const firstText = bad.slice(0, 3).map((row) => `${row.symbol} at ${isoOfUs(row.timeUs)} (${row.reason}) in ${path.relative(this.dir, row.file)}`).join('; ');
        throw new SimError('DATA_BAD_BARS', `expected valid ${kind}, found ${bad.length} bad rows (${countText}): ${firstText}; pass skipBad (--skip-bad) to drop them`,
          { ...report });
      }
      filter = `AND (${reason}) IS NULL`;
      this.skipped = report;
      query.onSkipped?.(report);
    } else if (query.skipBad) {
      this.skipped = report;
      query.onSkipped?.(report);
    }
    return { files, rows: resolved.files.map((file) => file.rows), symbols: resolved.symbols, interval: resolved.interval, filter };
  }

  readBars(query: BarQuery): AsyncIterable<BarColumns> {
    return { [Symbol.asyncIterator]: () => this.barChunks(query) };
  }

  readTicks(query: BarQuery): AsyncIterable<TickColumns> {
    return { [Symbol.asyncIterator]: () => this.tickChunks(query) };
  }

  private scales(symbols: readonly string[]): { price: Float64Array; lot: Float64Array } {
    const price = new Float64Array(symbols.length);
    const lot = new Float64Array(symbols.length);
    symbols.forEach((symbol, index) => {
      const instrument = this.instrument(symbol);
      price[index] = 10 ** instrument.priceScale;
      lot[index] = 10 ** instrument.lotScale;
    });
    return { price, lot };
  }

  private async *barChunks(query: BarQuery): AsyncGenerator<BarColumns> {
    const { files, rows, symbols, interval, filter } = await this.prepare(query, 'bars');
    const { connection } = await this.session();
    const scale = this.scales(symbols);
    const step = intervalUs(interval);
    const symbolList = sqlStringList(symbols);
    // Several dates per query (one query per date costs ~4 ms of overhead each), split back into one chunk
    // per date on the way out.
    for (let first = 0; first < files.length;) {
      let last = first;
      let groupRows = rows[first];
      while (last + 1 < files.length && last + 1 - first < BAR_FILES_PER_QUERY && groupRows + rows[last + 1] <= BAR_ROWS_PER_QUERY) groupRows += rows[++last];
      const group = files.slice(first, last + 1);
      first = last + 1;
      const sql = `SELECT (list_position(${symbolList}, symbol) - 1)::INTEGER AS symbol_index, epoch_us(ts)::DOUBLE AS start_us,
          open, high, low, close, volume
        FROM ${parquetSource(group)} WHERE symbol IN (SELECT unnest(${symbolList})) ${filter} ORDER BY ts, symbol_index`;
      const result = await connection.run(sql).catch((error: Error) => {
        throw new SimError('DATA_CORRUPT_FILE', `expected readable Parquet in ${group.join(', ')}, found ${error.message.split('\n')[0]}`);
      });
      const chunks = await result.fetchAllChunks();
      let length = 0;
      for (const chunk of chunks) length += chunk.rowCount;
      if (length === 0) continue;
      const columns = {
        symbolIndex: new Int32Array(length), startUs: new Float64Array(length), open: new Float64Array(length),
        high: new Float64Array(length), low: new Float64Array(length), close: new Float64Array(length), volume: new Float64Array(length),
      };
      const targets = [columns.symbolIndex, columns.startUs, columns.open, columns.high, columns.low, columns.close, columns.volume];
      let offset = 0;
      for (const chunk of chunks) {
        for (let column = 0; column < targets.length; column++) copyNumberColumn(chunk, column, targets[column], offset);
        offset += chunk.rowCount;
      }
      const { symbolIndex, startUs, open, high, low, close, volume } = columns;
      for (let index = 0; index < length; index++) {
        const priceScale = scale.price[symbolIndex[index]];
        open[index] = Math.round(open[index] * priceScale);
        high[index] = Math.round(high[index] * priceScale);
        low[index] = Math.round(low[index] * priceScale);
        close[index] = Math.round(close[index] * priceScale);
        volume[index] = Math.round(volume[index] * scale.lot[symbolIndex[index]]);
      }
      for (let begin = 0; begin < length;) {
        const day = Math.floor(startUs[begin] / US_PER_DAY);
        let end = begin + 1;
        while (end < length && Math.floor(startUs[end] / US_PER_DAY) === day) end++;
        yield {
          kind: 'bars', length: end - begin, intervalUs: step, symbolIndex: symbolIndex.subarray(begin, end), startUs: startUs.subarray(begin, end),
          open: open.subarray(begin, end), high: high.subarray(begin, end), low: low.subarray(begin, end), close: close.subarray(begin, end), volume: volume.subarray(begin, end),
        };
        begin = end;
      }
    }
  }

  private async *tickChunks(query: BarQuery): AsyncGenerator<TickColumns> {
    const { files, symbols, filter } = await this.prepare(query, 'ticks');
    const { connection } = await this.session();
    const scale = this.scales(symbols);
    const symbolList = sqlStringList(symbols);
    for (const file of files) {
      const sql = `SELECT (list_position(${symbolList}, symbol) - 1)::INTEGER AS symbol_index, epoch_us(ts)::DOUBLE AS time_us,
          price, size, coalesce(bid, 'NaN'::DOUBLE) AS bid, coalesce(ask, 'NaN'::DOUBLE) AS ask
        FROM read_parquet(${sqlStringList([file])}, hive_partitioning = false, file_row_number = true)
        WHERE symbol IN (SELECT unnest(${symbolList})) ${filter} ORDER BY ts, symbol_index, file_row_number`;
      const result = await connection.stream(sql).catch((error: Error) => {
        throw new SimError('DATA_CORRUPT_FILE', `expected readable Parquet in ${file}, found ${error.message.split('\n')[0]}`);
      });
      let pending = newTickBuffer(TICK_CHUNK_ROWS);
      let offset = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const rows = chunk.rowCount;
        if (offset + rows > TICK_CHUNK_ROWS) {
          yield finishTicks(pending, offset, scale);
          pending = newTickBuffer(TICK_CHUNK_ROWS);
          offset = 0;
        }
        const targets = [pending.symbolIndex, pending.timeUs, pending.price, pending.size, pending.bid, pending.ask];
        for (let column = 0; column < targets.length; column++) copyNumberColumn(chunk, column, targets[column], offset);
        offset += rows;
      }
      if (offset > 0) yield finishTicks(pending, offset, scale);
    }
  }

  async close(): Promise<void> {
    this.duckdb?.close();
    this.duckdb = undefined;
  }
}

interface TickBuffer {
  symbolIndex: Int32Array; timeUs: Float64Array; price: Float64Array; size: Float64Array; bid: Float64Array; ask: Float64Array;
}

function newTickBuffer(capacity: number): TickBuffer {
  return {
    symbolIndex: new Int32Array(capacity), timeUs: new Float64Array(capacity), price: new Float64Array(capacity),
    size: new Float64Array(capacity), bid: new Float64Array(capacity), ask: new Float64Array(capacity),
  };
}

function finishTicks(buffer: TickBuffer, length: number, scale: { price: Float64Array; lot: Float64Array }): TickColumns {
  const symbolIndex = buffer.symbolIndex.subarray(0, length);
  const price = buffer.price.subarray(0, length);
  const size = buffer.size.subarray(0, length);
  const bid = buffer.bid.subarray(0, length);
  const ask = buffer.ask.subarray(0, length);
  for (let index = 0; index < length; index++) {
    const priceScale = scale.price[symbolIndex[index]];
    price[index] = Math.round(price[index] * priceScale);
    bid[index] = Math.round(bid[index] * priceScale);
    ask[index] = Math.round(ask[index] * priceScale);
    size[index] = Math.round(size[index] * scale.lot[symbolIndex[index]]);
  }
  return { kind: 'ticks', length, symbolIndex, timeUs: buffer.timeUs.subarray(0, length), price, size, bid, ask };
}

export function isoOfUs(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1000)).toISOString().replace('.000Z', 'Z');
}

export async function openCatalog(dir: string): Promise<Catalog> {
  const resolved = path.resolve(dir);
  const manifest = await readManifest(resolved);
  if (!manifest) throw new SimError('DATA_NO_CATALOG', `expected a catalog (manifest.json) in ${resolved}, found none; build one with: sim data import FILE... --catalog ${dir}`);
  return new ParquetCatalog(resolved, manifest);
}

/** ' (a Saturday)', ' (a Sunday)', ' (an NYSE holiday)', or '' for a date with a session. */
function closedReason(date: string): string {
  let day: number;
  try {
    day = parseDate(date);
  } catch {
    return ''; // not a calendar date: the message says what exists
  }
  const weekday = weekdayOfDays(day);
  if (weekday === 6) return ' (a Saturday)';
  if (weekday === 0) return ' (a Sunday)';
  return usEquityCloseMinute(day) < 0 ? ' (an NYSE holiday)' : '';
}
