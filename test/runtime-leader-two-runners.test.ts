// Proves that two runners of one session under a leader lock on a real redis-server trade one at a time: only the holder sends orders (its epoch on the wire), a paused leader is replaced by the other under a higher epoch once the lease lapses, and on resuming it stands down (/ready 503) and sends nothing, while the broker fences its older epoch.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { Journal } from '../adapters/journal/index.ts';
import { RedisServerProcess } from '../adapters/leader-lock/index.ts';
import type { SessionRecord } from '../adapters/runtime/session-records.ts';
import { bundleChild, pollUntil, readyStatus, startChild, type RunningChild } from './support/child-process-bundle.ts';

let directory: string;
let child: string;
beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-leader-'));
  child = await bundleChild('test/support/leader-session-child.ts');
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Long enough that a loaded machine (2 shared cores) does not cost the leader its lease by accident. */
const TTL_MS = 2_000;

function epochOf(clientOrderId: string): number {
  const match = /\.e(\d+)$/.exec(clientOrderId);
  if (match === null) throw new Error(`expected an epoch suffix on ${clientOrderId}, found none`);
  return Number(match[1]);
}

describe('two runners, one leader lock', () => {
  it('fails over under a higher epoch and fences the paused leader', async () => {
    const redis = new RedisServerProcess();
    await redis.start();
    // The server must not outlive a fake that fails to start (the try below begins once both are up).
    const fake = await AlpacaFake.start({ seed: 3 }).catch(async (error: unknown) => { await redis.stop(); throw error; });
    const runners: RunningChild[] = [];
    const start = (name: string): RunningChild => {
      const runner = startChild(child, {
        PATH: process.env.PATH, APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secret, APCA_API_BASE_URL: fake.restUrl, APCA_STREAM_URL: fake.streamUrl,
        SIM_REDIS_URL: `redis://127.0.0.1:${redis.port}`, SIM_LOCK_TTL_MS: String(TTL_MS), SIM_JOURNAL: path.join(directory, `${name}.journal`),
      });
      runners.push(runner);
      return runner;
    };
    const ours = () => fake.allOrders().filter((order) => order.client_order_id.startsWith('LEAD-'));
    try {
      const first = start('first');
      await pollUntil(async () => (await readyStatus(first)) === 200, 15_000, 'the first runner ready (leading, reconciled)');
      const second = start('second');
      await pollUntil(async () => (await readyStatus(second)) === 503, 15_000, 'the second runner serving /ready as 503 (standby)');
      await pollUntil(() => ours().length >= 2, 10_000, 'the leader sending orders');
      const firstEpoch = epochOf(ours()[0].client_order_id);
      expect(ours().every((order) => epochOf(order.client_order_id) === firstEpoch)).toBe(true);

      // The leader stalls past its lease: the standby takes over under a higher epoch and trades.
      first.signal('SIGSTOP');
      const stoppedAtOrders = ours().length;
      await pollUntil(async () => (await readyStatus(second)) === 200, 10_000, 'the second runner ready after the lease lapsed');
      await pollUntil(() => ours().some((order) => epochOf(order.client_order_id) > firstEpoch), 10_000, 'an order under the new epoch');
      const secondEpoch = Math.max(...ours().map((order) => epochOf(order.client_order_id)));
      expect(secondEpoch).toBeGreaterThan(firstEpoch);
      // The new leader's reconciliation cancelled what the old one left resting.
      await pollUntil(() => ours().filter((order) => epochOf(order.client_order_id) === firstEpoch).every((order) => order.status !== 'new' && order.status !== 'accepted'), 5_000, "the old leader's resting orders cancelled");

      // The old leader resumes: it stands down and sends nothing more.
      first.signal('SIGCONT');
      await pollUntil(async () => (await readyStatus(first)) === 503, 5_000, 'the resumed runner /ready 503');
      const firstJournal = path.join(directory, 'first.journal');
      await pollUntil(() => Journal.readAll<SessionRecord>(firstJournal).records.some((record) => record.k === 'leader' && !record.leader && record.reason !== 'standby until the lock is held'), 5_000, 'the resumed runner journaling its lost leadership');
      const ordersNow = ours().length;
      await pollUntil(() => ours().length >= ordersNow + 2, 10_000, 'the new leader still trading');
      const sequence = ours().map((order) => epochOf(order.client_order_id));
      const firstNewEpoch = sequence.findIndex((epoch) => epoch === secondEpoch);
      expect(firstNewEpoch).toBeGreaterThanOrEqual(stoppedAtOrders - 1);
      expect(sequence.slice(firstNewEpoch).every((epoch) => epoch === secondEpoch), `epochs in order of creation: ${sequence.join(',')}`).toBe(true);
      await pollUntil(async () => (await readyStatus(second)) === 200, 5_000, 'the new leader still ready');

      // The broker-side fence: an order under the old epoch is refused now that the new one has been seen.
      const stale = await fetch(`${fake.restUrl}/v2/orders`, {
        method: 'POST', headers: { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret, 'content-type': 'application/json' },
        body: JSON.stringify({ symbol: 'AAPL', qty: '1', side: 'buy', type: 'limit', limit_price: '50', time_in_force: 'gtc', client_order_id: `LEAD-stale.e${firstEpoch}` }),
      });
      expect(stale.status).toBe(403);
      expect(((await stale.json()) as { message: string }).message).toBe(`fenced: expected epoch >= ${secondEpoch}, found ${firstEpoch}`);
      expect(fake.stats.duplicateClientOrderIds).toBe(0);

      for (const runner of runners) runner.signal('SIGTERM');
      for (const runner of runners) {
        const exit = await runner.exited;
        expect(exit.code, runner.stderr()).toBe(0);
      }
      // The resumed runner's journal replays: it recorded its stand-down before anything else it applied.
      const records = Journal.readAll<SessionRecord>(firstJournal).records;
      const leadership = records.filter((record) => record.k === 'leader').map((record) => (record as { leader: boolean }).leader);
      expect(leadership.slice(0, 2)).toEqual([false, true]);
      expect(leadership.at(-1)).toBe(false);
    } finally {
      for (const runner of runners) { runner.signal('SIGCONT'); runner.signal('SIGKILL'); }
      await Promise.all(runners.map((runner) => runner.exited));
      await fake.close();
      await redis.stop();
    }
  }, 60_000);
});
