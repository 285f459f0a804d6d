// Alpaca market data as the session's market records, exactly: prices to integer ticks of the instrument, sizes to
// lots, RFC 3339 times to microseconds, a minute bar to the completed bar (`t` its end).
//
// Instruments. Alpaca's asset endpoint says nothing about a US equity's price increment (only crypto assets carry
// one), so the instruments are built here: each symbol with 4 decimals of price, whole-share lots and the
// `us-equity` calendar. Four decimals hold every print we expect on the stream: quotes at or above $1 are in
// cents, but trades may print at sub-penny prices (midpoint and ATS executions), and below $1 prices run to four
// decimals. A price with more decimals than that is refused (typed error naming the symbol and the price), never
// rounded onto the grid.
//
// Exact conversion. The SDK decodes prices from msgpack as float64 numbers. A float64 that the venue encoded from
// a decimal prints back as that decimal (JavaScript's shortest round-trip form), so the number is turned into that
// text and the text is parsed digit by digit (decimal-units.ts): 150.07 is 1,500,700 ticks exactly, 150.12345 is
// refused. This is stricter and safer than round(price * 10^4) with a 1e-6 tolerance: at Berkshire A prices
// (~7e5 dollars, ~7e9 ticks) the float error of that product alone can exceed 1e-6, and any tolerance would also
// let a price computed in floats (0.30000000000000004) through as if it were on the grid.
import { SimError } from '../../engine/errors.ts';
import type { Instrument } from '../../engine/types.ts';
import type { BarRecord, TickRecord } from '../runtime/session-records.ts';
import { decimalToScaled } from './decimal-units.ts';

/** Price decimals of the instruments built for Alpaca US equities (see the header). */
export const ALPACA_EQUITY_PRICE_SCALE = 4;
/** Alpaca's bars channel streams minute bars. */
export const ALPACA_BAR_INTERVAL_US = 60_000_000;

/** The instruments of `--feed alpaca`: the symbols, sorted and without repeats, as US equities. */
export function alpacaEquityInstruments(symbols: readonly string[]): Instrument[] {
  return [...new Set(symbols)].sort().map((symbol) => ({ symbol, priceScale: ALPACA_EQUITY_PRICE_SCALE, lotScale: 0, calendar: 'us-equity' }));
}

const PLAIN_DECIMAL = /^\d+(?:\.\d+)?$/;

/** `value` (a number as the SDK decodes it, or a decimal string) as an integer count of 10^-scale units, exactly. */
function scaledExactly(value: number | string, scale: number, what: string, offGridCode: string, symbol: string): number {
  const text = typeof value === 'number' ? String(value) : value.trim();
  // Negative, NaN, Infinity and exponent forms (below 1e-6 or from 1e21) are no price or size of a US equity.
  if ((typeof value === 'number' && !Number.isFinite(value)) || !PLAIN_DECIMAL.test(text)) {
    throw new SimError('MARKET_DATA_NUMBER_INVALID', `expected ${symbol} ${what} as a plain non-negative decimal, found ${text}`);
  }
  try {
    return decimalToScaled(text, scale, 'exact', `${symbol} ${what}`);
  } catch (error) {
    if (error instanceof SimError && error.code === 'VENUE_DECIMAL_PRECISION') {
      throw new SimError(offGridCode, `expected ${symbol} ${what} on the grid of ${scale} decimals (multiples of ${scale === 0 ? '1' : `0.${'0'.repeat(scale - 1)}1`}), found ${text}`, { symbol, value: text });
    }
    throw error;
  }
}

/** A price in integer ticks of the instrument, or MARKET_PRICE_OFF_GRID when it has more decimals than the scale. */
export function priceTicksOf(price: number | string, instrument: Instrument, what: string): number {
  const ticks = scaledExactly(price, instrument.priceScale, what, 'MARKET_PRICE_OFF_GRID', instrument.symbol);
  if (ticks <= 0) throw new SimError('MARKET_DATA_NUMBER_INVALID', `expected ${instrument.symbol} ${what} above 0, found ${price}`);
  return ticks;
}

/** A size or volume in lots, or MARKET_QUANTITY_OFF_GRID when it is finer than a lot. */
export function quantityLotsOf(quantity: number | string, instrument: Instrument, what: string): number {
  return scaledExactly(quantity, instrument.lotScale, what, 'MARKET_QUANTITY_OFF_GRID', instrument.symbol);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time (Alpaca sends UTC with up to 9 fractional digits) in microseconds since the epoch; digits below a microsecond are dropped. */
export function timeUsOfRfc3339(text: string, what: string): number {
  const match = RFC3339.exec(text);
  if (match === null) throw new SimError('MARKET_DATA_TIME_INVALID', `expected an RFC 3339 time for ${what}, found ${JSON.stringify(text)}`);
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
  let offsetMinutes = 0;
  if (zone !== 'Z') offsetMinutes = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const seconds = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)) / 1_000 - offsetMinutes * 60;
  return seconds * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/** What the converters read of a streamed bar (the SDK's StreamBar, or the wire's fields). */
export interface AlpacaBarFields {
  readonly open: number | string;
  readonly high: number | string;
  readonly low: number | string;
  readonly close: number | string;
  readonly volume: number | string;
  /** The bar's start, RFC 3339. */
  readonly time: string;
}

/** A streamed minute bar as the completed bar record: `st` its start, `t` its end (when it is known complete). */
export function barRecordOf(bar: AlpacaBarFields, symbolIndex: number, instrument: Instrument): BarRecord {
  const startUs = timeUsOfRfc3339(bar.time, `${instrument.symbol} bar time`);
  const open = priceTicksOf(bar.open, instrument, 'bar open');
  const high = priceTicksOf(bar.high, instrument, 'bar high');
  const low = priceTicksOf(bar.low, instrument, 'bar low');
  const close = priceTicksOf(bar.close, instrument, 'bar close');
  if (!(high >= low && high >= open && high >= close && low <= open && low <= close)) {
    throw new SimError('MARKET_BAR_INVALID', `expected ${instrument.symbol} bar at ${bar.time} with low <= open, close <= high, found open ${bar.open}, high ${bar.high}, low ${bar.low}, close ${bar.close}`);
  }
  return {
    k: 'bar', t: startUs + ALPACA_BAR_INTERVAL_US, s: symbolIndex, st: startUs, i: ALPACA_BAR_INTERVAL_US,
    o: open, h: high, l: low, c: close, v: quantityLotsOf(bar.volume, instrument, 'bar volume'),
  };
}

/** What the converters read of a streamed trade. */
export interface AlpacaTradeFields {
  readonly price: number | string;
  readonly size: number | string;
  readonly time: string;
}

/** A streamed trade as a tick record (the stream carries no quote with a trade: bid and ask are null). */
export function tickRecordOf(trade: AlpacaTradeFields, symbolIndex: number, instrument: Instrument): TickRecord {
  return {
    k: 'tick', t: timeUsOfRfc3339(trade.time, `${instrument.symbol} trade time`), s: symbolIndex,
    p: priceTicksOf(trade.price, instrument, 'trade price'), q: quantityLotsOf(trade.size, instrument, 'trade size'), b: null, a: null,
  };
}
