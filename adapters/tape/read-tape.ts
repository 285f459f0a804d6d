// Reads a tape back: every complete record batch, in order. The IPC frames are walked first by reading only
// their headers (continuation token, metadata length, metadata with the body length), so a tail torn by a
// crash is found by its size, reported, and left out, rather than failing the read or being half-read. A bad
// frame is a torn tail only when nothing durable follows it: when a valid message follows it, or the file
// ends with the end-of-stream marker the recorder writes at close, the tape is refused with TAPE_CORRUPT
// rather than cut there. The batches are then read one at a time, so a long tape never sits in memory whole.
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

/** End-of-stream marker of the Arrow IPC stream format: continuation token, then a zero metadata length. */
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
const CONTINUATION = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const SCAN_CHUNK_BYTES = 1 << 20;

type Frame =
  | { readonly kind: 'end-of-stream'; readonly end: number }
  | { readonly kind: 'message'; readonly message: Message; readonly end: number }
  | { readonly kind: 'bad'; readonly reason: string };

/** Reads the frame header at `offset` (of a file of `size` bytes): a whole message, the end-of-stream marker, or why neither. */
async function readFrame(handle: fs.FileHandle, offset: number, size: number, legacy: boolean): Promise<Frame> {
  const prefix = await readAt(handle, offset, 8);
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let headerLength = 8;
  let metadataLength = view.getInt32(4, true);
  if (view.getUint32(0, true) !== 0xffffffff) {
    if (!legacy) return { kind: 'bad', reason: 'no continuation token' };
    // Legacy framing without the continuation token.
    metadataLength = view.getInt32(0, true);
    headerLength = 4;
  }
  if (metadataLength === 0) return { kind: 'end-of-stream', end: offset + headerLength };
  const metadataEnd = offset + headerLength + metadataLength;
  if (metadataLength < 0 || metadataEnd > size) return { kind: 'bad', reason: `metadata length ${metadataLength} with ${size - offset - headerLength} bytes left` };
  let message: Message;
  try {
    message = Message.decode(await readAt(handle, offset + headerLength, metadataLength));
  } catch {
    return { kind: 'bad', reason: 'metadata that does not decode' };
  }
  const bodyLength = Number(message.bodyLength);
  const end = metadataEnd + bodyLength;
  if (!(bodyLength >= 0) || end > size) return { kind: 'bad', reason: `body length ${bodyLength} with ${size - metadataEnd} bytes left` };
  return { kind: 'message', message, end };
}

/** Whether a whole, decodable record batch or schema message starts at `offset` (used to tell corruption from a torn tail). */
async function validMessageAt(handle: fs.FileHandle, offset: number, size: number, schema: Range | undefined): Promise<boolean> {
  const frame = await readFrame(handle, offset, size, false);
  if (frame.kind !== 'message') return false;
  const { message } = frame;
  if (message.headerType === MessageHeader.Schema) return true;
  if (message.headerType !== MessageHeader.RecordBatch) return false;
  if (schema === undefined) return true;
  try {
    const schemaBytes = await readAt(handle, schema.start, schema.end - schema.start);
    const batch = RecordBatchStreamReader.from(concat(schemaBytes, await readAt(handle, offset, frame.end - offset))).next().value;
    return batch !== undefined && batch !== null && batch.numRows === Number((message.header() as { length: number }).length);
  } catch {
    return false;
  }
}

/** The first offset after `from` where a valid message starts, or -1: scans for continuation tokens, a chunk at a time. */
async function nextValidMessage(handle: fs.FileHandle, from: number, size: number, schema: Range | undefined): Promise<number> {
  for (let chunkStart = from; chunkStart + 8 <= size; chunkStart += SCAN_CHUNK_BYTES) {
    // Overlap chunks by the token's length, so a token split across two chunks is still seen.
    const chunk = Buffer.from(await readAt(handle, chunkStart, Math.min(SCAN_CHUNK_BYTES + CONTINUATION.length - 1, size - chunkStart)));
    for (let at = chunk.indexOf(CONTINUATION); at >= 0 && at < SCAN_CHUNK_BYTES; at = chunk.indexOf(CONTINUATION, at + 1)) {
      if (await validMessageAt(handle, chunkStart + at, size, schema)) return chunkStart + at;
    }
  }
  return -1;
}

async function walkFrames(handle: fs.FileHandle, size: number, file: string): Promise<Frames> {
  let offset = 0;
  let schema: Range | undefined;
  const batches: Range[] = [];
  let validEnd = 0;
  let bad = '';
  while (offset + 8 <= size) {
    const frame = await readFrame(handle, offset, size, true);
    if (frame.kind === 'end-of-stream') {
      if (frame.end === size) return { schema, batches, validEnd: frame.end, closed: true };
      bad = `an end-of-stream marker with ${size - frame.end} bytes after it`;
      break;
    }
    if (frame.kind === 'bad') {
      bad = frame.reason;
      break;
    }
    const { message, end } = frame;
    if (message.headerType === MessageHeader.Schema) schema = { start: offset, end, rows: 0 };
    else if (message.headerType === MessageHeader.RecordBatch) batches.push({ start: offset, end, rows: Number((message.header() as { length: number }).length) });
    offset = end;
    validEnd = end;
  }
  if (size - validEnd >= 8) {
    // A bad frame with a whole frame header's worth of bytes after the last good message: a torn tail only if
    // nothing durable follows it.
    const last = await readAt(handle, size - 8, 8);
    if (Buffer.from(last).equals(END_OF_STREAM)) {
      throw new SimError('TAPE_CORRUPT', `expected only a torn tail after the last complete message at byte ${validEnd} of ${file} (${bad}), found the end-of-stream marker at byte ${size - 8}: the recorder closed this tape, so ${size - validEnd} bytes of it are damaged`);
    }
    const later = await nextValidMessage(handle, validEnd + 1, size, schema);
    if (later >= 0) {
      throw new SimError('TAPE_CORRUPT', `expected only a torn tail after the last complete message at byte ${validEnd} of ${file} (${bad}), found a valid message at byte ${later}`);
    }
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
    frames = await walkFrames(handle, size, file);
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
