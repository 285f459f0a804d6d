// The legacy-state scenario: start from a state file an older version wrote.
import type { Scenario } from '../framework/scenario.ts';
import { VirtualScheduler } from '../framework/virtual-scheduler.ts';
import { legacyInvariants } from './invariants.ts';
import { BARS, MUTATIONS, legacyFaultSchedule, runLegacyState, type LegacyTruth } from './model.ts';

export const legacyStateScenario: Scenario<LegacyTruth> = {
  name: 'legacy-state',
  describe: 'runner starting from state persisted by an older version',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'reads the state file as if it had the current shape' },
    { name: 'lenient', role: 'fix', describe: 'the incident fix: old field names read as aliases, enums in any case; a missing field stays missing' },
    { name: 'migrate', role: 'robust-fix', describe: 'production migration: migrates, or refuses before trading with a clear message' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [{ name: 'time-scale', describe: 'real mode: wall seconds per scenario second', defaultValue: 0.001, range: [0.00001, 10] }],
  // A fault is a mutation of the legacy state file (its atUs and durationUs are 0); a session is BARS bars long.
  faultKinds: MUTATIONS,
  faultModes: ['sim', 'real'],
  durationModes: [],
  durationUs: () => (BARS + 1) * 60_000_000,
  faultSchedule: (rng) => legacyFaultSchedule(rng),
  runSim(context) {
    let text = '';
    return runLegacyState(context, new VirtualScheduler(0), { read: () => text, write: (state) => { text = JSON.stringify(state); } });
  },
  async runReal(context) {
    const { runLegacyStateReal } = await import('../../adapters/chaos/legacy-state-real.ts');
    return runLegacyStateReal(context);
  },
  invariants: legacyInvariants,
};
