// Proves the determinism contract: the same inputs give the same run digest repeated in one process, in separate
// processes, and under different TZ and LANG; and the lint bans (wall clock, Math.random, randomUUID, timers)
// fire in the deterministic folders, each naming its replacement, while the tree itself is clean of them.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { runReplay, DEFAULT_RISK } from '../adapters/replay/run-replay.ts';
import { DEFAULT_CATALOG_DIR } from '../adapters/catalog/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

function replay(seed: number, latencyJitterMs = 0) {
  return runReplay({
    catalogDir: DEFAULT_CATALOG_DIR, fromDate: '2024-03-11', toDate: '2024-03-15', strategy: 'orb', params: {}, seed, fill: 'next-open',
    intrabar: 'stop-first', feesBps: 1, feeMinimum: 1, slippageBps: 2, latencyMs: 5, latencyJitterMs, maxVolumeShare: 0.2, initialCash: 100_000,
    risk: DEFAULT_RISK, skipBad: false,
  });
}

async function cliDigest(env: Record<string, string>): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/sim.mjs'), 'replay', '--date', '2024-03-15', '--json', '--no-artefacts'], {
    cwd: ROOT, env: { ...process.env, ...env },
  });
  return (JSON.parse(stdout) as { runDigest: string }).runDigest;
}

describe('determinism', () => {
  it('repeats the run digest in one process, including seeded latency jitter', async () => {
    const a = await replay(7, 50);
    const b = await replay(7, 50);
    expect(a.runDigest).toBe(b.runDigest);
    expect(a.engine.log.events.length).toBeGreaterThan(10);
    // The seed matters where randomness is used: another seed draws other latencies (the time from an order's
    // submission to its acceptance), while the same seed draws the same ones.
    const latencies = (run: typeof a): number[] => {
      const submitted = new Map<string, number>();
      const drawn: number[] = [];
      for (const e of run.engine.log.events) {
        if (e.type === 'order.submitted') submitted.set(String(e.fields.id), e.timeUs);
        else if (e.type === 'order.accepted' && submitted.has(String(e.fields.id))) drawn.push(e.timeUs - submitted.get(String(e.fields.id))!);
      }
      return drawn;
    };
    const c = await replay(8, 50);
    expect(latencies(a).length).toBeGreaterThan(2);
    expect(latencies(b)).toEqual(latencies(a));
    expect(latencies(c)).not.toEqual(latencies(a));
    for (const us of [...latencies(a), ...latencies(c)]) expect(us >= 5_000 && us <= 55_000, `latency ${us} us`).toBe(true);
  });

  it('repeats the run digest across processes, time zones and locales', async () => {
    const digests = await Promise.all([
      cliDigest({ TZ: 'UTC', LANG: 'C' }),
      cliDigest({ TZ: 'Asia/Kolkata', LANG: 'hi_IN.UTF-8', LC_ALL: 'hi_IN.UTF-8' }),
      cliDigest({ TZ: 'America/New_York', LANG: 'de_DE.UTF-8' }),
    ]);
    expect(new Set(digests).size).toBe(1);
    expect(digests[0]).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});

describe('determinism bans', () => {
  const banned = [
    ['Date.now()', /injected Clock/],
    ['new Date()', /injected Clock/],
    ['performance.now()', /injected Clock/],
    ['Math.random()', /seeded Rng/],
    ['crypto.randomUUID()', /IdSource/],
    ['setTimeout(() => {}, 1)', /schedule on the clock/],
    ['setInterval(() => {}, 1)', /schedule on the clock/],
    ['(1).toLocaleString()', /format-summary\.ts/],
    ["'a'.localeCompare('b')", /by code unit/],
    ['Date()', /injected Clock/],
    ['globalThis.Date.now()', /injected Clock/],
    ['globalThis.setTimeout(() => {}, 1)', /schedule on the clock/],
    ['globalThis.Math.random()', /seeded Rng/],
    ['crypto.getRandomValues(new Uint8Array(4))', /seeded Rng/],
  ] as const;
  // Whole modules: imports of randomness, timers and I/O, with or without the node: prefix.
  const bannedImports = [
    ["import { randomUUID } from 'node:crypto';", /IdSource/],
    ["import { randomBytes } from 'crypto';", /seeded Rng/],
    ["import { setTimeout } from 'timers/promises';", /schedule on the clock/],
    ["import { readFileSync } from 'fs';", /behind a port/],
    ["import { readFile } from 'node:fs/promises';", /behind a port/],
  ] as const;

  for (const folder of ['engine', 'strategies', 'scenarios', 'adapters/chaos/x/simulated-probe', 'adapters/runtime/paper-broker']) {
    it(`fires in ${folder} and names the replacement`, async () => {
      const eslint = new ESLint({ cwd: ROOT });
      const filePath = folder.includes('/') ? path.join(ROOT, `${folder}.ts`) : path.join(ROOT, folder, 'probe.ts');
      for (const [code, replacement] of banned) {
        const [result] = await eslint.lintText(`export const x = ${code};\n`, { filePath });
        const messages = result.messages.map((m) => m.message).join(' | ');
        expect(messages, code).toMatch(replacement);
      }
      for (const [code, replacement] of bannedImports) {
        const [result] = await eslint.lintText(`${code}\n`, { filePath });
        expect(result.messages.map((m) => m.message).join(' | '), code).toMatch(replacement);
      }
      // Hashing is deterministic and stays allowed.
      const [hashing] = await eslint.lintText("import { createHash } from 'node:crypto';\nexport const h = createHash('sha256');\n", { filePath });
      expect(hashing.messages.filter((m) => m.ruleId?.startsWith('no-restricted'))).toEqual([]);
    });
  }

  it('finds no banned call in the deterministic folders (tests and det-ok lines aside)', () => {
    const pattern = /Date\.now\(|new Date\(|\bDate\(|performance\.now\(|Math\.random\(|randomUUID\(|randomBytes\(|getRandomValues\(|setTimeout\(|setInterval\(|setImmediate\(|process\.hrtime|localeCompare\(|toLocale\w*\(/;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (/\.(ts|mts|js)$/.test(name) && !/\.(test|spec)\.ts$/.test(name)) {
          readFileSync(full, 'utf8').split('\n').forEach((line, i) => {
            if (pattern.test(line) && !line.includes('det-ok') && !line.trim().startsWith('//') && !line.trim().startsWith('*')) offenders.push(`${path.relative(ROOT, full)}:${i + 1}`);
          });
        }
      }
    };
    for (const folder of ['engine', 'strategies', 'scenarios']) walk(path.join(ROOT, folder));
    expect(offenders).toEqual([]);
  });
});
