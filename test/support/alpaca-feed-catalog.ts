// A catalog for the Alpaca feed tests: the sample catalog's real minute bars of some symbols on one day, with the
// Alpaca feed's instruments (4 price decimals), so that `sim replay` on it and the fake streaming it show the
// session the very same ticks. Every copied price is checked to be on the 4-decimal grid (the sample's is 6).
import { DEFAULT_CATALOG_DIR, openCatalog } from '../../adapters/catalog/index.ts';
import { columnsSource, mergeIntoCatalog } from '../../adapters/catalog/write-partitions.ts';
import { alpacaEquityInstruments } from '../../adapters/alpaca/alpaca-market-records.ts';
import { fakeMarketDataFromCatalog, type AlpacaFakeMarketItem } from '../../adapters/alpaca/fake/index.ts';

export async function writeAlpacaFeedCatalog(catalogDir: string, symbols: readonly string[], date: string): Promise<AlpacaFakeMarketItem[]> {
  const sample = await openCatalog(DEFAULT_CATALOG_DIR);
  const columns = { open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[], timeUs: [] as number[], symbolIndex: [] as number[] };
  try {
    for await (const chunk of sample.readBars({ symbols, fromDate: date, toDate: date })) {
      for (let i = 0; i < chunk.length; i++) {
        columns.symbolIndex.push(chunk.symbolIndex[i]);
        columns.timeUs.push(chunk.startUs[i]);
        for (const name of ['open', 'high', 'low', 'close'] as const) {
          const ticks = chunk[name][i];
          if (ticks % 100 !== 0) throw new Error(`expected ${symbols[chunk.symbolIndex[i]]} ${name} on the 4-decimal grid on ${date}, found ${ticks / 1e6}`);
          columns[name].push(ticks / 1e6);
        }
        columns.volume.push(chunk.volume[i]);
      }
    }
  } finally {
    await sample.close();
  }
  const f64 = (values: number[]): Float64Array => Float64Array.from(values);
  const sorted = [...symbols].sort();
  await mergeIntoCatalog({
    catalogDir, instruments: alpacaEquityInstruments(sorted),
    sources: [columnsSource({
      kind: 'bars', interval: '1m', length: columns.timeUs.length, symbolNames: sorted, symbolIndex: Int32Array.from(columns.symbolIndex), timeUs: f64(columns.timeUs),
      columns: { open: f64(columns.open), high: f64(columns.high), low: f64(columns.low), close: f64(columns.close), volume: f64(columns.volume) },
    }, true)],
  });
  return (await fakeMarketDataFromCatalog(catalogDir, { symbols: sorted, fromDate: date })).items;
}
