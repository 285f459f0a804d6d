// Proves the engine against the reference figure three independent engines agree on: SMA(10)/SMA(30) crossover on
// AZO's real 2024 1-minute bars, long only, one share, next-open fills, no costs, one continuous run: 531 closed
// trades and a realized PnL of -659.8652. Also checks an independent plain-loop recomputation from the raw CSV.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../adapters/replay/run-replay.ts';
import { DEFAULT_CATALOG_DIR } from '../adapters/catalog/index.ts';

const SHARED_CSV = path.resolve(import.meta.dirname, '../../shared/data/real/stocks-1m-2024/AZO-2024-1min.csv');

function replayAzo() {
  return runReplay({
    catalogDir: DEFAULT_CATALOG_DIR, fromDate: '2024-01-02', toDate: '2024-12-31', symbols: ['AZO'], strategy: 'sma-cross',
    params: { fast: '10', slow: '30', mode: 'long-only', quantity: '1' }, seed: 1, fill: 'next-open', intrabar: 'stop-first',
    feesBps: 0, feeMinimum: 0, slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: {}, skipBad: false,
    checkLedger: true,
  });
}

describe('golden: sma-cross on AZO 2024', () => {
  it('gives 531 closed trades and realized PnL -659.8652 through the bundled catalog', async () => {
    const result = await replayAzo();
    expect(result.bars).toBe(25_833);
    expect(result.trades).toHaveLength(531);
    expect(result.realizedPnl).toBe(-659.8652);
    expect(result.fees).toBe(0);
  });

  it.skipIf(!existsSync(SHARED_CSV))('agrees with a plain loop over the shared CSV, trade by trade', async () => {
    // Independent reference: parse the CSV, compute the SMAs with plain sums over ticks, trade at next open.
    const rows = readFileSync(SHARED_CSV, 'utf8').trim().split('\n').slice(1).map((line) => line.split(';'));
    const close = rows.map((r) => Math.round(Number(r[2]) * 1e6));
    const open = rows.map((r) => Math.round(Number(r[5]) * 1e6));
    const reference: number[] = [];
    let entry = NaN;
    let previousFast = NaN;
    let previousSlow = NaN;
    for (let i = 0; i < close.length; i++) {
      if (i < 29) continue;
      let fast = 0;
      let slow = 0;
      for (let k = 0; k < 10; k++) fast += close[i - k];
      for (let k = 0; k < 30; k++) slow += close[i - k];
      fast /= 10;
      slow /= 30;
      if (i + 1 < close.length) {
        if (previousFast < previousSlow && fast > slow && Number.isNaN(entry)) entry = open[i + 1];
        else if (previousFast > previousSlow && fast < slow && !Number.isNaN(entry)) {
          reference.push(open[i + 1] - entry);
          entry = NaN;
        }
      }
      previousFast = fast;
      previousSlow = slow;
    }
    const result = await replayAzo();
    expect(result.trades.map((t) => t.grossPnlCash)).toEqual(reference);
    expect(reference.reduce((a, b) => a + b, 0)).toBe(-659_865_200);
  });
});
