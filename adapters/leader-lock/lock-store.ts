// The ports the leader lock runs on: a key-value store with the few atomic operations a lease needs, a timer
// port (real or virtual time) and a source of unique tokens. Kept small so the chaos scenarios can drive the
// same LeaderLock against a simulated store under virtual time.

/** What the lock needs from Redis. Every method may reject (store down, timeout); the lock treats that as failure. */
export interface LockStore {
  /** SET key value NX PX ttlMs: true when the key was absent and is now ours. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomically: if the key holds `token`, PEXPIRE it to ttlMs and return true; otherwise false. */
  extendIfOwner(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Atomically: if the key holds `token`, DEL it and return true; otherwise false (never GET then DEL). */
  releaseIfOwner(key: string, token: string): Promise<boolean>;
  /** INCR of a separate epoch key that survives lock expiry (but not a restart of an empty store). */
  nextEpoch(key: string): Promise<number>;
  /** The raw value; stores may hand back a string or a Buffer. */
  get(key: string): Promise<string | Buffer | null>;
}

export interface TimerPort {
  nowMs(): number;
  /** Calls `callback` once after `delayMs`; returns a function that cancels it. */
  setTimer(delayMs: number, callback: () => void): () => void;
}

export interface TokenSource {
  nextToken(): string;
}

/** The epoch counter lives beside the lock under this key, so it outlives every tenure. */
export function epochKeyOf(lockKey: string): string {
  return `${lockKey}:epoch`;
}

/** A store value as text, whichever of string or Buffer the client returned. */
export function valueAsText(value: string | Buffer | null): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}
