// Merges new rows into a catalog's date partitions, atomically. New rows go into a DuckDB table; each
// affected date is merged with its existing partition (new rows win on the same symbol and time), written to
// a staging folder, and compared by content digest with what the manifest already lists. Changed partitions
// get new, content-named files; the manifest rename is the single commit point; old files are removed after
// it. An import that fails or is killed before the rename leaves the manifest and every file it lists as
// they were. Staging and the writer lock live beside the catalog folder (`<catalog>.staging-<pid>-<n>`, one per
// call, and `<catalog>.lock`), so a killed import leaves the folder itself untouched; the next import removes
// leftovers. Writers of one process queue for the lock; a writer in another process is refused.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { SimError, isSimError } from '../../engine/errors.ts';
import type { Instrument } from '../../engine/types.ts';
import { appendColumns, openDuckDB, sqlString, sqlStringList, type AppendColumn, type DuckDBSession } from './duckdb-columns.ts';
import { withCatalogLock } from './catalog-lock.ts';
import { emptyManifest, fsyncPath, partitionPath, readManifest, writeManifest, type DataKind, type Manifest, type ManifestFile } from './manifest.ts';

/** Rows to merge, as columns: `symbolIndex` indexes `symbolNames`. `side` only for ticks; optional numeric columns hold NaN for NULL. */
export interface NewRows {
  readonly kind: DataKind;
  readonly interval?: string;
  readonly length: number;
  readonly symbolNames: readonly string[];
  readonly symbolIndex: Int32Array;
  readonly timeUs: Float64Array;
  readonly columns: Readonly<Record<string, Float64Array>>;
  readonly side?: readonly (string | null)[];
}

/**
 * Where new rows come from: `load` creates temp table or view `incoming` with the kind's columns (BAR_SELECT or
 * TICK_SELECT) plus `sequence` (DOUBLE, later rows win). `unique` says its rows never share a key, so that
 * a partition with no existing file can skip the merge.
 */
export interface IncomingSource {
  readonly kind: DataKind;
  readonly interval?: string;
  readonly unique?: boolean;
  load(session: DuckDBSession): Promise<void>;
}

export interface WriteReport {
  readonly datesWritten: readonly string[];
  readonly datesUnchanged: number;
  readonly rowsBefore: number;
  readonly rowsAfter: number;
}

export const BAR_SELECT = 'symbol, ts, open, high, low, close, volume, vwap, trades';
export const TICK_SELECT = 'symbol, ts, price, size, side, bid, ask';

/** sha256 hex of a file's bytes. DuckDB writes the same bytes for the same rows, so this is a content digest. */
export async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

export function parquetSource(files: readonly string[]): string {
  return `read_parquet(${sqlStringList(files)}, hive_partitioning = false)`;
}

export function fileMatches(file: ManifestFile, kind: DataKind, interval: string | undefined): boolean {
  return file.kind === kind && (kind === 'ticks' || (file.interval ?? '1m') === (interval ?? '1m'));
}

/** A source of typed columns, loaded through the appender. */
export function columnsSource(rows: NewRows, unique = false): IncomingSource {
  return { kind: rows.kind, interval: rows.interval, unique, load: (session) => loadColumns(session, rows) };
}

async function loadColumns(session: DuckDBSession, rows: NewRows): Promise<void> {
  const { connection } = session;
  const sequence = new Float64Array(rows.length);
  for (let index = 0; index < rows.length; index++) sequence[index] = index;
  const names = sqlStringList(rows.symbolNames);
  const empty = (): Float64Array => new Float64Array(rows.length).fill(Number.NaN);
  if (rows.kind === 'bars') {
    await connection.run('CREATE TEMP TABLE incoming_raw (symbol_index INTEGER, ts_us DOUBLE, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, vwap DOUBLE, trades DOUBLE, sequence DOUBLE)');
    const columns: AppendColumn[] = [
      { type: 'INTEGER', values: rows.symbolIndex }, { type: 'DOUBLE', values: rows.timeUs },
      ...['open', 'high', 'low', 'close', 'volume', 'vwap', 'trades'].map((name): AppendColumn => ({ type: 'DOUBLE', values: rows.columns[name] ?? empty() })),
      { type: 'DOUBLE', values: sequence },
    ];
    await appendColumns(connection, 'incoming_raw', columns, rows.length);
    await connection.run(`CREATE TEMP VIEW incoming AS SELECT ${names}[symbol_index + 1] AS symbol, make_timestamp(ts_us::BIGINT) AS ts,
      open, high, low, close, volume, vwap, trades::INTEGER AS trades, sequence FROM incoming_raw`);
  } else {
    const hasSide = rows.side !== undefined && rows.side.some((side) => side !== null);
    await connection.run(`CREATE TEMP TABLE incoming_raw (symbol_index INTEGER, ts_us DOUBLE, price DOUBLE, size DOUBLE, bid DOUBLE, ask DOUBLE, sequence DOUBLE${hasSide ? ', side VARCHAR' : ''})`);
    const columns: AppendColumn[] = [
      { type: 'INTEGER', values: rows.symbolIndex }, { type: 'DOUBLE', values: rows.timeUs },
      { type: 'DOUBLE', values: rows.columns.price }, { type: 'DOUBLE', values: rows.columns.size },
      { type: 'DOUBLE', values: rows.columns.bid ?? empty() }, { type: 'DOUBLE', values: rows.columns.ask ?? empty() },
      { type: 'DOUBLE', values: sequence },
      ...(hasSide ? [{ type: 'VARCHAR', values: rows.side! } as AppendColumn] : []),
    ];
    await appendColumns(connection, 'incoming_raw', columns, rows.length);
    await connection.run(`CREATE TEMP VIEW incoming AS SELECT ${names}[symbol_index + 1] AS symbol, make_timestamp(ts_us::BIGINT) AS ts,
      price, size, ${hasSide ? 'side' : 'NULL::VARCHAR AS side'}, bid, ask, sequence FROM incoming_raw`);
  }
}

/** Drops the scratch relations of one source, whichever of table or view each is. */
async function dropScratch(session: DuckDBSession): Promise<void> {
  const { connection } = session;
  const result = await connection.runAndReadAll(`SELECT table_name, table_type FROM information_schema.tables
    WHERE table_name IN ('merged', 'incoming', 'incoming_raw') ORDER BY CASE table_name WHEN 'merged' THEN 0 WHEN 'incoming' THEN 1 ELSE 2 END`);
  for (const row of result.getRowObjectsJson() as { table_name: string; table_type: string }[]) {
    await connection.run(`DROP ${row.table_type === 'VIEW' ? 'VIEW' : 'TABLE'} ${row.table_name}`);
  }
}

export interface MergeOptions {
  readonly catalogDir: string;
  readonly sources: readonly IncomingSource[];
  readonly instruments: readonly Instrument[];
  readonly threads?: number;
  /**
   * Files to place in the catalog folder with the same commit (reject reports): written to staging, fsynced
   * and renamed into place before the manifest is; removed again when the commit fails. A path that already
   * exists is left as it is, so callers name these files by their content.
   */
  readonly attachments?: readonly { readonly path: string; readonly text: string }[];
}


/**
 * Merges every group of rows into the catalog at `catalogDir` (created when missing) and commits one new
 * manifest. Instruments merge with the existing ones: the larger price and lot scales win.
 */
export async function mergeIntoCatalog(options: MergeOptions): Promise<WriteReport> {
  const dir = path.resolve(options.catalogDir);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  return withCatalogLock(dir, () => mergeLocked(dir, options));
}

let stagingSequence = 0;

async function mergeLocked(dir: string, options: MergeOptions): Promise<WriteReport> {
  const staging = `${dir}.staging-${process.pid}-${++stagingSequence}`;
  const createdFiles: string[] = [];
  let session: DuckDBSession | undefined;
  try {
    const stagingPrefix = `${path.basename(dir)}.staging-`;
    for (const entry of await fs.readdir(path.dirname(dir))) {
      if (entry.startsWith(stagingPrefix)) await fs.rm(path.join(path.dirname(dir), entry), { recursive: true, force: true });
    }
    await fs.mkdir(staging, { recursive: true });
    const manifest = (await readManifest(dir)) ?? emptyManifest();
    session = await openDuckDB(options.threads ?? 2);
    const files = [...manifest.files];
    const replaced: string[] = [];
    const datesWritten: string[] = [];
    let datesUnchanged = 0;
    let rowsBefore = 0;
    let rowsAfter = 0;
    for (const file of files) rowsBefore += file.rows;
    let stagedCount = 0;
    const moves: { from: string; to: string }[] = [];

    for (const rows of options.sources) {
      const { connection } = session;
      await dropScratch(session);
      await rows.load(session);
      const datesResult = await connection.runAndReadAll(`SELECT DISTINCT strftime(ts, '%Y-%m-%d') AS date FROM incoming ORDER BY date`);
      const dates = (datesResult.getColumnsJson()[0] ?? []) as string[];
      const existing = files.filter((file) => fileMatches(file, rows.kind, rows.interval) && dates.includes(file.date));
      const select = rows.kind === 'bars' ? BAR_SELECT : TICK_SELECT;
      // Bars are unique by (symbol, ts). Ticks may share a microsecond, so their key adds the print's ordinal
      // among same-time prints of its source: re-importing a file replaces its prints one for one.
      const ordinal = rows.kind === 'bars' ? '0' : 'row_number() OVER (PARTITION BY symbol, ts ORDER BY sequence)';
      const existingSql = existing.length > 0
        ? `UNION ALL SELECT ${select}, -1 - file_row_number AS sequence, ${rows.kind === 'bars' ? '0' : 'row_number() OVER (PARTITION BY symbol, ts ORDER BY file_row_number)'} AS ordinal
           FROM read_parquet(${sqlStringList(existing.map((file) => path.join(dir, file.path)))}, hive_partitioning = false, file_row_number = true)`
        : '';
      try {
        if (existing.length === 0 && rows.unique) {
          // Nothing to merge with: read the new rows in place instead of copying them.
          await connection.run(`CREATE TEMP VIEW merged AS SELECT ${select}, sequence AS ordinal, strftime(ts, '%Y-%m-%d') AS date FROM incoming`);
        } else await connection.run(`CREATE TEMP TABLE merged AS SELECT ${select}, ordinal, strftime(ts, '%Y-%m-%d') AS date FROM (
          SELECT ${select}, sequence, ${ordinal} AS ordinal FROM incoming ${existingSql}
        ) QUALIFY row_number() OVER (PARTITION BY symbol, ts, ordinal ORDER BY (sequence >= 0) DESC, sequence DESC) = 1`);
      } catch (error) {
        throw new SimError('DATA_CORRUPT_FILE', `expected readable Parquet partitions to merge into, found ${(error as Error).message.split('\n')[0]}`);
      }
      const summary = await connection.runAndReadAll(`SELECT date, sum(rows)::DOUBLE AS rows, min(min_us)::DOUBLE AS min_us, max(max_us)::DOUBLE AS max_us,
          list(symbol ORDER BY symbol) AS symbols, list(rows ORDER BY symbol) AS symbol_rows
        FROM (SELECT date, symbol, count(*)::DOUBLE AS rows, min(epoch_us(ts)) AS min_us, max(epoch_us(ts)) AS max_us FROM merged GROUP BY date, symbol)
        GROUP BY date ORDER BY date`);
      const summaryRows = summary.getRowObjectsJson() as { date: string; rows: number; min_us: number; max_us: number; symbols: string[]; symbol_rows: number[] }[];
      for (const row of summaryRows) {
        const old = existing.find((file) => file.date === row.date);
        const stagedFile = path.join(staging, `${stagedCount++}.parquet`);
        await connection.run(`COPY (SELECT ${select} FROM merged WHERE date = ${sqlString(row.date)} ORDER BY symbol, ts, ordinal)
          TO ${sqlString(stagedFile)} (FORMAT parquet, COMPRESSION zstd)`);
        const digest = await fileDigest(stagedFile);
        if (old && old.sha256 === digest) {
          await fs.rm(stagedFile);
          datesUnchanged++;
          continue;
        }
        const relative = partitionPath(rows.kind, rows.interval, row.date, digest);
        moves.push({ from: stagedFile, to: path.join(dir, relative) });
        const entry: ManifestFile = {
          path: relative, kind: rows.kind, ...(rows.kind === 'bars' ? { interval: rows.interval ?? '1m' } : {}),
          date: row.date, symbols: row.symbols, symbolRows: row.symbol_rows, rows: row.rows, minTimeUs: row.min_us, maxTimeUs: row.max_us, sha256: digest,
        };
        if (old) {
          files.splice(files.indexOf(old), 1);
          replaced.push(old.path);
        }
        files.push(entry);
        datesWritten.push(row.date);
      }
    }
    for (const file of files) rowsAfter += file.rows;

    for (const attachment of options.attachments ?? []) {
      const relative = path.normalize(attachment.path);
      if (path.isAbsolute(relative) || relative.startsWith('..')) {
        throw new SimError('DATA_BAD_ATTACHMENT', `expected a path inside the catalog for an attached file, found ${attachment.path}`);
      }
      const stagedFile = path.join(staging, `${stagedCount++}.attachment`);
      await fs.writeFile(stagedFile, attachment.text, 'utf8');
      moves.push({ from: stagedFile, to: path.join(dir, relative) });
    }

    await fs.mkdir(dir, { recursive: true });
    const touchedFolders = new Set<string>();
    for (const move of moves) {
      try {
        await fs.mkdir(path.dirname(move.to), { recursive: true });
        const exists = await fs.stat(move.to).then(() => true, () => false);
        if (exists) {
          await fs.rm(move.from);
          continue;
        }
        // Durable before the manifest can list it: the file's bytes, then (below) its folder entry.
        await fsyncPath(move.from);
        await fs.rename(move.from, move.to);
      } catch (error) {
        throw new SimError('DATA_COMMIT_FAILED', `expected to place ${move.to} before the catalog's commit, found ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; the catalog is as it was`);
      }
      createdFiles.push(move.to);
      touchedFolders.add(path.dirname(move.to));
    }
    for (const folder of touchedFolders) {
      try {
        await fsyncPath(folder);
      } catch (error) {
        throw new SimError('DATA_COMMIT_FAILED', `expected to fsync ${folder} before the catalog's commit, found ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; the catalog is as it was`);
      }
    }
    const instruments: Record<string, Instrument> = { ...manifest.instruments };
    for (const instrument of options.instruments) {
      const old = instruments[instrument.symbol];
      instruments[instrument.symbol] = old
        ? { ...old, priceScale: Math.max(old.priceScale, instrument.priceScale), lotScale: Math.max(old.lotScale, instrument.lotScale) }
        : instrument;
    }
    const next: Manifest = { version: manifest.version, instruments, files };
    try {
      await writeManifest(dir, next);
    } catch (error) {
      // A manifest renamed into place lists the new files: they stay, whatever failed after the rename.
      if (isSimError(error) && error.details?.committed === true) createdFiles.length = 0;
      throw error;
    }
    createdFiles.length = 0;
    const stillListed = new Set(files.map((file) => file.path));
    for (const old of replaced) {
      if (!stillListed.has(old)) await fs.rm(path.join(dir, old), { force: true });
    }
    return { datesWritten, datesUnchanged, rowsBefore, rowsAfter };
  } finally {
    session?.close();
    for (const created of createdFiles) await fs.rm(created, { force: true });
    await fs.rm(staging, { recursive: true, force: true });
  }
}
