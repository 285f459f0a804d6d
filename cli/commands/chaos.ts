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
import type { Fault, ScenarioMode } from '../../scenarios/framework/scenario.ts';

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

export const chaosCommand: CommandModule<object, ChaosArguments> = {
  command: 'chaos <name>',
  describe: 'run a chaos scenario (`sim chaos list` lists them)',
  builder: (yargs) => yargs
    .positional('name', { type: 'string', demandOption: true, describe: 'scenario name, or "list"' })
    .option('variant', { type: 'string', describe: 'run only this variant' })
    .option('mode', { type: 'string', choices: ['sim', 'real'], default: 'sim', describe: 'sim: virtual time; real: real DuckDB files, redis-server, processes' })
    .option('seed', { type: 'number', default: 1, describe: 'first seed' })
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
  const given: Record<string, number | string> = {};
  for (const spec of scenario.optionSpecs) {
    const value = (argv as unknown as Record<string, unknown>)[spec.name];
    if (typeof value === 'number' || typeof value === 'string') given[spec.name] = value;
  }
  const options = resolveOptions(scenario, given);
  let faults: Fault[] | undefined;
  if (argv.faults !== undefined) {
    try {
      faults = JSON.parse(argv.faults) as Fault[];
    } catch {
      throw new SimError('BAD_FAULTS', `expected --faults to be a JSON array of faults, found ${argv.faults.slice(0, 60)}`);
    }
  }
  const variants = variantsToRun(scenario, argv.variant);
  const request: Omit<SeedRunRequest, 'seed'> = {
    scenario: scenario.name, mode, variants, options, short: argv.short,
    ...(faults ? { faults } : {}),
    ...(argv['duration-us'] !== undefined ? { durationUs: argv['duration-us'] } : {}),
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
  const reports = [];
  for (const summary of summaries) reports.push(await (async () => {
    const failing = summary.seedsViolating[0];
    if (failing === undefined) return variantReport(summary, undefined, undefined, undefined);
    const replay = replayCommand(scenario.name, mode, failing, summary.name, options, extra);
    let shrunk: ShrinkResult | undefined;
    let shrunkReplay: string | undefined;
    if (mode === 'sim' && argv.shrink) {
      const original = results.find((result) => result.seed === failing)!;
      shrunk = await shrinkFailure(scenario, { ...request, seed: failing }, summary.name, original);
      shrunkReplay = replayCommand(scenario.name, mode, failing, summary.name, options, [...extra, `--faults ${quote(JSON.stringify(shrunk.faults))}`, `--duration-us ${shrunk.durationUs}`]);
    }
    return variantReport(summary, replay, shrunk, shrunkReplay);
  })());
  const report: ChaosReport = {
    scenario: scenario.name, mode, seed: argv.seed, seeds: argv.seeds, options, variants: reports, elapsedMs: Date.now() - startedMs,
  };
  process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  return exitCodeFor(summaries);
}
