// Streaming indicators for strategies: O(1) per update, allocation-free, NaN until ready.
export { Sma } from './sma.ts';
export { Ema } from './ema.ts';
export { Rsi } from './rsi.ts';
export { Atr } from './atr.ts';
export { Vwap } from './vwap.ts';
export { typicalPrice } from './typical-price.ts';
export { RollingHigh } from './rolling-high.ts';
export { RollingLow } from './rolling-low.ts';
