// The redis-loss scenario: runners trading under a Redis leader lock while Redis is killed, restarted empty
// or paused, and the leader is paused past the TTL. Unfixed lock, the incident's decode fix, and the
// production LeaderLock with a broker-side epoch fence.
import { US_PER_MINUTE } from '../../engine/types.ts';
import type { Scenario } from '../framework/scenario.ts';
import { redisInvariants, type RedisTruth } from './invariants.ts';
import { redisFaultSchedule, runRedisLossSim } from './simulated-redis-run.ts';
import { REAL_TIMING, SIM_TIMING } from './workload.ts';

export const redisLossScenario: Scenario<RedisTruth> = {
  name: 'redis-loss',
  describe: 'runners under a Redis leader lock while Redis or the leader fails',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'no token check, plain PEXPIRE refresh, GET-then-DEL release, broker accepts any order' },
    { name: 'decode-fix', role: 'fix', describe: 'the incident fix: decodes string or Buffer values and checks the token; no fencing' },
    { name: 'fenced', role: 'robust-fix', describe: 'production LeaderLock (token, local deadline, epoch) and the broker EpochFence' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [],
  durationUs(mode, short) {
    if (mode === 'real') return short ? 14_000_000 : 24_000_000;
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

/** Real mode runs every fault kind once, in a fixed order (seconds of wall time are too dear to sample). */
function realFaultSchedule(durationUs: number): { kind: string; atUs: number; durationUs: number }[] {
  const ttlUs = REAL_TIMING.ttlMs * 1000;
  const kinds = ['leader-pause', 'redis-kill', 'redis-pause'];
  const slotUs = Math.floor((durationUs - 3_000_000) / kinds.length);
  return kinds.map((kind, index) => ({ kind, atUs: 2_000_000 + index * slotUs, durationUs: Math.round(ttlUs * 2.5) }));
}
