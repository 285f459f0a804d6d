// Proves the chaos framework: seeded randomness and sim runs are reproducible, verdicts and exit codes follow the rules, shrinking finds a small failing schedule, and seed pools merge the same for any worker count.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../scenarios/framework/seeded-random.ts';
import { VirtualScheduler } from '../scenarios/framework/virtual-scheduler.ts';
import { History } from '../scenarios/framework/history.ts';
import { exitCodeFor, runSeedSim, shrinkFailure, summarize, type SeedRunRequest } from '../scenarios/framework/run-scenario.ts';
import type { Scenario } from '../scenarios/framework/scenario.ts';
import { findScenario } from '../scenarios/index.ts';
import { runSeedsInPool } from '../adapters/chaos/seed-pool.ts';

describe('seeded random', () => {
  it('repeats for a seed, differs across seeds, and names children independently', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(first);
    expect(new SeededRandom(43).nextUint32()).not.toBe(first[0]);
    expect(new SeededRandom(42).child('x').next()).toBe(new SeededRandom(42).child('x').next());
    expect(new SeededRandom(42).child('x').next()).not.toBe(new SeededRandom(42).child('y').next());
    for (let index = 0; index < 1000; index += 1) {
      const value = a.int(7);
      expect(value >= 0 && value < 7).toBe(true);
    }
  });
});

describe('virtual scheduler', () => {
  it('runs events in (time, sequence) order and stops at the end', () => {
    const scheduler = new VirtualScheduler();
    const seen: string[] = [];
    scheduler.at(20, () => seen.push('b'));
    scheduler.at(10, () => seen.push('a'));
    scheduler.at(20, () => seen.push('c'));
    scheduler.at(30, () => seen.push('late'));
    scheduler.runUntil(30);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(scheduler.nowUs()).toBe(30);
  });
});

// A toy scenario: the "unfixed" variant fails when any fault of kind "bad" is present.
const toy: Scenario<{ bad: number }> = {
  name: 'toy',
  describe: 'toy',
  variants: [{ name: 'unfixed', role: 'unfixed', describe: '' }, { name: 'fixed', role: 'robust-fix', describe: '' }],
  modes: ['sim'],
  optionSpecs: [],
  faultKinds: ['bad', 'harmless'],
  faultModes: ['sim'],
  durationModes: ['sim'],
  durationUs: () => 3_600_000_000,
  faultSchedule: (rng, durationUs) => Array.from({ length: 12 }, (_, index) => ({
    kind: index === 7 ? 'bad' : 'harmless', atUs: rng.int(durationUs - 60_000_000), durationUs: 20_000_000 + rng.int(40_000_000),
  })),
  runSim(context) {
    const history = new History(() => 0);
    const bad = context.variant === 'unfixed' ? context.faults.filter((fault) => fault.kind === 'bad').length : 0;
    return { history: history.entries, truth: { bad }, metrics: { faults: context.faults.length } };
  },
  invariants: [{ name: 'no-bad', describe: '', check: (_history, truth, context) => ({ checked: context.faults.length, violations: Array.from({ length: truth.bad }, () => ({ invariant: 'no-bad', message: 'bad fault' })) }) }],
};

describe('verdicts, exit codes and shrinking', () => {
  it('reproduced + holds exits 0; a failing robust fix or a missed reproduction exits 1', async () => {
    const request: SeedRunRequest = { scenario: 'toy', mode: 'sim', seed: 5, variants: ['unfixed', 'fixed'], options: {}, short: false };
    const result = await runSeedSim(toy, request);
    expect(result.variants.map((variant) => variant.verdict)).toEqual(['reproduced', 'holds']);
    expect(exitCodeFor(summarize([result]))).toBe(0);
    const noFaults = await runSeedSim(toy, { ...request, faults: [] });
    expect(noFaults.variants[0].verdict).toBe('not-reproduced');
    expect(exitCodeFor(summarize([noFaults]))).toBe(1);
  });

  it('a fix whose invariant checked nothing is unchecked, not holds, and exits 1; summed over seeds one checked case is enough', async () => {
    const request: SeedRunRequest = { scenario: 'toy', mode: 'sim', seed: 5, variants: ['fixed'], options: {}, short: false };
    const empty = await runSeedSim(toy, { ...request, faults: [] });
    expect(empty.variants[0].violations).toEqual({ 'no-bad': 0 });
    expect(empty.variants[0].checked).toEqual({ 'no-bad': 0 });
    expect(empty.variants[0].verdict).toBe('unchecked');
    expect(exitCodeFor(summarize([empty]))).toBe(1);
    const one = await runSeedSim(toy, { ...request, seed: 6, faults: [{ kind: 'harmless', atUs: 0, durationUs: 1 }] });
    const [merged] = summarize([empty, one]);
    expect(merged.checked).toEqual({ 'no-bad': 1 });
    expect(merged.verdict).toBe('holds');
    expect(exitCodeFor([merged])).toBe(0);
  });

  it('shrinks a 12-fault schedule to the one fault that matters, within 60 s', async () => {
    const request: SeedRunRequest = { scenario: 'toy', mode: 'sim', seed: 9, variants: ['unfixed'], options: {}, short: false };
    const original = await runSeedSim(toy, request);
    expect(original.faults.length).toBe(12);
    const shrunk = await shrinkFailure(toy, request, 'unfixed', original);
    expect(shrunk.faults.length).toBeLessThanOrEqual(3);
    expect(shrunk.faults.map((fault) => fault.kind)).toEqual(['bad']);
    const spanUs = Math.max(...shrunk.faults.map((fault) => fault.atUs + fault.durationUs)) - Math.min(...shrunk.faults.map((fault) => fault.atUs));
    expect(spanUs).toBeLessThanOrEqual(60_000_000);
    const replay = await runSeedSim(toy, { ...request, faults: shrunk.faults, durationUs: shrunk.durationUs });
    expect(replay.variants[0].verdict).toBe('reproduced');
  });
});

describe('determinism of real scenarios in sim mode', () => {
  for (const name of ['lock-contention', 'redis-loss']) {
    it(`${name}: the same seed gives the same history, another seed a different one`, async () => {
      const scenario = findScenario(name)!;
      const variant = scenario.variants[0].name;
      const context = (seed: number) => {
        const root = new SeededRandom(seed);
        const durationUs = scenario.durationUs('sim', true, { layout: 'processes', load: 1 });
        return { seed, variant, mode: 'sim' as const, durationUs, options: { layout: 'processes', load: 1, 'time-scale': 0.5 }, rng: root.child('workload'), faults: scenario.faultSchedule(root.child('faults'), durationUs, 'sim', { load: 1 }) };
      };
      const first = await scenario.runSim(context(7));
      const second = await scenario.runSim(context(7));
      const other = await scenario.runSim(context(8));
      const seedFailureMessage = 'seed 7 replayed differently';
      expect(JSON.stringify(second.history), seedFailureMessage).toBe(JSON.stringify(first.history));
      expect(JSON.stringify(other.history)).not.toBe(JSON.stringify(first.history));
    });
  }
});

describe('seed pool', () => {
  it('gives the same merged result with 1 and 2 workers', async () => {
    const request = { scenario: 'redis-loss', mode: 'sim' as const, variants: ['naive', 'fenced'], options: {}, short: true };
    const seeds = Array.from({ length: 12 }, (_, index) => 100 + index);
    const one = summarize(await runSeedsInPool(request, seeds, 1));
    const two = summarize(await runSeedsInPool(request, seeds, 2));
    expect(two).toEqual(one);
    expect(one.find((summary) => summary.name === 'fenced')!.verdict).toBe('holds');
  });
});
