// `sim tape ...`: record tick tapes (Arrow IPC streams), describe them (including a torn tail), and move
// them into a catalog.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';
import { DEFAULT_CATALOG_DIR } from '../../adapters/catalog/index.ts';
import { isoOfUs } from '../../adapters/catalog/open-catalog.ts';
import { generateTicks, generatedInstruments, type GeneratedTickChunk } from '../../adapters/catalog/generate-ticks.ts';
import { TapeRecorder, openTape, tapeToCatalog, type TapeInfo } from '../../adapters/tape/index.ts';

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

const recordCommand: CommandModule<any, any> = {
  command: 'record',
  describe: 'record a tick tape from a source (generate: the seeded synthetic ticks of `sim data generate`)',
  builder: (yargs) => yargs
    .option('out', { type: 'string', demandOption: true, describe: 'tape file to write' })
    .option('source', { choices: ['generate'], default: 'generate' })
    .option('symbols', { type: 'number', default: 5 })
    .option('days', { type: 'number', default: 1 })
    .option('seed', { type: 'number', default: 1 })
    .option('ticks-per-sec', { type: 'number', default: 2 })
    .option('batch-rows', { type: 'number', default: 4096, describe: 'prints per record batch' })
    .option('pace-ms', { type: 'number', default: 0, describe: 'wait this long between batches (a live-like feed)' })
    .option('fsync-ms', { type: 'number', default: 0, describe: '0: fsync every batch; else at most every N ms' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    if (argv.source !== 'generate') throw new SimError('TAPE_UNKNOWN_SOURCE', `expected --source generate, found ${argv.source}`);
    const recorder = TapeRecorder.create(path.resolve(argv.out), generatedInstruments(argv.symbols), { fsyncEveryMs: argv.fsyncMs });
    const pending: GeneratedTickChunk[] = [];
    generateTicks({ symbols: argv.symbols, days: argv.days, seed: argv.seed, ticksPerSecond: argv.ticksPerSec, chunkRows: argv.batchRows }, (chunk) => {
      if (argv.paceMs > 0) pending.push(chunk);
      else recorder.append(chunk);
    });
    for (const chunk of pending) {
      recorder.append(chunk);
      await sleep(argv.paceMs);
    }
    recorder.close();
    print(argv.json, { file: recorder.file, batches: recorder.batches, rows: recorder.rows }, () => `recorded ${recorder.rows} ticks in ${recorder.batches} batches to ${recorder.file}`);
  },
};

function infoText(info: TapeInfo): string {
  const state = info.closed ? 'closed cleanly' : info.tornTail
    ? `TORN TAIL: ${info.tornBytes} bytes after the last complete batch were dropped (the recorder stopped mid-write)`
    : 'not closed (the recorder stopped between batches); every batch is complete';
  return [
    `tape ${info.file}: ${info.rows} ticks in ${info.batches} complete batches, ${info.bytes} bytes; ${state}`,
    `instruments: ${info.instruments.map((instrument) => `${instrument.symbol} (priceScale ${instrument.priceScale}, lotScale ${instrument.lotScale})`).join(', ')}`,
    info.firstTimeUs !== undefined ? `time: ${isoOfUs(info.firstTimeUs)} .. ${isoOfUs(info.lastTimeUs!)}` : 'time: no ticks',
  ].join('\n');
}

const infoCommand: CommandModule<any, any> = {
  command: 'info <file>',
  describe: 'batches, ticks, instruments, time range, and whether the tail is torn',
  builder: (yargs) => yargs.positional('file', { type: 'string' }).option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const tape = await openTape(path.resolve(argv.file));
    print(argv.json, tape.info, () => infoText(tape.info));
  },
};

const toParquetCommand: CommandModule<any, any> = {
  command: 'to-parquet <file>',
  describe: "write a tape's complete batches into a catalog's tick partitions",
  builder: (yargs) => yargs.positional('file', { type: 'string' })
    .option('catalog', { type: 'string', default: DEFAULT_CATALOG_DIR, defaultDescription: '<repo>/data/catalog' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const report = await tapeToCatalog(path.resolve(argv.file), argv.catalog);
    print(argv.json, report, () => `${report.tape.rows} ticks from ${report.tape.batches} batches${report.tape.tornTail ? ` (torn tail of ${report.tape.tornBytes} bytes left out)` : ''}: ${report.datesWritten.length} date partitions written, ${report.datesUnchanged} unchanged; catalog rows ${report.rowsBefore} -> ${report.rowsAfter}`);
  },
};

export const tapeCommand: CommandModule<any, any> = {
  command: 'tape <command>',
  describe: 'tick tapes (Arrow IPC streams): record, info, to-parquet',
  builder: (yargs) => yargs.command(recordCommand).command(infoCommand).command(toParquetCommand).demandCommand(1),
  handler: () => undefined,
};
