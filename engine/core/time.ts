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
 * A trading calendar. A trading day is the exchange's local calendar date (New York for us-equity, UTC for
 * always-open): daily statistics and the daily loss limit roll at local midnight. DAY orders live until the
 * next session close: 16:00 New York on a weekday for us-equity (an order sent after the close waits for the
 * next weekday's close; exchange holidays are not modelled), midnight UTC for always-open.
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
    for (let i = 0; i < 8; i++, day++) {
      const weekday = weekdayOfDays(day);
      if (weekday === 0 || weekday === 6) continue;
      const closeUs = newYorkLocalToUtcUs(day, 16 * 60);
      if (closeUs >= timeUs) return closeUs;
    }
    throw new SimError('CALENDAR', `expected a session close within a week of ${timeUs}, found none`);
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
