// Real mode of redis-loss: our own redis-server on a free port, two runners in worker threads using the
// production RedisLockStore over ioredis, the paper broker here. Faults: the leader frozen mid-decision past
// the TTL, redis-server SIGKILLed and restarted empty, SIGSTOPped past the TTL and continued, and both runners'
// stores answering GET with Buffers (ioredis getBuffer) for a while. The truth of who holds the lock comes
// from polling Redis every 20 ms.
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import type { HistoryEntry } from '../../../scenarios/framework/history.ts';
import { notes } from '../../../scenarios/framework/history.ts';
import type { RunContext, RunRecord } from '../../../scenarios/framework/scenario.ts';
import { SimError } from '../../../engine/errors.ts';
import { redisMetrics, type RedisTruth } from '../../../scenarios/redis-loss/invariants.ts';
import { LOCK_KEY, PaperBroker, REAL_TIMING, resumeBoundMs, runnerOfToken, type BrokerRequest, type RedisVariant } from '../../../scenarios/redis-loss/workload.ts';
import { RedisServerProcess } from '../../leader-lock/redis-server-process.ts';

const ENTRY = new URL('./runner-entry.mjs', import.meta.url);
const POLL_EVERY_MS = 20;
const RESULT_TIMEOUT_MS = 20_000;

const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

/** Rejects after `milliseconds` unless `promise` settles first; the timer is cleared either way, so it never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SimError('CHAOS_TIMEOUT', `expected ${what} within ${milliseconds} ms, found none`)), milliseconds);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error: unknown) => { clearTimeout(timer); reject(error); });
  });
}

export async function runRedisLossReal(context: RunContext): Promise<RunRecord<RedisTruth>> {
  const variant = context.variant as RedisVariant;
  const server = new RedisServerProcess();
  await server.start();
  const startAbsoluteMs = performance.timeOrigin + performance.now() + 300;
  const nowUs = () => Math.round((performance.timeOrigin + performance.now() - startAbsoluteMs) * 1000);
  const broker = new PaperBroker(variant === 'fenced');
  const coordinatorHistory: HistoryEntry[] = [];
  const holderChanges: { timeUs: number; holder: string | null }[] = [];
  const recoveriesUs: number[] = [];
  const tenureCounter = new SharedArrayBuffer(4);
  const workers: Worker[] = [];
  const results: Promise<HistoryEntry[]>[] = [];
  const probe = new Redis({ port: server.port, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 100, retryStrategy: () => 20 });
  probe.on('error', () => undefined);
  let polling = true;
  const note = (event: string, data: unknown) => coordinatorHistory.push({ kind: 'note', id: 0, process: 'chaos', event, data, timeUs: nowUs() });
  try {
    await sleep(Math.max(0, startAbsoluteMs - (performance.timeOrigin + performance.now())));
    const poller = (async () => {
      while (polling) {
        let holder: string | null;
        try {
          holder = runnerOfToken(await probe.get(LOCK_KEY));
        } catch {
          holder = 'unreachable';
        }
        const last = holderChanges[holderChanges.length - 1];
        if (!last || last.holder !== holder) holderChanges.push({ timeUs: nowUs(), holder });
        await sleep(POLL_EVERY_MS);
      }
    })();
    for (const name of ['runner-a', 'runner-b']) {
      const worker = new Worker(ENTRY, { workerData: { name, variant, port: server.port, startAbsoluteMs, tenureCounter } });
      workers.push(worker);
      results.push(new Promise((resolve) => {
        worker.on('message', (message: { type: string; requestId?: number; request?: BrokerRequest; entries?: HistoryEntry[] }) => {
          if (message.type === 'paused') for (const other of workers) if (other !== worker) other.postMessage({ type: 'disarm-pause' });
          if (message.type === 'submit') worker.postMessage({ type: 'reply', requestId: message.requestId, reply: broker.receive(message.request!, nowUs()) });
          if (message.type === 'result') resolve(message.entries!);
        });
      }));
    }
    // Faults in order, at their scheduled scenario times (real mode runs at wall speed).
    for (const fault of context.faults) {
      await sleep(Math.max(0, fault.atUs / 1000 - nowUs() / 1000));
      note(`fault-${fault.kind}`, fault);
      const durationMs = fault.durationUs / 1000;
      if (fault.kind === 'leader-pause') {
        for (const worker of workers) worker.postMessage({ type: 'arm-pause', durationMs });
      } else if (fault.kind === 'redis-kill') {
        await server.stop();
        await sleep(durationMs);
        await server.start();
        recoveriesUs.push(nowUs());
        note('redis-restarted-empty', null);
      } else if (fault.kind === 'redis-pause') {
        server.pause();
        await sleep(durationMs);
        server.resume();
        recoveriesUs.push(nowUs());
        note('redis-resumed', null);
      } else if (fault.kind === 'buffer-values') {
        for (const worker of workers) worker.postMessage({ type: 'buffer-values', on: true });
        await sleep(durationMs);
        for (const worker of workers) worker.postMessage({ type: 'buffer-values', on: false });
        note('buffer-values-end', null);
      } else {
        throw new SimError('BAD_FAULTS', `expected a redis-loss fault kind (leader-pause, redis-kill, redis-pause, buffer-values), found ${fault.kind}`);
      }
    }
    await sleep(Math.max(0, context.durationUs / 1000 - nowUs() / 1000));
    for (const worker of workers) worker.postMessage({ type: 'stop' });
    const entries = await withTimeout(Promise.all(results), RESULT_TIMEOUT_MS, 'both runners to report');
    polling = false;
    await poller;
    const history: HistoryEntry[] = [...coordinatorHistory, ...entries.flat()];
    const timeOf = (entry: HistoryEntry) => (entry.kind === 'operation' ? entry.invokedUs : entry.timeUs);
    history.sort((a, b) => timeOf(a) - timeOf(b));
    const numbered = history.map((entry, index) => ({ ...entry, id: index + 1 }));
    for (const paused of notes(numbered, 'paused')) recoveriesUs.push(paused.timeUs + (paused.data as { durationMs: number }).durationMs * 1000);
    recoveriesUs.sort((a, b) => a - b);
    const truth: RedisTruth = {
      holderChanges, accepted: broker.accepted, recoveriesUs, ttlUs: REAL_TIMING.ttlMs * 1000, resumeBoundUs: resumeBoundMs(REAL_TIMING) * 1000, endUs: context.durationUs,
    };
    return { history: numbered, truth, metrics: redisMetrics(numbered, truth), details: { redisPort: server.port } };
  } finally {
    polling = false;
    for (const worker of workers) await worker.terminate();
    probe.disconnect();
    await server.stop();
  }
}
