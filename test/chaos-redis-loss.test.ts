// Proves redis-loss: each invariant flags its violation, the naive lock lets a stale leader trade while the fenced LeaderLock holds on every seed in sim, and the same holds against a real, killed and paused redis-server.
import { describe, expect, it } from 'vitest';
import { History } from '../scenarios/framework/history.ts';
import { runSeed } from '../scenarios/framework/run-scenario.ts';
import { SeededRandom } from '../scenarios/framework/seeded-random.ts';
import { redisInvariants, type RedisTruth } from '../scenarios/redis-loss/invariants.ts';
import { redisLossScenario } from '../scenarios/redis-loss/index.ts';
import { runSeedsInPool } from '../adapters/chaos/seed-pool.ts';
import { summarize } from '../scenarios/framework/run-scenario.ts';

describe('redis-loss invariants', () => {
  it('flag a stale order, two acting leaders, a late kill switch, no resumption, a duplicate id and an orphan leg', () => {
    let nowUs = 0;
    const history = new History(() => nowUs);
    history.note('a', 'lead-start', { runner: 'a', tenure: 1 });
    nowUs = 5_000_000;
    history.note('b', 'lead-start', { runner: 'b', tenure: 2 });
    nowUs = 9_000_000;
    history.note('a', 'decide', { runner: 'a', tenure: 1, bar: 9 });
    const truth: RedisTruth = {
      holderChanges: [{ timeUs: 0, holder: 'a' }, { timeUs: 4_000_000, holder: null }, { timeUs: 5_000_000, holder: 'b' }],
      accepted: [
        { clientOrderId: 'b6-entry', runner: 'b', tenure: 2, kind: 'entry', group: 'b6', timeUs: 6_000_000 },
        { clientOrderId: 'b6-entry', runner: 'a', tenure: 1, kind: 'entry', group: 'b6', timeUs: 7_000_000 },
      ],
      recoveriesUs: [20_000_000], ttlUs: 3_000_000, resumeBoundUs: 5_000_000, endUs: 40_000_000,
    };
    const context = { seed: 1, variant: 'naive', mode: 'sim' as const, faults: [], durationUs: 40_000_000, options: {}, rng: new SeededRandom(1) };
    const counts = Object.fromEntries(redisInvariants.map((invariant) => [invariant.name, invariant.check(history.entries, truth, context).length]));
    expect(counts).toEqual({
      'no-stale-leader-order': 1, 'single-acting-leader': 1, 'kill-switch-within-ttl': 1, 'trading-resumes': 1, 'no-duplicate-client-order-id': 1, 'no-orphan-oco-leg': 2,
    });
  });
});

describe('redis-loss in sim mode (short)', () => {
  it('naive reproduces on most seeds, fenced holds on every seed', async () => {
    const seeds = Array.from({ length: 40 }, (_, index) => 1 + index);
    const results = await runSeedsInPool({ scenario: 'redis-loss', mode: 'sim', variants: ['naive', 'fenced'], options: {}, short: true }, seeds, 1);
    const [naive, fenced] = summarize(results);
    expect(fenced.seedsViolating, `fenced failed on seeds ${fenced.seedsViolating.join(', ')}: npx sim chaos redis-loss --short --variant fenced --seed N`).toEqual([]);
    expect(naive.verdict).toBe('reproduced');
    expect(naive.seedsViolating.length).toBeGreaterThan(20);
  });

  it('a leader frozen past the TTL gets stale orders through naive and decode-fix, never through the fence', async () => {
    const faults = [{ kind: 'leader-pause', atUs: 20_000_000, durationUs: 6_000_000 }];
    const result = await runSeed(redisLossScenario, { scenario: 'redis-loss', mode: 'sim', seed: 1, variants: ['naive', 'decode-fix', 'fenced'], options: {}, short: true, faults });
    const [naive, decodeFix, fenced] = result.variants;
    expect(naive.violations['no-stale-leader-order']).toBeGreaterThan(0);
    expect(decodeFix.violations['no-stale-leader-order']).toBeGreaterThan(0);
    expect(fenced.verdict).toBe('holds');
    expect(fenced.metrics.ordersRejectedByFence).toBeGreaterThan(0);
  });
});

describe('redis-loss in real mode (own redis-server, SIGKILL, SIGSTOP, frozen leader)', () => {
  it('naive: an order accepted from a stale leader; fenced holds', async () => {
    const result = await runSeed(redisLossScenario, { scenario: 'redis-loss', mode: 'real', seed: 1, variants: ['naive', 'fenced'], options: {}, short: true });
    const [naive, fenced] = result.variants;
    expect(naive.verdict).toBe('reproduced');
    expect(naive.violations['no-stale-leader-order']).toBeGreaterThan(0);
    expect(fenced.verdict).toBe('holds');
  }, 120_000);
});
