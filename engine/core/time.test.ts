// Proves the NYSE session calendar against the exchange's published holidays and early closes (2022-2026, and the
// unscheduled closures), Easter dates, and the next session close that DAY orders expire at.
import { describe, expect, it } from 'vitest';
import { calendarFor, easterDays, formatDays, newYorkOffsetMinutes, parseDate, sessionCloseMinute, usEquityCloseMinute, weekdayOfDays } from './time.ts';

function sessionsOf(year: number): { closed: string[]; early: string[] } {
  const closed: string[] = [];
  const early: string[] = [];
  for (let day = parseDate(`${year}-01-01`); day <= parseDate(`${year}-12-31`); day++) {
    const weekday = weekdayOfDays(day);
    if (weekday === 0 || weekday === 6) continue;
    const close = usEquityCloseMinute(day);
    if (close < 0) closed.push(formatDays(day));
    else if (close !== 960) early.push(formatDays(day));
  }
  return { closed, early };
}

const newYorkUs = (date: string, hour: number, minute: number, offsetHours: number) => (parseDate(date) * 86_400 + (hour - offsetHours) * 3_600 + minute * 60) * 1_000_000;

describe('NYSE sessions', () => {
  it.each([
    // The exchange's published schedules: weekday holidays, then 13:00 early closes.
    [2022, ['2022-01-17', '2022-02-21', '2022-04-15', '2022-05-30', '2022-06-20', '2022-07-04', '2022-09-05', '2022-11-24', '2022-12-26'], ['2022-11-25']],
    [2023, ['2023-01-02', '2023-01-16', '2023-02-20', '2023-04-07', '2023-05-29', '2023-06-19', '2023-07-04', '2023-09-04', '2023-11-23', '2023-12-25'], ['2023-07-03', '2023-11-24']],
    [2024, ['2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25'], ['2024-07-03', '2024-11-29', '2024-12-24']],
    [2025, ['2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25'], ['2025-07-03', '2025-11-28', '2025-12-24']],
    [2026, ['2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25'], ['2026-11-27', '2026-12-24']],
    // New Year's Day on a Saturday is not observed on December 31; July 4 and December 25 on a Saturday are.
    [2021, ['2021-01-01', '2021-01-18', '2021-02-15', '2021-04-02', '2021-05-31', '2021-07-05', '2021-09-06', '2021-11-25', '2021-12-24'], ['2021-11-26']],
  ])('%i: holidays and early closes', (year, closed, early) => {
    expect(sessionsOf(year)).toEqual({ closed, early });
  });

  it('keeps the early closes of the rules before 2013 and the ad-hoc ones, and New York daylight saving before 2007', () => {
    // July 4, 2002 was a Thursday: the early close was Friday the 5th, not Wednesday the 3rd (from 2013 it is the 3rd).
    expect(['2002-07-03', '2002-07-05', '2013-07-03', '2003-12-26', '1997-12-26'].map((date) => usEquityCloseMinute(parseDate(date)))).toEqual([960, 780, 780, 780, 780]);
    // 2005: daylight saving from Sunday April 3 to Sunday October 30 (the rule of 1987-2006).
    const offsetAt = (date: string, hourUtc: number) => newYorkOffsetMinutes((parseDate(date) * 86_400 + hourUtc * 3_600) * 1_000_000);
    expect([offsetAt('2005-03-14', 15), offsetAt('2005-04-03', 6), offsetAt('2005-04-03', 8), offsetAt('2005-10-30', 5), offsetAt('2005-10-30', 7), offsetAt('2005-11-01', 15)]).toEqual([-300, -300, -240, -240, -300, -300]);
    expect(calendarFor('us-equity').nextSessionCloseUs(newYorkUs('2005-03-14', 10, 0, -5))).toBe(newYorkUs('2005-03-14', 16, 0, -5));
  });

  it('knows the unscheduled closures since 2001 and Easter', () => {
    for (const date of ['2001-09-11', '2001-09-14', '2004-06-11', '2007-01-02', '2012-10-29', '2012-10-30', '2018-12-05']) expect(usEquityCloseMinute(parseDate(date)), date).toBe(-1);
    expect(usEquityCloseMinute(parseDate('2001-09-17'))).toBe(960);
    expect(['2000-04-23', '2019-04-21', '2024-03-31', '2025-04-20', '2026-04-05', '2038-04-25'].map((date) => formatDays(easterDays(Number(date.slice(0, 4)))))).toEqual(['2000-04-23', '2019-04-21', '2024-03-31', '2025-04-20', '2026-04-05', '2038-04-25']);
  });

  it('gives the session close of an instant, and the next one a DAY order expires at', () => {
    const calendar = calendarFor('us-equity');
    // 2024-07-03 is an early close (13:00 EDT = 17:00 UTC); July 4 is closed; July 5 closes at 16:00.
    expect(sessionCloseMinute(newYorkUs('2024-07-03', 10, 0, -4), 'us-equity')).toBe(780);
    expect(sessionCloseMinute(newYorkUs('2024-07-04', 10, 0, -4), 'us-equity')).toBe(-1);
    expect(sessionCloseMinute(newYorkUs('2024-07-04', 10, 0, -4), 'always-open')).toBe(1440);
    expect(calendar.nextSessionCloseUs(newYorkUs('2024-07-03', 10, 0, -4))).toBe(newYorkUs('2024-07-03', 13, 0, -4));
    expect(calendar.nextSessionCloseUs(newYorkUs('2024-07-03', 14, 0, -4))).toBe(newYorkUs('2024-07-05', 16, 0, -4));
    // Good Friday 2024 (EDT) and the weekend after it: Monday's close.
    expect(calendar.nextSessionCloseUs(newYorkUs('2024-03-28', 17, 0, -4))).toBe(newYorkUs('2024-04-01', 16, 0, -4));
    // Christmas Eve 2024 closes at 13:00 EST; after it, the 26th.
    expect(calendar.nextSessionCloseUs(newYorkUs('2024-12-24', 12, 59, -5))).toBe(newYorkUs('2024-12-24', 13, 0, -5));
    expect(calendar.nextSessionCloseUs(newYorkUs('2024-12-24', 13, 1, -5))).toBe(newYorkUs('2024-12-26', 16, 0, -5));
    // After the close on Monday, September 10, 2001: the exchange reopened on Monday the 17th.
    expect(calendar.nextSessionCloseUs(newYorkUs('2001-09-10', 17, 0, -4))).toBe(newYorkUs('2001-09-17', 16, 0, -4));
  });
});
