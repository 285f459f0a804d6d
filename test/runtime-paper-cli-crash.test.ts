// Proves that `sim paper` (orb brackets over a day of the sample catalog) SIGKILLed in the middle of a bracket, at the boundaries where its in-process broker holds what the journal does not say yet, and started again on the same journal ends with exactly the uninterrupted session's orders, fills and run digest, sends nothing twice, and leaves a journal that `sim replay --session` reproduces.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../adapters/journal/index.ts';
import type { SessionRecord } from '../adapters/runtime/session-records.ts';
import { replaySession } from '../adapters/runtime/session-replay.ts';
import { runChild } from './support/child-process-bundle.ts';

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sim = path.join(repository, 'bin/sim.mjs');
let directory: string;
beforeAll(() => { directory = mkdtempSync(path.join(os.tmpdir(), 'sim-paper-cli-crash-')); });
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const env = { PATH: process.env.PATH, HOME: process.env.HOME, TZ: 'UTC' };

interface Summary { orders: number; fills: number; closedTrades: number; realizedPnl: number; equity: number; runDigest: string }

async function paper(journal: string, crashAfterRecord?: number) {
  const args = ['paper', '--feed', 'catalog:2024-03-15', '--catalog', path.join(repository, 'data/catalog'), '--strategy', 'orb', '--run-id', 'ORBCRASH', '--journal', journal, '--speed', '0', '--json'];
  const result = await runChild(sim, args, crashAfterRecord === undefined ? env : { ...env, SIM_CRASH_AFTER_RECORD: String(crashAfterRecord) }, 60_000);
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  return { ...result, summary: last.startsWith('{') ? (JSON.parse(last) as Summary) : null };
}

function pick(summary: Summary | null): Omit<Summary, never> | null {
  return summary === null ? null : { orders: summary.orders, fills: summary.fills, closedTrades: summary.closedTrades, realizedPnl: summary.realizedPnl, equity: summary.equity, runDigest: summary.runDigest };
}

describe('sim paper killed mid-bracket', () => {
  it('restarts on its journal and ends as the uninterrupted session', async () => {
    const baselineJournal = path.join(directory, 'baseline.journal');
    const baseline = await paper(baselineJournal);
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(baseline.summary!.closedTrades).toBeGreaterThan(0);
    const records = Journal.readAll<SessionRecord>(baselineJournal).records;
    // The first entry's fill (its exits go out right after it) and the first exits cancelled before the close.
    const entryFill = records.findIndex((record) => record.k === 'report' && record.r.type === 'fill') + 1;
    const firstCancel = records.findIndex((record) => record.k === 'cancel') + 1;
    expect(records[entryFill - 2]).toMatchObject({ k: 'bar', venueFirst: true });
    expect(records[entryFill]).toMatchObject({ k: 'submit' });
    // After the bar the broker filled the entry on, after the fill, after one exit of two, after a cancel, after the flattening sell.
    for (const k of [entryFill - 1, entryFill, entryFill + 1, firstCancel, firstCancel + 2]) {
      const journal = path.join(directory, `crash-${k}.journal`);
      const where = `crash after record ${k} (${records[k - 1].k})`;
      const crashed = await paper(journal, k);
      expect(crashed.signal, `${where}: ${crashed.stderr}`).toBe('SIGKILL');
      const restarted = await paper(journal);
      expect(restarted.code, `${where}: ${restarted.stderr}`).toBe(0);
      expect(pick(restarted.summary), where).toEqual(pick(baseline.summary));
      const journaled = Journal.readAll<SessionRecord>(journal).records;
      const ids = journaled.flatMap((record) => (record.k === 'submit' ? [record.r.clientOrderId] : []));
      expect(new Set(ids).size, `${where}: an order sent twice`).toBe(ids.length);
      expect(journaled.filter((record) => record.k === 'report' && record.r.type === 'rejected'), where).toEqual([]);
      // What `sim replay --session` reports.
      expect(replaySession(journal), where).toMatchObject({ identical: true, runDigest: baseline.summary!.runDigest });
    }
  }, 180_000);

  it('restarts on a journal that ends in a torn record, says so, and keeps the torn bytes', async () => {
    const journal = path.join(directory, 'torn.journal');
    const crashed = await paper(journal, 40);
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    // A record the process was writing when it died: a frame header cut short.
    appendFileSync(journal, Buffer.from([0x40, 0x00, 0x00, 0x00, 0xde, 0xad]));
    const restarted = await paper(journal);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toMatch(/journal .*torn\.journal ended in a torn record \(6 bytes, .*\); cut, its bytes saved to .*torn\.journal\.torn-1/);
    expect([...readFileSync(`${journal}.torn-1`)]).toEqual([0x40, 0x00, 0x00, 0x00, 0xde, 0xad]);
    expect(replaySession(journal)).toMatchObject({ identical: true });
  }, 120_000);
});
