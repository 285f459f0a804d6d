// Proves that `sim live --venue alpaca --feed alpaca` and `sim paper --feed alpaca`, on real minute bars streamed by the Alpaca fake's market-data stream (the official SDK client, msgpack, on loopback), send the same orders as `sim replay` on the same bars, that `--feed alpaca:trades` on a tape's prints sends the orders of `sim replay --tape`, and that `sim replay --session` on their journals reproduces each run's digest.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../adapters/replay/run-replay.ts';
import { openTapeSource } from '../adapters/replay/tape-source.ts';
import { generateTicks } from '../adapters/catalog/generate-ticks.ts';
import { TapeRecorder } from '../adapters/tape/index.ts';
import { AlpacaFake, fakeMarketDataFromTape, type AlpacaFakeMarketItem } from '../adapters/alpaca/fake/index.ts';
import { alpacaEquityInstruments } from '../adapters/alpaca/alpaca-market-records.ts';
import type { TickColumns } from '../engine/index.ts';
import { writeAlpacaFeedCatalog } from './support/alpaca-feed-catalog.ts';
import { journaledIntents, journaledOrders, replayedOrders, sim } from './support/session-orders.ts';

const DATE = '2024-03-15';
const SYMBOLS = ['GWW', 'TYL'];
/** Market orders only (sma-cross), and brackets whose exits go to Alpaca as OCO orders (orb). */
const CASES = [
  { strategy: 'orb', params: {} },
  { strategy: 'sma-cross', params: { fast: 5, slow: 20 } },
] as const;
let directory: string;
let catalogDir: string;
let items: AlpacaFakeMarketItem[];

beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-alpaca-feed-'));
  catalogDir = path.join(directory, 'catalog');
  items = await writeAlpacaFeedCatalog(catalogDir, SYMBOLS, DATE);
  expect(items.length).toBeGreaterThan(300);
}, 60_000);
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/**
 * `sim live --venue alpaca` against one fake and `sim paper` on another (Alpaca allows one market-data connection
 * per key, and each run has its own account), both on their fake's stream of `streamed`, at once. The live runner
 * echoes each record to its fake's matcher before the engine sees it, so fills arrive in step, as in replay.
 */
async function liveAndPaper(name: string, args: readonly string[], streamed: AlpacaFakeMarketItem[], seed: number) {
  const venueFake = await AlpacaFake.start({ seed, cash: '10000000', marketData: { items: streamed, fillOnStream: false } });
  const paperFake = await AlpacaFake.start({ seed: seed + 1, marketData: { items: streamed } });
  const liveJournal = path.join(directory, `${name}-live.journal`);
  const paperJournal = path.join(directory, `${name}-paper.journal`);
  try {
    const [live, paper] = await Promise.all([
      sim(['live', '--venue', 'alpaca', '--confirm-live', '--journal', liveJournal, ...args], {
        PATH: process.env.PATH, APCA_API_KEY_ID: venueFake.keyId, APCA_API_SECRET_KEY: venueFake.secret, APCA_API_BASE_URL: venueFake.restUrl,
        APCA_STREAM_URL: venueFake.streamUrl, APCA_DATA_STREAM_URL: venueFake.dataStreamUrl, SIM_ALPACA_MARKET_ECHO: '1',
      }, 60_000),
      sim(['paper', '--journal', paperJournal, ...args], {
        PATH: process.env.PATH, APCA_API_KEY_ID: paperFake.keyId, APCA_API_SECRET_KEY: paperFake.secret, APCA_DATA_STREAM_URL: paperFake.dataStreamUrl,
      }, 60_000),
    ]);
    return { live, paper, liveJournal, paperJournal, duplicateClientOrderIds: venueFake.stats.duplicateClientOrderIds };
  } finally {
    await venueFake.close();
    await paperFake.close();
  }
}

describe('sim live and sim paper on the Alpaca market-data stream', () => {
  it.each(CASES)('$strategy: the orders of replay, live against the fake, and paper, all on the same streamed bars; sessions replay to their digests', async ({ strategy, params }) => {
    const replay = await runReplay({
      catalogDir, fromDate: DATE, toDate: DATE, symbols: SYMBOLS, strategy, params, seed: 1, fill: 'next-open', intrabar: 'stop-first', feesBps: 0, feeMinimum: 0,
      slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: {}, skipBad: false, runId: 'MD',
    });
    const replayed = replayedOrders(replay.engine);
    expect(replayed.length).toBeGreaterThanOrEqual(4);
    expect(replay.bars).toBe(items.length);

    const ARGS = ['--feed', 'alpaca', '--symbols', SYMBOLS.join(','), '--strategy', strategy, ...Object.entries(params).flatMap(([key, value]) => ['--param', `${key}=${value}`]),
      '--run-id', 'MD', '--no-risk', '--json', '--max-records', String(items.length)];
    const { live, paper, liveJournal, paperJournal, duplicateClientOrderIds } = await liveAndPaper(strategy, ARGS, items, 3);
    expect(live.code, live.stderr).toBe(0);
    expect(paper.code, paper.stderr).toBe(0);
    const liveReport = JSON.parse(live.stdout) as Record<string, unknown>;
    const paperReport = JSON.parse(paper.stdout) as Record<string, unknown>;
    expect(liveReport).toMatchObject({ records: items.length, stoppedBy: 'max records', feedDelivered: items.length, feedDuplicatesDropped: 0, feedOutOfOrderDropped: 0 });
    expect(paperReport).toMatchObject({ records: items.length, stoppedBy: 'max records', feedDelivered: items.length });

    expect(journaledOrders(liveJournal)).toEqual(replayed);
    expect(journaledOrders(paperJournal)).toEqual(replayed);
    expect(journaledIntents(liveJournal)).toEqual(journaledIntents(paperJournal));
    // Every order reached the fake once.
    expect(duplicateClientOrderIds).toBe(0);

    const checks = await Promise.all([liveJournal, paperJournal].map((journal) => sim(['replay', '--session', journal, '--json'], { PATH: process.env.PATH }, 30_000)));
    for (const [check, report] of [[checks[0], liveReport], [checks[1], paperReport]] as const) {
      expect(check.code, check.stderr).toBe(0);
      const result = JSON.parse(check.stdout) as { identical: boolean; runDigest: string; intents: number };
      expect(result.identical).toBe(true);
      expect(result.runDigest).toBe(report.runDigest);
    }
  }, 120_000);
});

describe('sim live and sim paper on the Alpaca trade stream', () => {
  it('sma-cross: the orders of replaying a tape, and of live and paper on its prints streamed as trades; sessions replay to their digests', async () => {
    // A tape of seeded prints with the feed's instruments (4 decimals) and no quotes (Alpaca's trades carry none).
    const symbols = ['SYN001', 'SYN002'];
    const tape = path.join(directory, 'trades.arrow');
    const recorder = TapeRecorder.create(tape, alpacaEquityInstruments(symbols), {});
    let cutoffUs = -1;
    generateTicks({ symbols: 2, days: 1, seed: 11, ticksPerSecond: 0.5, chunkRows: 4096 }, (chunk) => {
      if (cutoffUs < 0) cutoffUs = chunk.timeUs[0] + 60 * 60_000_000;
      let rows = 0;
      while (rows < chunk.length && chunk.timeUs[rows] < cutoffUs) rows++;
      if (rows === 0) return;
      const part: TickColumns = {
        kind: 'ticks', length: rows, symbolIndex: chunk.symbolIndex.subarray(0, rows), timeUs: chunk.timeUs.subarray(0, rows),
        price: Float64Array.from(chunk.price.subarray(0, rows), (ticks) => ticks * 100), size: chunk.size.subarray(0, rows),
        bid: new Float64Array(rows).fill(Number.NaN), ask: new Float64Array(rows).fill(Number.NaN),
      };
      recorder.append(part);
    });
    recorder.close();
    const { items: prints } = await fakeMarketDataFromTape(tape, 'trades');
    const replay = await runReplay({
      catalogDir: directory, fromDate: '2024-01-02', toDate: '2024-01-02', strategy: 'sma-cross', params: { fast: 3, slow: 8 }, seed: 1, fill: 'next-open',
      intrabar: 'stop-first', feesBps: 0, feeMinimum: 0, slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: {}, skipBad: false,
      source: await openTapeSource(tape), runId: 'MT',
    });
    const replayed = replayedOrders(replay.engine);
    expect(replayed.length).toBeGreaterThanOrEqual(4);

    const ARGS = ['--feed', 'alpaca:trades', '--symbols', symbols.join(','), '--strategy', 'sma-cross', '--param', 'fast=3', '--param', 'slow=8', '--run-id', 'MT', '--no-risk', '--json',
      '--max-records', String(prints.length)];
    const { live, paper, liveJournal, paperJournal } = await liveAndPaper('trades', ARGS, prints, 5);
    expect(live.code, live.stderr).toBe(0);
    expect(paper.code, paper.stderr).toBe(0);
    expect(JSON.parse(live.stdout)).toMatchObject({ records: prints.length, feedDelivered: prints.length, feedDuplicatesDropped: 0, feedOutOfOrderDropped: 0 });
    expect(journaledOrders(liveJournal)).toEqual(replayed);
    expect(journaledOrders(paperJournal)).toEqual(replayed);
    const checks = await Promise.all([liveJournal, paperJournal].map((journal) => sim(['replay', '--session', journal, '--json'], { PATH: process.env.PATH }, 30_000)));
    for (const [check, run] of [[checks[0], live], [checks[1], paper]] as const) {
      expect(JSON.parse(check.stdout)).toMatchObject({ identical: true, runDigest: JSON.parse(run.stdout).runDigest });
    }
  }, 120_000);
});
