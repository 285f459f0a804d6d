// Proves that `sim paper` restarted on its journal at an accelerated speed skips the records the journal already holds without waiting for their time: it waits only for the records it has yet to apply, and carries on from where the journal ends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../adapters/journal/index.ts';
import { isAppliedMarket, type SessionRecord } from '../adapters/runtime/session-records.ts';
import { runChild } from './support/child-process-bundle.ts';

const sim = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/sim.mjs');
let directory: string;
beforeAll(() => { directory = mkdtempSync(path.join(os.tmpdir(), 'sim-accelerated-')); });
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Three generated symbols printing about once a second each: 6000 records span about 25 minutes of market time. */
const FIRST_RECORDS = 6_000;
const MORE_RECORDS = 30;
const SPEED = 50;
/** Waiting for the skipped records would take about 30 s at that speed; the records still to apply take 0.2 s. */
const RESTART_MS_MAX = 10_000;

describe('accelerated restart', () => {
  it('does not wait for the time of the records the journal already holds', async () => {
    const journal = path.join(directory, 'paper.journal');
    const args = (speed: number, records: number) => ['paper', '--feed', 'generate:3', '--strategy', 'sma-cross', '--run-id', 'ACCEL', '--journal', journal, '--speed', String(speed), '--max-records', String(records), '--json'];
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TZ: 'UTC' };
    const first = await runChild(sim, args(0, FIRST_RECORDS), env, 60_000);
    expect(first.code, first.stderr).toBe(0);
    const startedMs = performance.now();
    const restarted = await runChild(sim, args(SPEED, MORE_RECORDS), env, 60_000);
    const elapsedMs = performance.now() - startedMs;
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toMatch(/sim: recovered \d+ journal records/);
    expect((JSON.parse(restarted.stdout.trim().split('\n').at(-1)!) as { records: number }).records).toBe(MORE_RECORDS);
    const records = Journal.readAll<SessionRecord>(journal).records;
    expect(records.filter(isAppliedMarket).length).toBe(FIRST_RECORDS + MORE_RECORDS);
    expect(elapsedMs, `restart took ${Math.round(elapsedMs)} ms`).toBeLessThan(RESTART_MS_MAX);
  }, 120_000);
});
