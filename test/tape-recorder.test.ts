// Proves a tape killed mid-recording (SIGKILL) reads back up to its last complete batch, equal to what was generated, and that a torn tail is detected and reported.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTicks, generatedInstruments } from '../adapters/catalog/generate-ticks.ts';
import { openCatalog } from '../adapters/catalog/index.ts';
import { TapeRecorder, openTape, readTape, tapeToCatalog } from '../adapters/tape/index.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-tape-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function expectedTicks(symbols: number, seed: number, batchRows: number, ticksPerSecond = 2): { time: Float64Array; price: Float64Array; symbol: Int32Array }[] {
  const out: { time: Float64Array; price: Float64Array; symbol: Int32Array }[] = [];
  generateTicks({ symbols, days: 1, seed, ticksPerSecond, chunkRows: batchRows }, (chunk) => {
    out.push({ time: chunk.timeUs.slice(), price: chunk.price.slice(), symbol: chunk.symbolIndex.slice() });
  });
  return out;
}

describe('tick tapes', () => {
  it('round-trips batches and instruments through a closed tape', async () => {
    const file = path.join(root, 'closed.arrow');
    const recorder = TapeRecorder.create(file, generatedInstruments(2));
    generateTicks({ symbols: 2, days: 1, seed: 3, ticksPerSecond: 0.5, chunkRows: 1000 }, (chunk) => recorder.append(chunk));
    recorder.close();
    const tape = await openTape(file);
    expect(tape.info.closed).toBe(true);
    expect(tape.info.tornTail).toBe(false);
    expect(tape.info.rows).toBe(recorder.rows);
    expect(tape.instruments.map((instrument) => instrument.symbol)).toEqual(['SYN001', 'SYN002']);
    const expected = expectedTicks(2, 3, 1000, 0.5);
    let index = 0;
    for await (const chunk of readTape(file)) {
      expect(Array.from(chunk.timeUs)).toEqual(Array.from(expected[index].time));
      expect(Array.from(chunk.price)).toEqual(Array.from(expected[index].price));
      index++;
    }
    expect(index).toBe(expected.length);
  });

  it('a recorder killed with SIGKILL leaves a tape that reads back to its last complete batch', async () => {
    const file = path.join(root, 'killed.arrow');
    const child = spawn(process.execPath, [path.join(repo, 'bin/sim.mjs'), 'tape', 'record', '--out', file, '--symbols', '3', '--seed', '9',
      '--batch-rows', '256', '--pace-ms', '5'], { cwd: repo, stdio: 'ignore' });
    // Poll (bounded) until at least 20 batches are on disk, then kill mid-recording.
    let size = 0;
    for (let attempt = 0; attempt < 600 && size < 20 * 256 * 60; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      size = (await fs.stat(file).catch(() => ({ size: 0 }))).size;
    }
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const tape = await openTape(file);
    expect(tape.info.closed).toBe(false);
    expect(tape.info.batches).toBeGreaterThanOrEqual(20);
    const expected = expectedTicks(3, 9, 256);
    expect(tape.info.batches).toBeLessThan(expected.length);
    let index = 0;
    for await (const chunk of tape) {
      expect(chunk.length).toBe(256);
      expect(Array.from(chunk.timeUs)).toEqual(Array.from(expected[index].time));
      expect(Array.from(chunk.symbolIndex)).toEqual(Array.from(expected[index].symbol));
      index++;
    }
    expect(index).toBe(tape.info.batches);

    // Tear the tail in the middle of the last batch: that batch is dropped and reported.
    const bytes = await fs.readFile(file);
    const torn = path.join(root, 'torn.arrow');
    await fs.writeFile(torn, bytes.subarray(0, bytes.byteLength - 1000));
    const tornTape = await openTape(torn);
    expect(tornTape.info.tornTail).toBe(true);
    expect(tornTape.info.batches).toBe(tape.info.batches - 1);
    expect(tornTape.info.tornBytes).toBeGreaterThan(0);

    // The complete batches go into a catalog as ticks.
    const catalogDir = path.join(root, 'catalog');
    const report = await tapeToCatalog(torn, catalogDir);
    expect(report.rowsAfter).toBe(tornTape.info.rows);
    const catalog = await openCatalog(catalogDir);
    let rows = 0;
    for await (const chunk of catalog.readTicks({ fromDate: '2024-01-02', toDate: '2024-01-02' })) rows += chunk.length;
    await catalog.close();
    expect(rows).toBe(tornTape.info.rows);
  });
});
