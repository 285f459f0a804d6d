// Proves the tape reader tells a torn tail from corruption of durable data: a bad frame followed by a valid message, or in a tape the recorder closed, is refused with TAPE_CORRUPT; a tail torn (or zero-filled) by a crash is still reported and left out.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Message } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTicks, generatedInstruments } from '../adapters/catalog/generate-ticks.ts';
import { TapeRecorder, openTape } from '../adapters/tape/index.ts';
import { isSimError } from '../engine/errors.ts';

let root: string;
let closed: Buffer;
/** Start offset of every message of the closed tape: [schema, batch 1..10, end-of-stream]. */
let starts: number[];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-tape-corrupt-'));
  const file = path.join(root, 'closed.arrow');
  const recorder = TapeRecorder.create(file, generatedInstruments(2));
  let batches = 0;
  generateTicks({ symbols: 2, days: 1, seed: 3, ticksPerSecond: 0.5, chunkRows: 1000 }, (chunk) => {
    if (batches++ < 10) recorder.append(chunk);
  });
  recorder.close();
  closed = await fs.readFile(file);
  starts = [];
  for (let offset = 0; offset + 8 <= closed.length;) {
    starts.push(offset);
    const metadataLength = closed.readInt32LE(offset + 4);
    if (metadataLength === 0) break;
    offset += 8 + metadataLength + Number(Message.decode(closed.subarray(offset + 8, offset + 8 + metadataLength)).bodyLength);
  }
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function write(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(root, name);
  await fs.writeFile(file, bytes);
  return file;
}

async function expectCorrupt(file: string, message: string): Promise<void> {
  let caught: unknown;
  try {
    await openTape(file);
  } catch (error) {
    caught = error;
  }
  expect(isSimError(caught) && caught.code, String(caught)).toBe('TAPE_CORRUPT');
  expect((caught as Error).message).toContain(message);
}

describe('tape corruption versus a torn tail', () => {
  it('has the expected layout: a schema, 10 batches and the end-of-stream marker', async () => {
    expect(starts).toHaveLength(12);
    expect(closed.subarray(closed.length - 8)).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    const tape = await openTape(await write('clean.arrow', closed));
    expect(tape.info).toMatchObject({ batches: 10, rows: 10_000, closed: true, tornTail: false, tornBytes: 0 });
  });

  it('refuses a closed tape with a corrupt length field 40% in, instead of calling 60% of it a torn tail', async () => {
    const damaged = Buffer.from(closed);
    damaged.writeInt32LE(0x7fffff00, starts[4] + 4);
    await expectCorrupt(await write('closed-bad-length.arrow', damaged), `after the last complete message at byte ${starts[4]}`);
    await expectCorrupt(path.join(root, 'closed-bad-length.arrow'), `found the end-of-stream marker at byte ${closed.length - 8}`);
  });

  it('refuses an unclosed tape whose bad frame is followed by a valid batch, naming where that batch starts', async () => {
    const unclosed = closed.subarray(0, closed.length - 8);
    const lengths = Buffer.from(unclosed);
    lengths.writeInt32LE(0x7fffff00, starts[4] + 4);
    await expectCorrupt(await write('unclosed-bad-length.arrow', lengths), `found a valid message at byte ${starts[5]}`);
    const token = Buffer.from(unclosed);
    token[starts[4]] = 0x00;
    await expectCorrupt(await write('unclosed-bad-token.arrow', token), `found a valid message at byte ${starts[5]}`);
    const metadata = Buffer.from(unclosed);
    metadata.fill(0xee, starts[4] + 8, starts[4] + 8 + 64);
    await expectCorrupt(await write('unclosed-bad-metadata.arrow', metadata), `found a valid message at byte ${starts[5]}`);
    // A length field zeroed mid-file reads as an end-of-stream marker with bytes after it.
    const zero = Buffer.from(unclosed);
    zero.writeInt32LE(0, starts[4] + 4);
    await expectCorrupt(await write('unclosed-zero-length.arrow', zero), 'an end-of-stream marker with');
  });

  it('still reads a tail torn mid-batch, or zero-filled, as a torn tail and keeps every complete batch', async () => {
    const unclosed = closed.subarray(0, closed.length - 8);
    const torn = await openTape(await write('torn.arrow', unclosed.subarray(0, starts[10] + 5000)));
    expect(torn.info).toMatchObject({ batches: 9, rows: 9_000, closed: false, tornTail: true, tornBytes: 5000 });
    let rows = 0;
    for await (const chunk of torn) rows += chunk.length;
    expect(rows).toBe(9_000);
    const zeroFilled = await openTape(await write('zero-filled.arrow', Buffer.concat([unclosed, Buffer.alloc(4096)])));
    expect(zeroFilled.info).toMatchObject({ batches: 10, rows: 10_000, closed: false, tornTail: true, tornBytes: 4096 });
    const tornHeader = await openTape(await write('torn-header.arrow', unclosed.subarray(0, starts[10] + 6)));
    expect(tornHeader.info).toMatchObject({ batches: 9, tornTail: true, tornBytes: 6 });
  });
});
