// An append-only journal of JSON records. Each record is framed as
//   [u32 LE payload length][u32 LE CRC32 of payload][payload: UTF-8 JSON]
// after an 8-byte file header. A crash can leave the last record half-written (a torn tail): reading stops
// there and reports how many bytes it ignored; opening for append first copies them to `<journal>.torn-<n>`
// and then cuts them off, so the next record starts on a clean boundary and no byte is ever lost. A bad frame
// *followed by* a valid record (a later frame whose length fits and whose CRC matches), a complete frame
// with a wrong CRC and bytes after it, or a length above RECORD_BYTES_MAX in a whole frame header is not a
// torn tail but corruption of data that was once durable, and is refused (JOURNAL_CORRUPT) rather than cut.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, linkSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
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
  /** Where open() saved the bytes it cut off (`<journal>.torn-<n>`), undefined when it cut nothing. */
  readonly droppedTailFile: string | undefined;
  /** Records that were already in the file when it was opened. */
  readonly existingRecords: unknown[];
  private readonly descriptor: number;
  private readonly batched: boolean;
  private readonly batchRecordsMax: number;
  private offset: number;
  private unflushed = 0;
  private closed = false;

  private constructor(path: string, descriptor: number, offset: number, existing: JournalReadResult, batched: boolean, batchRecordsMax: number, droppedTailFile?: string) {
    this.path = path;
    this.droppedTailFile = droppedTailFile;
    this.batchRecordsMax = batchRecordsMax;
    this.descriptor = descriptor;
    this.offset = offset;
    this.existingRecords = existing.records;
    this.droppedTailBytes = existing.tornTailBytes;
    this.batched = batched;
  }

  /**
   * Opens (creating if absent) for append. A torn tail is first saved to `<journal>.torn-<n>` (reported in
   * `droppedTailFile`), then truncated (reported in `droppedTailBytes`); corruption throws JOURNAL_CORRUPT and
   * leaves the file untouched.
   */
  static open(path: string, options: JournalOptions = {}): Journal {
    const batched = options.durability === 'batched';
    const batchRecordsMax = options.batchRecordsMax ?? 64;
    if (!(Number.isInteger(batchRecordsMax) && batchRecordsMax >= 1)) throw new SimError('JOURNAL_CONFIG_INVALID', `expected batchRecordsMax >= 1, found ${batchRecordsMax}`);
    if (!existsSync(path)) {
      const descriptor = openSync(path, 'wx+');
      writeSync(descriptor, JOURNAL_HEADER, 0, JOURNAL_HEADER.length, 0);
      fsyncSync(descriptor);
      fsyncDirectory(dirname(path));
      return new Journal(path, descriptor, JOURNAL_HEADER.length, { records: [], tornTailBytes: 0, validEndOffset: JOURNAL_HEADER.length }, batched, batchRecordsMax);
    }
    const existing = Journal.readAll(path);
    const descriptor = openSync(path, 'r+');
    let offset = existing.validEndOffset;
    let droppedTailFile: string | undefined;
    if (existing.tornTailBytes > 0) {
      try {
        droppedTailFile = saveTornTail(path, descriptor, offset);
      } catch (error) {
        closeSync(descriptor);
        throw error;
      }
      ftruncateSync(descriptor, offset);
      if (offset < JOURNAL_HEADER.length) {
        writeSync(descriptor, JOURNAL_HEADER, 0, JOURNAL_HEADER.length, 0);
        offset = JOURNAL_HEADER.length;
      }
      fsyncSync(descriptor);
    }
    return new Journal(path, descriptor, offset, existing, batched, batchRecordsMax, droppedTailFile);
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
      // Fewer bytes than a frame header: no record can start here or after, so this is a torn tail.
      if (remaining < FRAME_HEADER_BYTES) break;
      const length = bytes.readUInt32LE(offset);
      const expectedCrc = bytes.readUInt32LE(offset + 4);
      if (length > RECORD_BYTES_MAX) {
        // A whole frame header whose length was never written by append(): a torn append leaves a prefix of
        // the real header, so this is a damaged header, and the bytes after it may be durable records.
        throw new SimError('JOURNAL_CORRUPT', `expected a record length of at most ${RECORD_BYTES_MAX} at byte ${offset} of ${path}, found ${length} with ${remaining - FRAME_HEADER_BYTES} bytes after the frame header`);
      }
      const end = offset + FRAME_HEADER_BYTES + length;
      // append() never writes an empty payload, so a zero length is a frame the writer did not finish (a
      // zero-filled tail after a crash) or damage; like a frame that runs past the end of the file it is a
      // torn tail only when no valid record follows it.
      if (length > 0 && end <= bytes.length) {
        const payload = bytes.subarray(offset + FRAME_HEADER_BYTES, end);
        const actualCrc = crc32(payload);
        if (actualCrc === expectedCrc) {
          try {
            records.push(JSON.parse(payload.toString('utf8')) as T);
          } catch {
            // The CRC matched, so these are the bytes that were written: a writer bug, not a torn write.
            throw new SimError('JOURNAL_CORRUPT', `expected JSON in the record at byte ${offset} of ${path}, found ${length} bytes that do not parse`);
          }
          offset = end;
          continue;
        }
        if (end < bytes.length) {
          throw new SimError('JOURNAL_CORRUPT', `expected CRC ${expectedCrc} for the record at byte ${offset} of ${path}, found ${actualCrc} with ${bytes.length - end} bytes after it`);
        }
        break;
      }
      const later = nextValidFrame(bytes, offset + 1);
      if (later >= 0) {
        throw new SimError('JOURNAL_CORRUPT', `expected only a torn tail after the bad frame at byte ${offset} of ${path} (length ${length}, ${remaining - FRAME_HEADER_BYTES} bytes after its header), found a valid record at byte ${later}`);
      }
      break;
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

/** The offset of the first position at or after `from` where a complete frame with a matching CRC starts, or -1. */
function nextValidFrame(bytes: Buffer, from: number): number {
  for (let at = from; at + FRAME_HEADER_BYTES < bytes.length; at += 1) {
    const length = bytes.readUInt32LE(at);
    if (length === 0 || length > RECORD_BYTES_MAX) continue;
    const end = at + FRAME_HEADER_BYTES + length;
    if (end > bytes.length) continue;
    if (crc32(bytes.subarray(at + FRAME_HEADER_BYTES, end)) === bytes.readUInt32LE(at + 4)) return at;
  }
  return -1;
}

function fsyncDirectory(directory: string): void {
  const descriptor = openSync(directory, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Copies the bytes from `from` to the end of the journal open at `descriptor` into `<path>.torn-<n>`, the first
 * free n >= 1: written to a temporary file and fsynced, then linked into place (never over an existing file),
 * and the folder fsynced, so that they are durable before the journal is cut.
 */
function saveTornTail(path: string, descriptor: number, from: number): string {
  const size = fstatSync(descriptor).size;
  const tail = Buffer.alloc(Math.max(0, size - from));
  let read = 0;
  while (read < tail.length) {
    const got = readSync(descriptor, tail, read, tail.length - read, from + read);
    if (got === 0) break;
    read += got;
  }
  if (read < tail.length) throw new SimError('JOURNAL_WRITE_SHORT', `expected to read the ${tail.length} torn-tail bytes of ${path}, found ${read}`);
  const temporary = `${path}.torn-tmp-${process.pid}`;
  const out = openSync(temporary, 'w');
  try {
    let written = 0;
    for (let attempt = 0; written < tail.length && attempt < 1_000; attempt += 1) written += writeSync(out, tail, written, tail.length - written);
    if (written < tail.length) throw new SimError('JOURNAL_WRITE_SHORT', `expected to write ${tail.length} bytes to ${temporary}, found ${written} written`);
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  try {
    for (let n = 1; n <= 100_000; n += 1) {
      const target = `${path}.torn-${n}`;
      try {
        linkSync(temporary, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new SimError('JOURNAL_TAIL_SAVE_FAILED', `expected to save the torn tail of ${path} to ${target}, found ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      fsyncDirectory(dirname(path));
      return target;
    }
    throw new SimError('JOURNAL_TAIL_SAVE_FAILED', `expected a free name ${path}.torn-<n> for the torn tail, found 100000 taken`);
  } finally {
    unlinkSync(temporary);
  }
}

/** Reads every complete record of the journal at `path` (same as Journal.readAll). */
export function readAll<T = unknown>(path: string): JournalReadResult<T> {
  return Journal.readAll<T>(path);
}
