// Proves the incident's own fix of legacy-state (lenient field aliasing): it holds against the state file the
// incident had (upper-case enums, renamed fields) and fails on a harder one (a stored signal without its bar
// timestamp, carried on and saved again without one), where the production migration holds.
import { describe, expect, it } from 'vitest';
import { runSeed } from '../scenarios/framework/run-scenario.ts';
import { legacyStateScenario } from '../scenarios/legacy-state/index.ts';

const mutation = (kind: string) => ({ kind, atUs: 0, durationUs: 0 });
const verdicts = async (mode: 'sim' | 'real', faults: ReturnType<typeof mutation>[]) => {
  const result = await runSeed(legacyStateScenario, { scenario: 'legacy-state', mode, seed: 1, variants: ['naive', 'lenient', 'migrate'], options: { 'time-scale': 0.0005 }, short: true, faults });
  return Object.fromEntries(result.variants.map((variant) => [variant.name, { verdict: variant.verdict, violations: variant.violations }]));
};

describe('legacy-state: lenient aliasing, the incident fix', () => {
  for (const mode of ['sim', 'real'] as const) {
    it(`${mode}: holds against enums and renamed fields, fails on a signal without its bar timestamp`, async () => {
      const incident = await verdicts(mode, [mutation('uppercase-enums'), mutation('renamed-fields')]);
      expect(incident.naive.verdict).toBe('reproduced');
      expect(incident.lenient.verdict).toBe('holds');
      expect(incident.migrate.verdict).toBe('holds');
      const harder = await verdicts(mode, [mutation('renamed-fields'), mutation('missing-signal-timestamp')]);
      expect(harder.lenient.verdict).toBe('fails');
      expect(harder.lenient.violations['signals-have-bar-timestamp']).toBeGreaterThan(0);
      expect(harder.lenient.violations['no-mid-session-failure']).toBe(0);
      expect(harder.migrate.verdict).toBe('holds');
    }, 60_000);
  }
});
