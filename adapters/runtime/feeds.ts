// Market data feeds for paper and live sessions, as session records in time order: a recorded tick tape, the
// catalog's bars for a date range, or seeded synthetic ticks. Each feed also names its instruments.
import { SimError, type Instrument } from '../../engine/index.ts';
import { openTape } from '../tape/index.ts';
import { openCatalog } from '../catalog/index.ts';
import { generateTicks, generatedInstruments } from '../catalog/generate-ticks.ts';
import type { MarketRecord } from './session-records.ts';

export interface Feed {
  readonly name: string;
  readonly instruments: readonly Instrument[];
  readonly records: AsyncIterable<MarketRecord>;
}

async function* tickRecords(chunks: AsyncIterable<{ length: number; timeUs: Float64Array; symbolIndex: Int32Array; price: Float64Array; size: Float64Array; bid?: Float64Array; ask?: Float64Array }>): AsyncGenerator<MarketRecord> {
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const bid = chunk.bid?.[i];
      const ask = chunk.ask?.[i];
      yield {
        k: 'tick', t: chunk.timeUs[i], s: chunk.symbolIndex[i], p: chunk.price[i], q: chunk.size[i],
        b: bid === undefined || Number.isNaN(bid) ? null : bid, a: ask === undefined || Number.isNaN(ask) ? null : ask,
      };
    }
  }
}

/** `tape:FILE`, `catalog:FROM[..TO]` (with the catalog dir and symbols), or `generate[:SEED]`. */
export async function openFeed(spec: string, options: { catalogDir: string; symbols: readonly string[]; generateSymbols?: number }): Promise<Feed> {
  const [kind, ...rest] = spec.split(':');
  const argument = rest.join(':');
  switch (kind) {
    case 'tape': {
      if (!argument) throw new SimError('FEED_BAD', `expected --feed tape:FILE, found '${spec}'`);
      const tape = await openTape(argument);
      return { name: spec, instruments: tape.instruments, records: tickRecords(tape) };
    }
    case 'catalog': {
      const [fromDate, toDate] = argument.split('..');
      if (!fromDate) throw new SimError('FEED_BAD', `expected --feed catalog:YYYY-MM-DD[..YYYY-MM-DD], found '${spec}'`);
      const catalog = await openCatalog(options.catalogDir);
      const symbols = options.symbols.length > 0 ? [...options.symbols].sort() : catalog.symbols();
      const query = { symbols, fromDate, toDate: toDate ?? fromDate };
      catalog.dataDigest(query, 'bars');
      const instruments = symbols.map((symbol) => catalog.instrument(symbol));
      async function* bars(): AsyncGenerator<MarketRecord> {
        try {
          for await (const chunk of catalog.readBars(query)) {
            for (let i = 0; i < chunk.length; i++) {
              yield { k: 'bar', t: chunk.startUs[i] + chunk.intervalUs, s: chunk.symbolIndex[i], st: chunk.startUs[i], i: chunk.intervalUs, o: chunk.open[i], h: chunk.high[i], l: chunk.low[i], c: chunk.close[i], v: chunk.volume[i] };
            }
          }
        } finally {
          await catalog.close();
        }
      }
      return { name: spec, instruments, records: bars() };
    }
    case 'generate': {
      const seed = argument ? Number(argument) : 1;
      if (!Number.isSafeInteger(seed)) throw new SimError('FEED_BAD', `expected --feed generate[:SEED] with a whole seed, found '${spec}'`);
      const count = options.generateSymbols ?? 3;
      const chunks: { length: number; timeUs: Float64Array; symbolIndex: Int32Array; price: Float64Array; size: Float64Array; bid?: Float64Array; ask?: Float64Array }[] = [];
      generateTicks({ symbols: count, days: 1, seed, ticksPerSecond: 1 }, (chunk) => chunks.push(chunk));
      async function* all() { for (const chunk of chunks) yield chunk; }
      return { name: spec, instruments: generatedInstruments(count), records: tickRecords(all()) };
    }
    default:
      throw new SimError('FEED_UNKNOWN', `expected --feed tape:FILE, catalog:DATE or generate[:SEED], found '${spec}'`);
  }
}
