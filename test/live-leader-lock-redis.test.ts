// Proves the leader lock against a real redis-server: two contenders, one leader; a SIGSTOPped server makes the leader step down within one TTL (also with a client that never times out); an empty restart still yields a larger epoch; values read back with getBuffer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CryptoTokenSource, LeaderLock, RedisLockStore, RedisServerProcess, valueAsText } from '../adapters/leader-lock/index.ts';
import { RealTimeClock } from '../adapters/real-time-clock.ts';

const POLL_INTERVAL_MS = 20;

async function pollUntil(condition: () => boolean | Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const startedAt = Date.now();
  for (let attempt = 0; attempt < Math.ceil(limitMs / POLL_INTERVAL_MS) + 1; attempt += 1) {
    if (await condition()) return Date.now() - startedAt;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`expected ${what} within ${limitMs} ms, found it did not happen`);
}

function makeLock(redis: Redis, key: string, events: { acquired: number[]; lost: string[] }, ttlMs = 600): LeaderLock {
  const clock = RealTimeClock.real();
  return new LeaderLock({
    store: new RedisLockStore(redis), timers: clock, tokens: new CryptoTokenSource('test'), key, ttlMs,
    refreshEveryMs: ttlMs / 4, backoffMs: { initial: 20, max: 100 },
    onAcquired: (epoch) => events.acquired.push(epoch),
    onLost: (reason) => events.lost.push(reason),
  });
}

describe('LeaderLock against a real redis-server', () => {
  const server = new RedisServerProcess();
  const clients: Redis[] = [];
  const client = (): Redis => {
    // A short command timeout and no offline queue make a paused server look like failed calls, quickly.
    const redis = new Redis({ port: server.port, maxRetriesPerRequest: 1, commandTimeout: 200, enableOfflineQueue: true, retryStrategy: () => 50 });
    redis.on('error', () => undefined); // connection errors are expected while the server is paused or restarting
    clients.push(redis);
    return redis;
  };

  beforeAll(async () => { await server.start(); });
  afterAll(async () => {
    for (const redis of clients) redis.disconnect();
    await server.stop();
  });

  it('lets only one of two contenders lead, then the standby takes over after the leader stops', async () => {
    const key = 'lock:contend';
    const eventsA = { acquired: [] as number[], lost: [] as string[] };
    const eventsB = { acquired: [] as number[], lost: [] as string[] };
    const a = makeLock(client(), key, eventsA);
    const b = makeLock(client(), key, eventsB);
    a.start();
    b.start();
    await pollUntil(() => a.isLeader() || b.isLeader(), 3_000, 'one contender to lead');
    for (let sample = 0; sample < 20; sample += 1) {
      expect(Number(a.isLeader()) + Number(b.isLeader())).toBeLessThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
    const leaderEpoch = leader.epoch();
    await leader.stop();
    await pollUntil(() => standby.isLeader(), 3_000, 'the standby to take over');
    expect(standby.epoch()).toBeGreaterThan(leaderEpoch);
    await standby.stop();
  });

  it('steps down within one TTL when the server is SIGSTOPped, and leads again with a larger epoch after an empty restart', async () => {
    const ttlMs = 600;
    const events = { acquired: [] as number[], lost: [] as string[] };
    const lock = makeLock(client(), 'lock:pause', events, ttlMs);
    lock.start();
    await pollUntil(() => lock.isLeader(), 3_000, 'the lock to lead');
    const firstEpoch = lock.epoch();
    server.pause();
    const stepDownMs = await pollUntil(() => !lock.isLeader(), ttlMs * 2, 'the leader to step down');
    expect(stepDownMs).toBeLessThanOrEqual(ttlMs + POLL_INTERVAL_MS * 2);
    expect(events.lost.length).toBeGreaterThanOrEqual(1);
    await server.stop();
    await server.start();
    await pollUntil(() => lock.isLeader(), 5_000, 'the lock to lead again after the empty restart');
    expect(lock.epoch()).toBeGreaterThan(firstEpoch);
    await lock.stop();
  });

  it('steps down within one TTL even with a default ioredis client that never times a command out', async () => {
    // No commandTimeout: calls to a SIGSTOPped server just hang. The lock's own deadline must still hold.
    const redis = new Redis({ port: server.port });
    redis.on('error', () => undefined);
    clients.push(redis);
    const ttlMs = 600;
    const events = { acquired: [] as number[], lost: [] as string[] };
    const lock = makeLock(redis, 'lock:default-client', events, ttlMs);
    lock.start();
    await pollUntil(() => lock.isLeader(), 3_000, 'the lock to lead');
    server.pause();
    try {
      const stepDownMs = await pollUntil(() => !lock.isLeader(), ttlMs * 2, 'the leader to step down');
      expect(stepDownMs).toBeLessThanOrEqual(ttlMs + POLL_INTERVAL_MS * 2);
    } finally {
      server.resume();
    }
    await pollUntil(() => lock.isLeader(), 5_000, 'the lock to lead again once the server resumes');
    await lock.stop();
  });

  it('reads a lease value back with getBuffer as well as get', async () => {
    const redis = client();
    const store = new RedisLockStore(redis, { valuesAsBuffers: true });
    expect(await store.setIfAbsent('lock:buffer', 'token-42', 5_000)).toBe(true);
    const raw = await store.get('lock:buffer');
    expect(Buffer.isBuffer(raw)).toBe(true);
    expect(valueAsText(raw)).toBe('token-42');
    expect(await redis.getBuffer('lock:buffer')).toEqual(Buffer.from('token-42'));
    expect(await store.extendIfOwner('lock:buffer', 'someone-else', 5_000)).toBe(false);
    expect(await store.releaseIfOwner('lock:buffer', 'someone-else')).toBe(false);
    expect(await store.releaseIfOwner('lock:buffer', 'token-42')).toBe(true);
    expect(await store.get('lock:buffer')).toBeNull();
  });
});
