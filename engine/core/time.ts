// Calendar arithmetic without Date or Intl, so results never depend on the host's time zone or locale.
// Civil-date conversion follows Howard Hinnant's days_from_civil / civil_from_days algorithms.
import { US_PER_DAY, US_PER_MINUTE, type CalendarName } from '../types.ts';
import { SimError } from '../errors.ts';

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day };
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekdayOfDays(days: number): number {
  return ((days % 7) + 11) % 7;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses YYYY-MM-DD into days since the epoch, or throws a SimError naming the bad value. */
export function parseDate(text: string, what = 'date'): number {
  const match = DATE_PATTERN.exec(text);
  if (!match) throw new SimError('BAD_DATE', `expected ${what} as YYYY-MM-DD, found '${text}'`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const days = daysFromCivil(year, month, day);
  const back = civilFromDays(days);
  if (back.month !== month || back.day !== day) throw new SimError('BAD_DATE', `expected a real calendar ${what}, found '${text}'`);
  return days;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function formatDays(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** ISO 8601 UTC with microseconds: 2024-03-15T13:30:00.000000Z. */
export function formatTimeUs(timeUs: number): string {
  const days = Math.floor(timeUs / US_PER_DAY);
  let rest = timeUs - days * US_PER_DAY;
  const hours = Math.floor(rest / 3_600_000_000);
  rest -= hours * 3_600_000_000;
  const minutes = Math.floor(rest / US_PER_MINUTE);
  rest -= minutes * US_PER_MINUTE;
  const seconds = Math.floor(rest / 1_000_000);
  const micros = rest - seconds * 1_000_000;
  return `${formatDays(days)}T${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(micros, 6)}Z`;
}

/** The nth (1-based) given weekday of a month, as days since the epoch. */
function nthWeekday(year: number, month: number, weekday: number, nth: number): number {
  const first = daysFromCivil(year, month, 1);
  const offset = (weekday - weekdayOfDays(first) + 7) % 7;
  return first + offset + (nth - 1) * 7;
}

/**
 * Offset of America/New_York from UTC in minutes at a UTC instant: -240 in daylight saving time, -300
 * otherwise. Daylight saving runs from 02:00 local on the second Sunday of March to 02:00 local on the first
 * Sunday of November since 2007, and from the first Sunday of April to the last Sunday of October from 1987
 * to 2006.
 */
export function newYorkOffsetMinutes(timeUs: number): number {
  const days = Math.floor(timeUs / US_PER_DAY);
  const { year } = civilFromDays(days);
  const startDay = year >= 2007 ? nthWeekday(year, 3, 0, 2) : nthWeekday(year, 4, 0, 1);
  const endDay = year >= 2007 ? nthWeekday(year, 11, 0, 1) : lastWeekday(year, 10, 0);
  const dstStartUs = startDay * US_PER_DAY + 7 * 3_600_000_000; // 02:00 EST = 07:00 UTC
  const dstEndUs = endDay * US_PER_DAY + 6 * 3_600_000_000; // 02:00 EDT = 06:00 UTC
  return timeUs >= dstStartUs && timeUs < dstEndUs ? -240 : -300;
}

// NYSE's regular sessions: 09:30-16:00 New York on weekdays, closed on the exchange holidays, 09:30-13:00 on its
// early-close days. The holiday rules are those in force since 1998 (Martin Luther King Jr. Day from 1998,
// Juneteenth from 2022), with Saturday holidays observed the Friday before (except New Year's Day: no close on
// December 31) and Sunday ones the Monday after; early closes are the day before Independence Day (when that is a
// Monday, Tuesday or Thursday session, a Wednesday one from 2013; from 1996 to 2012 the Friday after a
// Thursday holiday instead), the day after Thanksgiving and Christmas Eve (a weekday session). Unscheduled
// closures since 2001 and early closes outside the rules are listed.

export const US_EQUITY_OPEN_MINUTE = 9 * 60 + 30;
export const US_EQUITY_CLOSE_MINUTE = 16 * 60;
export const US_EQUITY_EARLY_CLOSE_MINUTE = 13 * 60;

const UNSCHEDULED_CLOSURES = [
  '2001-09-11', '2001-09-12', '2001-09-13', '2001-09-14', // the September 11 attacks
  '2004-06-11', // national day of mourning, Ronald Reagan
  '2007-01-02', // national day of mourning, Gerald Ford
  '2012-10-29', '2012-10-30', // Hurricane Sandy
  '2018-12-05', // national day of mourning, George H. W. Bush
  '2025-01-09', // national day of mourning, Jimmy Carter
];

/** Early closes outside the rules: the day after Christmas in 1997 and 2003. */
const UNSCHEDULED_EARLY_CLOSES = ['1997-12-26', '2003-12-26'];

/** Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm), as days since the epoch. */
export function easterDays(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return daysFromCivil(year, month, day);
}

/** The last given weekday of a month, as days since the epoch. */
function lastWeekday(year: number, month: number, weekday: number): number {
  const last = daysFromCivil(year, month + 1, 1) - 1;
  return last - ((weekdayOfDays(last) - weekday + 7) % 7);
}

/** A fixed-date holiday's observed day: Saturday to the Friday before, Sunday to the Monday after. */
function observed(days: number): number {
  const weekday = weekdayOfDays(days);
  return weekday === 6 ? days - 1 : weekday === 0 ? days + 1 : days;
}

interface YearSessions {
  readonly closed: ReadonlySet<number>;
  readonly early: ReadonlySet<number>;
}

const sessionsByYear = new Map<number, YearSessions>();

function yearSessions(year: number): YearSessions {
  const known = sessionsByYear.get(year);
  if (known !== undefined) return known;
  const closed = new Set<number>();
  const newYear = daysFromCivil(year, 1, 1);
  // On a Saturday New Year's Day is not observed (the exchange stays open on December 31).
  if (weekdayOfDays(newYear) !== 6) closed.add(observed(newYear));
  if (year >= 1998) closed.add(nthWeekday(year, 1, 1, 3));
  closed.add(nthWeekday(year, 2, 1, 3));
  closed.add(easterDays(year) - 2);
  closed.add(lastWeekday(year, 5, 1));
  if (year >= 2022) closed.add(observed(daysFromCivil(year, 6, 19)));
  const independence = observed(daysFromCivil(year, 7, 4));
  closed.add(independence);
  closed.add(nthWeekday(year, 9, 1, 1));
  const thanksgiving = nthWeekday(year, 11, 4, 4);
  closed.add(thanksgiving);
  const christmas = observed(daysFromCivil(year, 12, 25));
  closed.add(christmas);
  for (const date of UNSCHEDULED_CLOSURES) if (date.startsWith(`${year}-`)) closed.add(parseDate(date));
  const early = new Set<number>();
  const isSession = (days: number) => weekdayOfDays(days) !== 0 && weekdayOfDays(days) !== 6 && !closed.has(days);
  // Around Independence Day: July 3 when it is a Monday, Tuesday or Thursday session (a Wednesday from 2013);
  // from 1996 to 2012, Friday July 5 after a Thursday holiday instead.
  const july3 = daysFromCivil(year, 7, 3);
  const july3Weekday = weekdayOfDays(july3);
  if (independence === july3 + 1 && isSession(july3) && (july3Weekday !== 3 || year >= 2013)) early.add(july3);
  if (year >= 1996 && year <= 2012 && independence === july3 + 1 && weekdayOfDays(july3 + 2) === 5) early.add(july3 + 2);
  for (const date of UNSCHEDULED_EARLY_CLOSES) if (date.startsWith(`${year}-`)) early.add(parseDate(date));
  early.add(thanksgiving + 1);
  const christmasEve = daysFromCivil(year, 12, 24);
  if (christmas === christmasEve + 1 && isSession(christmasEve)) early.add(christmasEve);
  const sessions = { closed, early };
  sessionsByYear.set(year, sessions);
  return sessions;
}

/**
 * The close of NYSE's regular session on a New York date (days since the epoch), in minutes of the local day:
 * 960 (16:00), 780 (13:00) on an early-close day, or -1 when the exchange is closed (weekend, holiday).
 */
export function usEquityCloseMinute(day: number): number {
  const weekday = weekdayOfDays(day);
  if (weekday === 0 || weekday === 6) return -1;
  const sessions = yearSessions(civilFromDays(day).year);
  if (sessions.closed.has(day)) return -1;
  return sessions.early.has(day) ? US_EQUITY_EARLY_CLOSE_MINUTE : US_EQUITY_CLOSE_MINUTE;
}

/**
 * The close of the regular session on the local date of an instant, in minutes of the exchange's day: NYSE's
 * (see usEquityCloseMinute) for us-equity, 1440 (midnight UTC) for always-open. -1 when closed that day.
 */
export function sessionCloseMinute(timeUs: number, calendar: CalendarName): number {
  return calendar === 'us-equity' ? usEquityCloseMinute(localDay(timeUs, calendar)) : 1440;
}

/**
 * A trading calendar. A trading day is the exchange's local calendar date (New York for us-equity, UTC for
 * always-open): daily statistics and the daily loss limit roll at local midnight. DAY orders live until the
 * next session close: NYSE's for us-equity (16:00 New York, 13:00 on an early-close day; an order sent after
 * the close, or on a holiday, waits for the next session's close), midnight UTC for always-open.
 */
export interface TradingCalendar {
  /** Trading day (local date as days since the epoch) of an instant. */
  tradingDay(timeUs: number): number;
  /** The first instant of the day after `tradingDay`, in UTC microseconds. */
  dayEndUs(tradingDay: number): number;
  /** The first session close at or after an instant, in UTC microseconds. */
  nextSessionCloseUs(timeUs: number): number;
}

function newYorkLocalToUtcUs(day: number, minuteOfDay: number): number {
  // The offset at noon UTC of the same day is the day's offset except in the two hours around a change.
  const guessUs = day * US_PER_DAY + minuteOfDay * US_PER_MINUTE;
  const offset = newYorkOffsetMinutes(guessUs - newYorkOffsetMinutes(guessUs) * US_PER_MINUTE);
  return guessUs - offset * US_PER_MINUTE;
}

const usEquity: TradingCalendar = {
  tradingDay(timeUs) {
    return Math.floor((timeUs + newYorkOffsetMinutes(timeUs) * US_PER_MINUTE) / US_PER_DAY);
  },
  dayEndUs(tradingDay) {
    return newYorkLocalToUtcUs(tradingDay + 1, 0);
  },
  nextSessionCloseUs(timeUs) {
    let day = usEquity.tradingDay(timeUs);
    // The longest run of days without a session is four (September 11-14, 2001, after a weekend).
    for (let i = 0; i < 10; i++, day++) {
      const closeMinute = usEquityCloseMinute(day);
      if (closeMinute < 0) continue;
      const closeUs = newYorkLocalToUtcUs(day, closeMinute);
      if (closeUs >= timeUs) return closeUs;
    }
    throw new SimError('CALENDAR', `expected a session close within ten days of ${timeUs}, found none`);
  },
};

const alwaysOpen: TradingCalendar = {
  tradingDay: (timeUs) => Math.floor(timeUs / US_PER_DAY),
  dayEndUs: (tradingDay) => (tradingDay + 1) * US_PER_DAY,
  nextSessionCloseUs: (timeUs) => (Math.floor(timeUs / US_PER_DAY) + 1) * US_PER_DAY,
};

export function calendarFor(name: CalendarName): TradingCalendar {
  return name === 'us-equity' ? usEquity : alwaysOpen;
}

/**
 * Minute of the local day (0..1439) of an instant in the calendar's exchange time: New York for us-equity,
 * UTC for always-open. Strategies use it for session windows (e.g. an opening range from 09:30).
 */
export function localMinuteOfDay(timeUs: number, calendar: CalendarName): number {
  const offsetMinutes = calendar === 'us-equity' ? newYorkOffsetMinutes(timeUs) : 0;
  const localUs = timeUs + offsetMinutes * US_PER_MINUTE;
  const minutes = Math.floor(localUs / US_PER_MINUTE);
  return ((minutes % 1440) + 1440) % 1440;
}

/** Local calendar day (days since the epoch) of an instant in the calendar's exchange time. */
export function localDay(timeUs: number, calendar: CalendarName): number {
  const offsetMinutes = calendar === 'us-equity' ? newYorkOffsetMinutes(timeUs) : 0;
  return Math.floor((timeUs + offsetMinutes * US_PER_MINUTE) / US_PER_DAY);
}
