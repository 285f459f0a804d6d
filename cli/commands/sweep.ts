// `sim sweep`: a parameter grid of one strategy over the same data, each combination a replay, spread over
// worker threads. Thin glue over adapters/sweep.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import cliProgress from 'cli-progress';
import { SimError, parseParamPairs } from '../../engine/index.ts';
import { parseGrid, runSweep, type SweepResult } from '../../adapters/sweep/run-sweep.ts';
import type { SweepRow } from '../../adapters/sweep/sweep-task.ts';
import { datesOf, runOptionsOf, withRunOptions, type RunArguments } from './replay.ts';

interface SweepArguments extends RunArguments {
  grid: string[];
  workers?: number;
  sort: string;
  top: number;
  json: boolean;
  out?: string;
}

const SORT_KEYS = ['sharpe', 'sortino', 'totalPnl', 'realizedPnl', 'returnFraction', 'maxDrawdown', 'trades', 'winRate'] as const;
type SortKey = (typeof SORT_KEYS)[number];

/** Best first: larger is better but for maxDrawdown; rows without a value (refused, null ratio) last; ties in grid order. */
export function rankRows(rows: readonly SweepRow[], key: SortKey): SweepRow[] {
  const value = (row: SweepRow): number => {
    const v = row[key];
    return typeof v === 'number' && Number.isFinite(v) ? (key === 'maxDrawdown' ? -v : v) : Number.NEGATIVE_INFINITY;
  };
  return [...rows].sort((a, b) => value(b) - value(a) || a.index - b.index);
}

function table(result: SweepResult, key: SortKey, top: number): string {
  const names = result.grid.map((axis) => axis.name);
  const header = [...names, 'trades', 'win', 'realized', 'total', 'maxDD', 'sharpe', 'sortino', 'digest'];
  const fixed = (v: number | null | undefined, digits: number) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');
  const ranked = rankRows(result.rows, key);
  const shown = ranked.slice(0, top);
  const lines = shown.map((row) => (row.status === 'refused'
    ? [...names.map((name) => row.params[name]), `refused: ${row.reason}`]
    : [...names.map((name) => row.params[name]), String(row.trades), fixed(row.winRate, 3), fixed(row.realizedPnl, 2), fixed(row.totalPnl, 2), fixed(row.maxDrawdown, 2),
      fixed(row.sharpe, 3), fixed(row.sortino, 3), row.runDigest!.slice(0, 12)]));
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (column < line.length && line.length === header.length ? line[column].length : 0))));
  const format = (line: string[]) => line.map((cell, column) => (column < line.length - 1 || line.length === header.length ? cell.padEnd(widths[column]) : cell)).join('  ').trimEnd();
  const out = [
    `sweep ${result.strategy}: ${result.combinations} combinations (${result.refused} refused) of ${names.join(' x ')}, ranked by ${key}${shown.length < ranked.length ? `, best ${shown.length}` : ''}`,
    format(header), ...lines.map(format),
    `sweep digest ${result.sweepDigest}`,
  ];
  return `${out.join('\n')}\n`;
}

export const sweepCommand: CommandModule<object, SweepArguments> = {
  command: 'sweep',
  describe: 'replay a grid of strategy parameters over the same data, in parallel, and rank the runs',
  builder: (yargs: Argv) => withRunOptions(yargs)
    .option('grid', { type: 'string', array: true, default: [], describe: 'a swept parameter: name=value1,value2,... (repeatable)' })
    .option('workers', { type: 'number', describe: 'worker threads (default: the cores, at most the combinations); the results do not depend on it' })
    .option('sort', { type: 'string', default: 'sharpe', choices: [...SORT_KEYS], describe: 'rank the table by this figure (maxDrawdown: smallest first)' })
    .option('top', { type: 'number', default: 20, describe: 'rows of the table' })
    .option('out', { type: 'string', describe: 'write sweep.json (every row, with its run digest) to this folder' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON object on stdout' }) as unknown as Argv<SweepArguments>,
  handler: async (args) => {
    const grid = parseGrid(args.grid ?? []);
    const { fromDate, toDate } = datesOf(args, 'expected --date D or --from A --to B; found none');
    if (!(Number.isInteger(args.top) && args.top >= 1)) throw new SimError('BAD_OPTION', `expected --top to be a whole number >= 1, found ${args.top}`);
    const workers = args.workers ?? Math.max(1, availableParallelism());
    const showProgress = process.stderr.isTTY === true && !args.json;
    const bar = showProgress ? new cliProgress.SingleBar({ stream: process.stderr, format: 'sweep [{bar}] {value}/{total} runs', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
    let started = false;
    let result: SweepResult;
    try {
      result = await runSweep({
        base: runOptionsOf(args, fromDate, toDate), fixed: parseParamPairs(args.param ?? []), grid, workers,
        onProgress: bar ? (done, total) => {
          if (!started) { bar.start(total, 0); started = true; }
          bar.update(done);
        } : undefined,
      });
    } finally {
      if (started) bar!.stop();
    }
    const skipped = result.rows.find((row) => row.skippedRows)?.skippedRows;
    if (skipped && skipped.total > 0) {
      process.stderr.write(`sim: skipped ${skipped.total} bad bars in every run (${Object.entries(skipped.counts).map(([k, v]) => `${k}: ${v}`).join(', ')})\n`);
    }
    const report = { ...result, from: fromDate, to: toDate, ranking: args.sort, ranked: rankRows(result.rows, args.sort as SortKey).map((row) => row.index) };
    if (args.out !== undefined) {
      const dir = path.resolve(args.out);
      await fs.mkdir(dir, { recursive: true });
      const file = path.join(dir, 'sweep.json');
      await fs.writeFile(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
      await fs.rename(`${file}.tmp`, file);
    }
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(table(result, args.sort as SortKey, args.top));
  },
};
