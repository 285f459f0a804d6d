// `sim tape to-parquet`: the complete batches of a tape into a catalog's tick partitions.
import { mergeIntoCatalog, columnsSource, type WriteReport } from '../catalog/write-partitions.ts';
import { openTape, type TapeInfo } from './read-tape.ts';

export async function tapeToCatalog(file: string, catalogDir: string): Promise<WriteReport & { readonly tape: TapeInfo }> {
  const tape = await openTape(file);
  const length = tape.info.rows;
  const symbolIndex = new Int32Array(length);
  const timeUs = new Float64Array(length);
  const price = new Float64Array(length);
  const size = new Float64Array(length);
  const bid = new Float64Array(length);
  const ask = new Float64Array(length);
  const priceScale = tape.instruments.map((instrument) => 10 ** instrument.priceScale);
  const lotScale = tape.instruments.map((instrument) => 10 ** instrument.lotScale);
  let offset = 0;
  for await (const chunk of tape) {
    symbolIndex.set(chunk.symbolIndex, offset);
    timeUs.set(chunk.timeUs, offset);
    for (let index = 0; index < chunk.length; index++) {
      const symbol = chunk.symbolIndex[index];
      price[offset + index] = chunk.price[index] / priceScale[symbol];
      size[offset + index] = chunk.size[index] / lotScale[symbol];
      bid[offset + index] = chunk.bid![index] / priceScale[symbol];
      ask[offset + index] = chunk.ask![index] / priceScale[symbol];
    }
    offset += chunk.length;
  }
  const report = await mergeIntoCatalog({
    catalogDir,
    sources: [columnsSource({ kind: 'ticks', length, symbolNames: tape.instruments.map((instrument) => instrument.symbol), symbolIndex, timeUs, columns: { price, size, bid, ask } })],
    instruments: tape.instruments,
  });
  return { ...report, tape: tape.info };
}
