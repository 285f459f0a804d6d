// `npm run bench -- engine [--json] [--bars N]`: sma-cross over 1,000,000 generated one-minute bars through the
// full engine (venue, risk, portfolio, equity curve, event log), beside a plain typed-array loop computing the
// same signals and trades, in one process and one tinybench run. A speed figure counts only when the trades of
// the two match exactly (`tradesMatch`).
import { Bench } from 'tinybench';
import { Engine, SimulatedVenue, SeededRng, type BarColumns, type Instrument } from '../engine/index.ts';
import { smaCross } from '../strategies/sma-cross.ts';

const FAST = 10;
const SLOW = 30;
const CHUNK_BARS = 65_536;
const ITERATIONS = 30;

/** A seeded random walk of one-minute bars, prices in integer ticks (scale 2), continuous minutes. */
export function generateBars(count: number, seed: number): BarColumns[] {
  const rng = new SeededRng(seed);
  const chunks: BarColumns[] = [];
  let price = 10_000;
  const startUs = 1_704_067_200_000_000; // 2024-01-01T00:00Z
  for (let offset = 0; offset < count; offset += CHUNK_BARS) {
    const n = Math.min(CHUNK_BARS, count - offset);
    const chunk = {
      kind: 'bars' as const, length: n, intervalUs: 60_000_000, symbolIndex: new Int32Array(n), startUs: new Float64Array(n),
      open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n),
    };
    for (let i = 0; i < n; i++) {
      const open = price;
      const close = Math.max(100, open + Math.round((rng.next() - 0.5) * 40));
      chunk.startUs[i] = startUs + (offset + i) * 60_000_000;
      chunk.open[i] = open;
      chunk.close[i] = close;
      chunk.high[i] = Math.max(open, close) + rng.int(10);
      chunk.low[i] = Math.max(1, Math.min(open, close) - rng.int(10));
      chunk.volume[i] = 100 + rng.int(1000);
      price = close;
    }
    chunks.push(chunk);
  }
  return chunks;
}

const INSTRUMENTS: Instrument[] = [{ symbol: 'SYN', priceScale: 2, lotScale: 0, calendar: 'always-open' }];

/** The full engine: returns the closed trades' gross PnL in cash units. */
export function runEngine(chunks: readonly BarColumns[]): number[] {
  const engine = new Engine({ runId: 'bench', strategyId: 'sma-cross', instruments: INSTRUMENTS, initialCash: 1_000_000, risk: { maxOpenOrders: 10, maxPositionLots: 10 } },
    smaCross.create({ fast: FAST, slow: SLOW, mode: 'long-only', quantity: 1 }));
  const venue = new SimulatedVenue(engine.scales, {}, new SeededRng(1));
  engine.connect(venue, venue);
  engine.start(chunks[0].startUs[0]);
  for (const chunk of chunks) engine.processBars(chunk);
  engine.stop();
  return Array.from(engine.portfolio.trades.grossPnlCash.subarray(0, engine.portfolio.trades.length));
}

/**
 * The baseline: the same strict crossover on exact integer sums, buying at the next bar's open and selling at
 * the next bar's open, in a plain loop over the columns.
 */
export function runBaseline(chunks: readonly BarColumns[]): number[] {
  const trades: number[] = [];
  const fastRing = new Float64Array(FAST);
  const slowRing = new Float64Array(SLOW);
  let fastSum = 0;
  let slowSum = 0;
  let seen = 0;
  let previousFast = NaN;
  let previousSlow = NaN;
  let pending = 0; // +1 buy at next open, -1 sell at next open
  let long = false;
  let entry = 0;
  const cashPerTick = 10_000; // 10^(6 - priceScale 2)
  for (const chunk of chunks) {
    const { open, close, length } = chunk;
    for (let i = 0; i < length; i++) {
      if (pending !== 0) {
        if (pending > 0) { long = true; entry = open[i]; } else { long = false; trades.push((open[i] - entry) * cashPerTick); }
        pending = 0;
      }
      const c = close[i];
      fastSum += c - fastRing[seen % FAST];
      fastRing[seen % FAST] = c;
      slowSum += c - slowRing[seen % SLOW];
      slowRing[seen % SLOW] = c;
      seen++;
      if (seen < SLOW) continue;
      const fast = fastSum / FAST;
      const slow = slowSum / SLOW;
      if (previousFast < previousSlow && fast > slow && !long) pending = 1;
      else if (previousFast > previousSlow && fast < slow && long) pending = -1;
      previousFast = fast;
      previousSlow = slow;
    }
  }
  return trades;
}

function sameTrades(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

export async function run(args: readonly string[]): Promise<Record<string, unknown>> {
  const barsArg = args.indexOf('--bars');
  const count = barsArg >= 0 ? Number(args[barsArg + 1]) : 1_000_000;
  const chunks = generateBars(count, 42);
  const engineTrades = runEngine(chunks);
  const baselineTrades = runBaseline(chunks);
  const tradesMatch = sameTrades(engineTrades, baselineTrades);

  // 30 iterations: the median of 10 moved by up to 10% between runs with garbage collection and load.
  const bench = new Bench({ iterations: ITERATIONS, warmupIterations: 5, time: 0, warmupTime: 0 });
  let engineCheck = true;
  let baselineCheck = true;
  bench
    .add('engine sma-cross', () => { engineCheck &&= runEngine(chunks).length === engineTrades.length; })
    .add('baseline loop', () => { baselineCheck &&= runBaseline(chunks).length === baselineTrades.length; });
  await bench.run();
  const [engineTask, baselineTask] = bench.tasks;
  const latency = (task: typeof engineTask, key: 'p50' | 'min'): number => {
    const result = task.result as unknown as { latency?: Record<string, number> } & Record<string, number>;
    return result.latency?.[key] ?? result[key] ?? NaN;
  };
  const engineMs = latency(engineTask, 'p50');
  const baselineMs = latency(baselineTask, 'p50');
  const engineBarsPerSec = Math.round(count / (engineMs / 1000));
  const baselineBarsPerSec = Math.round(count / (baselineMs / 1000));
  const matched = tradesMatch && engineCheck && baselineCheck;
  // A speed figure counts only if the results match: without a match the figures are null, not a number to quote.
  const figure = (value: number): number | null => (matched ? value : null);
  return {
    suite: 'engine',
    bars: count,
    trades: engineTrades.length,
    baselineTrades: baselineTrades.length,
    engineBarsPerSec: figure(engineBarsPerSec),
    baselineBarsPerSec: figure(baselineBarsPerSec),
    ratio: figure(Number((engineBarsPerSec / baselineBarsPerSec).toFixed(4))),
    tradesMatch: matched,
    engineMedianMs: Number(engineMs.toFixed(2)),
    baselineMedianMs: Number(baselineMs.toFixed(2)),
    // The fastest iteration of each: on a shared machine the medians move with garbage collection and load.
    engineMinMs: Number(latency(engineTask, 'min').toFixed(2)),
    baselineMinMs: Number(latency(baselineTask, 'min').toFixed(2)),
    iterations: ITERATIONS,
    node: process.version,
  };
}
