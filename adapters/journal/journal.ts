// An append-only journal of JSON records. Each record is framed as
//   [u32 LE payload length][u32 LE CRC32 of payload][payload: UTF-8 JSON]
// after an 8-byte file header. A crash can leave the last record half-written (a torn tail): reading stops
// there and reports how many bytes it ignored; opening for append cuts them off first, so the next record
// starts on a clean boundary. A bad record *followed by* good bytes is not a torn tail but corruption of
// data that was once durable, and is refused rather than silently dropped.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { SimError } from '../../engine/errors.ts';

export const JOURNAL_HEADER = Buffer.from('SIMJRNL1', 'ascii');
const FRAME_HEADER_BYTES = 8;
/** A record larger than this is refused on append; on read, a length above it marks a torn or corrupt frame. */
export const RECORD_BYTES_MAX = 16 * 1024 * 1024;

export interface JournalReadResult<T = unknown> {
  records: T[];
  /** Bytes after the last complete record that did not form a complete, valid record (0 when clean). */
  tornTailBytes: number;
  /** Offset just past the last complete record: where the next append belongs. */
  validEndOffset: number;
}

export interface JournalOptions {
  /**
   * 'every-append' (default): fsync before append() returns, so an appended record survives a crash.
   * 'batched': append() only writes; records become durable at flush() (or close()), or automatically once
   * `batchRecordsMax` records are pending. Faster; the caller owns the window of records it may lose.
   */
  durability?: 'every-append' | 'batched';
  /** Bound on the records a batched journal may hold unsynced (default 64). */
  batchRecordsMax?: number;
}

export class Journal {
  readonly path: string;
  /** How many torn-tail bytes open() cut off before appending (0 when the file was clean). */
  readonly droppedTailBytes: number;
  /** Records that were already in the file when it was opened. */
  readonly existingRecords: unknown[];
  private readonly descriptor: number;
  private readonly batched: boolean;
  private readonly batchRecordsMax: number;
  private offset: number;
  private unflushed = 0;
  private closed = false;

  private constructor(path: string, descriptor: number, offset: number, existing: JournalReadResult, batched: boolean, batchRecordsMax: number) {
    this.path = path;
    this.batchRecordsMax = batchRecordsMax;
    this.descriptor = descriptor;
    this.offset = offset;
    this.existingRecords = existing.records;
    this.droppedTailBytes = existing.tornTailBytes;
    this.batched = batched;
  }

  /** Opens (creating if absent) for append; a torn tail is truncated and reported in `droppedTailBytes`. */
  static open(path: string, options: JournalOptions = {}): Journal {
    const batched = options.durability === 'batched';
    const batchRecordsMax = options.batchRecordsMax ?? 64;
    if (!(Number.isInteger(batchRecordsMax) && batchRecordsMax >= 1)) throw new SimError('JOURNAL_CONFIG_INVALID', `expected batchRecordsMax >= 1, found ${batchRecordsMax}`);
    if (!existsSync(path)) {
      const descriptor = openSync(path, 'wx+');
      writeSync(descriptor, JOURNAL_HEADER, 0, JOURNAL_HEADER.length, 0);
      fsyncSync(descriptor);
      return new Journal(path, descriptor, JOURNAL_HEADER.length, { records: [], tornTailBytes: 0, validEndOffset: JOURNAL_HEADER.length }, batched, batchRecordsMax);
    }
    const existing = Journal.readAll(path);
    const descriptor = openSync(path, 'r+');
    let offset = existing.validEndOffset;
    if (existing.tornTailBytes > 0) {
      ftruncateSync(descriptor, offset);
      if (offset < JOURNAL_HEADER.length) {
        writeSync(descriptor, JOURNAL_HEADER, 0, JOURNAL_HEADER.length, 0);
        offset = JOURNAL_HEADER.length;
      }
      fsyncSync(descriptor);
    }
    return new Journal(path, descriptor, offset, existing, batched, batchRecordsMax);
  }

  /** Reads every complete record; a torn tail is reported, not thrown. */
  static readAll<T = unknown>(path: string): JournalReadResult<T> {
    const bytes = readFileSync(path);
    if (bytes.length < JOURNAL_HEADER.length) {
      // A crash while creating the file: only a prefix of the header (or nothing) got written.
      if (JOURNAL_HEADER.subarray(0, bytes.length).equals(bytes)) {
        return { records: [], tornTailBytes: bytes.length, validEndOffset: 0 };
      }
      throw new SimError('JOURNAL_HEADER_INVALID', `expected journal header ${JOURNAL_HEADER.toString('ascii')} in ${path}, found ${bytes.length} other bytes`);
    }
    if (!bytes.subarray(0, JOURNAL_HEADER.length).equals(JOURNAL_HEADER)) {
      throw new SimError('JOURNAL_HEADER_INVALID', `expected journal header ${JOURNAL_HEADER.toString('ascii')} in ${path}, found ${JSON.stringify(bytes.subarray(0, JOURNAL_HEADER.length).toString('latin1'))}`);
    }
    const records: T[] = [];
    let offset = JOURNAL_HEADER.length;
    while (offset < bytes.length) {
      const remaining = bytes.length - offset;
      if (remaining < FRAME_HEADER_BYTES) break;
      const length = bytes.readUInt32LE(offset);
      const expectedCrc = bytes.readUInt32LE(offset + 4);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (length > RECORD_BYTES_MAX || end > bytes.length) break;
      const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, end);
      if (crc32(payload) !== expectedCrc) {
        if (end === bytes.length) break;
        throw new SimError('JOURNAL_CORRUPT', `expected CRC ${expectedCrc} for the record at byte ${offset} of ${path}, found ${crc32(payload)} with ${bytes.length - end} bytes after it`);
      }
      try {
        records.push(JSON.parse(payload.toString('utf8')) as T);
      } catch {
        // The CRC matched, so these are the bytes that were written: a writer bug, not a torn write.
        throw new SimError('JOURNAL_CORRUPT', `expected JSON in the record at byte ${offset} of ${path}, found ${length} bytes that do not parse`);
      }
      offset = end;
    }
    return { records, tornTailBytes: bytes.length - offset, validEndOffset: offset };
  }

  /** Appends one record; durable on return unless the journal was opened 'batched'. */
  append(record: unknown): void {
    if (this.closed) throw new SimError('JOURNAL_CLOSED', `expected an open journal at ${this.path}, found it closed`);
    const payload = Buffer.from(JSON.stringify(record), 'utf8');
    if (payload.length > RECORD_BYTES_MAX) {
      throw new SimError('JOURNAL_RECORD_TOO_LARGE', `expected a record of at most ${RECORD_BYTES_MAX} bytes, found ${payload.length}`);
    }
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    payload.copy(frame, FRAME_HEADER_BYTES);
    // One write call per frame at an explicit offset; a short write is retried for the rest (bounded by size).
    let written = 0;
    for (let attempt = 0; written < frame.length && attempt < 1_000; attempt += 1) {
      written += writeSync(this.descriptor, frame, written, frame.length - written, this.offset + written);
    }
    if (written < frame.length) throw new SimError('JOURNAL_WRITE_SHORT', `expected to write ${frame.length} bytes to ${this.path}, found ${written} written`);
    this.offset += frame.length;
    if (!this.batched) {
      fsyncSync(this.descriptor);
      return;
    }
    this.unflushed += 1;
    if (this.unflushed >= this.batchRecordsMax) this.flush();
  }

  /** Records appended but not yet fsynced (always 0 unless batched). */
  pendingRecords(): number {
    return this.unflushed;
  }

  /** Makes every appended record durable (a no-op when nothing is pending). */
  flush(): void {
    if (this.unflushed === 0 || this.closed) return;
    fsyncSync(this.descriptor);
    this.unflushed = 0;
  }

  /** Bytes in the file, header included. */
  sizeBytes(): number {
    return fstatSync(this.descriptor).size;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    closeSync(this.descriptor);
    this.closed = true;
  }
}

/** Reads every complete record of the journal at `path` (same as Journal.readAll). */
export function readAll<T = unknown>(path: string): JournalReadResult<T> {
  return Journal.readAll<T>(path);
}
