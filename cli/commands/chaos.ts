// `sim chaos list` and `sim chaos NAME`: runs a chaos scenario's variants over one or many seeds, prints a
// table per variant (or one JSON object with --json) and exits 0 only when the unfixed variant reproduces
// the incident and the robust fix holds.
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';
import { findScenario, scenarios } from '../../scenarios/index.ts';
import {
  exitCodeFor, resolveOptions, runSeed, shrinkFailure, summarize, variantsToRun, type SeedResult, type SeedRunRequest, type ShrinkResult,
} from '../../scenarios/framework/run-scenario.ts';
import { formatReport, variantReport, type ChaosReport } from '../../scenarios/framework/report.ts';
import type { Fault, Scenario, ScenarioMode, ScenarioOptionSpec } from '../../scenarios/framework/scenario.ts';

interface ChaosArguments {
  name: string;
  variant?: string;
  mode: string;
  seed: number;
  seeds: number;
  workers: number;
  json: boolean;
  short: boolean;
  shrink: boolean;
  faults?: string;
  'duration-us'?: number;
  [option: string]: unknown;
}

const SEEDS_MAX = 100_000;
const SEED_MAX = 4_294_967_295;
const WORKERS_MAX = 64;
/** Longest scenario time a replay may ask for: one 24-hour day. */
const DURATION_US_MAX = 86_400_000_000;

export const chaosCommand: CommandModule<object, ChaosArguments> = {
  command: 'chaos <name>',
  describe: 'run a chaos scenario (`sim chaos list` lists them)',
  builder: (yargs) => yargs
    .positional('name', { type: 'string', demandOption: true, describe: 'scenario name, or "list"' })
    .option('variant', { type: 'string', describe: 'run only this variant' })
    .option('mode', { type: 'string', choices: ['sim', 'real'], default: 'sim', describe: 'sim: virtual time; real: real DuckDB files, redis-server, processes' })
    .option('seed', { type: 'number', default: 1, describe: 'first seed (an integer from 0)' })
    .option('seeds', { type: 'number', default: 1, describe: 'number of seeds, from --seed on' })
    .option('workers', { type: 'number', default: 2, describe: 'worker threads for --seeds in sim mode' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
    .option('short', { type: 'boolean', default: false, describe: 'the short run used by the test suite' })
    .option('shrink', { type: 'boolean', default: true, describe: 'shrink the fault schedule of a failing seed (sim mode)' })
    .option('faults', { type: 'string', describe: 'replay this fault schedule (JSON array) instead of the seeded one' })
    .option('duration-us', { type: 'number', describe: 'scenario time of the run in microseconds' })
    .options(scenarioOptions()) as any,
  handler: async (argv) => {
    process.exitCode = await runChaos(argv);
  },
};

/** Every scenario's own options (--load, --layout, --time-scale, --ticks ...), typed by their defaults. */
function scenarioOptions(): Record<string, { type: 'number' | 'string'; describe: string }> {
  const options: Record<string, { type: 'number' | 'string'; describe: string }> = {};
  for (const scenario of scenarios) {
    for (const spec of scenario.optionSpecs) {
      const describe = options[spec.name] ? `${options[spec.name].describe}; ${scenario.name}: ${spec.describe}` : `${scenario.name}: ${spec.describe} (default ${spec.defaultValue})`;
      options[spec.name] = { type: typeof spec.defaultValue === 'number' ? 'number' : 'string', describe };
    }
  }
  return options;
}

/** Checks a scenario option's value against its spec (choices, range, integer). */
function checkOption(scenario: Scenario<any>, spec: ScenarioOptionSpec, value: unknown): number | string {
  const flag = `--${spec.name}`;
  if (typeof spec.defaultValue === 'string') {
    const text = String(value);
    if (spec.choices && !spec.choices.includes(text)) throw new SimError('BAD_OPTION', `expected ${flag} of ${scenario.name} to be one of ${spec.choices.join(', ')}, found ${text}`);
    return text;
  }
  const number = typeof value === 'number' ? value : Number.NaN;
  if (!Number.isFinite(number)) throw new SimError('BAD_OPTION', `expected ${flag} to be a number, found ${String(value)}`);
  if (spec.integer && !Number.isInteger(number)) throw new SimError('BAD_OPTION', `expected ${flag} to be an integer, found ${number}`);
  if (spec.range && (number < spec.range[0] || number > spec.range[1])) throw new SimError('BAD_OPTION', `expected ${flag} of ${scenario.name} between ${spec.range[0]} and ${spec.range[1]}, found ${number}`);
  return number;
}

/** Every option that belongs to some scenario, by name. */
function scenarioOptionNames(): Set<string> {
  return new Set(scenarios.flatMap((scenario) => scenario.optionSpecs.map((spec) => spec.name)));
}

function integerFlag(name: string, value: unknown, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new SimError('BAD_OPTION', `expected --${name} to be an integer from ${low} to ${high}, found ${String(value)}`);
  }
  return value;
}

/** Parses and checks --faults: a JSON array of { kind, atUs, durationUs[, target] } with kinds of the scenario. */
export function parseFaults(scenario: Scenario<any>, text: string): Fault[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SimError('BAD_FAULTS', `expected --faults to be a JSON array of faults, found ${text.slice(0, 60)}`);
  }
  if (!Array.isArray(parsed)) throw new SimError('BAD_FAULTS', `expected --faults to be a JSON array of faults, found ${text.slice(0, 60)}`);
  const kinds = scenario.faultKinds.join(', ') || 'none';
  return parsed.map((item: unknown, index): Fault => {
    const found = JSON.stringify(item)?.slice(0, 80) ?? String(item);
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new SimError('BAD_FAULTS', `expected fault ${index} to be an object {kind, atUs, durationUs}, found ${found}`);
    const fault = item as Record<string, unknown>;
    const extra = Object.keys(fault).filter((key) => !['kind', 'atUs', 'durationUs', 'target'].includes(key));
    if (extra.length > 0) throw new SimError('BAD_FAULTS', `expected fault ${index} to have only kind, atUs, durationUs and target, found ${extra.join(', ')}`);
    if (typeof fault.kind !== 'string' || !scenario.faultKinds.includes(fault.kind)) throw new SimError('BAD_FAULTS', `expected fault ${index} of ${scenario.name} to have a kind of ${kinds}, found ${found}`);
    for (const key of ['atUs', 'durationUs'] as const) {
      const value = fault[key];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new SimError('BAD_FAULTS', `expected fault ${index} to have ${key} an integer >= 0 (microseconds), found ${found}`);
    }
    if (fault.target !== undefined && typeof fault.target !== 'string') throw new SimError('BAD_FAULTS', `expected fault ${index} to have a string target, found ${found}`);
    return { kind: fault.kind, atUs: fault.atUs as number, durationUs: fault.durationUs as number, ...(fault.target !== undefined ? { target: fault.target as string } : {}) };
  });
}

function quote(value: string): string {
  return /^[\w.,:=/-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

function replayCommand(name: string, mode: ScenarioMode, seed: number, variant: string, options: Record<string, number | string>, extra: string[] = []): string {
  const parts = ['npx sim chaos', name, `--mode ${mode}`, `--seed ${seed}`, `--variant ${variant}`];
  for (const [option, value] of Object.entries(options)) parts.push(`--${option} ${quote(String(value))}`);
  return [...parts, ...extra].join(' ');
}

export async function runChaos(argv: ChaosArguments): Promise<number> {
  if (argv.name === 'list') {
    if (argv.json) {
      const list = scenarios.map((scenario) => ({
        name: scenario.name, describe: scenario.describe, modes: scenario.modes,
        variants: scenario.variants.map((variant) => ({ name: variant.name, role: variant.role, describe: variant.describe })),
        options: scenario.optionSpecs.map((spec) => ({ ...spec })),
        faultKinds: scenario.faultKinds, faultModes: scenario.faultModes, durationModes: scenario.durationModes,
      }));
      process.stdout.write(`${JSON.stringify({ scenarios: list })}\n`);
      return 0;
    }
    for (const scenario of scenarios) {
      process.stdout.write(`${scenario.name.padEnd(16)} ${scenario.describe}\n`);
      for (const variant of scenario.variants) process.stdout.write(`  ${variant.name.padEnd(14)} ${variant.role.padEnd(10)} ${variant.describe}\n`);
    }
    return 0;
  }
  const scenario = findScenario(argv.name);
  if (!scenario) throw new SimError('UNKNOWN_SCENARIO', `expected one of ${scenarios.map((s) => s.name).join(', ')} or "list", found "${argv.name}"`);
  const mode = argv.mode as ScenarioMode;
  if (!scenario.modes.includes(mode)) throw new SimError('UNSUPPORTED_MODE', `expected ${scenario.name} in mode ${scenario.modes.join(' or ')}, found ${mode}`);
  if (!Number.isInteger(argv.seeds) || argv.seeds < 1 || argv.seeds > SEEDS_MAX) throw new SimError('BAD_SEEDS', `expected --seeds between 1 and ${SEEDS_MAX}, found ${argv.seeds}`);
  integerFlag('seed', argv.seed, 0, SEED_MAX - argv.seeds + 1);
  integerFlag('workers', argv.workers, 1, WORKERS_MAX);
  const raw = argv as unknown as Record<string, unknown>;
  const own = new Set(scenario.optionSpecs.map((spec) => spec.name));
  for (const name of scenarioOptionNames()) {
    if (!own.has(name) && raw[name] !== undefined) {
      const allowed = scenario.optionSpecs.map((spec) => `--${spec.name}`).join(', ') || 'none';
      throw new SimError('BAD_OPTION', `expected options of ${scenario.name} (${allowed}), found --${name}`);
    }
  }
  const given: Record<string, number | string> = {};
  for (const spec of scenario.optionSpecs) {
    const value = raw[spec.name];
    if (value !== undefined) given[spec.name] = checkOption(scenario, spec, value);
  }
  const options = resolveOptions(scenario, given);
  let faults: Fault[] | undefined;
  if (argv.faults !== undefined) {
    if (!scenario.faultModes.includes(mode)) {
      const where = scenario.faultModes.length === 0 ? 'in any mode' : `in ${mode} mode (only in ${scenario.faultModes.join(', ')})`;
      throw new SimError('BAD_OPTION', `expected no --faults: ${scenario.name} injects no faults ${where}, found --faults`);
    }
    faults = parseFaults(scenario, String(argv.faults));
  }
  const durationUs = argv['duration-us'];
  if (durationUs !== undefined) {
    if (!scenario.durationModes.includes(mode)) {
      const where = scenario.durationModes.length === 0 ? 'in any mode' : `in ${mode} mode`;
      throw new SimError('BAD_OPTION', `expected no --duration-us: the length of a ${scenario.name} run is fixed ${where}, found --duration-us`);
    }
    integerFlag('duration-us', durationUs, 1, DURATION_US_MAX);
  }
  const variants = variantsToRun(scenario, argv.variant);
  const request: Omit<SeedRunRequest, 'seed'> = {
    scenario: scenario.name, mode, variants, options, short: argv.short,
    ...(faults ? { faults } : {}),
    ...(durationUs !== undefined ? { durationUs } : {}),
  };
  const seeds = Array.from({ length: argv.seeds }, (_, index) => argv.seed + index);
  const startedMs = Date.now();
  let results: SeedResult[];
  if (mode === 'sim' && seeds.length > 1) {
    const { runSeedsInPool } = await import('../../adapters/chaos/seed-pool.ts');
    results = await runSeedsInPool(request, seeds, argv.workers);
  } else {
    results = [];
    for (const seed of seeds) results.push(await runSeed(scenario, { ...request, seed }));
  }
  const summaries = summarize(results);
  const extra: string[] = [];
  if (argv.short) extra.push('--short');
  // The replay of a run given its own schedule or length must pass them too (the shrunk replay has its own).
  const givenReplay: string[] = [];
  if (faults) givenReplay.push(`--faults ${quote(JSON.stringify(faults))}`);
  if (durationUs !== undefined) givenReplay.push(`--duration-us ${durationUs}`);
  const reports = [];
  for (const summary of summaries) reports.push(await (async () => {
    const failing = summary.seedsViolating[0];
    if (failing === undefined) return variantReport(summary, undefined, undefined, undefined);
    const replay = replayCommand(scenario.name, mode, failing, summary.name, options, [...extra, ...givenReplay]);
    let shrunk: ShrinkResult | undefined;
    let shrunkReplay: string | undefined;
    if (mode === 'sim' && argv.shrink) {
      const original = results.find((result) => result.seed === failing)!;
      shrunk = await shrinkFailure(scenario, { ...request, seed: failing }, summary.name, original);
      const shrunkFlags = [
        ...(scenario.faultModes.includes(mode) ? [`--faults ${quote(JSON.stringify(shrunk.faults))}`] : []),
        ...(scenario.durationModes.includes(mode) ? [`--duration-us ${shrunk.durationUs}`] : []),
      ];
      shrunkReplay = replayCommand(scenario.name, mode, failing, summary.name, options, [...extra, ...shrunkFlags]);
    }
    return variantReport(summary, replay, shrunk, shrunkReplay);
  })());
  const report: ChaosReport = {
    scenario: scenario.name, mode, seed: argv.seed, seeds: argv.seeds, options, variants: reports, elapsedMs: Date.now() - startedMs,
  };
  process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  return exitCodeFor(summaries);
}
