// Proves that a standby taking over from a paused leader on a real redis-server inherits the leader's open position and its working OCO exits at the broker (the Alpaca fake): it adopts them in one journaled record, stays ready, sends no duplicate entry or protection, keeps the position protected, manages the inherited exits (raises the stop by a replace under its own epoch, then cancels them) and sells the inherited position on its strategy's signal; the resumed old leader sends nothing, stale-epoch cancels and replaces are fenced, and both journals replay to their runners' run digests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { ALPACA_CAPABILITIES } from '../adapters/alpaca/alpaca-venue.ts';
import { Journal } from '../adapters/journal/index.ts';
import { RedisServerProcess } from '../adapters/leader-lock/index.ts';
import { intentKey, type AdoptRecord, type SessionRecord } from '../adapters/runtime/session-records.ts';
import { replayJournal } from '../adapters/runtime/session-runner.ts';
import { bundleChild, pollUntil, readyStatus, startChild, type RunningChild } from './support/child-process-bundle.ts';
import { bracketHold } from './support/test-strategies.ts';

let directory: string;
let child: string;
beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-takeover-'));
  child = await bundleChild('test/support/leader-session-child.ts');
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Long enough that a loaded machine (2 shared cores) does not cost the leader its lease by accident. */
const TTL_MS = 2_000;
const WORKING = new Set(['new', 'accepted', 'pending_new', 'partially_filled', 'held', 'pending_replace', 'pending_cancel']);

function epochOf(wireClientOrderId: string): number | null {
  const match = /\.e(\d+)$/.exec(wireClientOrderId);
  return match === null ? null : Number(match[1]);
}

function records(journalPath: string): SessionRecord[] {
  return Journal.readAll<SessionRecord>(journalPath).records;
}

describe('takeover of an open position', () => {
  it('adopts the paused leader\'s position and exits, manages them, sells on its signal, and fences the old leader', async () => {
    const redis = new RedisServerProcess();
    await redis.start();
    // The server must not outlive a fake that fails to start (the try below begins once both are up).
    const fake = await AlpacaFake.start({ seed: 4 }).catch(async (error: unknown) => { await redis.stop(); throw error; });
    const priceFile = path.join(directory, 'price');
    writeFileSync(priceFile, '10000');
    const journals = { first: path.join(directory, 'first.journal'), second: path.join(directory, 'second.journal') };
    const runners: RunningChild[] = [];
    const start = (name: 'first' | 'second'): RunningChild => {
      const runner = startChild(child, {
        PATH: process.env.PATH, APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secret, APCA_API_BASE_URL: fake.restUrl, APCA_STREAM_URL: fake.streamUrl,
        SIM_REDIS_URL: `redis://127.0.0.1:${redis.port}`, SIM_LOCK_TTL_MS: String(TTL_MS), SIM_JOURNAL: journals[name], SIM_STRATEGY: 'bracket-hold', SIM_PRICE_FILE: priceFile,
      });
      runners.push(runner);
      return runner;
    };
    const headers = { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret };
    const positions = async (): Promise<{ symbol: string; qty: string }[]> => (await (await fetch(`${fake.restUrl}/v2/positions`, { headers })).json()) as { symbol: string; qty: string }[];
    const working = () => fake.allOrders().filter((order) => WORKING.has(order.status));
    try {
      const first = start('first');
      await pollUntil(async () => (await readyStatus(first)) === 200, 15_000, 'the first runner ready (leading, reconciled)');
      const second = start('second');
      await pollUntil(async () => (await readyStatus(second)) === 503, 15_000, 'the second runner serving /ready as 503 (standby)');

      // The leader buys with a bracket; prints at 100.00 fill the entry, and its OCO exits go out.
      await pollUntil(() => fake.allOrders().some((order) => order.type === 'market' && order.side === 'buy'), 10_000, 'the leader sending its entry');
      const entry = fake.allOrders().find((order) => order.type === 'market' && order.side === 'buy')!;
      const firstEpoch = epochOf(entry.client_order_id)!;
      await pollUntil(async () => {
        fake.pushTrade('AAPL', '100.00', 100);
        return (await positions()).some((position) => position.qty === '1') && working().length === 2;
      }, 10_000, 'the entry filled and its two exits working');
      const exits = working();
      const takeProfit = exits.find((order) => order.type === 'limit')!;
      const stopLeg = exits.find((order) => order.type === 'stop')!;
      expect([takeProfit.limit_price, stopLeg.stop_price, takeProfit.order_class]).toEqual(['110', '95', 'oco']);
      const ordersAtPause = fake.allOrders().length;

      // The leader stalls past its lease; the standby takes over.
      first.signal('SIGSTOP');
      await pollUntil(async () => (await readyStatus(second)) === 200, 10_000, 'the second runner ready after the lease lapsed');
      const adopt = records(journals.second).find((record): record is AdoptRecord => record.k === 'adopt');
      expect(adopt, 'an adopt record in the new leader\'s journal').toBeDefined();
      expect(adopt!.positions).toEqual([{ s: 0, q: 1, p: 10_000 }]);
      const takeProfitId = takeProfit.client_order_id.replace(/\.e\d+$/, '');
      expect(adopt!.orders.map((order) => [order.r.clientOrderId, order.role, order.r.type, order.r.quantity, order.r.reduceOnly, order.r.ocoWithClientOrderId])).toEqual([
        [takeProfitId, 'take-profit', 'limit', 1, true, `${takeProfitId}-oco-stop`],
        [`${takeProfitId}-oco-stop`, 'stop-loss', 'stop', 1, true, takeProfitId],
      ]);
      // Ids continue after every id the broker has seen (the entry, the take-profit).
      expect(adopt!.sequence).toBe(Math.max(...fake.allOrders().map((order) => Number(/-(\d+)(\.e\d+)?$/.exec(order.client_order_id)?.[1] ?? 0))));
      const secondEpoch = (records(journals.second).filter((record) => record.k === 'leader' && record.leader).at(-1) as { epoch: number }).epoch;
      expect(secondEpoch).toBeGreaterThan(firstEpoch);
      // The exits the old leader left keep working, untouched; nothing was sent again.
      const ticksAtAdopt = records(journals.second).filter((record) => record.k === 'tick').length;
      await pollUntil(() => records(journals.second).filter((record) => record.k === 'tick').length >= ticksAtAdopt + 10, 10_000, 'the new leader trading on ten more ticks');
      expect(fake.allOrders().length, 'orders sent since the takeover').toBe(ordersAtPause);
      expect(working().map((order) => order.id).sort()).toEqual([takeProfit.id, stopLeg.id].sort());
      expect(fake.stats.duplicateClientOrderIds).toBe(0);

      // 102.00: the new leader raises the inherited stop to 100.00, by a replace under its own epoch; the pair stays a pair.
      writeFileSync(priceFile, '10200');
      await pollUntil(() => fake.allOrders().some((order) => order.type === 'stop' && order.stop_price === '100' && WORKING.has(order.status)), 10_000, 'the inherited stop raised');
      const raised = fake.allOrders().find((order) => order.type === 'stop' && order.stop_price === '100')!;
      expect(raised.client_order_id).toBe(`${takeProfitId}-oco-stop.r1.e${secondEpoch}`);
      expect(fake.allOrders().find((order) => order.id === stopLeg.id)!.status).toBe('replaced');
      expect(working().map((order) => order.id).sort()).toEqual([takeProfit.id, raised.id].sort());
      await pollUntil(async () => (await readyStatus(second)) === 200, 5_000, 'the new leader still ready');

      // The broker-side fence: the old epoch can neither cancel nor replace now.
      const staleCancel = await fetch(`${fake.restUrl}/v2/orders/${takeProfit.id}`, { method: 'DELETE', headers: { ...headers, 'X-Sim-Fencing-Epoch': String(firstEpoch) } });
      expect(staleCancel.status).toBe(403);
      const staleReplace = await fetch(`${fake.restUrl}/v2/orders/${raised.id}`, {
        method: 'PATCH', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ stop_price: '90', client_order_id: `${takeProfitId}-stale.r9.e${firstEpoch}` }),
      });
      expect(staleReplace.status).toBe(403);
      expect(((await staleReplace.json()) as { message: string }).message).toBe(`fenced: expected epoch >= ${secondEpoch}, found ${firstEpoch}`);
      expect(working().map((order) => order.id).sort()).toEqual([takeProfit.id, raised.id].sort());

      // 105.00: the strategy's signal: it cancels the inherited exits and sells the inherited position.
      writeFileSync(priceFile, '10500');
      await pollUntil(async () => {
        fake.pushTrade('AAPL', '105.00', 100);
        return (await positions()).length === 0 && working().length === 0;
      }, 10_000, 'the inherited position sold and nothing left working');
      const sell = fake.allOrders().find((order) => order.type === 'market' && order.side === 'sell')!;
      expect([sell.qty, sell.status, epochOf(sell.client_order_id)]).toEqual(['1', 'filled', secondEpoch]);
      expect(fake.allOrders().find((order) => order.id === takeProfit.id)!.status).toBe('canceled');
      const ordersBeforeResume = fake.allOrders().length;

      // The old leader resumes: it stands down and sends nothing (it still believes it is long, and would sell).
      first.signal('SIGCONT');
      await pollUntil(async () => (await readyStatus(first)) === 503, 5_000, 'the resumed runner /ready 503');
      await pollUntil(() => records(journals.first).some((record) => record.k === 'leader' && !record.leader && record.reason !== 'standby until the lock is held'), 5_000, 'the resumed runner journaling its lost leadership');
      const resumedTicks = records(journals.first).filter((record) => record.k === 'tick').length;
      await pollUntil(() => records(journals.first).filter((record) => record.k === 'tick').length >= resumedTicks + 10, 10_000, 'the resumed runner seeing ten more ticks');
      expect(fake.allOrders().length, 'orders sent after the old leader resumed').toBe(ordersBeforeResume);
      // The old leader's: its entry and its OCO order (whose stop leg carries the fake's own id).
      expect(fake.allOrders().filter((order) => epochOf(order.client_order_id) === firstEpoch).map((order) => order.id)).toEqual([entry.id, takeProfit.id]);
      expect(fake.stats.duplicateClientOrderIds).toBe(0);
      expect(fake.stats.fencedRejections).toBe(2); // the test's own stale cancel and replace

      for (const runner of runners) runner.signal('SIGTERM');
      const done: { position: number; digest: string }[] = [];
      for (const runner of runners) {
        const exit = await runner.exited;
        expect(exit.code, runner.stderr()).toBe(0);
        done.push(JSON.parse(runner.stdout().split('\n').find((line) => line.startsWith('{"done"'))!) as { position: number; digest: string });
      }
      expect(done[1].position).toBe(0);
      // Both journals replay to their runners' own intents and run digests (what `sim replay --session` checks).
      for (const [index, journalPath] of [journals.first, journals.second].entries()) {
        const replay = replayJournal(records(journalPath), ALPACA_CAPABILITIES, () => bracketHold);
        expect(replay.regenerated.map(intentKey), journalPath).toEqual(replay.journaled.map(intentKey));
        expect(replay.core.engine.log.digest(), journalPath).toBe(done[index].digest);
      }
    } finally {
      for (const runner of runners) { runner.signal('SIGCONT'); runner.signal('SIGKILL'); }
      await Promise.all(runners.map((runner) => runner.exited));
      await fake.close();
      await redis.stop();
    }
  }, 90_000);
});
