// Reads a tape back: every complete record batch, in order. The IPC frames are walked first by reading only
// their headers (continuation token, metadata length, metadata with the body length), so a tail torn by a
// crash is found by its size, reported, and left out, rather than failing the read or being half-read. The
// batches are then read one at a time, so a long tape never sits in memory whole.
import { promises as fs } from 'node:fs';
import { Message, MessageHeader, RecordBatchStreamReader } from 'apache-arrow';
import { SimError } from '../../engine/errors.ts';
import type { Instrument, TickColumns } from '../../engine/types.ts';
import { instrumentsOfSchema } from './tape-format.ts';

export interface TapeInfo {
  readonly file: string;
  readonly bytes: number;
  readonly batches: number;
  readonly rows: number;
  /** The recorder closed the tape (end-of-stream marker present). */
  readonly closed: boolean;
  /** Bytes after the last complete message: a batch the recorder was writing when it stopped. */
  readonly tornBytes: number;
  readonly tornTail: boolean;
  readonly instruments: readonly Instrument[];
  readonly firstTimeUs: number | undefined;
  readonly lastTimeUs: number | undefined;
}

export interface Tape extends AsyncIterable<TickColumns> {
  readonly info: TapeInfo;
  readonly instruments: readonly Instrument[];
}

interface Range {
  readonly start: number;
  readonly end: number;
  readonly rows: number;
}

interface Frames {
  readonly schema: Range | undefined;
  readonly batches: readonly Range[];
  readonly validEnd: number;
  readonly closed: boolean;
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let offset = 0;
  while (offset < length) {
    const { bytesRead } = await handle.read(buffer, offset, length - offset, position + offset);
    if (bytesRead === 0) return buffer.subarray(0, offset);
    offset += bytesRead;
  }
  return buffer;
}

async function walkFrames(handle: fs.FileHandle, size: number): Promise<Frames> {
  let offset = 0;
  let schema: Range | undefined;
  const batches: Range[] = [];
  let validEnd = 0;
  while (offset + 8 <= size) {
    const prefix = await readAt(handle, offset, 8);
    const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    let headerLength = 8;
    let metadataLength = view.getInt32(4, true);
    if (view.getUint32(0, true) !== 0xffffffff) {
      // Legacy framing without the continuation token.
      metadataLength = view.getInt32(0, true);
      headerLength = 4;
    }
    if (metadataLength === 0) return { schema, batches, validEnd: offset + headerLength, closed: true };
    const metadataEnd = offset + headerLength + metadataLength;
    if (metadataLength < 0 || metadataEnd > size) break;
    let message: Message;
    try {
      message = Message.decode(await readAt(handle, offset + headerLength, metadataLength));
    } catch {
      break;
    }
    const end = metadataEnd + Number(message.bodyLength);
    if (end > size) break;
    if (message.headerType === MessageHeader.Schema) schema = { start: offset, end, rows: 0 };
    else if (message.headerType === MessageHeader.RecordBatch) batches.push({ start: offset, end, rows: Number((message.header() as { length: number }).length) });
    offset = end;
    validEnd = end;
  }
  return { schema, batches, validEnd, closed: false };
}

function toTicks(bytes: Uint8Array): TickColumns {
  const reader = RecordBatchStreamReader.from(bytes);
  const batch = reader.next().value;
  if (!batch) throw new SimError('TAPE_BAD_BATCH', 'expected a record batch in a complete tape message, found none');
  const column = (name: string): Float64Array => batch.getChild(name)!.toArray() as Float64Array;
  return {
    kind: 'ticks', length: batch.numRows, timeUs: column('timeUs'), symbolIndex: batch.getChild('symbolIndex')!.toArray() as Int32Array,
    price: column('price'), size: column('size'), bid: column('bid'), ask: column('ask'),
  };
}

/** Opens a tape: walks its frames (torn tail, counts, instruments); batches are read when iterated. */
export async function openTape(file: string): Promise<Tape> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    throw new SimError('TAPE_UNREADABLE', `expected a readable tape at ${file}, found ${(error as NodeJS.ErrnoException).code ?? 'an error'}`);
  }
  let frames: Frames;
  let schemaBytes: Uint8Array;
  let size: number;
  let firstTimeUs: number | undefined;
  let lastTimeUs: number | undefined;
  try {
    size = (await handle.stat()).size;
    frames = await walkFrames(handle, size);
    if (!frames.schema) throw new SimError('TAPE_NO_SCHEMA', `expected an Arrow IPC stream starting with a schema in ${file}, found ${size} bytes without one`);
    schemaBytes = await readAt(handle, frames.schema.start, frames.schema.end - frames.schema.start);
    const nonEmpty = frames.batches.filter((batch) => batch.rows > 0);
    if (nonEmpty.length > 0) {
      const readBatch = async (range: Range): Promise<TickColumns> => toTicks(concat(schemaBytes, await readAt(handle, range.start, range.end - range.start)));
      firstTimeUs = (await readBatch(nonEmpty[0])).timeUs[0];
      const last = await readBatch(nonEmpty[nonEmpty.length - 1]);
      lastTimeUs = last.timeUs[last.length - 1];
    }
  } finally {
    await handle.close();
  }
  const instruments = instrumentsOfSchema(RecordBatchStreamReader.from(schemaBytes).open().schema, file);
  const tornBytes = frames.closed ? 0 : size - frames.validEnd;
  const info: TapeInfo = {
    file, bytes: size, batches: frames.batches.length, rows: frames.batches.reduce((sum, batch) => sum + batch.rows, 0), closed: frames.closed,
    tornBytes, tornTail: tornBytes > 0, instruments, firstTimeUs, lastTimeUs,
  };
  const batches = frames.batches;
  return {
    info,
    instruments,
    async *[Symbol.asyncIterator]() {
      const reader = await fs.open(file, 'r');
      try {
        for (const range of batches) yield toTicks(concat(schemaBytes, await readAt(reader, range.start, range.end - range.start)));
      } finally {
        await reader.close();
      }
    },
  };
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  const out = new Uint8Array(first.byteLength + second.byteLength);
  out.set(first, 0);
  out.set(second, first.byteLength);
  return out;
}

/** Every complete batch of a tape as tick columns (prices in ticks, sizes in lots of the tape's instruments). */
export async function* readTape(file: string): AsyncGenerator<TickColumns> {
  yield* await openTape(file);
}
