// Proves that a live session SIGKILLed right after any journal record of a bracket's lifecycle (entry filled at once, or in parts with its exits grown by replaces) and started again on the same journal sends no order twice, leaves no exit without a position, keeps an open position protected, and ends flat with nothing working; also when the recovery itself is killed while it resends, and re-protects a position whose exits vanished while it was down.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { Journal } from '../adapters/journal/index.ts';
import type { SessionRecord } from '../adapters/runtime/session-records.ts';
import { bundleChild, runChild } from './support/child-process-bundle.ts';

interface ReconciledLine { phase: 'reconciled'; position: number; brokerPosition: number; brokerOpen: { side: string; type: string; quantity: number; status: string }[] }
interface DoneLine { phase: 'done'; position: number; openOrders: string[] }

let directory: string;
let child: string;
beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-crash-bracket-'));
  child = await bundleChild('test/support/bracket-session-child.ts');
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const CHILD_LIMIT_MS = 20_000;

async function session(scenario: string, fake: AlpacaFake, journalPath: string, crashAfterRecord?: number) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secret, APCA_API_BASE_URL: fake.restUrl,
    APCA_STREAM_URL: fake.streamUrl, SIM_JOURNAL: journalPath, SIM_SCENARIO: scenario,
  };
  if (crashAfterRecord !== undefined) env.SIM_CRASH_AFTER_RECORD = String(crashAfterRecord);
  const result = await runChild(child, [], env, CHILD_LIMIT_MS);
  const lines = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as ReconciledLine | DoneLine);
  return { ...result, reconciled: lines.find((line): line is ReconciledLine => line.phase === 'reconciled'), done: lines.find((line): line is DoneLine => line.phase === 'done') };
}

/** What the fake ends with, comparable across runs (the OCO stop leg's wire id is the fake's own uuid). */
function brokerState(fake: AlpacaFake): string[] {
  return fake.allOrders().map((order) => `${order.client_order_id.startsWith('CRASH-') ? order.client_order_id : 'leg'} ${order.side} ${order.type} ${order.qty} ${order.status} filled=${order.filled_qty}`);
}

/** `whole`: the entry fills at once. `partial`: it fills 4 then 6, so the exits are grown by replaces. */
const SCENARIOS = [
  {
    scenario: 'whole', recordsMin: 12, state: [
      'CRASH-test-bracket-once-3 buy market 10 filled filled=10',
      'CRASH-test-bracket-once-2 sell limit 10 filled filled=10',
      'leg sell stop 10 canceled filled=0',
    ],
  },
  {
    scenario: 'partial', recordsMin: 16, state: [
      'CRASH-test-bracket-once-3 buy market 10 filled filled=10',
      'CRASH-test-bracket-once-2 sell limit 4 replaced filled=0',
      'leg sell stop 4 replaced filled=0',
      'CRASH-test-bracket-once-1.r1 sell stop 10 canceled filled=0',
      'CRASH-test-bracket-once-2.r1 sell limit 10 filled filled=10',
    ],
  },
];

const WORKING = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'held', 'pending_replace', 'pending_cancel']);

describe('crash in the middle of a bracket', () => {
  it.each(SCENARIOS)('$scenario: recovers at every journal boundary without duplicates or orphans, the position protected', async ({ scenario, recordsMin, state }) => {
    const baselineFake = await AlpacaFake.start({ seed: 1, requestsPerWindowMax: 6_000 });
    const baselineJournal = path.join(directory, `${scenario}-baseline.journal`);
    let baseline: { records: SessionRecord[]; state: string[] };
    try {
      const run = await session(scenario, baselineFake, baselineJournal);
      expect(run.code, run.stderr).toBe(0);
      expect(run.done).toEqual({ phase: 'done', position: 0, openOrders: [] });
      baseline = { records: Journal.readAll<SessionRecord>(baselineJournal).records, state: brokerState(baselineFake) };
    } finally {
      await baselineFake.close();
    }
    // The lifecycle: bracket sent, entry accepted and filled, OCO exits sent and accepted (and grown), take-profit filled, stop cancelled.
    expect(baseline.state).toEqual(state);
    const recordCount = baseline.records.length;
    expect(recordCount).toBeGreaterThanOrEqual(recordsMin);

    for (let k = 1; k <= recordCount; k++) {
      const fake = await AlpacaFake.start({ seed: 1, requestsPerWindowMax: 6_000 });
      const journalPath = path.join(directory, `${scenario}-crash-${k}.journal`);
      const where = `crash after record ${k} (${baseline.records[k - 1].k})`;
      try {
        const crashed = await session(scenario, fake, journalPath, k);
        expect(crashed.signal, `${where}: ${crashed.stderr}`).toBe('SIGKILL');
        const recovered = await session(scenario, fake, journalPath);
        expect(recovered.code, `${where}: ${recovered.stderr}`).toBe(0);
        const reconciled = recovered.reconciled!;
        // Right after reconciliation: the session agrees with the broker, and the broker's exits match its position.
        expect(reconciled.position, where).toBe(reconciled.brokerPosition);
        const openExits = reconciled.brokerOpen.filter((order) => order.side === 'sell');
        if (reconciled.brokerPosition === 0) expect(openExits, `${where}: an exit without a position`).toEqual([]);
        else {
          const stops = openExits.filter((order) => order.type === 'stop' && order.status !== 'held');
          expect(stops.reduce((sum, order) => sum + order.quantity, 0), `${where}: the position's working stop`).toBe(reconciled.brokerPosition);
        }
        // In the end: nothing sent twice, nothing left open, the same broker state as without the crash.
        expect(fake.stats.duplicateClientOrderIds, where).toBe(0);
        expect(recovered.done, where).toEqual({ phase: 'done', position: 0, openOrders: [] });
        expect(fake.allOrders().filter((order) => WORKING.has(order.status)).map((order) => order.client_order_id), `${where}: orders left working`).toEqual([]);
        // A crash between a print reaching the broker and its tick reaching the journal makes the restarted feed
        // send that print again, so a partly filled entry may fill in other steps; otherwise the end is the same.
        if (scenario === 'whole') expect(brokerState(fake), where).toEqual(baseline.state);
      } finally {
        await fake.close();
      }
    }
  }, 180_000);
  // A crash during recovery itself: right after the recovering process's first or second journal append (a
  // resend, or the intent it regenerated), at the boundaries where recovery has orders to send.
  it('recovers again when the recovery is killed while it resends', async () => {
    for (const k of [3, 6, 7]) {
      for (const j of [1, 2]) {
        const fake = await AlpacaFake.start({ seed: 1, requestsPerWindowMax: 6_000 });
        const journalPath = path.join(directory, `double-${k}-${j}.journal`);
        const where = `crash after record ${k}, then after the recovery's append ${j}`;
        try {
          expect((await session('whole', fake, journalPath, k)).signal, where).toBe('SIGKILL');
          const interrupted = await session('whole', fake, journalPath, j);
          expect(interrupted.signal, `${where}: ${interrupted.stderr}`).toBe('SIGKILL');
          const recovered = await session('whole', fake, journalPath);
          expect(recovered.code, `${where}: ${recovered.stderr}`).toBe(0);
          expect(fake.stats.duplicateClientOrderIds, where).toBe(0);
          expect(recovered.done, where).toEqual({ phase: 'done', position: 0, openOrders: [] });
          expect(fake.allOrders().filter((order) => WORKING.has(order.status)).map((order) => order.client_order_id), where).toEqual([]);
        } finally {
          await fake.close();
        }
      }
    }
  }, 120_000);
  // The exits vanish while the runner is down (cancelled by hand at the broker): the restarted session finds an
  // open position without a working stop and re-creates one at the bracket's stop price.
  it('re-protects a position whose exits were cancelled while it was down', async () => {
    const fake = await AlpacaFake.start({ seed: 1, requestsPerWindowMax: 6_000 });
    const journalPath = path.join(directory, 'unprotected.journal');
    try {
      // Record 9 of the whole scenario: both exits accepted, the position open.
      expect((await session('whole', fake, journalPath, 9)).signal).toBe('SIGKILL');
      const exitParent = fake.allOrders().find((order) => order.client_order_id === 'CRASH-test-bracket-once-2')!;
      const cancelled = await fetch(`${fake.restUrl}/v2/orders/${exitParent.id}`, { method: 'DELETE', headers: { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret } });
      expect(cancelled.status).toBe(204);
      const recovered = await session('whole', fake, journalPath);
      expect(recovered.code, recovered.stderr).toBe(0);
      const reconciled = recovered.reconciled!;
      expect(reconciled.brokerPosition).toBe(10);
      expect(reconciled.brokerOpen).toEqual([{ side: 'sell', type: 'stop', quantity: 10, status: 'accepted' }]);
      // No take-profit any more, so the position stays open to the end, still protected, and the session agrees.
      expect(recovered.done?.position).toBe(10);
      const working = fake.allOrders().filter((order) => WORKING.has(order.status));
      expect(working.map((order) => `${order.client_order_id} ${order.side} ${order.type} ${order.qty} ${order.stop_price}`)).toEqual(['CRASH-test-bracket-once-4 sell stop 10 99']);
      expect(fake.stats.duplicateClientOrderIds).toBe(0);
    } finally {
      await fake.close();
    }
  }, 60_000);
});
