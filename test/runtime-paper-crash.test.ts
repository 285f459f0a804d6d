// Proves that a paper session (its broker in the session's own process) SIGKILLed right after any journal record of a bracket's lifecycle, and started again on the same journal, rebuilds its broker from the journal and ends exactly as an uninterrupted session does (same run digest, nothing sent twice, nothing left working), with the open position protected right after the restart; also when the restart itself is killed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../adapters/journal/index.ts';
import { PaperBroker } from '../adapters/runtime/paper-broker.ts';
import { intentKey, type SessionRecord } from '../adapters/runtime/session-records.ts';
import { replayJournal } from '../adapters/runtime/session-runner.ts';
import { bracketOnce } from './support/test-strategies.ts';
import { bundleChild, runChild } from './support/child-process-bundle.ts';

interface ReconciledLine { phase: 'reconciled'; position: number; brokerPosition: number; brokerOpen: { id: string; side: string; type: string; quantity: number; status: string }[] }
interface DoneLine { phase: 'done'; position: number; cash: number; openOrders: string[]; brokerOpen: string[]; brokerPosition: number; digest: string }

let directory: string;
let child: string;
beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-paper-crash-'));
  child = await bundleChild('test/support/paper-bracket-child.ts');
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const CHILD_LIMIT_MS = 20_000;

async function session(scenario: string, journalPath: string, crashAfterRecord?: number) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, SIM_JOURNAL: journalPath, SIM_SCENARIO: scenario };
  if (crashAfterRecord !== undefined) env.SIM_CRASH_AFTER_RECORD = String(crashAfterRecord);
  const result = await runChild(child, [], env, CHILD_LIMIT_MS);
  const lines = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as ReconciledLine | DoneLine);
  return { ...result, reconciled: lines.find((line): line is ReconciledLine => line.phase === 'reconciled'), done: lines.find((line): line is DoneLine => line.phase === 'done') };
}

/** Every order the broker was sent, by client order id, and how often (a duplicate is refused, but counted here). */
function submits(records: readonly SessionRecord[]): Map<string, number> {
  const count = new Map<string, number>();
  for (const record of records) if (record.k === 'submit') count.set(record.r.clientOrderId, (count.get(record.r.clientOrderId) ?? 0) + 1);
  return count;
}

function expectProtected(reconciled: ReconciledLine, where: string): void {
  // Right after the restart the session agrees with its (rebuilt) broker, and the broker's exits match its position.
  expect(reconciled.position, where).toBe(reconciled.brokerPosition);
  const exits = reconciled.brokerOpen.filter((order) => order.side === 'sell');
  if (reconciled.brokerPosition === 0) expect(exits, `${where}: an exit without a position`).toEqual([]);
  else expect(exits.filter((order) => order.type === 'stop').reduce((sum, order) => sum + order.quantity, 0), `${where}: the position's stop`).toBe(reconciled.brokerPosition);
}

describe('paper session crash in the middle of a bracket', () => {
  it.each(['whole', 'partial'])('%s: restarts at every journal boundary and ends as the uninterrupted session', async (scenario) => {
    const baselineJournal = path.join(directory, `${scenario}-baseline.journal`);
    const run = await session(scenario, baselineJournal);
    expect(run.code, run.stderr).toBe(0);
    const baseline = run.done!;
    expect(baseline).toMatchObject({ position: 0, openOrders: [], brokerOpen: [], brokerPosition: 0 });
    const baselineRecords = Journal.readAll<SessionRecord>(baselineJournal).records;
    // Entry, take-profit and stop sent once each; the take-profit filled at the 103.50 print, the entry at 100.50
    // (whole) or 4 at 100.50 and 6 at 101.00 (partial): cash up by 30.00 or 27.00, in units of 10^-6.
    expect([...submits(baselineRecords).values()]).toEqual([1, 1, 1]);
    expect(baseline.cash).toBe(100_000_000_000 + (scenario === 'whole' ? 30_000_000 : 27_000_000));
    for (let k = 1; k <= baselineRecords.length; k++) {
      const journalPath = path.join(directory, `${scenario}-crash-${k}.journal`);
      const where = `crash after record ${k} (${baselineRecords[k - 1].k})`;
      const crashed = await session(scenario, journalPath, k);
      expect(crashed.signal, `${where}: ${crashed.stderr}`).toBe('SIGKILL');
      const recovered = await session(scenario, journalPath);
      expect(recovered.code, `${where}: ${recovered.stderr}`).toBe(0);
      expectProtected(recovered.reconciled!, where);
      // A crash after the final `stop` record: the session had ended; the restart stops it again (one more event).
      const ended = baselineRecords[k - 1].k === 'stop';
      expect(recovered.done, where).toEqual(ended ? { ...baseline, digest: recovered.done!.digest } : baseline);
      const records = Journal.readAll<SessionRecord>(journalPath).records;
      expect([...submits(records).values()], `${where}: orders sent`).toEqual([1, 1, 1]);
      expect(records.filter((record) => record.k === 'report' && record.r.type === 'rejected'), where).toEqual([]);
      // As `sim replay --session` does: the journal replays to its own intents and to the session's run digest.
      const replay = replayJournal(records, new PaperBroker([], {}, 1).capabilities, () => bracketOnce);
      expect(replay.regenerated.map(intentKey), where).toEqual(replay.journaled.map(intentKey));
      expect(replay.core.engine.log.digest(), where).toBe(recovered.done!.digest);
    }
  }, 120_000);

  it('restarts again when the restart is killed while it carries on', async () => {
    const baselineJournal = path.join(directory, 'double-baseline.journal');
    const baseline = (await session('partial', baselineJournal)).done!;
    for (const k of [4, 7, 10]) {
      for (const j of [1, 2, 3]) {
        const journalPath = path.join(directory, `double-${k}-${j}.journal`);
        const where = `crash after record ${k}, then after the restart's append ${j}`;
        expect((await session('partial', journalPath, k)).signal, where).toBe('SIGKILL');
        expect((await session('partial', journalPath, j)).signal, where).toBe('SIGKILL');
        const recovered = await session('partial', journalPath);
        expect(recovered.code, `${where}: ${recovered.stderr}`).toBe(0);
        expect(recovered.done, where).toEqual(baseline);
      }
    }
  }, 120_000);
});
