// Proves the stale-data feed faults: a stall holds the ticks and replays them late as one burst of old data
// (which an arrival-time gate takes for fresh data and an exchange-time gate does not), a gap drops them; in
// real mode every tick crosses a WebSocket on loopback.
import { describe, expect, it } from 'vitest';
import { runSeed } from '../scenarios/framework/run-scenario.ts';
import { staleDataScenario } from '../scenarios/stale-data/index.ts';
import { runStaleData, STALE_AFTER_US, type StaleTruth } from '../scenarios/stale-data/model.ts';
import { VirtualScheduler } from '../scenarios/framework/virtual-scheduler.ts';
import { SeededRandom } from '../scenarios/framework/seeded-random.ts';
import { runSeedsInPool } from '../adapters/chaos/seed-pool.ts';
import { summarize } from '../scenarios/framework/run-scenario.ts';

const STALL = { kind: 'stall', atUs: 64_000_000, durationUs: 40_000_000 };
const GAP = { ...STALL, kind: 'gap' };
const options = { 'time-scale': 0.02 };

async function truthOf(fault: typeof STALL): Promise<StaleTruth> {
  const root = new SeededRandom(1);
  const context = { seed: 1, variant: 'exchange-gate', mode: 'sim' as const, faults: [fault], durationUs: 300_000_000, options, rng: root.child('workload') };
  return (await runStaleData(context, new VirtualScheduler(0))).truth;
}

describe('stale-data stall vs gap', () => {
  it('a stall delivers every held tick after it ends, with its original time; a gap drops them', async () => {
    const stalled = await truthOf(STALL);
    const gapped = await truthOf(GAP);
    const endUs = STALL.atUs + STALL.durationUs;
    const held = stalled.delivered.filter((tick) => tick.trueUs >= STALL.atUs && tick.trueUs < endUs);
    expect(held.length).toBe(STALL.durationUs / 250_000);
    expect(held.every((tick) => tick.arrivalUs >= endUs)).toBe(true);
    // In sequence order, and old on arrival: the first of the burst is the whole stall old.
    expect(held.map((tick) => tick.sequence)).toEqual([...held.map((tick) => tick.sequence)].sort((a, b) => a - b));
    expect(held[0].arrivalUs - held[0].trueUs).toBeGreaterThan(STALL.durationUs - 1_000_000);
    expect(gapped.delivered.filter((tick) => tick.trueUs >= STALL.atUs && tick.trueUs < endUs)).toEqual([]);
    expect(stalled.delivered.length - gapped.delivered.length).toBe(held.length);
  });

  it('the burst after a stall gets an arrival-gate entry on old data; exchange-gate holds; a gap fails neither gate', async () => {
    const request = { scenario: 'stale-data', mode: 'sim' as const, seed: 1, variants: ['naive', 'arrival-gate', 'exchange-gate'], options, short: true };
    const stall = await runSeed(staleDataScenario, { ...request, faults: [STALL] });
    const [naive, arrivalGate, exchangeGate] = stall.variants;
    expect(naive.verdict).toBe('reproduced');
    expect(arrivalGate.verdict).toBe('fails');
    expect(arrivalGate.violations['no-entry-on-stale-data']).toBeGreaterThan(0);
    expect(arrivalGate.examples.join('\n')).toMatch(/on data \d+ ms old/);
    expect(exchangeGate.verdict).toBe('holds');
    const gap = await runSeed(staleDataScenario, { ...request, faults: [GAP] });
    expect(gap.variants[1].verdict).toBe('holds');
    expect(gap.variants[2].verdict).toBe('holds');
    expect(STALE_AFTER_US).toBeLessThan(STALL.durationUs);
  });

  it('over 40 short seeds naive reproduces on every seed and exchange-gate holds on every seed', async () => {
    const seeds = Array.from({ length: 40 }, (_, index) => 1 + index);
    const [naive, arrivalGate, exchangeGate] = summarize(await runSeedsInPool({ scenario: 'stale-data', mode: 'sim', variants: ['naive', 'arrival-gate', 'exchange-gate'], options, short: true }, seeds, 2));
    expect(naive.seedsViolating.length).toBe(40);
    expect(arrivalGate.verdict).toBe('fails');
    expect(exchangeGate.seedsViolating).toEqual([]);
  }, 60_000);
});

describe('stale-data real mode over a WebSocket', () => {
  // (test/chaos-scenarios.test.ts runs naive and exchange-gate in real mode on the seeded schedule.)
  it('sends every tick through the loopback socket, and the stall burst that arrives there fools the arrival gate', async () => {
    const result = await runSeed(staleDataScenario, { scenario: 'stale-data', mode: 'real', seed: 1, variants: ['arrival-gate'], options, short: true, faults: [STALL] });
    const [arrivalGate] = result.variants;
    expect(arrivalGate.metrics.ticksSent).toBeGreaterThan(1_000);
    expect(arrivalGate.metrics.ticksReceived).toBe(arrivalGate.metrics.ticksSent);
    expect(arrivalGate.metrics.ticksDelivered).toBe(arrivalGate.metrics.ticksReceived);
    expect(arrivalGate.verdict).toBe('fails');
    expect(arrivalGate.violations['no-entry-on-stale-data']).toBeGreaterThan(0);
    expect(arrivalGate.examples.join('\n')).toMatch(/on data \d+ ms old/);
  }, 60_000);
});
