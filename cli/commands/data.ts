// `sim data ...`: import CSVs into a catalog, describe it, generate synthetic ticks, aggregate bars.
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_CATALOG_DIR, importFiles, openCatalog } from '../../adapters/catalog/index.ts';
import { describeCatalog, type CatalogSummary } from '../../adapters/catalog/describe-catalog.ts';
import type { DataKind } from '../../adapters/catalog/manifest.ts';
import { aggregateBars } from '../../adapters/catalog/aggregate-bars.ts';
import { generateIntoCatalog } from '../../adapters/catalog/generate-into-catalog.ts';

function withCatalog<T>(yargs: Argv<T>) {
  return yargs.option('catalog', { type: 'string', default: DEFAULT_CATALOG_DIR, describe: 'catalog folder', defaultDescription: '<repo>/data/catalog' });
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

const importCommand: CommandModule<any, any> = {
  command: 'import <files..>',
  describe: 'import CSV bars or ticks into a catalog (atomic; a file with bad rows is refused unless --skip-bad)',
  builder: (yargs) => withCatalog(yargs)
    .positional('files', { type: 'string', array: true, describe: 'CSV files' })
    .option('symbol', { type: 'string', describe: "symbol for every row (default: the file name's leading token)" })
    .option('kind', { choices: ['bars', 'ticks'] as const, describe: 'what the rows are (default: from the header)' })
    .option('interval', { type: 'string', default: '1m', describe: 'bar interval of the file' })
    .option('calendar', { choices: ['us-equity', 'always-open'] as const, describe: 'trading calendar (default: always-open for Binance klines, else us-equity)' })
    .option('skip-bad', { type: 'boolean', default: false, describe: 'import the good rows; write rejects to <catalog>/rejects/<file>.<digest>.rejects.csv (with their source file)' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const report = await importFiles({
      catalogDir: argv.catalog, files: (argv.files as string[]).map((file) => path.resolve(file)), symbol: argv.symbol,
      kind: argv.kind as DataKind | undefined, interval: argv.interval, skipBad: argv.skipBad, calendar: argv.calendar,
    });
    print(argv.json, report, () => [
      ...report.files.map((file) => `${path.basename(file.file)}: ${file.kind} ${file.symbols.join(',')}, ${file.rowsImported} of ${file.rowsRead} rows imported` +
        (file.rejected > 0 ? `, ${file.rejected} rejected (${Object.entries(file.rejectCounts).map(([reason, count]) => `${count} ${reason}`).join(', ')}) -> ${file.rejectsFile}` : '')),
      `catalog ${report.catalogDir}: ${report.datesWritten.length} date partitions written, ${report.datesUnchanged} unchanged; rows ${report.rowsBefore} -> ${report.rowsAfter}`,
    ].join('\n'));
  },
};

function summaryText(summary: CatalogSummary, gaps: boolean): string {
  const lines = [`catalog ${summary.dir}: ${summary.symbols.length} symbols (${summary.symbols.join(', ')})`];
  for (const dataset of summary.datasets) {
    lines.push(`${dataset.kind}${dataset.interval ? ` ${dataset.interval}` : ''}: ${dataset.rows} rows in ${dataset.files} files, ${dataset.dates} dates ${dataset.firstDate} .. ${dataset.lastDate}`);
    for (const symbol of dataset.symbols) {
      lines.push(`  ${symbol.symbol.padEnd(8)} ${String(symbol.rows).padStart(9)} rows ${String(symbol.dates).padStart(4)} dates  ${symbol.firstTime} .. ${symbol.lastTime}  priceScale ${symbol.priceScale} lotScale ${symbol.lotScale} ${symbol.calendar}`);
      if (gaps && symbol.gaps) {
        const report = symbol.gaps;
        lines.push(`           gaps: ${report.missingSessionMinutes} session minutes missing on ${report.daysWithMissingMinutes} days` +
          ` (worst ${report.worstDays.map((day) => `${day.date}: ${day.sessionBars} of ${day.sessionMinutes}`).join(', ')}); ${report.outsideSessionBars} bars outside NYSE sessions;` +
          ` ${report.missingSessions.length} sessions without data${report.missingSessions.length > 0 ? `: ${report.missingSessions.slice(0, 12).join(', ')}${report.missingSessions.length > 12 ? ', ...' : ''}` : ''}` +
          ` (${report.holidays} exchange holidays skipped)`);
      }
    }
  }
  return lines.join('\n');
}

const infoCommand: CommandModule<any, any> = {
  command: 'info',
  describe: 'symbols, rows, dates, time ranges and session gaps of a catalog',
  builder: (yargs) => withCatalog(yargs)
    .option('gaps', { type: 'boolean', default: true, describe: 'include the session gap report' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const catalog = await openCatalog(argv.catalog);
    try {
      const summary = await describeCatalog(catalog, { gaps: argv.gaps });
      print(argv.json, summary, () => summaryText(summary, argv.gaps));
    } finally {
      await catalog.close();
    }
  },
};

const listCommand: CommandModule<any, any> = {
  command: 'ls',
  describe: 'list the partitions of a catalog: kind, interval, date, symbols, rows',
  builder: (yargs) => withCatalog(yargs).option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const catalog = await openCatalog(argv.catalog);
    try {
      const files = [...catalog.manifest.files].sort((a, b) => (a.path < b.path ? -1 : 1));
      print(argv.json, { dir: catalog.dir, instruments: catalog.manifest.instruments, files }, () => [
        `catalog ${catalog.dir}: ${catalog.symbols().length} symbols, ${files.length} files`,
        ...files.map((file) => `${file.kind.padEnd(5)} ${(file.interval ?? '-').padEnd(4)} ${file.date} ${String(file.rows).padStart(9)} rows  ${file.symbols.join(',')}  ${file.path}`),
      ].join('\n'));
    } finally {
      await catalog.close();
    }
  },
};

const generateCommand: CommandModule<any, any> = {
  command: 'generate',
  describe: 'seeded synthetic ticks (U-shaped activity, spread, jumps, optional halts) and 1m bars derived from them',
  builder: (yargs) => withCatalog(yargs)
    .option('symbols', { type: 'number', default: 5, describe: 'number of symbols (SYN001, ...)' })
    .option('days', { type: 'number', default: 1, describe: 'trading days (weekdays from --start)' })
    .option('seed', { type: 'number', default: 1 })
    .option('ticks-per-sec', { type: 'number', default: 2, describe: 'average prints per second per symbol' })
    .option('start', { type: 'string', default: '2024-01-02', describe: 'first day, YYYY-MM-DD' })
    .option('halts', { type: 'boolean', default: false, describe: 'insert 5-15 minute trading halts' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const report = await generateIntoCatalog(argv.catalog, {
      symbols: argv.symbols, days: argv.days, seed: argv.seed, ticksPerSecond: argv.ticksPerSec, startDate: argv.start, halts: argv.halts,
    });
    print(argv.json, report, () => `generated ${report.ticks} ticks and ${report.bars} 1m bars for ${report.symbols.length} symbols on ${report.dates.length} dates (${report.dates[0]} .. ${report.dates[report.dates.length - 1]}) into ${report.catalogDir}`);
  },
};

const barsCommand: CommandModule<any, any> = {
  command: 'bars',
  describe: 'aggregate bars in DuckDB (1m from ticks; 5m, 15m, 30m, 1h, 1d from ticks or 1m bars) and store them in the catalog',
  builder: (yargs) => withCatalog(yargs)
    .option('interval', { choices: ['1m', '5m', '15m', '30m', '1h', '1d'], demandOption: true })
    .option('from-kind', { choices: ['ticks', 'bars'] as const, describe: 'source (default: ticks for 1m, else 1m bars)' })
    .option('from', { type: 'string', describe: 'first date, YYYY-MM-DD (default: first in the catalog)' })
    .option('to', { type: 'string', describe: 'last date (default: last in the catalog)' })
    .option('symbols', { type: 'string', array: true, describe: 'symbols (default: all)' })
    .option('json', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const report = await aggregateBars({
      catalogDir: argv.catalog, interval: argv.interval, fromKind: argv.fromKind as DataKind | undefined, fromDate: argv.from, toDate: argv.to, symbols: argv.symbols,
    });
    print(argv.json, report, () => `${report.interval} bars from ${report.fromKind} (${report.files} files): ${report.datesWritten.length} date partitions written, ${report.datesUnchanged} unchanged; catalog rows ${report.rowsBefore} -> ${report.rowsAfter}`);
  },
};

export const dataCommand: CommandModule<any, any> = {
  command: 'data <command>',
  describe: 'market data catalog: import, ls, info, generate, bars',
  builder: (yargs) => yargs.command(importCommand).command(infoCommand).command(listCommand).command(generateCommand).command(barsCommand).demandCommand(1),
  handler: () => undefined,
};
