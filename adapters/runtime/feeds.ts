// Market data feeds for paper and live sessions, as session records in time order: a recorded tick tape, the
// catalog's bars for a date range, seeded synthetic ticks, or Alpaca's real-time stream. Each feed also names its
// instruments.
//
// `alpaca[:bars|:trades]` is a live feed: its records arrive as the market makes them (minute bars by default, each
// a completed bar; `:trades` for trade prints), so the session applies each one when it arrives instead of on a
// clock of its own (see driveSession), a restarted session resumes after what its journal holds, and a record that
// comes again or late after a reconnect is dropped (counted in `stats`). It needs --symbols and the API keys.
import { SimError, type Instrument } from '../../engine/index.ts';
import { openTape } from '../tape/index.ts';
import { openCatalog } from '../catalog/index.ts';
import { generateTicks, generatedInstruments } from '../catalog/generate-ticks.ts';
import type { MarketRecord } from './session-records.ts';

export interface Feed {
  readonly name: string;
  readonly instruments: readonly Instrument[];
  readonly records: AsyncIterable<MarketRecord>;
  /** A live feed (records arrive in real time, never replayed from the start); absent for recorded feeds. */
  readonly live?: LiveFeed;
  /** Releases the feed's connections (a live feed's stream); recorded feeds have nothing to release. */
  close?(): Promise<void>;
  /** What the user must know before the feed runs, in one line (a tape's torn tail left out); absent: nothing. */
  readonly notice?: string;
}

export interface LiveFeed {
  /**
   * How late a record may arrive after its time (a minute bar comes a few seconds after the minute): the session
   * fires its timers while the feed is quiet only up to the time that far behind, so a record on time is never
   * older than the engine's clock.
   */
  readonly deliveryGraceUs: number;
  /** A restarted session's journal holds market data up to these times: nothing older is delivered. */
  resumeAfter(newestUs: number, lastBarEndUsBySymbol: ReadonlyMap<number, number>): void;
  /** Counters worth reporting (drops, reconnects). */
  stats(): Readonly<Record<string, number>>;
}

/** What `--feed alpaca` needs besides the symbols: the API keys and the stream's endpoint. */
export interface AlpacaFeedSettings {
  readonly keyId?: string;
  readonly secret?: string;
  /** APCA_DATA_STREAM_URL: the whole endpoint, overriding `dataFeed`. */
  readonly url?: string;
  readonly dataFeed: 'iex' | 'sip';
  readonly log?: (line: string) => void;
}

/** Minute bars arrive a few seconds after their minute; trades within moments of printing. */
const ALPACA_BAR_DELIVERY_GRACE_US = 10_000_000;
const ALPACA_TRADE_DELIVERY_GRACE_US = 2_000_000;

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

/** `tape:FILE`, `catalog:FROM[..TO]` (with the catalog dir and symbols), `generate[:SEED]` or `alpaca[:bars|:trades]`. */
export async function openFeed(spec: string, options: { catalogDir: string; symbols: readonly string[]; generateSymbols?: number; alpaca?: AlpacaFeedSettings }): Promise<Feed> {
  const [kind, ...rest] = spec.split(':');
  const argument = rest.join(':');
  switch (kind) {
    case 'tape': {
      if (!argument) throw new SimError('FEED_BAD', `expected --feed tape:FILE, found '${spec}'`);
      const tape = await openTape(argument);
      const notice = tape.info.tornBytes > 0 ? `tape ${argument} has a torn tail of ${tape.info.tornBytes} bytes (the recorder stopped mid-write); feeding its complete batches` : undefined;
      return { name: spec, instruments: tape.instruments, records: tickRecords(tape), ...(notice === undefined ? {} : { notice }) };
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
    case 'alpaca':
      return openAlpacaFeed(spec, argument, options.symbols, options.alpaca);
    default:
      throw new SimError('FEED_UNKNOWN', `expected --feed tape:FILE, catalog:DATE, generate[:SEED] or alpaca[:bars|:trades], found '${spec}'`);
  }
}

async function openAlpacaFeed(spec: string, argument: string, symbols: readonly string[], settings: AlpacaFeedSettings | undefined): Promise<Feed> {
  if (argument !== '' && argument !== 'bars' && argument !== 'trades') throw new SimError('FEED_BAD', `expected --feed alpaca, alpaca:bars or alpaca:trades, found '${spec}'`);
  const channel = argument === 'trades' ? 'trades' : 'bars';
  if (symbols.length === 0) throw new SimError('FEED_NO_SYMBOLS', `expected --symbols (e.g. --symbols AAPL,MSFT) with --feed ${spec}, found none`);
  const missing = [settings?.keyId ? '' : 'APCA_API_KEY_ID', settings?.secret ? '' : 'APCA_API_SECRET_KEY'].filter((name) => name !== '');
  if (settings === undefined || missing.length > 0) {
    throw new SimError('FEED_NO_CREDENTIALS', `expected APCA_API_KEY_ID and APCA_API_SECRET_KEY in the environment for --feed ${spec}, found ${missing.join(' and ')} missing`);
  }
  // Loaded here, not at the top: the SDK is large and only this feed needs it.
  const { AlpacaMarketData, alpacaDataStreamUrl } = await import('../alpaca/alpaca-market-data.ts');
  const { alpacaEquityInstruments } = await import('../alpaca/alpaca-market-records.ts');
  const instruments = alpacaEquityInstruments(symbols);
  const marketData = new AlpacaMarketData({
    keyId: settings.keyId!, secret: settings.secret!, url: alpacaDataStreamUrl(settings.dataFeed, settings.url), instruments, channel, log: settings.log,
  });
  await marketData.connect();
  return {
    name: spec, instruments, records: marketData.records(),
    live: {
      deliveryGraceUs: channel === 'bars' ? ALPACA_BAR_DELIVERY_GRACE_US : ALPACA_TRADE_DELIVERY_GRACE_US,
      resumeAfter: (newestUs, lastBarEndUsBySymbol) => marketData.resumeAfter(newestUs, lastBarEndUsBySymbol),
      stats: () => ({ ...marketData.stats }),
    },
    close: () => marketData.close(),
  };
}
