// Public face of the leader lock package.
export type { LockStore, TimerPort, TokenSource } from './lock-store.ts';
export { epochKeyOf, valueAsText } from './lock-store.ts';
export { LeaderLock, type LeaderLockOptions, type LeaderLockStats, type LeadershipPort } from './leader-lock.ts';
export { RedisLockStore, type RedisLockStoreOptions } from './redis-lock-store.ts';
export { SimulatedLockStore } from './simulated-lock-store.ts';
export { SimulatedTimerPort } from './simulated-timer-port.ts';
export { EpochFence } from './epoch-fence.ts';
export { NoLock } from './no-lock.ts';
export { CryptoTokenSource } from './crypto-token-source.ts';
export { RedisServerProcess } from './redis-server-process.ts';
