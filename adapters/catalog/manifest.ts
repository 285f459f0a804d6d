// The catalog's manifest: which instruments exist and which Parquet files hold their data. The manifest is
// the catalog's single commit point: a file not listed in it is not part of the catalog.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CalendarName, Instrument } from '../../engine/types.ts';
import { SimError } from '../../engine/errors.ts';

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export type DataKind = 'bars' | 'ticks';

export interface ManifestFile {
  /** Path relative to the catalog folder, with forward slashes. */
  readonly path: string;
  readonly kind: DataKind;
  /** Bar interval ('1m', '5m', ...); absent for ticks. */
  readonly interval?: string;
  /** UTC date of every row in the file, YYYY-MM-DD. */
  readonly date: string;
  readonly symbols: readonly string[];
  /** Rows per symbol, in the order of `symbols`. */
  readonly symbolRows?: readonly number[];
  readonly rows: number;
  readonly minTimeUs: number;
  readonly maxTimeUs: number;
  /** sha256 hex of the file's bytes (DuckDB writes the same bytes for the same sorted rows). */
  readonly sha256: string;
}

export interface Manifest {
  readonly version: number;
  readonly instruments: Readonly<Record<string, Instrument>>;
  readonly files: readonly ManifestFile[];
}

export function emptyManifest(): Manifest {
  return { version: MANIFEST_VERSION, instruments: {}, files: [] };
}

export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new SimError('DATA_MANIFEST_UNREADABLE', `expected a readable catalog manifest at ${file}, found ${code ?? String(error)}`);
  }
  let parsed: Manifest;
  try {
    parsed = JSON.parse(text) as Manifest;
  } catch {
    throw new SimError('DATA_CORRUPT_MANIFEST', `expected JSON in ${file}, found unparseable text`);
  }
  if (parsed.version !== MANIFEST_VERSION || typeof parsed.instruments !== 'object' || !Array.isArray(parsed.files)) {
    throw new SimError('DATA_CORRUPT_MANIFEST', `expected a version ${MANIFEST_VERSION} manifest in ${file}, found version ${String(parsed.version)}`);
  }
  return parsed;
}

/** Canonical manifest text: instruments and files sorted, so the same catalog gives the same bytes. */
export function manifestText(manifest: Manifest): string {
  const instruments: Record<string, Instrument> = {};
  for (const symbol of Object.keys(manifest.instruments).sort()) {
    const instrument = manifest.instruments[symbol];
    instruments[symbol] = { symbol: instrument.symbol, priceScale: instrument.priceScale, lotScale: instrument.lotScale, calendar: instrument.calendar };
  }
  const files = [...manifest.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return `${JSON.stringify({ version: MANIFEST_VERSION, instruments, files }, null, 1)}\n`;
}

/**
 * Writes the manifest atomically: a temporary file in the same folder, fsync, rename over the old one, then
 * fsync the folder so the rename itself is durable. Any failure is DATA_COMMIT_FAILED, with the old manifest
 * in place and the temporary file removed.
 */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const temporary = `${file}.tmp-${process.pid}`;
  let step = `create ${temporary}`;
  let created = false;
  let renamed = false;
  try {
    const handle = await fs.open(temporary, 'w');
    created = true;
    try {
      step = `write ${temporary}`;
      await handle.writeFile(manifestText(manifest), 'utf8');
      step = `fsync ${temporary}`;
      await handle.sync();
    } finally {
      await handle.close();
    }
    step = `rename ${temporary} to ${file}`;
    await fs.rename(temporary, file);
    renamed = true;
    step = `fsync the folder ${dir}`;
    await fsyncPath(dir);
  } catch (error) {
    if (created && !renamed) await fs.rm(temporary, { force: true }).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SimError('DATA_COMMIT_FAILED', `expected to ${step} (the catalog's commit), found ${code}${renamed ? '; the new manifest is in place but may not be durable' : '; the catalog is as it was'}`, { committed: renamed });
  }
}

export function makeInstrument(symbol: string, priceScale: number, lotScale: number, calendar: CalendarName): Instrument {
  return { symbol, priceScale, lotScale, calendar };
}

export function partitionPath(kind: DataKind, interval: string | undefined, date: string, digest: string): string {
  const folder = kind === 'bars' ? `bars/${interval ?? '1m'}/date=${date}` : `ticks/date=${date}`;
  return `${folder}/part-${digest.slice(0, 16)}.parquet`;
}

/** fsync a file or a folder (a folder: so that a rename or a new name in it is durable). */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
