// `sim data generate`: seeded synthetic ticks written into a catalog as tick partitions, then 1-minute bars
// derived from them by the DuckDB aggregation.
import path from 'node:path';
import { aggregateBars } from './aggregate-bars.ts';
import { generateTicks, generatedInstruments, generatedSymbols, type GeneratedTickChunk, type GenerateOptions } from './generate-ticks.ts';
import { columnsSource, mergeIntoCatalog } from './write-partitions.ts';

export interface GenerateReport {
  readonly catalogDir: string;
  readonly symbols: readonly string[];
  readonly ticks: number;
  readonly bars: number;
  readonly dates: readonly string[];
}

export async function generateIntoCatalog(catalogDir: string, options: GenerateOptions): Promise<GenerateReport> {
  const chunks: GeneratedTickChunk[] = [];
  let total = 0;
  generateTicks(options, (chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  const symbolIndex = new Int32Array(total);
  const timeUs = new Float64Array(total);
  const price = new Float64Array(total);
  const size = new Float64Array(total);
  const bid = new Float64Array(total);
  const ask = new Float64Array(total);
  let offset = 0;
  const scale = 100;
  for (const chunk of chunks) {
    symbolIndex.set(chunk.symbolIndex, offset);
    timeUs.set(chunk.timeUs, offset);
    size.set(chunk.size, offset);
    for (let index = 0; index < chunk.length; index++) {
      price[offset + index] = chunk.price[index] / scale;
      bid[offset + index] = chunk.bid![index] / scale;
      ask[offset + index] = chunk.ask![index] / scale;
    }
    offset += chunk.length;
  }
  chunks.length = 0;
  const symbolNames = generatedSymbols(options.symbols);
  const ticks = await mergeIntoCatalog({
    catalogDir,
    sources: [columnsSource({ kind: 'ticks', length: total, symbolNames, symbolIndex, timeUs, columns: { price, size, bid, ask } }, true)],
    instruments: generatedInstruments(options.symbols),
  });
  const bars = await aggregateBars({ catalogDir, interval: '1m', fromKind: 'ticks', fromDate: ticks.datesWritten[0], toDate: ticks.datesWritten[ticks.datesWritten.length - 1], symbols: symbolNames });
  return { catalogDir: path.resolve(catalogDir), symbols: symbolNames, ticks: total, bars: bars.rowsAfter - bars.rowsBefore, dates: ticks.datesWritten };
}
