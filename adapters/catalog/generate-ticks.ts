// Seeded synthetic trade prints for N symbols over D US trading days (weekdays; no holiday calendar):
// U-shaped intraday activity and volatility, a bid-ask spread that widens at the open and close, trade sizes
// mixing odd lots and round lots, rare price jumps, and optional trading halts (gaps with no prints).
// Prints come out in time order across symbols, in chunks, so they can feed a catalog or a live tape alike.
// Same options and seed, same numbers: the only randomness is SeededRandom.
import type { Instrument, TickColumns } from '../../engine/types.ts';
import { US_PER_DAY, US_PER_MINUTE, US_PER_SECOND } from '../../engine/types.ts';
import { SeededRandom } from './seeded-random.ts';

export interface GenerateOptions {
  readonly symbols: number;
  readonly days: number;
  readonly seed: number;
  /** Average prints per second per symbol over the session. */
  readonly ticksPerSecond?: number;
  /** First trading day, YYYY-MM-DD (default 2024-01-02); weekends are skipped. */
  readonly startDate?: string;
  readonly halts?: boolean;
  /** Prints per chunk (default 65,536). */
  readonly chunkRows?: number;
}

export interface GeneratedTickChunk extends TickColumns {
  /** 1 = buy (at the ask), -1 = sell (at the bid). */
  readonly side: Int8Array;
}

export const GENERATED_PRICE_SCALE = 2;
const SESSION_US = 390 * US_PER_MINUTE;

export function generatedSymbols(count: number): string[] {
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, index) => `SYN${String(index + 1).padStart(width, '0')}`);
}

export function generatedInstruments(count: number): Instrument[] {
  return generatedSymbols(count).map((symbol) => ({ symbol, priceScale: GENERATED_PRICE_SCALE, lotScale: 0, calendar: 'us-equity' }));
}

/** Days since 1970-01-01 of a YYYY-MM-DD date. */
function epochDay(date: string): number {
  const [year, month, day] = date.split('-').map(Number);
  return Math.round(Date.UTC(year, month - 1, day) / 86_400_000);
}

/** Whether US daylight saving time is in force at 12:00 UTC on this day (second Sunday of March to first Sunday of November). */
function newYorkDaylightSaving(day: number): boolean {
  const year = new Date(day * 86_400_000).getUTCFullYear();
  const march1 = epochDay(`${year}-03-01`);
  const november1 = epochDay(`${year}-11-01`);
  const weekday = (epoch: number): number => (epoch + 4) % 7; // 1970-01-01 was a Thursday (4)
  const secondSundayMarch = march1 + ((7 - weekday(march1)) % 7) + 7;
  const firstSundayNovember = november1 + ((7 - weekday(november1)) % 7);
  return day >= secondSundayMarch && day < firstSundayNovember;
}

/** Regular session opens (09:30 New York) in µs UTC for `count` weekdays from `startDate`. */
export function sessionOpensUs(startDate: string, count: number): number[] {
  const opens: number[] = [];
  for (let day = epochDay(startDate); opens.length < count; day++) {
    const weekday = (day + 4) % 7;
    if (weekday === 0 || weekday === 6) continue;
    const openUtcMinutes = newYorkDaylightSaving(day) ? 13 * 60 + 30 : 14 * 60 + 30;
    opens.push(day * US_PER_DAY + openUtcMinutes * US_PER_MINUTE);
  }
  return opens;
}

interface SymbolState {
  logMid: number;
  dailyVolatility: number;
  nextUs: number;
  haltStartUs: number;
  haltEndUs: number;
}

/** Activity shape over the session, mean 1: high at the open and close, low at midday. */
function activity(fraction: number): number {
  const centered = 2 * fraction - 1;
  return (1 + 3 * centered * centered) / 2;
}

/** Generates every print in time order (ties by symbol index), calling `onChunk` per chunk. */
export function generateTicks(options: GenerateOptions, onChunk: (chunk: GeneratedTickChunk) => void): number {
  const rate = options.ticksPerSecond ?? 2;
  const chunkRows = options.chunkRows ?? 65_536;
  const count = options.symbols;
  const random = new SeededRandom(options.seed);
  const states: SymbolState[] = [];
  for (let index = 0; index < count; index++) {
    states.push({ logMid: Math.log(20 + 480 * random.next()), dailyVolatility: 0.01 + 0.02 * random.next(), nextUs: 0, haltStartUs: 0, haltEndUs: 0 });
  }
  const scale = 10 ** GENERATED_PRICE_SCALE;
  let buffer = newChunk(chunkRows);
  let length = 0;
  let total = 0;
  const flush = (): void => {
    if (length === 0) return;
    onChunk(sliceChunk(buffer, length));
    buffer = newChunk(chunkRows);
    length = 0;
  };
  // A binary heap of symbol indexes keyed by (nextUs, index).
  const heap = new Int32Array(count);
  const before = (left: number, right: number): boolean =>
    states[left].nextUs < states[right].nextUs || (states[left].nextUs === states[right].nextUs && left < right);
  const siftDown = (start: number, size: number): void => {
    let position = start;
    for (;;) {
      const left = 2 * position + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && before(heap[right], heap[left]) ? right : left;
      if (!before(heap[child], heap[position])) return;
      const swap = heap[child];
      heap[child] = heap[position];
      heap[position] = swap;
      position = child;
    }
  };
  const advance = (state: SymbolState, fromUs: number, openUs: number): void => {
    const fraction = Math.min(1, Math.max(0, (fromUs - openUs) / SESSION_US));
    let next = fromUs + Math.max(1, Math.round((random.exponential() / (rate * activity(fraction))) * US_PER_SECOND));
    if (next >= state.haltStartUs && next < state.haltEndUs) next = state.haltEndUs + Math.max(1, Math.round(random.exponential() * US_PER_SECOND));
    state.nextUs = next;
  };

  for (const openUs of sessionOpensUs(options.startDate ?? '2024-01-02', options.days)) {
    const closeUs = openUs + SESSION_US;
    let active = 0;
    for (let index = 0; index < count; index++) {
      const state = states[index];
      state.haltStartUs = 0;
      state.haltEndUs = 0;
      if (options.halts && random.next() < 0.2) {
        state.haltStartUs = openUs + Math.floor(random.next() * (SESSION_US - 20 * US_PER_MINUTE));
        state.haltEndUs = state.haltStartUs + (5 + random.int(11)) * US_PER_MINUTE;
      }
      // Overnight move.
      state.logMid += state.dailyVolatility * 0.3 * random.normal();
      advance(state, openUs, openUs);
      if (state.nextUs < closeUs) heap[active++] = index;
    }
    for (let position = (active >> 1) - 1; position >= 0; position--) siftDown(position, active);
    while (active > 0) {
      const index = heap[0];
      const state = states[index];
      const timeUs = state.nextUs;
      const fraction = (timeUs - openUs) / SESSION_US;
      const shape = activity(fraction);
      const stepSeconds = 1 / (rate * shape);
      state.logMid += state.dailyVolatility * Math.sqrt(shape * stepSeconds / 23_400) * random.normal();
      if (random.next() < 2e-5) state.logMid += (random.next() < 0.5 ? -1 : 1) * (0.005 + 0.015 * random.next());
      const midTicks = Math.exp(state.logMid) * scale;
      const spread = Math.max(1, Math.round(midTicks * 0.0002 * shape));
      const bid = Math.max(1, Math.floor(midTicks - spread / 2));
      const ask = bid + spread;
      const buy = random.next() < 0.5;
      const size = random.next() < 0.3 ? 100 * (1 + random.int(5)) : 1 + Math.floor(random.exponential() * 80);
      buffer.symbolIndex[length] = index;
      buffer.timeUs[length] = timeUs;
      buffer.price[length] = buy ? ask : bid;
      buffer.size[length] = size;
      buffer.bid[length] = bid;
      buffer.ask[length] = ask;
      buffer.side[length] = buy ? 1 : -1;
      length++;
      total++;
      if (length === chunkRows) flush();
      advance(state, timeUs, openUs);
      if (state.nextUs >= closeUs) {
        heap[0] = heap[--active];
      }
      siftDown(0, active);
    }
  }
  flush();
  return total;
}

interface MutableChunk {
  symbolIndex: Int32Array; timeUs: Float64Array; price: Float64Array; size: Float64Array; bid: Float64Array; ask: Float64Array; side: Int8Array;
}

function newChunk(capacity: number): MutableChunk {
  return {
    symbolIndex: new Int32Array(capacity), timeUs: new Float64Array(capacity), price: new Float64Array(capacity), size: new Float64Array(capacity),
    bid: new Float64Array(capacity), ask: new Float64Array(capacity), side: new Int8Array(capacity),
  };
}

function sliceChunk(chunk: MutableChunk, length: number): GeneratedTickChunk {
  return {
    kind: 'ticks', length, symbolIndex: chunk.symbolIndex.subarray(0, length), timeUs: chunk.timeUs.subarray(0, length),
    price: chunk.price.subarray(0, length), size: chunk.size.subarray(0, length), bid: chunk.bid.subarray(0, length),
    ask: chunk.ask.subarray(0, length), side: chunk.side.subarray(0, length),
  };
}
