// Exact conversions between the venue's decimal strings and our integer units (ticks, lots, cash units).
// Strings are parsed digit by digit, never through a float, so "150.07" is exactly 15007 ticks at scale 2.
import { SimError } from '../../engine/errors.ts';

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * `text` as an integer count of 10^-scale units. 'exact' refuses digits beyond the scale; 'nearest' rounds
 * half away from zero (for derived values such as an average price).
 */
export function decimalToScaled(text: string, scale: number, rounding: 'exact' | 'nearest', what: string): number {
  const match = DECIMAL.exec(text.trim());
  if (match === null) throw new SimError('VENUE_DECIMAL_INVALID', `expected a decimal string for ${what}, found ${JSON.stringify(text)}`);
  const [, minus, whole, fraction = ''] = match;
  const kept = fraction.slice(0, scale).padEnd(scale, '0');
  const dropped = fraction.slice(scale);
  if (rounding === 'exact' && /[1-9]/.test(dropped)) {
    throw new SimError('VENUE_DECIMAL_PRECISION', `expected at most ${scale} decimal places for ${what}, found ${text}`);
  }
  let value = Number(`${whole}${kept}`);
  if (rounding === 'nearest' && dropped.length > 0 && dropped[0] >= '5') value += 1;
  if (!Number.isSafeInteger(value)) throw new SimError('VENUE_DECIMAL_RANGE', `expected ${what} within safe integer range at scale ${scale}, found ${text}`);
  return minus && value !== 0 ? -value : value;
}

/** An integer count of 10^-scale units as a decimal string without trailing zeros ("15007", 2 -> "150.07"). */
export function scaledToDecimal(value: number, scale: number): string {
  if (!Number.isSafeInteger(value)) throw new SimError('VENUE_DECIMAL_RANGE', `expected an integer amount, found ${value}`);
  const negative = value < 0;
  const digits = String(Math.abs(value)).padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction.length > 0 ? `.${fraction}` : ''}`;
}
