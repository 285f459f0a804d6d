// `sim tape ...`: record tick tapes (Arrow IPC streams), describe them (including a torn tail), and move
// them into a catalog.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';
import { DEFAULT_CATALOG_DIR, openCatalog } from '../../adapters/catalog/index.ts';
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
    .option('source', { choices: ['generate', 'catalog'], default: 'generate', describe: 'generate: seeded synthetic ticks; catalog: the catalog\'s ticks for --from/--to (as a replay of recorded data)' })
    .option('catalog', { type: 'string', default: DEFAULT_CATALOG_DIR, describe: 'catalog folder (source catalog)' })
    .option('from', { type: 'string', describe: 'first date (source catalog)' })
    .option('to', { type: 'string', describe: 'last date (source catalog; default --from)' })
    .option('symbol', { type: 'string', array: true, describe: 'symbols (source catalog; default all)' })
    .option('symbols', { type: 'number', default: 5 })
    .option('days', { type: 'number', default: 1 })
    .option('seed', { type: 'number', default: 1 })
    .option('ticks-per-sec', { type: 'number', default: 2 })
    .option('batch-rows', { type: 'number', default: 4096, describe: 'prints per record batch' })
    .option('pace-ms', { type: 'number', default: 0, describe: 'wait this long between batches (a live-like feed)' })
    .option('fsync-ms', { type: 'number', default: 0, describe: '0: fsync every batch; else at most every N ms' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    if (argv.source === 'catalog') {
      if (!argv.from) throw new SimError('TAPE_SOURCE_DATES', 'expected --from (and optionally --to) with --source catalog, found none');
      const catalog = await openCatalog(path.resolve(argv.catalog));
      try {
        const symbols = argv.symbol && argv.symbol.length > 0 ? [...new Set<string>(argv.symbol)].sort() : catalog.symbols();
        const query = { symbols, fromDate: argv.from, toDate: argv.to ?? argv.from };
        catalog.dataDigest(query, 'ticks');
        const recorder = TapeRecorder.create(path.resolve(argv.out), symbols.map((symbol) => catalog.instrument(symbol)), { fsyncEveryMs: argv.fsyncMs });
        for await (const chunk of catalog.readTicks(query)) {
          // Re-batch to --batch-rows so a tape's batches look like a live recorder's, whatever the catalog's chunking.
          for (let start = 0; start < chunk.length; start += argv.batchRows) {
            const end = Math.min(chunk.length, start + argv.batchRows);
            const slice = (column: Float64Array | undefined) => column?.subarray(start, end);
            recorder.append({ kind: 'ticks', length: end - start, symbolIndex: chunk.symbolIndex.subarray(start, end), timeUs: slice(chunk.timeUs)!, price: slice(chunk.price)!, size: slice(chunk.size)!, bid: slice(chunk.bid), ask: slice(chunk.ask) });
            if (argv.paceMs > 0) await sleep(argv.paceMs);
          }
        }
        recorder.close();
        print(argv.json, { file: recorder.file, batches: recorder.batches, rows: recorder.rows }, () => `recorded ${recorder.rows} ticks in ${recorder.batches} batches to ${recorder.file}`);
      } finally {
        await catalog.close();
      }
      return;
    }
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
