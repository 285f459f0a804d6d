// Appends tick chunks to a tape as they arrive. Each append writes one complete Arrow IPC record batch
// message with a single write call; the file is fsynced after every batch, or at most every `fsyncEveryMs`
// milliseconds. A crash can therefore tear only the last message, which the reader detects and drops.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { RecordBatch, RecordBatchStreamWriter, Struct, makeData, Float64, Int32, type Schema } from 'apache-arrow';
import type { Instrument, TickColumns } from '../../engine/types.ts';
import { tapeSchema } from './tape-format.ts';

/** End-of-stream marker of the Arrow IPC stream format: continuation token, then a zero metadata length. */
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

export interface RecorderOptions {
  /** 0 (default): fsync after every batch. Otherwise at most every this many milliseconds, and at close. */
  readonly fsyncEveryMs?: number;
}

/** Splits one-batch IPC stream bytes into the schema message and the record batch message. */
function splitStream(bytes: Uint8Array): { schema: Uint8Array; batch: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const schemaLength = 8 + view.getInt32(4, true);
  return { schema: bytes.subarray(0, schemaLength), batch: bytes.subarray(schemaLength, bytes.byteLength - END_OF_STREAM.byteLength) };
}

function nanFilled(length: number): Float64Array {
  return new Float64Array(length).fill(Number.NaN);
}

export class TapeRecorder {
  readonly file: string;
  readonly instruments: readonly Instrument[];
  private readonly schema: Schema;
  private descriptor: number;
  private readonly fsyncEveryMs: number;
  private lastSyncMs = 0;
  private wroteSchema = false;
  batches = 0;
  rows = 0;

  private constructor(file: string, instruments: readonly Instrument[], options: RecorderOptions) {
    this.file = file;
    this.instruments = instruments;
    this.schema = tapeSchema(instruments);
    this.fsyncEveryMs = options.fsyncEveryMs ?? 0;
    this.descriptor = openSync(file, 'w');
  }

  static create(file: string, instruments: readonly Instrument[], options: RecorderOptions = {}): TapeRecorder {
    return new TapeRecorder(file, instruments, options);
  }

  append(chunk: TickColumns): void {
    if (chunk.length === 0) return;
    const length = chunk.length;
    const columns = [
      makeData({ type: new Float64(), length, data: chunk.timeUs }),
      makeData({ type: new Int32(), length, data: chunk.symbolIndex }),
      makeData({ type: new Float64(), length, data: chunk.price }),
      makeData({ type: new Float64(), length, data: chunk.size }),
      makeData({ type: new Float64(), length, data: chunk.bid ?? nanFilled(length) }),
      makeData({ type: new Float64(), length, data: chunk.ask ?? nanFilled(length) }),
    ];
    const batch = new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length, children: columns }));
    const { schema, batch: message } = splitStream(RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true));
    if (!this.wroteSchema) {
      writeAll(this.descriptor, schema);
      this.wroteSchema = true;
    }
    writeAll(this.descriptor, message);
    this.batches++;
    this.rows += length;
    const nowMs = performance.now();
    if (this.fsyncEveryMs === 0 || nowMs - this.lastSyncMs >= this.fsyncEveryMs) {
      fsyncSync(this.descriptor);
      this.lastSyncMs = nowMs;
    }
  }

  /** Writes the end-of-stream marker (and the schema, for a tape with no batches), syncs and closes. */
  close(): void {
    if (this.descriptor < 0) return;
    if (!this.wroteSchema) {
      const empty = new RecordBatch(this.schema, makeData({ type: new Struct(this.schema.fields), length: 0, children: this.schema.fields.map((field) => makeData({ type: field.type, length: 0 })) }));
      writeAll(this.descriptor, splitStream(RecordBatchStreamWriter.writeAll([empty]).toUint8Array(true)).schema);
    }
    writeAll(this.descriptor, END_OF_STREAM);
    fsyncSync(this.descriptor);
    closeSync(this.descriptor);
    this.descriptor = -1;
  }
}

function writeAll(descriptor: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength) offset += writeSync(descriptor, bytes, offset, bytes.byteLength - offset);
}
