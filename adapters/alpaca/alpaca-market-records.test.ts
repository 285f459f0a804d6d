// Proves that Alpaca prices become integer ticks exactly (every price on the 4-decimal grid, through the float64 the stream carries, at any magnitude up to Berkshire A) and that a price off the grid, a negative or non-finite number, an inverted bar or a bad time is refused with a typed one-line error naming the symbol and the value; and that the duplicate/out-of-order gate drops what it must.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimError } from '../../engine/errors.ts';
import { alpacaEquityInstruments, barRecordOf, priceTicksOf, quantityLotsOf, tickRecordOf, timeUsOfRfc3339 } from './alpaca-market-records.ts';
import { MarketRecordGate } from './market-record-gate.ts';
import type { BarRecord, TickRecord } from '../runtime/session-records.ts';

const [aapl] = alpacaEquityInstruments(['AAPL']);

function refusal(work: () => unknown): SimError {
  try {
    work();
  } catch (error) {
    if (error instanceof SimError) return error;
    throw error;
  }
  throw new Error('expected a SimError, found none');
}

describe('Alpaca prices to ticks', () => {
  it('builds US equity instruments: sorted, unique, 4 price decimals, whole shares, the us-equity calendar', () => {
    expect(alpacaEquityInstruments(['MSFT', 'AAPL', 'MSFT'])).toEqual([
      { symbol: 'AAPL', priceScale: 4, lotScale: 0, calendar: 'us-equity' },
      { symbol: 'MSFT', priceScale: 4, lotScale: 0, calendar: 'us-equity' },
    ]);
  });

  it('converts every on-grid price exactly, from the float64 a decimal decodes to (seeded property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 7_500_000_000_000 }), (ticks) => {
      // What the venue does: a decimal with up to 4 places, sent as the nearest float64.
      const wire = Number(`${Math.floor(ticks / 10_000)}.${String(ticks % 10_000).padStart(4, '0')}`);
      expect(priceTicksOf(wire, aapl, 'trade price')).toBe(ticks);
    }), { seed: 4, numRuns: 20_000 });
    expect(priceTicksOf(150.07, aapl, 'bar open')).toBe(1_500_700);
    expect(priceTicksOf(0.0001, aapl, 'bar open')).toBe(1);
    expect(priceTicksOf(712_345.6789, aapl, 'bar open')).toBe(7_123_456_789);
    expect(priceTicksOf('189.5', aapl, 'bar open')).toBe(1_895_000);
  });

  it('refuses a price off the 4-decimal grid, naming the symbol and the price', () => {
    const error = refusal(() => priceTicksOf(150.12345, aapl, 'trade price'));
    expect(error.code).toBe('MARKET_PRICE_OFF_GRID');
    expect(error.message).toBe('expected AAPL trade price on the grid of 4 decimals (multiples of 0.0001), found 150.12345');
    // Float arithmetic noise is not a price on the grid, however close: no tolerance lets it through.
    expect(refusal(() => priceTicksOf(0.1 + 0.2, aapl, 'bar close')).message).toBe('expected AAPL bar close on the grid of 4 decimals (multiples of 0.0001), found 0.30000000000000004');
    expect(refusal(() => priceTicksOf(1e-7, aapl, 'bar low')).code).toBe('MARKET_DATA_NUMBER_INVALID');
    expect(refusal(() => priceTicksOf(-1.5, aapl, 'bar low')).message).toBe('expected AAPL bar low as a plain non-negative decimal, found -1.5');
    expect(refusal(() => priceTicksOf(Number.NaN, aapl, 'bar low')).code).toBe('MARKET_DATA_NUMBER_INVALID');
    expect(refusal(() => priceTicksOf(0, aapl, 'bar low')).message).toBe('expected AAPL bar low above 0, found 0');
    expect(refusal(() => quantityLotsOf(10.5, aapl, 'trade size')).message).toBe('expected AAPL trade size on the grid of 0 decimals (multiples of 1), found 10.5');
  });

  it('reads RFC 3339 times to the microsecond, in UTC or with an offset', () => {
    const base = Date.UTC(2024, 2, 15, 13, 30) * 1_000;
    expect(timeUsOfRfc3339('2024-03-15T13:30:00Z', 'bar time')).toBe(base);
    expect(timeUsOfRfc3339('2024-03-15T13:30:00.123456789Z', 'trade time')).toBe(base + 123_456);
    expect(timeUsOfRfc3339('2024-03-15T09:30:00.5-04:00', 'trade time')).toBe(base + 500_000);
    const error = refusal(() => timeUsOfRfc3339('2024-03-15 13:30', 'AAPL bar time'));
    expect(error.code).toBe('MARKET_DATA_TIME_INVALID');
    expect(error.message).toBe('expected an RFC 3339 time for AAPL bar time, found "2024-03-15 13:30"');
  });

  it('makes a minute bar the completed bar record (t its end) and refuses an inverted one', () => {
    const startUs = Date.UTC(2024, 2, 15, 13, 30) * 1_000;
    expect(barRecordOf({ open: 170.01, high: 170.5, low: 169.9901, close: 170.25, volume: 1200, time: '2024-03-15T13:30:00Z' }, 0, aapl)).toEqual({
      k: 'bar', t: startUs + 60_000_000, s: 0, st: startUs, i: 60_000_000, o: 1_700_100, h: 1_705_000, l: 1_699_901, c: 1_702_500, v: 1200,
    });
    expect(refusal(() => barRecordOf({ open: 170, high: 169, low: 168, close: 170, volume: 1, time: '2024-03-15T13:30:00Z' }, 0, aapl)).code).toBe('MARKET_BAR_INVALID');
    expect(tickRecordOf({ price: 170.0001, size: 3, time: '2024-03-15T13:30:00.000001Z' }, 0, aapl)).toEqual({ k: 'tick', t: startUs + 1, s: 0, p: 1_700_001, q: 3, b: null, a: null });
  });
});

describe('MarketRecordGate', () => {
  const bar = (s: number, endUs: number): BarRecord => ({ k: 'bar', t: endUs, s, st: endUs - 60, i: 60, o: 1, h: 1, l: 1, c: 1, v: 1 });
  const tick = (s: number, timeUs: number): TickRecord => ({ k: 'tick', t: timeUs, s, p: 1, q: 1, b: null, a: null });

  it('drops a bar not after its symbol\'s last one, and any record older than the newest delivered', () => {
    const gate = new MarketRecordGate(2);
    expect(gate.admit(bar(0, 60))).toBeNull();
    expect(gate.admit(bar(1, 60))).toBeNull(); // another symbol, same minute
    expect(gate.admit(bar(0, 60))).toBe('duplicate');
    expect(gate.admit(bar(0, 120))).toBeNull();
    expect(gate.admit(bar(0, 60))).toBe('out-of-order');
    expect(gate.admit(bar(1, 120))).toBeNull();
    expect(gate.admit(bar(1, 180))).toBeNull();
    expect(gate.admit(bar(0, 150))).toBe('out-of-order'); // after its own last, but behind the clock
    expect(gate.dropped).toEqual({ duplicate: 1, outOfOrder: 2 });
  });

  it('drops a trade id seen already and a trade older than the newest; equal times pass', () => {
    const gate = new MarketRecordGate(1);
    expect(gate.admit(tick(0, 10), 'AAPL V 1')).toBeNull();
    expect(gate.admit(tick(0, 10), 'AAPL V 2')).toBeNull();
    expect(gate.admit(tick(0, 10), 'AAPL V 1')).toBe('duplicate');
    expect(gate.admit(tick(0, 9), 'AAPL V 3')).toBe('out-of-order');
  });

  it('resumes after what a journal holds', () => {
    const gate = new MarketRecordGate(2);
    gate.resumeAfter(120, new Map([[0, 120], [1, 60]]));
    expect(gate.admit(bar(0, 120))).toBe('duplicate');
    expect(gate.admit(bar(1, 120))).toBeNull();
    expect(gate.admit(bar(1, 60))).toBe('out-of-order');
  });
});
