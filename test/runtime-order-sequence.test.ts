// Proves that one strategy sends the same order sequence (client order ids with one run id, symbols, sides, types, quantities, prices) three ways: replaying a tape, paper-trading it with `sim paper` on an accelerated clock, and trading it with `sim live` against the Alpaca fake.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../adapters/replay/run-replay.ts';
import { openTapeSource } from '../adapters/replay/tape-source.ts';
import { Journal } from '../adapters/journal/index.ts';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import type { SessionRecord } from '../adapters/runtime/session-records.ts';
import { journaledIntents, journaledOrders, recordShortTape, replayedOrders, sim } from './support/session-orders.ts';

const TAPE_MINUTES = 60;
/** Market orders only (sma-cross), and brackets whose exits carry prices and go to Alpaca as OCO orders (orb). */
const CASES = [
  { strategy: 'sma-cross', params: { fast: 3, slow: 8 } },
  { strategy: 'orb', params: { rangeMinutes: 15 } },
] as const;
let directory: string;
let tape: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-sequence-'));
  tape = path.join(directory, 'short.arrow');
  recordShortTape(tape, TAPE_MINUTES);
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('one order sequence three ways', () => {
  it.each(CASES)('$strategy: replay, accelerated paper and a session against the Alpaca fake send the same orders', async ({ strategy, params }) => {
    const PARAMS = ['--strategy', strategy, ...Object.entries(params).flatMap(([key, value]) => ['--param', `${key}=${value}`]), '--run-id', 'SEQ', '--no-risk'];
    const replay = await runReplay({
      catalogDir: directory, fromDate: '2024-01-02', toDate: '2024-01-02', strategy, params, seed: 1, fill: 'next-open',
      intrabar: 'stop-first', feesBps: 0, feeMinimum: 0, slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000,
      risk: {}, skipBad: false, source: await openTapeSource(tape), runId: 'SEQ',
    });
    const replayed = replayedOrders(replay.engine);
    expect(replayed.length).toBeGreaterThanOrEqual(4);

    const paperJournal = path.join(directory, `${strategy}-paper.journal`);
    const fake = await AlpacaFake.start({ seed: 2, cash: '10000000' });
    const liveJournal = path.join(directory, `${strategy}-live.journal`);
    try {
      // 60 minutes of tape at 1200x: about 3 s of wall time, the engine's timers fired by the real clock.
      const paperRun = sim(['paper', '--feed', `tape:${tape}`, '--speed', '1200', '--journal', paperJournal, '--json', ...PARAMS], { PATH: process.env.PATH }, 60_000);
      const liveRun = sim(['live', '--venue', 'alpaca', '--confirm-live', '--feed', `tape:${tape}`, '--speed', '0', '--journal', liveJournal, '--json', ...PARAMS], {
        PATH: process.env.PATH, APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secret, APCA_API_BASE_URL: fake.restUrl, APCA_STREAM_URL: fake.streamUrl,
        SIM_ALPACA_MARKET_ECHO: '1',
      }, 60_000);
      const [paper, live] = await Promise.all([paperRun, liveRun]);
      expect(paper.code, paper.stderr).toBe(0);
      expect(live.code, live.stderr).toBe(0);
    } finally {
      await fake.close();
    }
    expect(journaledOrders(paperJournal)).toEqual(replayed);
    expect(journaledOrders(liveJournal)).toEqual(replayed);
    // Modifies (bracket exits grown with the entry's fills) and cancels agree between paper and live too.
    expect(journaledIntents(liveJournal)).toEqual(journaledIntents(paperJournal));
    // The fake received each order once: every client order id we sent (an OCO stop leg rides on its take-profit).
    expect(fake.stats.duplicateClientOrderIds).toBe(0);
    const atBroker = fake.allOrders().map((order) => order.client_order_id).filter((id) => id.startsWith('SEQ-') && !/\.r\d+$/.test(id)).sort();
    const sent = Journal.readAll<SessionRecord>(liveJournal).records.flatMap((record) => (record.k === 'submit' && !(record.r.type === 'stop' && record.r.ocoWithClientOrderId) ? [record.r.clientOrderId] : [])).sort();
    expect(atBroker).toEqual(sent);
  }, 90_000);
});
