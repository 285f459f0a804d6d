// Data for the AlpacaFake's market-data stream, from the project's own sources, with prices as exact decimal
// strings (ticks of the source's instruments, written back without a float round trip):
// - a tick tape: its prints as trades, or aggregated into minute bars (open, high, low, close, volume, count and
//   volume-weighted price of the prints in each minute, for each symbol that traded in it);
// - the catalog: its 1-minute bars for a date range (the catalog keeps no volume-weighted price in the columns
//   it reads: `vw` is the close, which nothing downstream reads);
// - the generator: seeded synthetic prints as trades.
// Items come out in time order, symbols of one instant in instrument order, as a source replayed by the engine.
import type { Instrument, TickColumns } from '../../../engine/types.ts';
import { openCatalog } from '../../catalog/index.ts';
import { generateTicks, generatedInstruments, type GenerateOptions } from '../../catalog/generate-ticks.ts';
import { openTape } from '../../tape/index.ts';
import { scaledToDecimal } from '../decimal-units.ts';
import type { AlpacaFakeMarketItem } from './market-data-stream.ts';

const MINUTE_US = 60_000_000;

export interface FakeMarketData {
  readonly instruments: readonly Instrument[];
  readonly items: AlpacaFakeMarketItem[];
}

/** A tape's prints as trades (`kind: 'trades'`) or as minute bars (`'bars'`). */
export async function fakeMarketDataFromTape(file: string, kind: 'bars' | 'trades'): Promise<FakeMarketData> {
  const tape = await openTape(file);
  const chunks: TickColumns[] = [];
  for await (const chunk of tape) chunks.push(chunk);
  return { instruments: tape.instruments, items: kind === 'trades' ? tradesOf(chunks, tape.instruments) : barsOfTicks(chunks, tape.instruments) };
}

/** The catalog's minute bars of `symbols` (all when empty) from `fromDate` to `toDate`. */
export async function fakeMarketDataFromCatalog(catalogDir: string, query: { symbols?: readonly string[]; fromDate: string; toDate?: string }): Promise<FakeMarketData> {
  const catalog = await openCatalog(catalogDir);
  try {
    const symbols = query.symbols !== undefined && query.symbols.length > 0 ? [...new Set(query.symbols)].sort() : catalog.symbols();
    const instruments = symbols.map((symbol) => catalog.instrument(symbol));
    const items: AlpacaFakeMarketItem[] = [];
    for await (const chunk of catalog.readBars({ symbols, fromDate: query.fromDate, toDate: query.toDate ?? query.fromDate })) {
      for (let i = 0; i < chunk.length; i++) {
        const instrument = instruments[chunk.symbolIndex[i]];
        const price = (ticks: number): string => scaledToDecimal(ticks, instrument.priceScale);
        items.push({
          kind: 'bar', symbol: instrument.symbol, startUs: chunk.startUs[i], open: price(chunk.open[i]), high: price(chunk.high[i]), low: price(chunk.low[i]),
          close: price(chunk.close[i]), volume: chunk.volume[i] / 10 ** instrument.lotScale, tradeCount: 0, vwap: price(chunk.close[i]),
        });
      }
    }
    return { instruments, items };
  } finally {
    await catalog.close();
  }
}

/** Seeded synthetic prints (the `generate` feed's) as trades. */
export function fakeMarketDataFromGenerator(options: GenerateOptions): FakeMarketData {
  const chunks: TickColumns[] = [];
  generateTicks(options, (chunk) => chunks.push(chunk));
  const instruments = generatedInstruments(options.symbols);
  return { instruments, items: tradesOf(chunks, instruments) };
}

function tradesOf(chunks: readonly TickColumns[], instruments: readonly Instrument[]): AlpacaFakeMarketItem[] {
  const items: AlpacaFakeMarketItem[] = [];
  const nextId = new Array<number>(instruments.length).fill(1);
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const s = chunk.symbolIndex[i];
      const instrument = instruments[s];
      items.push({
        kind: 'trade', symbol: instrument.symbol, timeUs: chunk.timeUs[i], price: scaledToDecimal(chunk.price[i], instrument.priceScale),
        size: chunk.size[i] / 10 ** instrument.lotScale, id: nextId[s]++, exchange: 'V', conditions: ['@'], tape: 'C',
      });
    }
  }
  return items;
}

function barsOfTicks(chunks: readonly TickColumns[], instruments: readonly Instrument[]): AlpacaFakeMarketItem[] {
  interface Open { startUs: number; open: number; high: number; low: number; close: number; volume: number; count: number; notional: number }
  const open: (Open | null)[] = new Array<Open | null>(instruments.length).fill(null);
  const items: AlpacaFakeMarketItem[] = [];
  let minuteUs = -Infinity;
  const flush = (): void => {
    for (let s = 0; s < instruments.length; s++) {
      const bar = open[s];
      if (bar === null) continue;
      const instrument = instruments[s];
      const price = (ticks: number): string => scaledToDecimal(ticks, instrument.priceScale);
      const lots = 10 ** instrument.lotScale;
      items.push({
        kind: 'bar', symbol: instrument.symbol, startUs: bar.startUs, open: price(bar.open), high: price(bar.high), low: price(bar.low), close: price(bar.close),
        volume: bar.volume / lots, tradeCount: bar.count, vwap: String(bar.notional / bar.volume / 10 ** instrument.priceScale),
      });
      open[s] = null;
    }
  };
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const startUs = Math.floor(chunk.timeUs[i] / MINUTE_US) * MINUTE_US;
      if (startUs !== minuteUs) {
        flush();
        minuteUs = startUs;
      }
      const s = chunk.symbolIndex[i];
      const price = chunk.price[i];
      const size = chunk.size[i];
      const bar = open[s];
      if (bar === null) open[s] = { startUs, open: price, high: price, low: price, close: price, volume: size, count: 1, notional: price * size };
      else {
        if (price > bar.high) bar.high = price;
        if (price < bar.low) bar.low = price;
        bar.close = price;
        bar.volume += size;
        bar.count++;
        bar.notional += price * size;
      }
    }
  }
  flush();
  return items;
}
