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
 * Offset of America/New_York from UTC in minutes at a UTC instant: -240 in daylight saving time (from the
 * second Sunday of March, 02:00 local, to the first Sunday of November, 02:00 local, the rule since 2007),
 * -300 otherwise.
 */
export function newYorkOffsetMinutes(timeUs: number): number {
  const days = Math.floor(timeUs / US_PER_DAY);
  const { year } = civilFromDays(days);
  const dstStartUs = nthWeekday(year, 3, 0, 2) * US_PER_DAY + 7 * 3_600_000_000; // 02:00 EST = 07:00 UTC
  const dstEndUs = nthWeekday(year, 11, 0, 1) * US_PER_DAY + 6 * 3_600_000_000; // 02:00 EDT = 06:00 UTC
  return timeUs >= dstStartUs && timeUs < dstEndUs ? -240 : -300;
}

/**
 * A trading calendar: which trading date an instant belongs to and when that date's session closes. Used for
 * DAY orders, daily loss limits and per-day statistics. `us-equity` sessions close at 16:00 New York time; an
 * instant after the close belongs to the next date. `always-open` days run midnight to midnight UTC.
 */
export interface TradingCalendar {
  /** Trading date (days since the epoch) of an instant. */
  tradingDay(timeUs: number): number;
  /** The session close of a trading date, in UTC microseconds. */
  sessionCloseUs(tradingDay: number): number;
}

const usEquity: TradingCalendar = {
  tradingDay(timeUs) {
    const localUs = timeUs + newYorkOffsetMinutes(timeUs) * US_PER_MINUTE;
    const localDay = Math.floor(localUs / US_PER_DAY);
    const minuteOfDay = (localUs - localDay * US_PER_DAY) / US_PER_MINUTE;
    return minuteOfDay >= 16 * 60 ? localDay + 1 : localDay;
  },
  sessionCloseUs(tradingDay) {
    const noonUtcUs = tradingDay * US_PER_DAY + 17 * 3_600_000_000;
    return tradingDay * US_PER_DAY + 16 * 3_600_000_000 - newYorkOffsetMinutes(noonUtcUs) * US_PER_MINUTE;
  },
};

const alwaysOpen: TradingCalendar = {
  tradingDay: (timeUs) => Math.floor(timeUs / US_PER_DAY),
  sessionCloseUs: (tradingDay) => (tradingDay + 1) * US_PER_DAY,
};

export function calendarFor(name: CalendarName): TradingCalendar {
  return name === 'us-equity' ? usEquity : alwaysOpen;
}
