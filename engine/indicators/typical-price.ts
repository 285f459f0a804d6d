// The typical price of a bar, (high + low + close) / 3: the usual price to feed a bar-based VWAP.
// Not an integer tick in general; the VWAP is a float anyway.

export function typicalPrice(high: number, low: number, close: number): number {
  return (high + low + close) / 3;
}
