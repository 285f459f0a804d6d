// Proves a tape recorded from the catalog's ticks (`sim tape record --source catalog`) replays through the engine to
// the same run digest as replaying those catalog ticks directly.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runReplay, type ReplayOptions } from '../adapters/replay/run-replay.ts';
import { openTapeSource } from '../adapters/replay/tape-source.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const exec = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sim-tape-digest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sim = (...args: string[]) => exec(process.execPath, [path.join(ROOT, 'bin/sim.mjs'), ...args], { cwd: ROOT });

describe('tape recorded from the catalog', () => {
  it('replays to the same run digest as the catalog ticks', async () => {
    const catalog = path.join(dir, 'catalog');
    const tape = path.join(dir, 'day.arrow');
    await sim('data', 'generate', '--symbols', '2', '--days', '1', '--seed', '5', '--catalog', catalog);
    await sim('tape', 'record', '--source', 'catalog', '--catalog', catalog, '--from', '2024-01-02', '--out', tape, '--batch-rows', '1000');
    const options: ReplayOptions = {
      catalogDir: catalog, fromDate: '2024-01-02', toDate: '2024-01-02', strategy: 'sma-cross', params: {}, seed: 1, fill: 'next-open', intrabar: 'stop-first',
      feesBps: 1, feeMinimum: 0, slippageBps: 1, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: {}, skipBad: false, runId: 'T',
    };
    const fromCatalog = await runReplay({ ...options, dataKind: 'ticks' });
    const fromTape = await runReplay({ ...options, source: await openTapeSource(tape) });
    expect(fromCatalog.ticks).toBeGreaterThan(50_000);
    expect(fromTape.ticks).toBe(fromCatalog.ticks);
    expect(fromCatalog.trades.length).toBeGreaterThan(3);
    expect(fromTape.runDigest).toBe(fromCatalog.runDigest);
  }, 120_000);
});
