// The golden digest corpus: runs that together touch every engine path (bars and ticks; market, limit, stop,
// stop-limit, trailing stop; DAY, GTC, IOC; brackets, OCO pairs, modifies, cancels, reduce-only, flatten; risk
// denials, the daily loss limit, the kill switch; fees, slippage, seeded latency, partial fills; both intrabar
// policies and both fill modes), each named, with the run digest and a few figures. The engine's internals may
// change; these digests may not, unless behaviour is meant to change (then the golden file is regenerated and
// the diff reviewed).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Engine, SeededRng, SimulatedVenue, type BarView, type Instrument, type MarketDataChunk, type SimulatedVenueOptions, type StrategyContext, type Strategy,
} from '../../engine/index.ts';
import { findStrategy } from '../../strategies/index.ts';
import { resolveParams } from '../../engine/index.ts';
import { generateBars } from '../../bench/engine.ts';
import { generateTicks, generatedInstruments } from '../../adapters/catalog/generate-ticks.ts';
import { runReplay, DEFAULT_RISK, type ReplayOptions } from '../../adapters/replay/run-replay.ts';
import { makeEngine, barChunk } from './engine-harness.ts';
import { randomBars, runRandomOrders } from './random-orders.ts';

export interface CorpusEntry {
  readonly digest: string;
  /** sha256 of the equity curve's columns (time, equity, trading day) and the exposed-sample count. */
  readonly equityDigest: string;
  readonly events: number;
  readonly trades: number;
  readonly realizedGrossCash: number;
  readonly feesCash: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CATALOG = path.resolve(here, '../../data/catalog');

function equityDigest(engine: Engine): string {
  const curve = engine.equity.columns();
  return createHash('sha256').update(new Uint8Array(curve.timeUs.buffer)).update(new Uint8Array(curve.equityCash.buffer)).update(new Uint8Array(curve.dayIndex.buffer))
    .update(String(engine.equity.exposedSamples)).digest('hex');
}

function entryOf(engine: Engine): CorpusEntry {
  const p = engine.portfolio;
  return { digest: engine.log.digest(), equityDigest: equityDigest(engine), events: engine.log.length, trades: p.closedTrades.length, realizedGrossCash: p.realizedGrossCash, feesCash: p.feesCash };
}

/** A second random actor for the paths the first does not take: OCO pairs, modifies, stop-limits, IOC, DAY, timers, the kill switch. */
function randomActionsExtra(seed: number): (ctx: StrategyContext, bar: BarView) => void {
  const rng = new SeededRng(seed).child('extra');
  return (ctx, bar) => {
    const px = bar.close;
    const quantity = 1 + rng.int(10);
    const side = rng.next() < 0.5 ? 'buy' : 'sell';
    const round = (x: number): number => Math.max(0.01, Math.round(x * 100) / 100);
    switch (rng.int(16)) {
      case 0: ctx.oco({ type: 'limit', price: round(px - 1 - rng.next()) }, { type: 'stop', price: round(px + 1 + rng.next()) }, 'TEST', 'buy', quantity); break;
      case 1: ctx.oco({ type: 'limit', price: round(px + 1 + rng.next()) }, { type: 'stop', price: round(px - 1 - rng.next()) }, 'TEST', 'sell', quantity, { reduceOnly: rng.next() < 0.5 }); break;
      case 2: {
        const open = ctx.openOrders('TEST');
        if (open.length > 0) {
          const order = open[rng.int(open.length)];
          if (order.type === 'limit') ctx.modify(order.clientOrderId, { price: round(px + (rng.next() - 0.5) * 2) });
          else if (order.type === 'stop') ctx.modify(order.clientOrderId, { stopPrice: round(px + (rng.next() - 0.5) * 2), quantity: order.quantity + 1 });
          else ctx.modify(order.clientOrderId, { quantity: Math.max(1, order.quantity - 1) });
        }
        break;
      }
      case 3: ctx.stopLimit('TEST', side, quantity, round(side === 'buy' ? px + rng.next() : px - rng.next()), round(side === 'buy' ? px + 1.5 : px - 1.5)); break;
      case 4: ctx.limit('TEST', side, quantity, round(side === 'buy' ? px - rng.next() : px + rng.next()), { timeInForce: 'ioc' }); break;
      case 5: ctx.limit('TEST', side, quantity, round(side === 'buy' ? px - 2 * rng.next() : px + 2 * rng.next()), { timeInForce: 'day', tag: 'day' }); break;
      case 6: ctx.setTimer(ctx.nowUs + (1 + rng.int(5)) * 60_000_000, `t${rng.int(3)}`); break;
      case 7: ctx.bracket({ symbol: 'TEST', side: 'buy', quantity, entry: { type: 'limit', price: round(px - rng.next()) }, stopLoss: round(px - 3), takeProfit: round(px + 2), timeInForce: 'day' }); break;
      case 8: if (rng.next() < 0.02) ctx.killSwitch('random', rng.next() < 0.5); break;
      case 9: ctx.market('TEST', side, quantity, { timeInForce: 'ioc' }); break;
      case 10: if (rng.next() < 0.2) ctx.cancelAll(); break;
      case 11: ctx.log('note', { roll: rng.int(100), position: ctx.portfolio.position('TEST') }); break;
      default: break;
    }
  };
}

function runExtra(seed: number, venue: Partial<SimulatedVenueOptions>, risk = {}) {
  const act = randomActionsExtra(seed);
  const { engine } = makeEngine((ctx, bar) => act(ctx, bar), {
    venue, risk, seed,
    onTimer: (ctx, name) => { if (name === 't0') ctx.flatten(); else if (name === 't1') ctx.cancelAll(); },
  });
  // Two sessions apart, so DAY orders expire and days roll.
  const rows = randomBars(seed, 400);
  const chunk = barChunk(rows, { minuteOffsets: rows.map((_, i) => (i < 200 ? i : i + 22 * 60)) });
  engine.start(chunk.startUs[0]);
  engine.processBars(chunk);
  engine.stop();
  return engine;
}

function runBarsStrategy(strategy: Strategy, chunks: readonly MarketDataChunk[], venue: Partial<SimulatedVenueOptions>, risk = {}, instruments: readonly Instrument[] = [{ symbol: 'SYN', priceScale: 2, lotScale: 0, calendar: 'always-open' }]) {
  const engine = new Engine({ runId: 'gold', strategyId: 'corpus', instruments, initialCash: 1_000_000, risk }, strategy);
  const sim = new SimulatedVenue(engine.scales, venue, new SeededRng(5));
  engine.connect(sim, sim);
  const first = chunks[0];
  engine.start(first.kind === 'bars' ? first.startUs[0] : first.timeUs[0]);
  for (const chunk of chunks) {
    if (chunk.kind === 'bars') engine.processBars(chunk);
    else engine.processTicks(chunk);
  }
  engine.stop();
  return engine;
}

function shipped(name: string, params: Record<string, string | number | boolean> = {}): Strategy {
  const definition = findStrategy(name);
  return definition.create(resolveParams(definition, params));
}

const replayDefaults: Omit<ReplayOptions, 'fromDate' | 'toDate' | 'strategy'> = {
  catalogDir: CATALOG, params: {}, seed: 42, fill: 'next-open', intrabar: 'stop-first', feesBps: 0, feeMinimum: 0, slippageBps: 0,
  latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: DEFAULT_RISK, skipBad: false,
};

async function replayEntry(options: Partial<ReplayOptions> & Pick<ReplayOptions, 'fromDate' | 'toDate' | 'strategy'>): Promise<CorpusEntry> {
  const result = await runReplay({ ...replayDefaults, ...options });
  return entryOf(result.engine);
}

export async function buildCorpus(): Promise<Record<string, CorpusEntry>> {
  const corpus: Record<string, CorpusEntry> = {};
  for (let seed = 1; seed <= 30; seed++) corpus[`random-orders/${seed}`] = entryOf(runRandomOrders(seed));
  for (let seed = 1; seed <= 20; seed++) {
    corpus[`random-extra/${seed}`] = entryOf(runExtra(seed, { maxVolumeShare: 0.3, feeBps: 2, feeMinimumCash: 5_000, slippageTicks: 1, latency: { kind: 'fixed', latencyUs: 30_000_000 } }));
    corpus[`random-extra-close/${seed}`] = entryOf(runExtra(seed, { fillMode: 'close', intrabarPolicy: 'target-first' }, { maxOpenOrders: 6, priceBandFraction: 0.02, orderRate: { count: 3, windowUs: 300_000_000 }, dailyLossLimitCash: 500_000_000, dailyLossAction: 'halt' }));
  }

  const bars = generateBars(200_000, 7);
  corpus['bars/sma-cross-long-only'] = entryOf(runBarsStrategy(shipped('sma-cross'), bars, {}, { maxOpenOrders: 10, maxPositionLots: 10 }));
  corpus['bars/sma-cross-long-short-costs'] = entryOf(runBarsStrategy(shipped('sma-cross', { mode: 'long-short', quantity: 3 }), bars, {
    feeBps: 1, feeMinimumCash: 1_000_000, slippageBps: 2, latency: { kind: 'uniform', minUs: 0, maxUs: 120_000_000 }, maxVolumeShare: 0.002,
  }));
  corpus['bars/sma-cross-close-fills'] = entryOf(runBarsStrategy(shipped('sma-cross', { fast: 5, slow: 13 }), bars, { fillMode: 'close' }, { orderRate: { count: 5, windowUs: 3_600_000_000 } }));
  corpus['bars/trailing'] = entryOf(runBarsStrategy(shipped('trailing', { atrMultiple: 2 }), bars, { slippageTicks: 1 }));

  const ticks: MarketDataChunk[] = [];
  generateTicks({ symbols: 2, days: 2, seed: 3, ticksPerSecond: 0.3, chunkRows: 8192 }, (chunk) => ticks.push(chunk));
  const tickInstruments = generatedInstruments(2);
  corpus['ticks/sma-cross'] = entryOf(runBarsStrategy(shipped('sma-cross', { mode: 'long-short' }), ticks, { feeBps: 1 }, {}, tickInstruments));
  corpus['ticks/orb'] = entryOf(runBarsStrategy(shipped('orb'), ticks, { latency: { kind: 'fixed', latencyUs: 200_000 } }, { riskPerTradeFraction: 0.01 }, tickInstruments));
  corpus['ticks/trend-pullback'] = entryOf(runBarsStrategy(shipped('trend-pullback'), ticks, { maxVolumeShare: 0.5 }, { maxOpenOrders: 5 }, tickInstruments));

  corpus['replay/orb-2024-03-15'] = await replayEntry({ fromDate: '2024-03-15', toDate: '2024-03-15', strategy: 'orb' });
  corpus['replay/orb-march-costs'] = await replayEntry({
    fromDate: '2024-03-01', toDate: '2024-03-28', strategy: 'orb', intrabar: 'target-first', feesBps: 1, feeMinimum: 1, slippageBps: 2,
    latencyMs: 50, latencyJitterMs: 200, maxVolumeShare: 0.01,
  });
  corpus['replay/sma-cross-close'] = await replayEntry({ fromDate: '2024-03-11', toDate: '2024-03-15', strategy: 'sma-cross', fill: 'close', params: { mode: 'long-short', quantity: 2 } });
  corpus['replay/trend-pullback-q1'] = await replayEntry({ fromDate: '2024-01-02', toDate: '2024-03-28', strategy: 'trend-pullback', feesBps: 1, slippageBps: 1 });
  corpus['replay/trailing-march'] = await replayEntry({ fromDate: '2024-03-01', toDate: '2024-03-28', strategy: 'trailing', params: { atrMultiple: 1.5 } });
  corpus['replay/sma-cross-tight-risk'] = await replayEntry({
    fromDate: '2024-03-11', toDate: '2024-03-15', strategy: 'sma-cross', params: { fast: 3, slow: 8, mode: 'long-short', quantity: 20 },
    risk: { maxPosition: 25, maxGrossNotional: 60_000, maxOpenOrders: 2, dailyLossLimit: 150, dailyLossAction: 'halt', priceBand: 0.01, ordersPerMinute: 2 },
  });
  corpus['replay/orb-daily-loss-reduce'] = await replayEntry({
    fromDate: '2024-03-01', toDate: '2024-03-28', strategy: 'orb', params: { riskFraction: 0.05 }, risk: { ...DEFAULT_RISK, riskPerTrade: 0.05, dailyLossLimit: 300, dailyLossAction: 'reduce' },
  });
  return corpus;
}
