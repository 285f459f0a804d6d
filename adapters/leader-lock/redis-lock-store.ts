// LockStore over a real Redis through ioredis. Compare-and-act steps run as Lua scripts so they are atomic on
// the server: a GET followed by DEL could delete a lease another process acquired in between.
import type { Redis } from 'ioredis';
import { SimError } from '../../engine/errors.ts';
import type { LockStore } from './lock-store.ts';

const EXTEND_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface RedisLockStoreOptions {
  /** Read values with GETBUFFER (Buffer results) instead of GET (strings). Both are handled by the lock. */
  valuesAsBuffers?: boolean;
}

export class RedisLockStore implements LockStore {
  private readonly redis: Redis;
  private readonly valuesAsBuffers: boolean;

  constructor(redis: Redis, options: RedisLockStoreOptions = {}) {
    this.redis = redis;
    this.valuesAsBuffers = options.valuesAsBuffers ?? false;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.redis.set(key, value, 'PX', ttlMs, 'NX');
    return reply === 'OK';
  }

  async extendIfOwner(key: string, token: string, ttlMs: number): Promise<boolean> {
    return asCount(await this.redis.eval(EXTEND_IF_OWNER, 1, key, token, String(ttlMs)), 'extendIfOwner') === 1;
  }

  async releaseIfOwner(key: string, token: string): Promise<boolean> {
    return asCount(await this.redis.eval(RELEASE_IF_OWNER, 1, key, token), 'releaseIfOwner') === 1;
  }

  async nextEpoch(key: string): Promise<number> {
    return this.redis.incr(key);
  }

  async get(key: string): Promise<string | Buffer | null> {
    return this.valuesAsBuffers ? this.redis.getBuffer(key) : this.redis.get(key);
  }
}

/** Script replies are integers; some clients and proxies hand them back as strings or Buffers. */
function asCount(reply: unknown, operation: string): number {
  if (typeof reply === 'number') return reply;
  const text = typeof reply === 'string' ? reply : Buffer.isBuffer(reply) ? reply.toString('utf8') : null;
  const parsed = text === null ? Number.NaN : Number(text);
  if (!Number.isInteger(parsed)) {
    throw new SimError('LOCK_STORE_REPLY_INVALID', `expected an integer reply from ${operation}, found ${String(reply)}`);
  }
  return parsed;
}
