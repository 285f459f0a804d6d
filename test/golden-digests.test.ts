// Proves that the engine's behaviour is unchanged by work on its internals: every run of the golden corpus (bars and
// ticks, every order type and contingent order, risk, costs, latency, partial fills, both fill modes and intrabar
// policies) gives exactly the run digest recorded in test/golden/digests.json. Regenerate with
// `SIM_UPDATE_GOLDEN=1 npx vitest run test/golden-digests.test.ts` only when behaviour is meant to change.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCorpus, type CorpusEntry } from './support/digest-corpus.ts';

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden', 'digests.json');

describe('golden run digests', () => {
  it('reproduces every digest of the corpus', async () => {
    const corpus = await buildCorpus();
    if (process.env.SIM_UPDATE_GOLDEN === '1') {
      writeFileSync(file, `${JSON.stringify(corpus, null, 1)}\n`);
      return;
    }
    // A missing file is a failure, not a fresh start: otherwise a lost golden file would pass every change.
    expect(existsSync(file), `expected ${file}; write it with SIM_UPDATE_GOLDEN=1`).toBe(true);
    const expected = JSON.parse(readFileSync(file, 'utf8')) as Record<string, CorpusEntry>;
    expect(Object.keys(corpus).sort()).toEqual(Object.keys(expected).sort());
    const differing = Object.keys(expected).filter((name) => corpus[name].digest !== expected[name].digest);
    // The figures show what moved when a digest differs.
    expect(Object.fromEntries(differing.map((name) => [name, corpus[name]]))).toEqual(Object.fromEntries(differing.map((name) => [name, expected[name]])));
    expect(differing).toEqual([]);
  }, 120_000);
});
