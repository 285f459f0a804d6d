// What a catalog holds: per kind and interval, per symbol the rows, dates and time range, and for us-equity
// instruments a gap report against NYSE's regular sessions (09:30-16:00 America/New_York, 13:00 on early-close
// days, none on exchange holidays: the engine's calendar; local times through DuckDB's ICU time zones): minutes
// missing inside sessions, bars outside them, and sessions with no data at all.
import path from 'node:path';
import type { Catalog } from './open-catalog.ts';
import { isoOfUs } from './open-catalog.ts';
import { sqlString } from './duckdb-columns.ts';
import { parquetSource } from './write-partitions.ts';
import type { DataKind } from './manifest.ts';
import { US_EQUITY_CLOSE_MINUTE, US_EQUITY_EARLY_CLOSE_MINUTE, US_EQUITY_OPEN_MINUTE, formatDays, parseDate, usEquityCloseMinute, weekdayOfDays } from '../../engine/index.ts';

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
  /** Regular-session minutes (bar starts 09:30 to the close, New York) with no bar, summed over the days with data. */
  readonly missingSessionMinutes: number;
  /** Days with data but fewer session bars than the session has minutes (390, or 210 on an early close), and the worst few. */
  readonly daysWithMissingMinutes: number;
  readonly worstDays: readonly { readonly date: string; readonly sessionBars: number; readonly sessionMinutes: number }[];
  /** Bars outside the regular session (after an early close, and on exchange holidays, included). */
  readonly outsideSessionBars: number;
  /** Sessions between the first and last date with no data at all (exchange holidays are not sessions). */
  readonly missingSessions: readonly string[];
  /** Exchange holidays between the first and last date (weekdays without a session). */
  readonly holidays: number;
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

/** Minutes of the session on a New York date (0 when the exchange is closed). */
function sessionMinutes(date: string): number {
  const close = usEquityCloseMinute(parseDate(date));
  return close < 0 ? 0 : close - US_EQUITY_OPEN_MINUTE;
}

/** The sessions and the count of holidays (weekdays without one) from `first` to `last`. */
function sessionsBetween(first: string, last: string): { sessions: string[]; holidays: number } {
  const sessions: string[] = [];
  let holidays = 0;
  for (let day = parseDate(first); day <= parseDate(last); day++) {
    const weekday = weekdayOfDays(day);
    if (weekday === 0 || weekday === 6) continue;
    if (usEquityCloseMinute(day) < 0) holidays++;
    else sessions.push(formatDays(day));
  }
  return { sessions, holidays };
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
        // Bars per local date before 13:00, from 13:00 to 16:00 and outside 09:30-16:00: the date's own close
        // (the engine's NYSE calendar) decides which of them are in its session. Timestamps are UTC (read as such
        // whatever DuckDB's session time zone, which follows the host's).
        const counted = (await connection.runAndReadAll(`SELECT local::DATE::VARCHAR AS date,
            count(*) FILTER (WHERE local_minute >= ${US_EQUITY_OPEN_MINUTE} AND local_minute < ${US_EQUITY_EARLY_CLOSE_MINUTE})::DOUBLE AS early_bars,
            count(*) FILTER (WHERE local_minute >= ${US_EQUITY_EARLY_CLOSE_MINUTE} AND local_minute < ${US_EQUITY_CLOSE_MINUTE})::DOUBLE AS late_bars,
            count(*) FILTER (WHERE local_minute < ${US_EQUITY_OPEN_MINUTE} OR local_minute >= ${US_EQUITY_CLOSE_MINUTE})::DOUBLE AS outside_bars
          FROM (SELECT local, (hour(local) * 60 + minute(local)) AS local_minute FROM (
            SELECT timezone('America/New_York', timezone('UTC', ts)) AS local FROM ${source} WHERE symbol = ${sqlString(row.symbol)}))
          GROUP BY date ORDER BY date`)).getRowObjectsJson() as { date: string; early_bars: number; late_bars: number; outside_bars: number }[];
        const days = counted.map((day) => {
          const minutes = sessionMinutes(day.date);
          const full = minutes > US_EQUITY_EARLY_CLOSE_MINUTE - US_EQUITY_OPEN_MINUTE;
          const sessionBars = minutes === 0 ? 0 : full ? day.early_bars + day.late_bars : day.early_bars;
          return { date: day.date, sessionMinutes: minutes, sessionBars, outsideBars: day.early_bars + day.late_bars + day.outside_bars - sessionBars };
        });
        const seen = new Set(days.map((day) => day.date));
        const short = days.filter((day) => day.sessionMinutes > 0 && day.sessionBars < day.sessionMinutes);
        // Between the first and last New York dates with data (a bar after 19:00 New York has the next UTC date).
        const { sessions, holidays } = days.length === 0 ? { sessions: [], holidays: 0 } : sessionsBetween(days[0].date, days[days.length - 1].date);
        gaps = {
          missingSessionMinutes: short.reduce((sum, day) => sum + day.sessionMinutes - day.sessionBars, 0),
          daysWithMissingMinutes: short.length,
          worstDays: [...short].sort((a, b) => a.sessionBars / a.sessionMinutes - b.sessionBars / b.sessionMinutes || (a.date < b.date ? -1 : 1)).slice(0, 5)
            .map((day) => ({ date: day.date, sessionBars: day.sessionBars, sessionMinutes: day.sessionMinutes })),
          outsideSessionBars: days.reduce((sum, day) => sum + day.outsideBars, 0),
          missingSessions: sessions.filter((date) => !seen.has(date)),
          holidays,
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
