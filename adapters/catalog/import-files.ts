// `sim data import`: CSV files into a catalog. Every file is parsed and checked before the catalog is touched;
// by default one bad row refuses the whole import, and with `skipBad` the good rows go in and the rejected
// ones are reported in `<catalog>/rejects/<file name>.<digest>.rejects.csv` (one row per rejected row, with
// the source file's path), committed with the import: the digest covers the source path and the report, so
// files of the same name from different folders, or a file re-imported after it changed, never overwrite
// each other's reports, and re-importing the same file writes the same report again.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { SimError } from '../../engine/errors.ts';
import type { CalendarName, Instrument } from '../../engine/types.ts';
import { makeInstrument, type DataKind } from './manifest.ts';
import { describeRejects, parseMarketCsv, type ParsedMarketFile } from './parse-market-csv.ts';
import { columnsSource, mergeIntoCatalog, type NewRows, type WriteReport } from './write-partitions.ts';

export interface ImportOptions {
  readonly catalogDir: string;
  readonly files: readonly string[];
  readonly symbol?: string;
  readonly kind?: DataKind;
  readonly interval?: string;
  readonly skipBad?: boolean;
  readonly calendar?: CalendarName;
}

export interface ImportedFileReport {
  readonly file: string;
  readonly kind: DataKind;
  readonly symbols: readonly string[];
  readonly rowsRead: number;
  readonly rowsImported: number;
  readonly rejected: number;
  readonly rejectCounts: Readonly<Record<string, number>>;
  readonly rejectsFile?: string;
}

export interface ImportReport extends WriteReport {
  readonly catalogDir: string;
  readonly files: readonly ImportedFileReport[];
  readonly instruments: readonly Instrument[];
}

function concatenate(parsed: readonly ParsedMarketFile[], kind: DataKind, interval: string | undefined): NewRows {
  let length = 0;
  for (const file of parsed) length += file.length;
  const timeUs = new Float64Array(length);
  const columns: Record<string, Float64Array> = {};
  const names = new Set<string>();
  for (const file of parsed) for (const name of Object.keys(file.columns)) names.add(name);
  for (const name of names) columns[name] = new Float64Array(length).fill(Number.NaN);
  const symbolNames: string[] = [];
  const symbolNumbers = new Map<string, number>();
  const symbolIndex = new Int32Array(length);
  const side: (string | null)[] = [];
  let offset = 0;
  for (const file of parsed) {
    timeUs.set(file.timeUs, offset);
    for (const [name, values] of Object.entries(file.columns)) columns[name].set(values, offset);
    for (let index = 0; index < file.length; index++) {
      const symbol = file.symbol[index];
      let number = symbolNumbers.get(symbol);
      if (number === undefined) {
        number = symbolNames.length;
        symbolNames.push(symbol);
        symbolNumbers.set(symbol, number);
      }
      symbolIndex[offset + index] = number;
      side.push(file.side[index]);
    }
    offset += file.length;
  }
  return { kind, interval: kind === 'bars' ? interval ?? '1m' : undefined, length, symbolNames, symbolIndex, timeUs, columns, side };
}

export async function importFiles(options: ImportOptions): Promise<ImportReport> {
  if (options.files.length === 0) throw new SimError('DATA_NO_FILES', 'expected at least one CSV file to import, found none');
  const parsed = options.files.map((file) => parseMarketCsv(file, { symbol: options.symbol, kind: options.kind }));
  const bad = parsed.filter((file) => file.rejected.length > 0);
  if (bad.length > 0 && !options.skipBad) {
    const first = bad[0];
    const counts = Object.entries(first.rejectCounts).map(([reason, count]) => `${count} ${reason}`).join(', ');
    throw new SimError('DATA_BAD_ROWS',
      `expected only valid rows in ${first.file}, found ${first.rejected.length} bad of ${first.rowsRead} (${counts}): ${describeRejects(first.rejected, 3)}; catalog untouched (use --skip-bad to import the good rows)`,
      { files: bad.map((file) => ({ file: file.file, rejected: file.rejected.length, counts: file.rejectCounts, first: file.rejected.slice(0, 20) })) });
  }
  const instruments = new Map<string, Instrument>();
  for (const file of parsed) {
    for (const [symbol, scale] of file.priceScale) {
      const old = instruments.get(symbol);
      const lotScale = file.lotScale.get(symbol) ?? 0;
      instruments.set(symbol, makeInstrument(symbol, Math.max(old?.priceScale ?? 0, scale), Math.max(old?.lotScale ?? 0, lotScale), options.calendar ?? old?.calendar ?? file.calendar));
    }
  }
  const groups = new Map<string, ParsedMarketFile[]>();
  for (const file of parsed) {
    const group = groups.get(file.kind) ?? [];
    group.push(file);
    groups.set(file.kind, group);
  }
  const rows = [...groups.entries()].map(([kind, files]) => concatenate(files, kind as DataKind, options.interval));
  const catalogDir = path.resolve(options.catalogDir);
  const attachments: { path: string; text: string }[] = [];
  const rejectsFiles = parsed.map((file) => {
    if (file.rejected.length === 0) return undefined;
    const source = path.resolve(file.file);
    const lines = ['source,row,reason,detail,text', ...file.rejected.map((reject) => [source, String(reject.row), reject.reason, reject.detail, reject.text].map(csvField).join(','))];
    const text = `${lines.join('\n')}\n`;
    const digest = createHash('sha256').update(source).update('\n').update(text).digest('hex').slice(0, 12);
    const relative = path.join('rejects', `${path.basename(file.file)}.${digest}.rejects.csv`);
    attachments.push({ path: relative, text });
    return path.join(catalogDir, relative);
  });
  const written = await mergeIntoCatalog({ catalogDir, sources: rows.map((group) => columnsSource(group)), instruments: [...instruments.values()], attachments });

  const reports: ImportedFileReport[] = [];
  for (const [index, file] of parsed.entries()) {
    const rejectsFile = rejectsFiles[index];
    reports.push({
      file: file.file, kind: file.kind, symbols: [...new Set(file.symbol)].sort(), rowsRead: file.rowsRead, rowsImported: file.length,
      rejected: file.rejected.length, rejectCounts: file.rejectCounts, ...(rejectsFile ? { rejectsFile } : {}),
    });
  }
  return { ...written, catalogDir, files: reports, instruments: [...instruments.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)) };
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
