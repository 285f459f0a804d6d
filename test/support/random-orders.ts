// Random bars and random order sequences (market, limit, stop, brackets, cancels, trailing stops, reduce-only
// orders, flattens) for property tests and golden digests: one seed gives one sequence, on every run.
import { SeededRng, type BarView, type StrategyContext } from '../../engine/index.ts';
import { makeEngine, barChunk, type BarRow } from './engine-harness.ts';

export function randomBars(seed: number, count: number): BarRow[] {
  const rng = new SeededRng(seed).child('bars');
  const rows: BarRow[] = [];
  let price = 100;
  for (let i = 0; i < count; i++) {
    const open = Math.max(1, Math.round((price + (rng.next() - 0.5) * 2) * 100) / 100);
    const close = Math.max(1, Math.round((open + (rng.next() - 0.5) * 3) * 100) / 100);
    const high = Math.round((Math.max(open, close) + rng.next() * 1.5) * 100) / 100;
    const low = Math.max(0.5, Math.round((Math.min(open, close) - rng.next() * 1.5) * 100) / 100);
    rows.push([open, high, low, close, 1 + rng.int(40)]);
    price = close;
  }
  return rows;
}

export function randomActions(seed: number): (ctx: StrategyContext, bar: BarView) => void {
  const rng = new SeededRng(seed).child('actions');
  return (ctx: StrategyContext, bar: BarView): void => {
    const roll = rng.int(12);
    const quantity = 1 + rng.int(20);
    const side = rng.next() < 0.5 ? 'buy' : 'sell';
    const px = bar.close;
    switch (roll) {
      case 0: ctx.market('TEST', side, quantity); break;
      case 1: ctx.limit('TEST', side, quantity, Math.round((side === 'buy' ? px - rng.next() * 2 : px + rng.next() * 2) * 100) / 100); break;
      case 2: ctx.stop('TEST', side, quantity, Math.round((side === 'buy' ? px + rng.next() * 2 : Math.max(0.1, px - rng.next() * 2)) * 100) / 100); break;
      case 3: {
        const long = side === 'buy';
        const stopLoss = Math.round((long ? px - 1 - rng.next() * 2 : px + 1 + rng.next() * 2) * 100) / 100;
        const takeProfit = Math.round((long ? px + 1 + rng.next() * 3 : px - 1 - rng.next() * 3) * 100) / 100;
        if (stopLoss > 0 && takeProfit > 0) ctx.bracket({ symbol: 'TEST', side, quantity, entry: { type: 'market' }, stopLoss, takeProfit });
        break;
      }
      case 4: {
        const open = ctx.openOrders('TEST');
        if (open.length > 0) ctx.cancel(open[rng.int(open.length)].clientOrderId);
        break;
      }
      case 5: ctx.trailingStop('TEST', side, quantity, 0.5 + Math.round(rng.next() * 100) / 100, { reduceOnly: true }); break;
      case 6: ctx.market('TEST', side, quantity, { reduceOnly: true }); break;
      case 7: if (rng.next() < 0.05) ctx.flatten('TEST'); break;
      default: break;
    }
  };
}

/** One seed of random orders over 300 random bars, with fees, slippage, seeded latency and partial fills. */
export function runRandomOrders(seed: number) {
  const act = randomActions(seed);
  const { engine } = makeEngine((ctx, bar) => act(ctx, bar), {
    venue: { maxVolumeShare: 0.5, feeBps: 3, feeMinimumCash: 10_000, slippageBps: 2, latency: { kind: 'uniform', minUs: 0, maxUs: 90_000_000 } },
    risk: { maxOpenOrders: 8, maxPositionLots: 60 },
    seed,
  });
  const chunk = barChunk(randomBars(seed, 300));
  engine.start(chunk.startUs[0]);
  engine.processBars(chunk);
  engine.stop();
  return engine;
}
