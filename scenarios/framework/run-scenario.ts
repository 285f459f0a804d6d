// Runs a scenario's variants for one seed or many, checks the invariants, gives verdicts and shrinks failing
// fault schedules. Merging is by seed, so the result does not depend on how seeds were spread over workers.
import { SimError } from '../../engine/errors.ts';
import type { Fault, RunContext, Scenario, ScenarioMode, ScenarioOptions, VariantRole, Violation } from './scenario.ts';
import { SeededRandom } from './seeded-random.ts';

/** `unchecked`: a fix with no violation where some invariant had nothing to check, which proves nothing. */
export type Verdict = 'reproduced' | 'not-reproduced' | 'holds' | 'fails' | 'unchecked';

export interface VariantSeedResult {
  readonly name: string;
  readonly role: VariantRole;
  readonly verdict: Verdict;
  readonly violations: Record<string, number>;
  /** Cases each invariant checked. */
  readonly checked: Record<string, number>;
  readonly metrics: Record<string, number>;
  /** Up to three example violation messages, for the report. */
  readonly examples: string[];
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface SeedResult {
  readonly seed: number;
  readonly faults: readonly Fault[];
  readonly variants: VariantSeedResult[];
}

export interface SeedRunRequest {
  readonly scenario: string;
  readonly mode: ScenarioMode;
  readonly seed: number;
  readonly variants: readonly string[];
  readonly options: ScenarioOptions;
  readonly short: boolean;
  /** Replaces the seeded fault schedule (replaying a shrunk schedule). */
  readonly faults?: readonly Fault[];
  readonly durationUs?: number;
}

const EXAMPLES_MAX = 3;

/** The verdict of a variant; a fix holds only where every invariant checked at least one case. */
export function verdictFor(role: VariantRole, violated: boolean, checked: Readonly<Record<string, number>> = {}): Verdict {
  if (role === 'unfixed') return violated ? 'reproduced' : 'not-reproduced';
  if (violated) return 'fails';
  return uncheckedInvariants(checked).length > 0 ? 'unchecked' : 'holds';
}

/** Invariants that checked nothing. */
export function uncheckedInvariants(checked: Readonly<Record<string, number>>): string[] {
  return Object.entries(checked).filter(([, count]) => count === 0).map(([name]) => name);
}

export function variantsToRun(scenario: Scenario<any>, only: string | undefined): string[] {
  if (only === undefined) return scenario.variants.map((variant) => variant.name);
  if (!scenario.variants.some((variant) => variant.name === only)) {
    throw new SimError('UNKNOWN_VARIANT', `expected a variant of ${scenario.name} (${scenario.variants.map((v) => v.name).join(', ')}), found "${only}"`);
  }
  return [only];
}

export function resolveOptions(scenario: Scenario<any>, given: ScenarioOptions): ScenarioOptions {
  const resolved: Record<string, number | string> = {};
  for (const spec of scenario.optionSpecs) resolved[spec.name] = given[spec.name] ?? spec.defaultValue;
  return resolved;
}

function contextFor(scenario: Scenario<any>, request: SeedRunRequest, variant: string): RunContext {
  const root = new SeededRandom(request.seed);
  const durationUs = request.durationUs ?? scenario.durationUs(request.mode, request.short, request.options);
  const faults = request.faults ?? scenario.faultSchedule(root.child('faults'), durationUs, request.mode, request.options);
  return { seed: request.seed, variant, mode: request.mode, faults, durationUs, options: request.options, rng: root.child('workload') };
}

function evaluate(scenario: Scenario<any>, context: RunContext, record: { history: readonly any[]; truth: unknown; metrics: Readonly<Record<string, number>>; details?: Readonly<Record<string, unknown>> }): VariantSeedResult {
  const spec = scenario.variants.find((variant) => variant.name === context.variant)!;
  const violations: Record<string, number> = {};
  const checked: Record<string, number> = {};
  const examples: string[] = [];
  let total = 0;
  for (const invariant of scenario.invariants) {
    const result = invariant.check(record.history, record.truth, context);
    const found: Violation[] = result.violations;
    violations[invariant.name] = found.length;
    checked[invariant.name] = result.checked;
    total += found.length;
    for (const violation of found) {
      if (examples.length >= EXAMPLES_MAX) break;
      examples.push(`${invariant.name}: ${violation.message}`);
    }
  }
  return { name: spec.name, role: spec.role, verdict: verdictFor(spec.role, total > 0, checked), violations, checked, metrics: { ...record.metrics }, examples, ...(record.details ? { details: record.details } : {}) };
}

/** Runs the requested variants of one seed in sim mode (deterministic: virtual time only). */
export async function runSeedSim(scenario: Scenario<any>, request: SeedRunRequest): Promise<SeedResult> {
  const variants: VariantSeedResult[] = [];
  let faults: readonly Fault[] = [];
  for (const variant of request.variants) {
    const context = contextFor(scenario, request, variant);
    faults = context.faults;
    variants.push(evaluate(scenario, context, await scenario.runSim(context)));
  }
  return { seed: request.seed, faults, variants };
}

/** Runs the requested variants of one seed in either mode. */
export async function runSeed(scenario: Scenario<any>, request: SeedRunRequest): Promise<SeedResult> {
  if (request.mode === 'sim') return runSeedSim(scenario, request);
  if (!scenario.runReal) throw new SimError('NO_REAL_MODE', `expected ${scenario.name} to have a real mode, found sim only`);
  const variants: VariantSeedResult[] = [];
  let faults: readonly Fault[] = [];
  for (const variant of request.variants) {
    const context = contextFor(scenario, request, variant);
    faults = context.faults;
    variants.push(evaluate(scenario, context, await scenario.runReal(context)));
  }
  return { seed: request.seed, faults, variants };
}

export interface VariantSummary {
  readonly name: string;
  readonly role: VariantRole;
  readonly verdict: Verdict;
  /** Violations summed over seeds. */
  readonly violations: Record<string, number>;
  /** Cases checked, summed over seeds. */
  readonly checked: Record<string, number>;
  /** Metrics: for one seed, that seed's; for many, the mean over seeds (and `seedsViolating`). */
  readonly metrics: Record<string, number>;
  readonly seedsViolating: number[];
  readonly examples: string[];
  /** Details of the first seed that reported any. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Merges per-seed results in seed order; a fix holds only if it holds on every seed, the unfixed variant
 * counts as reproduced if it reproduces on any seed (the count is in `seedsViolating`). */
export function summarize(results: readonly SeedResult[]): VariantSummary[] {
  const ordered = [...results].sort((a, b) => a.seed - b.seed);
  if (ordered.length === 0) return [];
  const summaries: VariantSummary[] = [];
  for (let index = 0; index < ordered[0].variants.length; index += 1) {
    const first = ordered[0].variants[index];
    const violations: Record<string, number> = {};
    const checked: Record<string, number> = {};
    const metricSums: Record<string, number> = {};
    const seedsViolating: number[] = [];
    const examples: string[] = [];
    for (const result of ordered) {
      const variant = result.variants[index];
      let violated = false;
      for (const [name, count] of Object.entries(variant.violations)) {
        violations[name] = (violations[name] ?? 0) + count;
        if (count > 0) violated = true;
      }
      for (const [name, count] of Object.entries(variant.checked)) checked[name] = (checked[name] ?? 0) + count;
      if (violated) {
        seedsViolating.push(result.seed);
        for (const example of variant.examples) if (examples.length < EXAMPLES_MAX) examples.push(`seed ${result.seed}: ${example}`);
      }
      for (const [name, value] of Object.entries(variant.metrics)) metricSums[name] = (metricSums[name] ?? 0) + value;
    }
    const metrics: Record<string, number> = {};
    for (const [name, sum] of Object.entries(metricSums)) metrics[name] = round(sum / ordered.length);
    if (ordered.length > 1) metrics.seedsViolating = seedsViolating.length;
    const details = ordered.map((result) => result.variants[index].details).find((value) => value !== undefined);
    summaries.push({ name: first.name, role: first.role, verdict: verdictFor(first.role, seedsViolating.length > 0, checked), violations, checked, metrics, seedsViolating, examples, ...(details ? { details } : {}) });
  }
  return summaries;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Exit 0 only when the unfixed variant reproduces and the robust fix holds (over the variants run). */
export function exitCodeFor(summaries: readonly VariantSummary[]): number {
  const unfixed = summaries.find((summary) => summary.role === 'unfixed');
  const robust = summaries.find((summary) => summary.role === 'robust-fix');
  if (unfixed && unfixed.verdict !== 'reproduced') return 1;
  if (robust && robust.verdict !== 'holds') return 1;
  if (!unfixed && !robust) return summaries.every((summary) => summary.verdict === 'holds' || summary.verdict === 'reproduced') ? 0 : 1;
  return 0;
}

export interface ShrinkResult {
  /** The invariant the shrunk schedule still violates. */
  readonly invariant: string;
  readonly variant: string;
  readonly seed: number;
  readonly faults: Fault[];
  readonly durationUs: number;
  readonly runs: number;
}

const SHRINK_RUNS_MAX = 300;
const SETTLE_US = 120_000_000;

/**
 * Shrinks the fault schedule of a failing seed (sim mode) to a smaller one that still fails the same way --
 * the first invariant (in the scenario's order) that the original run violated is still violated: drop
 * faults one at a time, cut the run to the last fault plus a settle window, shift the schedule earlier,
 * shorten faults, pull them together. Bounded by SHRINK_RUNS_MAX runs.
 */
export async function shrinkFailure(scenario: Scenario<any>, request: SeedRunRequest, variant: string, original: SeedResult): Promise<ShrinkResult> {
  let runs = 0;
  const durationFull = request.durationUs ?? scenario.durationUs('sim', request.short, request.options);
  const originalVariant = original.variants.find((candidate) => candidate.name === variant)!;
  const target = scenario.invariants.map((invariant) => invariant.name).find((name) => (originalVariant.violations[name] ?? 0) > 0);
  const fails = async (faults: Fault[], durationUs: number): Promise<boolean> => {
    if (runs >= SHRINK_RUNS_MAX || target === undefined) return false;
    runs += 1;
    const result = await runSeedSim(scenario, { ...request, variants: [variant], faults, durationUs });
    return (result.variants[0].violations[target] ?? 0) > 0;
  };
  let faults = [...original.faults];
  let durationUs = durationFull;
  // 1. Drop whole faults while it still fails (restart after each success: greedy one-minimal).
  let changed = true;
  while (changed && runs < SHRINK_RUNS_MAX) {
    changed = false;
    for (let index = 0; index < faults.length; index += 1) {
      const candidate = faults.filter((_, other) => other !== index);
      if (await fails(candidate, durationUs)) { faults = candidate; changed = true; break; }
    }
  }
  // 2. Cut the run to the end of the last fault plus a settle window (only where the run's length is ours to set).
  const lengthFollows = scenario.durationModes.includes('sim');
  const lastEndUs = faults.reduce((end, fault) => Math.max(end, fault.atUs + fault.durationUs), 0);
  const cutUs = Math.min(durationUs, lastEndUs + SETTLE_US);
  if (lengthFollows && cutUs < durationUs && (await fails(faults, cutUs))) durationUs = cutUs;
  // 3. Shift the whole schedule earlier so the first fault starts near the beginning.
  const firstAtUs = faults.reduce((start, fault) => Math.min(start, fault.atUs), Number.POSITIVE_INFINITY);
  if (Number.isFinite(firstAtUs) && firstAtUs > 5_000_000) {
    const shift = firstAtUs - 5_000_000;
    const shifted = faults.map((fault) => ({ ...fault, atUs: fault.atUs - shift }));
    const shiftedDuration = lengthFollows ? Math.max(SETTLE_US, durationUs - shift) : durationUs;
    if (await fails(shifted, shiftedDuration)) { faults = shifted; durationUs = shiftedDuration; }
  }
  // 4. Halve each fault's duration while it still fails (bounded per fault).
  for (let index = 0; index < faults.length; index += 1) {
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const fault = faults[index];
      if (fault.durationUs < 1_000_000) break;
      const candidate = faults.map((other, otherIndex) => (otherIndex === index ? { ...other, durationUs: Math.round(other.durationUs / 2) } : other));
      if (!(await fails(candidate, durationUs))) break;
      faults = candidate;
    }
  }
  // 5. Pull later faults towards the first one so the schedule fits a short window.
  for (let index = 0; index < faults.length; index += 1) {
    const earliest = faults.reduce((start, fault) => Math.min(start, fault.atUs), Number.POSITIVE_INFINITY);
    const fault = faults[index];
    if (fault.atUs - earliest <= 10_000_000) continue;
    const candidate = faults.map((other, otherIndex) => (otherIndex === index ? { ...other, atUs: earliest + 10_000_000 } : other));
    if (await fails(candidate, durationUs)) faults = candidate;
  }
  faults.sort((a, b) => a.atUs - b.atUs);
  return { variant, seed: request.seed, faults, durationUs, runs, invariant: target ?? '' };
}
