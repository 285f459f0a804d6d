// Conversions between decimal prices/quantities (at the edges) and integer ticks/lots (inside), and the
// cash value of one tick times one lot.
import { CASH_SCALE, type Instrument } from '../types.ts';
import { SimError, invariantFailed } from '../errors.ts';

export interface InstrumentScales {
  readonly instrument: Instrument;
  /** 10^priceScale: ticks per currency unit. */
  readonly ticksPerUnit: number;
  /** 10^lotScale: lots per instrument unit. */
  readonly lotsPerUnit: number;
  /** Cash units of one tick times one lot: 10^(CASH_SCALE - priceScale - lotScale). */
  readonly cashPerTickLot: number;
}

export function scalesOf(instrument: Instrument): InstrumentScales {
  const { priceScale, lotScale } = instrument;
  if (!Number.isInteger(priceScale) || !Number.isInteger(lotScale) || priceScale < 0 || lotScale < 0 || priceScale + lotScale > CASH_SCALE) {
    throw new SimError('INSTRUMENT_SCALE', `expected integer priceScale + lotScale <= ${CASH_SCALE} for ${instrument.symbol}, found priceScale ${priceScale}, lotScale ${lotScale}`);
  }
  return {
    instrument,
    ticksPerUnit: 10 ** priceScale,
    lotsPerUnit: 10 ** lotScale,
    cashPerTickLot: 10 ** (CASH_SCALE - priceScale - lotScale),
  };
}

/** A decimal price to ticks, rounded to the nearest tick. */
export function toTicks(price: number, scales: InstrumentScales): number {
  const ticks = Math.round(price * scales.ticksPerUnit);
  if (!(Number.isSafeInteger(ticks))) invariantFailed(`price ${price} of ${scales.instrument.symbol} out of range`);
  return ticks;
}

/** Ticks to a decimal price; division by a power of ten gives the double nearest the decimal value. */
export function fromTicks(ticks: number, scales: InstrumentScales): number {
  return ticks / scales.ticksPerUnit;
}

export const CASH_UNITS_PER_CURRENCY = 10 ** CASH_SCALE;

export function cashToCurrency(cash: number): number {
  return cash / CASH_UNITS_PER_CURRENCY;
}

/** A decimal string of a price in ticks, exact: 2603.1585 for 26031585 ticks at scale 4. */
export function formatScaled(value: number, scale: number): string {
  if (!(Number.isSafeInteger(value))) invariantFailed(`formatScaled expects a safe integer, found ${value}`);
  if (scale === 0) return String(value);
  const negative = value < 0;
  const digits = String(Math.abs(value)).padStart(scale + 1, '0');
  const text = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}

export function formatCash(cash: number): string {
  return formatScaled(cash, CASH_SCALE);
}
