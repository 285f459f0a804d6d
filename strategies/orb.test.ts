// Proves orb's session exit follows NYSE's close: 5 minutes before 16:00 on a regular day, before 13:00 on an
// early-close day (Christmas Eve 2024), so an intraday position is never carried over the holiday.
import { describe, expect, it } from 'vitest';
import { Engine, SimulatedVenue, SeededRng, formatTimeUs } from '../engine/index.ts';
import { barChunk, instrument, type BarRow } from '../test/support/engine-harness.ts';
import { orb } from './orb.ts';

/** One session of bars from 09:30 New York: a flat 15-minute range at 100, a breakout to 101, then quiet. */
function session(openUtcUs: number, minutes: number, missing: readonly [from: number, to: number] = [-1, -1]) {
  // Minutes after the open; those in `missing` have no bar (a thin symbol).
  const minuteOffsets = Array.from({ length: minutes }, (_, i) => i).filter((i) => i < missing[0] || i >= missing[1]);
  const rows: BarRow[] = minuteOffsets.map((i) => (i < 15 ? [100, 100.5, 99.5, 100] : [101, 101.2, 100.8, 101]));
  const strategy = orb.create({ rangeMinutes: 15, targetMultiple: 2, riskFraction: 0.01, allowShort: false, exitMinutesBeforeClose: 5 });
  const engine = new Engine({ runId: 'orb', strategyId: 'orb', instruments: [instrument()], initialCash: 100_000, risk: {}, checkLedger: true }, strategy);
  const venue = new SimulatedVenue(engine.scales, {}, new SeededRng(1));
  engine.connect(venue, venue);
  const chunk = barChunk(rows, { startUs: openUtcUs, minuteOffsets });
  engine.start(openUtcUs);
  engine.processBars(chunk);
  engine.stop();
  const fills = engine.log.events.filter((event) => event.type === 'order.filled').map((event) => `${event.fields.side} ${formatTimeUs(event.timeUs).slice(11, 16)}`);
  return { fills, position: engine.portfolio.position[0] };
}

describe('orb session exit', () => {
  it('flattens 5 minutes before the 16:00 close on a regular day', () => {
    // 2024-12-23 09:30 EST is 14:30 UTC; the session runs to 16:00 (21:00 UTC).
    const { fills, position } = session(Date.UTC(2024, 11, 23, 14, 30) * 1000, 390);
    expect(fills).toEqual(['buy 14:46', 'sell 20:55']);
    expect(position).toBe(0);
  });

  it('flattens 5 minutes before the 13:00 close of Christmas Eve, not at 15:55', () => {
    // The exchange closes at 13:00 EST (18:00 UTC): the last bar starts at 12:59.
    const { fills, position } = session(Date.UTC(2024, 11, 24, 14, 30) * 1000, 210);
    expect(fills).toEqual(['buy 14:46', 'sell 17:55']);
    expect(position).toBe(0);
  });

  it('flattens on the first bar after the window when a thin symbol has none in it, also after the close', () => {
    // Christmas Eve 2024 with no bars from 12:50 to 12:59 New York, then bars after the 13:00 close (18:00 UTC).
    const { fills, position } = session(Date.UTC(2024, 11, 24, 14, 30) * 1000, 240, [200, 210]);
    expect(fills).toEqual(['buy 14:46', 'sell 18:01']);
    expect(position).toBe(0);
  });
});
