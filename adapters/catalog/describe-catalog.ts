// What a catalog holds: per kind and interval, per symbol the rows, dates and time range, and for us-equity
// instruments a gap report against the regular session (09:30-16:00 America/New_York, through DuckDB's ICU
// time zones): minutes missing inside sessions and weekdays with no data. Exchange holidays and half days are
// not known here, so they appear as missing days and missing minutes; the report says how many of each.
import path from 'node:path';
import type { Catalog } from './open-catalog.ts';
import { isoOfUs } from './open-catalog.ts';
import { sqlString } from './duckdb-columns.ts';
import { parquetSource } from './write-partitions.ts';
import type { DataKind } from './manifest.ts';

export interface SymbolSummary {
  readonly symbol: string;
  readonly rows: number;
  readonly dates: number;
  readonly firstDate: string;
  readonly lastDate: string;
  readonly firstTime: string;
  readonly lastTime: string;
  readonly priceScale: number;
  readonly lotScale: number;
  readonly calendar: string;
  readonly gaps?: GapReport;
}

export interface GapReport {
  /** Regular-session minutes (bar starts 09:30..15:59 New York) with no bar, summed over the days with data. */
  readonly missingSessionMinutes: number;
  /** Days with data but fewer than 390 session bars, and the worst few. */
  readonly daysWithMissingMinutes: number;
  readonly worstDays: readonly { readonly date: string; readonly sessionBars: number }[];
  /** Bars outside the regular session. */
  readonly outsideSessionBars: number;
  /** Weekdays between the first and last date with no data at all (includes exchange holidays). */
  readonly missingWeekdays: readonly string[];
}

export interface DatasetSummary {
  readonly kind: DataKind;
  readonly interval?: string;
  readonly files: number;
  readonly rows: number;
  readonly dates: number;
  readonly firstDate: string;
  readonly lastDate: string;
  readonly symbols: readonly SymbolSummary[];
}

export interface CatalogSummary {
  readonly dir: string;
  readonly symbols: readonly string[];
  readonly datasets: readonly DatasetSummary[];
}

const SESSION_MINUTES = 390;

function weekdaysBetween(first: string, last: string): string[] {
  const out: string[] = [];
  const lastMs = Date.parse(`${last}T00:00:00Z`);
  for (let ms = Date.parse(`${first}T00:00:00Z`); ms <= lastMs; ms += 86_400_000) {
    const weekday = new Date(ms).getUTCDay();
    if (weekday !== 0 && weekday !== 6) out.push(new Date(ms).toISOString().slice(0, 10));
  }
  return out;
}

export async function describeCatalog(catalog: Catalog, options: { gaps?: boolean } = {}): Promise<CatalogSummary> {
  const { connection } = await catalog.session();
  const groups = new Map<string, { kind: DataKind; interval?: string; files: string[]; rows: number; dates: Set<string> }>();
  for (const file of catalog.manifest.files) {
    const key = file.kind === 'bars' ? `bars ${file.interval ?? '1m'}` : 'ticks';
    const group = groups.get(key) ?? { kind: file.kind, ...(file.kind === 'bars' ? { interval: file.interval ?? '1m' } : {}), files: [], rows: 0, dates: new Set<string>() };
    group.files.push(path.join(catalog.dir, file.path));
    group.rows += file.rows;
    group.dates.add(file.date);
    groups.set(key, group);
  }
  const datasets: DatasetSummary[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const source = parquetSource(group.files);
    const perSymbol = (await connection.runAndReadAll(`SELECT symbol, count(*)::DOUBLE AS rows, count(DISTINCT ts::DATE)::DOUBLE AS dates,
        min(ts::DATE)::VARCHAR AS first_date, max(ts::DATE)::VARCHAR AS last_date,
        min(epoch_us(ts))::DOUBLE AS first_us, max(epoch_us(ts))::DOUBLE AS last_us
      FROM ${source} GROUP BY symbol ORDER BY symbol`)).getRowObjectsJson() as
      { symbol: string; rows: number; dates: number; first_date: string; last_date: string; first_us: number; last_us: number }[];
    const symbols: SymbolSummary[] = [];
    for (const row of perSymbol) {
      const instrument = catalog.instrument(row.symbol);
      let gaps: GapReport | undefined;
      if (options.gaps && instrument.calendar === 'us-equity' && group.kind === 'bars' && group.interval === '1m') {
        const days = (await connection.runAndReadAll(`SELECT ts::DATE::VARCHAR AS date,
            count(*) FILTER (WHERE local_minute >= 570 AND local_minute < 960)::DOUBLE AS session_bars,
            count(*) FILTER (WHERE local_minute < 570 OR local_minute >= 960)::DOUBLE AS outside_bars
          FROM (SELECT ts, (hour(local) * 60 + minute(local)) AS local_minute FROM (
            SELECT ts, timezone('America/New_York', ts::TIMESTAMPTZ) AS local FROM ${source} WHERE symbol = ${sqlString(row.symbol)}))
          GROUP BY date ORDER BY date`)).getRowObjectsJson() as { date: string; session_bars: number; outside_bars: number }[];
        const seen = new Set(days.map((day) => day.date));
        const short = days.filter((day) => day.session_bars < SESSION_MINUTES);
        gaps = {
          missingSessionMinutes: short.reduce((sum, day) => sum + SESSION_MINUTES - day.session_bars, 0),
          daysWithMissingMinutes: short.length,
          worstDays: [...short].sort((a, b) => a.session_bars - b.session_bars || (a.date < b.date ? -1 : 1)).slice(0, 5)
            .map((day) => ({ date: day.date, sessionBars: day.session_bars })),
          outsideSessionBars: days.reduce((sum, day) => sum + day.outside_bars, 0),
          missingWeekdays: weekdaysBetween(row.first_date, row.last_date).filter((date) => !seen.has(date)),
        };
      }
      symbols.push({
        symbol: row.symbol, rows: row.rows, dates: row.dates, firstDate: row.first_date, lastDate: row.last_date,
        firstTime: isoOfUs(row.first_us), lastTime: isoOfUs(row.last_us),
        priceScale: instrument.priceScale, lotScale: instrument.lotScale, calendar: instrument.calendar, ...(gaps ? { gaps } : {}),
      });
    }
    const dates = [...group.dates].sort();
    datasets.push({
      kind: group.kind, ...(group.interval ? { interval: group.interval } : {}), files: group.files.length, rows: group.rows,
      dates: dates.length, firstDate: dates[0], lastDate: dates[dates.length - 1], symbols,
    });
  }
  return { dir: catalog.dir, symbols: catalog.symbols(), datasets };
}
