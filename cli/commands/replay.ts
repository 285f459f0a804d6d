// `sim replay`: run a strategy over historical data and report. Thin glue over adapters/replay.
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import cliProgress from 'cli-progress';
import { SimError, parseParamPairs, type FillMode, type IntrabarPolicy } from '../../engine/index.ts';
import { DEFAULT_CATALOG_DIR } from '../../adapters/catalog/index.ts';
import { runReplay, DEFAULT_RISK, type ReplayOptions, type ReplaySource } from '../../adapters/replay/run-replay.ts';
import { writeArtefacts, buildReport } from '../../adapters/replay/write-artefacts.ts';
import { openTapeSource } from '../../adapters/replay/tape-source.ts';
import { replaySession } from '../../adapters/runtime/session-replay.ts';
import { formatSummary } from '../format-summary.ts';
import { STRATEGIES } from '../../strategies/index.ts';

/** The arguments withRunOptions defines. */
export interface RunArguments {
  date?: string;
  from?: string;
  to?: string;
  symbols?: string[];
  strategy: string;
  param: string[];
  seed: number;
  fill: string;
  intrabar: string;
  'fees-bps': number;
  'fee-minimum': number;
  'slippage-bps': number;
  'slippage-ticks': number;
  'latency-ms': number;
  'latency-jitter-ms': number;
  'max-volume-share': number;
  cash: number;
  catalog: string;
  'skip-bad': boolean;
  risk: boolean;
  'max-position'?: number;
  'daily-loss-limit'?: number;
  'risk-per-trade'?: number;
  data: string;
}

interface ReplayArguments extends RunArguments {
  out?: string;
  json: boolean;
  tape?: string;
  session?: string;
  'run-id'?: string;
  artefacts: boolean;
}

export async function loadSource(args: { tape?: string }): Promise<ReplaySource | undefined> {
  if (!args.tape) return undefined;
  const source = await openTapeSource(path.resolve(args.tape));
  if (source.tornBytes > 0) process.stderr.write(`sim: tape ${args.tape} has a torn tail of ${source.tornBytes} bytes; replaying its complete batches\n`);
  return source;
}

/** The options a replay run and a sweep share: the data, the strategy, costs, fills and risk. */
export function withRunOptions(yargs: Argv): Argv {
  return yargs
    .option('date', { type: 'string', describe: 'one trading date, YYYY-MM-DD' })
    .option('from', { type: 'string', describe: 'first date of a continuous run' })
    .option('to', { type: 'string', describe: 'last date of a continuous run' })
    .option('symbols', { type: 'string', array: true, describe: 'symbols (default: all in the catalog); comma or space separated' })
    .option('strategy', { type: 'string', default: 'orb', describe: `strategy: ${STRATEGIES.map((s) => s.name).join(', ')}` })
    .option('param', { type: 'string', array: true, default: [], describe: 'strategy parameter k=v (repeatable)' })
    .option('seed', { type: 'number', default: 1, describe: 'seed for every random draw (latency jitter)' })
    .option('fill', { type: 'string', default: 'next-open', choices: ['next-open', 'close'], describe: 'market orders fill at the next bar open or at the signal bar close' })
    .option('intrabar', { type: 'string', default: 'stop-first', choices: ['stop-first', 'target-first'], describe: 'path policy when a stop and a target are both inside one bar' })
    .option('fees-bps', { type: 'number', default: 0, describe: 'fee in basis points of notional' })
    .option('fee-minimum', { type: 'number', default: 0, describe: 'minimum fee per order, in currency' })
    .option('slippage-bps', { type: 'number', default: 0, describe: 'adverse slippage on market and stop fills, in bps' })
    .option('slippage-ticks', { type: 'number', default: 0, describe: 'adverse slippage on market and stop fills, in ticks' })
    .option('latency-ms', { type: 'number', default: 0, describe: 'submit-to-venue latency in milliseconds' })
    .option('latency-jitter-ms', { type: 'number', default: 0, describe: 'extra latency drawn uniformly from [0, jitter] with the seed' })
    .option('max-volume-share', { type: 'number', default: 1, describe: 'largest share of a bar\'s volume one symbol\'s orders may fill' })
    .option('cash', { type: 'number', default: 100_000, describe: 'starting cash' })
    .option('max-position', { type: 'number', describe: 'risk: largest position per symbol, in units' })
    .option('daily-loss-limit', { type: 'number', describe: `risk: daily loss that moves trading to REDUCING (default ${DEFAULT_RISK.dailyLossLimit})` })
    .option('risk-per-trade', { type: 'number', describe: `risk: share of equity at the stop per trade (default ${DEFAULT_RISK.riskPerTrade})` })
    .option('risk', { type: 'boolean', default: true, describe: 'apply the default risk limits (--no-risk to run without)' })
    .option('catalog', { type: 'string', default: DEFAULT_CATALOG_DIR, describe: 'catalog folder' })
    .option('data', { type: 'string', default: 'bars', choices: ['bars', 'ticks'], describe: 'catalog data to replay: 1-minute bars or trade ticks' })
    .option('skip-bad', { type: 'boolean', default: false, describe: 'skip bad bars (NaN, non-positive, high < low) instead of refusing' });
}

/** The risk limits the arguments ask for (the defaults, overridden; none with --no-risk). */
export function riskOf(args: RunArguments): ReplayOptions['risk'] {
  return !args.risk ? {} : {
    ...DEFAULT_RISK,
    ...(args['max-position'] !== undefined ? { maxPosition: args['max-position'] } : {}),
    ...(args['daily-loss-limit'] !== undefined ? { dailyLossLimit: args['daily-loss-limit'] } : {}),
    ...(args['risk-per-trade'] !== undefined ? { riskPerTrade: args['risk-per-trade'] } : {}),
  };
}

/** --date D or --from A --to B, as a range. */
export function datesOf(args: RunArguments, expected = 'expected --date D, --from A --to B, --tape FILE or --session FILE; found none'): { fromDate: string; toDate: string } {
  if (args.date !== undefined) {
    if (args.from !== undefined || args.to !== undefined) throw new SimError('BAD_OPTION', 'expected --date or --from/--to, found both');
    return { fromDate: args.date, toDate: args.date };
  }
  if (args.from !== undefined && args.to !== undefined) return { fromDate: args.from, toDate: args.to };
  throw new SimError('BAD_OPTION', expected);
}

/** The replay options of the shared arguments, for a range of dates. */
export function runOptionsOf(args: RunArguments, fromDate: string, toDate: string): Omit<ReplayOptions, 'params' | 'source' | 'onProgress' | 'runId'> {
  const symbols = (args.symbols ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return {
    catalogDir: path.resolve(args.catalog), fromDate, toDate, symbols, strategy: args.strategy,
    seed: args.seed, fill: args.fill as FillMode, intrabar: args.intrabar as IntrabarPolicy, feesBps: args['fees-bps'], feeMinimum: args['fee-minimum'],
    slippageBps: args['slippage-bps'], slippageTicks: args['slippage-ticks'], latencyMs: args['latency-ms'], latencyJitterMs: args['latency-jitter-ms'], maxVolumeShare: args['max-volume-share'],
    initialCash: args.cash, risk: riskOf(args), skipBad: args['skip-bad'], dataKind: args.data as 'bars' | 'ticks',
  };
}

export const replayCommand: CommandModule<object, ReplayArguments> = {
  command: 'replay',
  describe: 'replay a strategy over historical bars (or a tape) and report',
  builder: (yargs: Argv) => withRunOptions(yargs)
    .option('session', { type: 'string', describe: 'check a recorded paper/live session journal: replay it and compare the outgoing orders' })
    .option('run-id', { type: 'string', describe: 'run id in client order ids (default: the config hash)' })
    .option('tape', { type: 'string', describe: 'replay a recorded tick tape (Arrow IPC) instead of the catalog' })
    .option('out', { type: 'string', describe: 'artefact folder (default runs/<strategy>-<dates>-<run id>)' })
    .option('artefacts', { type: 'boolean', default: true, describe: 'write artefacts (--no-artefacts to skip)' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object on stdout' }) as unknown as Argv<ReplayArguments>,
  handler: async (args) => {
    if (args.session) {
      const result = replaySession(path.resolve(args.session));
      if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.identical) process.stdout.write(`session ${result.file}: identical: ${result.intents} outgoing intents reproduced exactly from ${result.inboundRecords} inbound records (run ${result.runId}, ${result.strategy}); run digest ${result.runDigest}\n`);
      else process.stdout.write(`session ${result.file}: DIFFERS at intent ${result.firstDifference!.index}:\n  recorded: ${result.firstDifference!.recorded ?? '(none)'}\n  replayed: ${result.firstDifference!.replayed ?? '(none)'}\n`);
      if (!result.identical) process.exitCode = 1;
      return;
    }
    if (args.tape !== undefined) {
      // A tape is one recorded session of every symbol it holds: options that choose data from the catalog do not
      // apply to it, and taking them silently would report a run the user did not ask for.
      const given = [
        args.date !== undefined ? `--date ${args.date}` : '', args.from !== undefined ? `--from ${args.from}` : '', args.to !== undefined ? `--to ${args.to}` : '',
        args.symbols !== undefined && args.symbols.length > 0 ? `--symbols ${args.symbols.join(',')}` : '', args['skip-bad'] ? '--skip-bad' : '',
      ].filter((text) => text !== '');
      if (given.length > 0) throw new SimError('BAD_OPTION', `expected --tape alone (a tape replays the whole recorded session), found also ${given.join(' ')}`);
    }
    const source = await loadSource(args);
    const { fromDate, toDate } = source ? { fromDate: source.fromDate, toDate: source.toDate } : datesOf(args);
    const showProgress = process.stderr.isTTY === true;
    const bar = showProgress ? new cliProgress.SingleBar({ stream: process.stderr, format: 'replay [{bar}] {value}/{total} days', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
    let barStarted = false;
    const options: ReplayOptions = {
      ...runOptionsOf(args, fromDate, toDate), params: parseParamPairs(args.param ?? []), source, runId: args['run-id'],
      onProgress: bar ? (done, total) => {
        if (total < 5) return;
        if (!barStarted) { bar.start(total, 0); barStarted = true; }
        bar.update(Math.min(done, total));
      } : undefined,
    };
    let result;
    try {
      result = await runReplay(options);
    } finally {
      if (barStarted) bar!.stop();
    }
    let report: Record<string, unknown>;
    if (!args.artefacts) {
      report = buildReport(result, null);
    } else {
      const outDir = path.resolve(args.out ?? path.join('runs', `${result.config.strategy as string}-${fromDate}${toDate !== fromDate ? `_${toDate}` : ''}-${result.runId}`));
      report = await writeArtefacts(result, outDir);
    }
    if (result.skipped && result.skipped.total > 0) {
      process.stderr.write(`sim: skipped ${result.skipped.total} bad bars (${Object.entries(result.skipped.counts).map(([k, v]) => `${k}: ${v}`).join(', ')})\n`);
    }
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(formatSummary(result, report));
  },
};
