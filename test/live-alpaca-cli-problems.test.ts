// Proves that `sim live` logs every operating problem of the Alpaca adapter, one stderr line each with its stable
// code: a session started cleanly against the Alpaca fake, then every REST request answered 500 for a while, must
// log the failed lookups and the placement left unknown instead of dropping them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { recordShortTape } from './support/session-orders.ts';

const repository = path.resolve(import.meta.dirname, '..');
let directory: string;
let tape: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-live-problems-'));
  tape = path.join(directory, 'short.arrow');
  recordShortTape(tape, 120);
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('sim live and the Alpaca adapter problems', () => {
  it('logs each adapter problem as one line with its code while the venue answers 500', async () => {
    const fake = await AlpacaFake.start({ seed: 2, cash: '10000000' });
    try {
      const child = spawn(process.execPath, [path.join(repository, 'bin/sim.mjs'), 'live', '--venue', 'alpaca', '--confirm-live', '--feed', `tape:${tape}`, '--speed', '1200',
        '--journal', path.join(directory, 'live.journal'), '--strategy', 'sma-cross', '--param', 'fast=3', '--param', 'slow=8', '--run-id', 'PRB', '--no-risk', '--json'], {
        cwd: repository, stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH, APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secret, APCA_API_BASE_URL: fake.restUrl, APCA_STREAM_URL: fake.streamUrl, SIM_ALPACA_MARKET_ECHO: '1' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Once the session trades, the venue fails every request until the adapter has reported an unknown outcome.
      const until = async (condition: () => boolean, limitMs: number): Promise<boolean> => {
        for (let waited = 0; waited < limitMs; waited += 10) {
          if (condition()) return true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return condition();
      };
      expect(await until(() => fake.allOrders().length > 0, 30_000), `an order at the fake; stderr: ${stderr}`).toBe(true);
      fake.setFaults({ serverError: 1 });
      await until(() => /VENUE_OUTCOME_UNKNOWN/.test(stderr), 20_000);
      fake.setFaults({});
      child.kill('SIGTERM');
      await exited;
      const lines = stderr.split('\n').filter((line) => line.startsWith('sim: alpaca problem '));
      expect(lines.length, stderr).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^sim: alpaca problem [A-Z_]+: expected .+, found .+$/);
      expect(lines.some((line) => line.startsWith('sim: alpaca problem VENUE_OUTCOME_UNKNOWN: ')), stderr).toBe(true);
    } finally {
      await fake.close();
    }
  }, 90_000);
});
