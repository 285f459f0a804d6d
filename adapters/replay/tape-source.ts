// A tick tape as a replay source: its instruments come from the tape's schema, its data digest is the sha256 of
// the complete batches (a torn tail is left out and does not count), and its dates span its first to last tick.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SimError, formatDays, US_PER_DAY } from '../../engine/index.ts';
import { openTape } from '../tape/index.ts';
import type { ReplaySource } from './run-replay.ts';

export async function openTapeSource(file: string): Promise<ReplaySource & { tornBytes: number }> {
  const tape = await openTape(file);
  const info = tape.info;
  if (info.rows === 0 || info.firstTimeUs === undefined || info.lastTimeUs === undefined) {
    throw new SimError('TAPE_EMPTY', `expected ticks in the tape ${file}, found ${info.batches} complete batches with no rows${info.tornTail ? ` (a torn tail of ${info.tornBytes} bytes was dropped)` : ''}`);
  }
  // Hash the complete batches as a stream: a tape can be far larger than the memory a replay may use.
  const hash = createHash('sha256');
  const end = info.bytes - info.tornBytes;
  if (end > 0) for await (const piece of createReadStream(file, { start: 0, end: end - 1, highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
  const dataDigest = hash.digest('hex');
  return {
    kind: 'tape', path: file, instruments: tape.instruments, dataDigest, chunks: tape,
    fromDate: formatDays(Math.floor(info.firstTimeUs / US_PER_DAY)), toDate: formatDays(Math.floor(info.lastTimeUs / US_PER_DAY)),
    tornBytes: info.tornBytes,
  };
}
