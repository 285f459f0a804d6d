// Tick tapes: Arrow IPC stream files of trade prints, one record batch per append. Columns: timeUs (Float64,
// µs UTC), symbolIndex (Int32), price, bid, ask (Float64 ticks; NaN when unknown), size (Float64 lots). The
// schema metadata carries the instruments (symbol, priceScale, lotScale, calendar) that symbolIndex points into.
import { Field, Float64, Int32, Schema } from 'apache-arrow';
import type { Instrument } from '../../engine/types.ts';
import { SimError } from '../../engine/errors.ts';

export const TAPE_VERSION = '1';
export const TAPE_METADATA_INSTRUMENTS = 'sim.instruments';
export const TAPE_METADATA_VERSION = 'sim.tape.version';
export const TAPE_COLUMNS = ['timeUs', 'symbolIndex', 'price', 'size', 'bid', 'ask'] as const;

export function tapeSchema(instruments: readonly Instrument[]): Schema {
  const fields = [
    new Field('timeUs', new Float64(), false),
    new Field('symbolIndex', new Int32(), false),
    new Field('price', new Float64(), false),
    new Field('size', new Float64(), false),
    new Field('bid', new Float64(), false),
    new Field('ask', new Float64(), false),
  ];
  const metadata = new Map<string, string>([
    [TAPE_METADATA_VERSION, TAPE_VERSION],
    [TAPE_METADATA_INSTRUMENTS, JSON.stringify(instruments.map((instrument) => ({
      symbol: instrument.symbol, priceScale: instrument.priceScale, lotScale: instrument.lotScale, calendar: instrument.calendar,
    })))],
  ]);
  return new Schema(fields, metadata);
}

export function instrumentsOfSchema(schema: Schema, file: string): Instrument[] {
  const text = schema.metadata.get(TAPE_METADATA_INSTRUMENTS);
  if (!text) throw new SimError('TAPE_NO_INSTRUMENTS', `expected instruments in the schema metadata of ${file}, found none`);
  return JSON.parse(text) as Instrument[];
}
