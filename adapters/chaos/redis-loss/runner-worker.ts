// One redis-loss runner in its own worker thread (real mode): the shared Runner over a real RedisLockStore
// (ioredis) and real timers; during a buffer-values fault its store answers GET with Buffers (getBuffer). A pause freezes the whole thread with Atomics.wait, like a long GC pause or a
// SIGSTOP of the runner process: timers, socket reads and the lock's refresh all stop.
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import type { LockStore } from '../../leader-lock/lock-store.ts';
import { RedisLockStore } from '../../leader-lock/redis-lock-store.ts';
import { RealTimeClock } from '../../real-time-clock.ts';
import { History } from '../../../scenarios/framework/history.ts';
import { Runner } from '../../../scenarios/redis-loss/runner.ts';
import { REAL_TIMING, type BrokerReply, type BrokerRequest, type RedisVariant } from '../../../scenarios/redis-loss/workload.ts';

interface RunnerWorkerData {
  readonly name: string;
  readonly variant: RedisVariant;
  readonly port: number;
  readonly startAbsoluteMs: number;
  readonly tenureCounter: SharedArrayBuffer;
}

const data = workerData as RunnerWorkerData;
const port = parentPort!;
const absoluteMs = () => performance.timeOrigin + performance.now();
const history = new History(() => Math.round((absoluteMs() - data.startAbsoluteMs) * 1000));
const redis = new Redis({ port: data.port, host: '127.0.0.1', retryStrategy: () => 50, maxRetriesPerRequest: 20 });
redis.on('error', () => undefined);
const counter = new Int32Array(data.tenureCounter);
const pending = new Map<number, (reply: BrokerReply) => void>();
let nextRequestId = 1;
let armedPauseMs = 0;
const textStore = new RedisLockStore(redis);
const bufferStore = new RedisLockStore(redis, { valuesAsBuffers: true });
let buffers = false;
const current = () => (buffers ? bufferStore : textStore);
const store: LockStore = {
  setIfAbsent: (key, value, ttlMs) => current().setIfAbsent(key, value, ttlMs),
  extendIfOwner: (key, token, ttlMs) => current().extendIfOwner(key, token, ttlMs),
  releaseIfOwner: (key, token) => current().releaseIfOwner(key, token),
  nextEpoch: (key) => current().nextEpoch(key),
  get: (key) => current().get(key),
};

const runner = new Runner(data.name, data.variant, REAL_TIMING, {
  timers: RealTimeClock.real(),
  store,
  history,
  nextTenure: () => Atomics.add(counter, 0, 1) + 1,
  send: (request: BrokerRequest) => new Promise((resolve) => {
    const requestId = nextRequestId++;
    pending.set(requestId, resolve);
    port.postMessage({ type: 'submit', requestId, request });
  }),
  pauseIfArmed: async () => {
    if (armedPauseMs === 0) return;
    const durationMs = armedPauseMs;
    armedPauseMs = 0;
    history.note(data.name, 'paused', { durationMs });
    port.postMessage({ type: 'paused' });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, durationMs);
  },
});

port.on('message', (message: { type: string; requestId?: number; reply?: BrokerReply; durationMs?: number; on?: boolean }) => {
  if (message.type === 'reply') {
    const resolve = pending.get(message.requestId!);
    pending.delete(message.requestId!);
    resolve?.(message.reply!);
  } else if (message.type === 'buffer-values') {
    buffers = message.on === true;
  } else if (message.type === 'arm-pause') {
    // Every runner arms: only a leader reaches a decision, so the pause freezes whichever runner leads next
    // (one that is still taking over at the fault too); the first to pause disarms the others.
    armedPauseMs = message.durationMs!;
  } else if (message.type === 'disarm-pause') {
    armedPauseMs = 0;
  } else if (message.type === 'stop') {
    void (async () => {
      await runner.stop();
      await new Promise((resolve) => setTimeout(resolve, 2 * REAL_TIMING.tradeEveryMs));
      history.closeOpenOperations();
      port.postMessage({ type: 'result', entries: history.entries });
      redis.disconnect();
      port.close();
    })();
  }
});
runner.start();
port.postMessage({ type: 'started' });
