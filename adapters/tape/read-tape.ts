// Reads a tape back: every complete record batch, in order. The IPC frames are walked first (continuation
// token, metadata length, metadata, body length from the metadata), so a tail torn by a crash is found by
// its size, reported, and left out, rather than failing the read or being half-read.
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

interface Frames {
  readonly validEnd: number;
  readonly batches: number;
  readonly closed: boolean;
}

function walkFrames(bytes: Uint8Array, file: string): Frames {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  let batches = 0;
  let sawSchema = false;
  let validEnd = 0;
  while (offset + 8 <= bytes.byteLength) {
    let headerLength = 8;
    let metadataLength = view.getInt32(offset + 4, true);
    if (view.getUint32(offset, true) !== 0xffffffff) {
      // Legacy framing without the continuation token.
      metadataLength = view.getInt32(offset, true);
      headerLength = 4;
    }
    if (metadataLength === 0) return { validEnd: offset + headerLength, batches, closed: true };
    const metadataEnd = offset + headerLength + metadataLength;
    if (metadataLength < 0 || metadataEnd > bytes.byteLength) break;
    let message: Message;
    try {
      message = Message.decode(bytes.subarray(offset + headerLength, metadataEnd));
    } catch {
      break;
    }
    const end = metadataEnd + Number(message.bodyLength);
    if (end > bytes.byteLength) break;
    if (message.headerType === MessageHeader.Schema) sawSchema = true;
    else if (message.headerType === MessageHeader.RecordBatch) batches++;
    offset = end;
    validEnd = end;
  }
  if (!sawSchema) throw new SimError('TAPE_NO_SCHEMA', `expected an Arrow IPC stream starting with a schema in ${file}, found ${bytes.byteLength} bytes without one`);
  return { validEnd, batches, closed: false };
}

/** Opens a tape: checks its frames, then reads every complete batch. */
export async function openTape(file: string): Promise<Tape> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new SimError('TAPE_UNREADABLE', `expected a readable tape at ${file}, found ${(error as NodeJS.ErrnoException).code ?? 'an error'}`);
  }
  const frames = walkFrames(bytes, file);
  const valid = bytes.subarray(0, frames.validEnd);
  const reader = RecordBatchStreamReader.from(valid);
  reader.open();
  const instruments = instrumentsOfSchema(reader.schema, file);
  const chunks: TickColumns[] = [];
  let rows = 0;
  for (const batch of reader) {
    const column = (name: string): Float64Array => batch.getChild(name)!.toArray() as Float64Array;
    chunks.push({
      kind: 'ticks', length: batch.numRows, timeUs: column('timeUs'), symbolIndex: batch.getChild('symbolIndex')!.toArray() as Int32Array,
      price: column('price'), size: column('size'), bid: column('bid'), ask: column('ask'),
    });
    rows += batch.numRows;
  }
  const firstChunk = chunks.find((chunk) => chunk.length > 0);
  const lastChunk = [...chunks].reverse().find((chunk) => chunk.length > 0);
  const tornBytes = frames.closed ? 0 : bytes.byteLength - frames.validEnd;
  const info: TapeInfo = {
    file, bytes: bytes.byteLength, batches: chunks.length, rows, closed: frames.closed, tornBytes, tornTail: tornBytes > 0, instruments,
    firstTimeUs: firstChunk?.timeUs[0], lastTimeUs: lastChunk ? lastChunk.timeUs[lastChunk.length - 1] : undefined,
  };
  return {
    info,
    instruments,
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) yield chunk;
    },
  };
}

/** Every complete batch of a tape as tick columns (prices in ticks, sizes in lots of the tape's instruments). */
export async function* readTape(file: string): AsyncGenerator<TickColumns> {
  yield* await openTape(file);
}
