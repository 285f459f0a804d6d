// Proves lock-contention: each invariant flags its violation, and in sim and on real DuckDB files the naive code loses ticks (to lock errors between processes, silently between threads) while the single writer loses none.
import { describe, expect, it } from 'vitest';
import { History } from '../scenarios/framework/history.ts';
import { runSeed, type SeedResult } from '../scenarios/framework/run-scenario.ts';
import { SeededRandom } from '../scenarios/framework/seeded-random.ts';
import { lockInvariants } from '../scenarios/lock-contention/invariants.ts';
import { candleFromTicks, type LockTruth } from '../scenarios/lock-contention/workload.ts';
import { lockContentionScenario } from '../scenarios/lock-contention/index.ts';

function check(history: History, truth: LockTruth, durationUs: number): Record<string, number> {
  const context = { seed: 1, variant: 'naive', mode: 'sim' as const, faults: [], durationUs, options: {}, rng: new SeededRandom(1) };
  return Object.fromEntries(lockInvariants.map((invariant) => [invariant.name, invariant.check(history.entries, truth, context).violations.length]));
}

describe('lock-contention invariants', () => {
  it('flag a lost tick, a wrong candle, a missing candle and a stale reader, and pass a clean history', () => {
    let nowUs = 0;
    const history = new History(() => nowUs);
    const ticks = [1, 2, 3].map((id) => ({ id, timeUs: id * 1_000_000, priceTicks: 100 + id, sizeLots: 1 }));
    for (const tick of ticks) { nowUs = tick.timeUs; history.complete(history.invoke('ingestor', 'ingest-tick', { id: tick.id }), 'ok'); }
    nowUs = 2_000_000;
    history.complete(history.invoke('strategy', 'read-candles', null), 'ok');
    const good = candleFromTicks(0, ticks)!;
    const clean: LockTruth = { storedTicks: ticks, candles: [good], closedMinuteMax: 5, errorMessages: {} };
    expect(check(history, clean, 11_000_000)).toEqual({ 'no-tick-lost': 0, 'candle-matches-ticks': 0, 'no-missing-candle': 0, 'reader-staleness': 0 });
    const broken: LockTruth = { storedTicks: ticks.slice(0, 2).concat([{ id: 9, timeUs: 61_000_000, priceTicks: 1, sizeLots: 1 }]), candles: [good], closedMinuteMax: 5, errorMessages: {} };
    expect(check(history, broken, 30_000_000)).toEqual({ 'no-tick-lost': 1, 'candle-matches-ticks': 1, 'no-missing-candle': 1, 'reader-staleness': 1 });
  });
});

function verdicts(result: SeedResult): Record<string, string> {
  return Object.fromEntries(result.variants.map((variant) => [variant.name, variant.verdict]));
}

describe('lock-contention in sim mode (short)', () => {
  for (const layout of ['processes', 'threads', 'event-loop']) {
    it(`${layout}: naive loses ticks, single-writer holds`, async () => {
      for (const seed of [1, 2, 3]) {
        const result = await runSeed(lockContentionScenario, {
          scenario: 'lock-contention', mode: 'sim', seed, variants: ['naive', 'retry', 'single-writer'], options: { layout, load: 1, 'time-scale': 0.5 }, short: true,
        });
        const failing = `failing seed ${seed}: npx sim chaos lock-contention --short --layout ${layout} --seed ${seed}`;
        expect(verdicts(result).naive, failing).toBe('reproduced');
        expect(verdicts(result)['single-writer'], failing).toBe('holds');
        // Processes fail loudly (lock errors), one thread's tasks too (configuration errors); threads fail
        // silently (acknowledged writes missing).
        if (layout === 'threads') expect(result.variants[0].metrics.silentlyLostWrites, failing).toBeGreaterThan(0);
        else expect(result.variants[0].metrics.lockErrors, failing).toBeGreaterThan(0);
        expect(result.variants[0].metrics.ticksLost, failing).toBeGreaterThan(0);
      }
    });
  }
});

describe('lock-contention in real mode (short, real DuckDB files, separate processes)', () => {
  it('naive hits real "Could not set lock on file" errors and loses ticks; single-writer loses none', async () => {
    const result = await runSeed(lockContentionScenario, {
      scenario: 'lock-contention', mode: 'real', seed: 1, variants: ['naive', 'single-writer'], options: { layout: 'processes', load: 1, 'time-scale': 0.2 }, short: true,
    });
    const [naive, singleWriter] = result.variants;
    expect(naive.verdict).toBe('reproduced');
    expect(naive.violations['no-tick-lost']).toBeGreaterThan(0);
    expect(Object.keys(naive.details!.errorMessages as Record<string, number>).some((message) => message.includes('Could not set lock on file'))).toBe(true);
    expect(singleWriter.verdict).toBe('holds');
    expect(singleWriter.metrics.ticksLost).toBe(0);
    // The run is long enough for every invariant to check something (3 closed candle minutes).
    expect(singleWriter.checked['candle-matches-ticks']).toBeGreaterThanOrEqual(3);
    expect(singleWriter.checked['no-missing-candle']).toBeGreaterThanOrEqual(3);
  }, 240_000);

  it('event-loop layout: a read-only open beside a cached read-write instance hits the real "different configuration" error; single-writer holds', async () => {
    const result = await runSeed(lockContentionScenario, {
      scenario: 'lock-contention', mode: 'real', seed: 1, variants: ['naive', 'single-writer'], options: { layout: 'event-loop', load: 1, 'time-scale': 0.1 }, short: true,
    });
    const [naive, singleWriter] = result.variants;
    expect(naive.verdict).toBe('reproduced');
    const messages = Object.keys(naive.details!.errorMessages as Record<string, number>);
    expect(messages.some((message) => message.includes("Can't open a connection to same database file with a different configuration"))).toBe(true);
    expect(singleWriter.verdict).toBe('holds');
    expect(singleWriter.metrics.ticksLost).toBe(0);
    // The run is long enough for every invariant to check something (3 closed candle minutes).
    expect(singleWriter.checked['candle-matches-ticks']).toBeGreaterThanOrEqual(3);
    expect(singleWriter.checked['no-missing-candle']).toBeGreaterThanOrEqual(3);
  }, 240_000);
});
