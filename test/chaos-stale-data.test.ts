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
import { WallClockScheduler } from '../adapters/chaos/wall-clock-scheduler.ts';
import { openWebSocketFeed } from '../adapters/chaos/stale-data/websocket-feed.ts';
import { summarize } from '../scenarios/framework/run-scenario.ts';

const STALL = { kind: 'stall', atUs: 64_000_000, durationUs: 40_000_000 };
const GAP = { ...STALL, kind: 'gap' };
const options = { 'time-scale': 0.02 };

async function truthOf(fault: typeof STALL): Promise<StaleTruth> {
  const root = new SeededRandom(1);
  const context = { seed: 1, variant: 'exchange-gate', mode: 'sim' as const, faults: [fault], durationUs: 300_000_000, options, rng: root.child('workload') };
  return (await runStaleData(context, new VirtualScheduler(0))).truth;
}

/** The held ticks of STALL arrive after it, all of them, in sequence order and old on arrival; returns them. */
function expectBurst(truth: StaleTruth): StaleTruth['delivered'] {
  const endUs = STALL.atUs + STALL.durationUs;
  const held = truth.delivered.filter((tick) => tick.trueUs >= STALL.atUs && tick.trueUs < endUs);
  expect(held.length).toBe(STALL.durationUs / 250_000);
  expect(held.every((tick) => tick.arrivalUs >= endUs)).toBe(true);
  // In sequence order, and old on arrival: the first of the burst is the whole stall old.
  expect(held.map((tick) => tick.sequence)).toEqual([...held.map((tick) => tick.sequence)].sort((a, b) => a - b));
  expect(held[0].arrivalUs - held[0].trueUs).toBeGreaterThan(STALL.durationUs - 1_000_000);
  return held;
}

describe('stale-data stall vs gap', () => {
  it('a stall delivers every held tick after it ends, with its original time; a gap drops them', async () => {
    const stalled = await truthOf(STALL);
    const gapped = await truthOf(GAP);
    const endUs = STALL.atUs + STALL.durationUs;
    const held = expectBurst(stalled);
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
  // (test/chaos-scenarios.test.ts runs naive and exchange-gate in real mode on the seeded schedule; which entries
  // a loaded machine's timers let the arrival gate make during the burst is not fixed, so this checks the feed.)
  it('sends every tick through the loopback socket, and a stall arrives there as a burst of old ticks', async () => {
    const scheduler = new WallClockScheduler(0.02);
    const feed = await openWebSocketFeed(scheduler);
    let truth: StaleTruth;
    try {
      const context = { seed: 1, variant: 'exchange-gate', mode: 'real' as const, faults: [STALL], durationUs: 150_000_000, options, rng: new SeededRandom(1).child('workload') };
      truth = (await runStaleData(context, scheduler, feed)).truth;
    } finally {
      scheduler.dispose();
      await feed.close();
    }
    expect(feed.counts.sent).toBe(150_000_000 / 250_000 - 1);
    expect(feed.counts.received).toBe(feed.counts.sent);
    expect(truth.delivered.length).toBe(feed.counts.received);
    expectBurst(truth);
  }, 60_000);
});
