// The redis-loss scenario: runners trading under a Redis leader lock while Redis is killed, restarted empty
// or paused, and the leader is paused past the TTL. Unfixed lock, the incident's decode fix, and the
// production LeaderLock with a broker-side epoch fence.
import { US_PER_MINUTE } from '../../engine/types.ts';
import type { Scenario } from '../framework/scenario.ts';
import { redisInvariants, type RedisTruth } from './invariants.ts';
import { redisFaultSchedule, runRedisLossSim } from './simulated-redis-run.ts';
import { REAL_TIMING, REDIS_FAULT_KINDS, SIM_TIMING } from './workload.ts';

export const redisLossScenario: Scenario<RedisTruth> = {
  name: 'redis-loss',
  describe: 'runners under a Redis leader lock while Redis or the leader fails',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'compares the raw GET reply with its token by === (never true for a Buffer), plain PEXPIRE, GET-then-DEL release, no deadline, broker accepts any order' },
    { name: 'decode-fix', role: 'fix', describe: 'the incident fix: decodes string or Buffer values and checks the token; no fencing' },
    { name: 'fenced', role: 'robust-fix', describe: 'production LeaderLock (token, local deadline, epoch) and the broker EpochFence' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [],
  faultKinds: REDIS_FAULT_KINDS,
  faultModes: ['sim', 'real'],
  durationModes: ['sim', 'real'],
  durationUs(mode, short) {
    // Real runs fit four fault slots, each long enough for the fault, the recovery and the resume bound.
    if (mode === 'real') return short ? 24_000_000 : 32_000_000;
    return short ? 5 * US_PER_MINUTE : 30 * US_PER_MINUTE;
  },
  faultSchedule(rng, durationUs, mode) {
    if (mode === 'real') return realFaultSchedule(durationUs);
    return redisFaultSchedule(rng, durationUs, SIM_TIMING.ttlMs);
  },
  runSim: runRedisLossSim,
  async runReal(context) {
    const { runRedisLossReal } = await import('../../adapters/chaos/redis-loss/real-redis-run.ts');
    return runRedisLossReal(context);
  },
  invariants: redisInvariants,
};

/**
 * Real mode runs every fault kind once, in a fixed order (seconds of wall time are too dear to sample): the
 * three outages each in a slot long enough for the fault, the recovery and the resume bound (so
 * trading-resumes checks every one), then Buffer replies for a few refreshes.
 */
export function realFaultSchedule(durationUs: number): { kind: string; atUs: number; durationUs: number }[] {
  const ttlUs = REAL_TIMING.ttlMs * 1000;
  const outageUs = Math.round(ttlUs * 2.5);
  const buffersUs = Math.round(ttlUs * 2.5);
  const startUs = 2_000_000;
  const slotUs = Math.floor((durationUs - startUs - buffersUs - 1_000_000) / 3);
  const kinds = ['leader-pause', 'redis-kill', 'redis-pause'];
  const faults = kinds.map((kind, index) => ({ kind, atUs: startUs + index * slotUs, durationUs: outageUs }));
  faults.push({ kind: 'buffer-values', atUs: startUs + 3 * slotUs, durationUs: buffersUs });
  return faults;
}
