// Proves the same strategy class, unchanged, gives the same outgoing orders in `sim replay --tape` and in a paper
// session fed by that tape (different engines' drivers, same order sequence), that `sim replay --session`
// reproduces the session's intents exactly, and that a tampered session is caught at its first difference.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTicks, generatedInstruments } from '../adapters/catalog/generate-ticks.ts';
import { TapeRecorder } from '../adapters/tape/index.ts';
import { runReplay } from '../adapters/replay/run-replay.ts';
import { openTapeSource } from '../adapters/replay/tape-source.ts';
import { openFeed } from '../adapters/runtime/feeds.ts';
import { PaperBroker } from '../adapters/runtime/paper-broker.ts';
import { SessionRunner } from '../adapters/runtime/session-runner.ts';
import { driveSession } from '../adapters/runtime/drive-session.ts';
import { replaySession } from '../adapters/runtime/session-replay.ts';
import { intentKey, type SessionRecord } from '../adapters/runtime/session-records.ts';
import { Journal } from '../adapters/journal/index.ts';

let dir: string;
let tape: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sim-paper-'));
  tape = path.join(dir, 'session.arrow');
  const recorder = TapeRecorder.create(tape, generatedInstruments(2), {});
  generateTicks({ symbols: 2, days: 1, seed: 11, ticksPerSecond: 0.5, chunkRows: 4096 }, (chunk) => recorder.append(chunk));
  recorder.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function paperSession(journalPath: string) {
  const feed = await openFeed(`tape:${tape}`, { catalogDir: dir, symbols: [] });
  const { runner } = await SessionRunner.open({
    config: { runId: 'R1', strategy: 'sma-cross', params: { fast: 5, slow: 20 }, instruments: feed.instruments, initialCash: 100_000, risk: {}, venue: 'paper' },
    venue: new PaperBroker(feed.instruments, {}, 1), journalPath, nowUs: () => 0,
  });
  await driveSession(runner, feed, { speed: 0, clock: null, stopRequested: new Promise(() => {}) });
  const digest = runner.engine.log.digest();
  await runner.close();
  const intents = Journal.readAll<SessionRecord>(journalPath).records.filter((r) => r.k === 'submit' || r.k === 'cancel' || r.k === 'modify');
  return { digest, intents: intents.map((r) => intentKey(r as never)) };
}

describe('paper session', () => {
  it('sends the same orders as replaying the tape, and replays to its own intents', async () => {
    const replay = await runReplay({
      catalogDir: dir, fromDate: '2024-01-02', toDate: '2024-01-02', strategy: 'sma-cross', params: { fast: 5, slow: 20 }, seed: 1, fill: 'next-open',
      intrabar: 'stop-first', feesBps: 0, feeMinimum: 0, slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000,
      risk: {}, skipBad: false, source: await openTapeSource(tape), runId: 'R1',
    });
    const replayed = replay.engine.log.events.filter((e) => e.type === 'order.submitted').map((e) => `${e.fields.id} ${e.fields.side} ${e.fields.type} ${e.fields.quantity}`);
    const journalPath = path.join(dir, 'paper.journal');
    const paper = await paperSession(journalPath);
    const sent = paper.intents.map((key) => key.split(' ').slice(1, 6).filter((_, i) => i !== 1).join(' '));
    expect(replayed.length).toBeGreaterThan(10);
    expect(sent).toEqual(replayed);

    const check = replaySession(journalPath);
    expect(check.identical).toBe(true);
    expect(check.intents).toBe(paper.intents.length);
    expect(check.runDigest).toBe(paper.digest);
  });

  it('shows the first difference when a session was tampered with', async () => {
    const journalPath = path.join(dir, 'paper-2.journal');
    await paperSession(journalPath);
    const records = Journal.readAll<SessionRecord>(journalPath).records;
    // Drop the 300 ticks before the first order: the averages, and so the orders, now differ from what was sent.
    // (A paper session journals each tick before the broker sees it and marks where the engine applied it.)
    const firstSubmit = records.findIndex((r) => r.k === 'submit');
    const dropped = new Set<number>();
    for (let i = firstSubmit - 1; i > 0 && dropped.size < 600; i--) {
      if (records[i].k === 'tick' && records[i + 1]?.k === 'apply-market') dropped.add(i).add(i + 1);
    }
    const tampered = path.join(dir, 'tampered.journal');
    const journal = Journal.open(tampered, { durability: 'batched', batchRecordsMax: 10_000 });
    records.forEach((r, i) => { if (!dropped.has(i)) journal.append(r); });
    journal.close();
    const check = replaySession(tampered);
    expect(check.identical).toBe(false);
    expect(check.firstDifference?.index).toBeGreaterThan(0);
  });
});
