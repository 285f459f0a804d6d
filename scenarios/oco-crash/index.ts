// The oco-crash scenario: the runner killed at each durable boundary of the bracket lifecycle, restarted,
// reconciled (or not).
import { US_PER_MINUTE } from '../../engine/types.ts';
import type { Scenario } from '../framework/scenario.ts';
import { VirtualScheduler } from '../framework/virtual-scheduler.ts';
import { ocoInvariants } from './invariants.ts';
import { BOUNDARIES, ocoFaultSchedule, runOcoCrash, type JournalPort, type JournalRecord, type OcoTruth } from './model.ts';

function memoryJournal(): JournalPort {
  const records: JournalRecord[] = [];
  return { append: (record) => { records.push(record); }, records: () => [...records] };
}

export const ocoCrashScenario: Scenario<OcoTruth> = {
  name: 'oco-crash',
  describe: 'runner killed at each durable boundary of the bracket lifecycle, then restarted',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'restores from its journal alone: resubmits under a new id, forgets unfinished brackets' },
    { name: 'reprotect', role: 'fix', describe: "re-sends the stop and target of the venue's open position under fresh ids on restart, without looking up the exits already working" },
    { name: 'reconcile', role: 'robust-fix', describe: 'looks every order up at the venue by client order id, protects and cancels as needed' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [
    { name: 'time-scale', describe: 'real mode: wall seconds per scenario second', defaultValue: 0.05, range: [0.001, 10] },
    { name: 'crash', describe: 'real mode: process (SIGKILL a runner process) or memory (drop the runner in one process)', defaultValue: 'process', choices: ['process', 'memory'] },
  ],
  faultKinds: BOUNDARIES,
  faultModes: ['sim', 'real'],
  durationModes: ['sim', 'real'],
  durationUs: (mode, short) => (mode === 'real' ? (short ? 4 : 8) * US_PER_MINUTE : (short ? 20 : 390) * US_PER_MINUTE),
  faultSchedule: (rng, durationUs) => ocoFaultSchedule(rng, durationUs),
  runSim(context) {
    const journal = memoryJournal();
    return runOcoCrash(context, { scheduler: new VirtualScheduler(0), journal: () => journal, reopenJournal: () => journal });
  },
  async runReal(context) {
    if (context.options.crash === 'memory') {
      const { runOcoCrashReal } = await import('../../adapters/chaos/oco-crash/journal-only-real.ts');
      return runOcoCrashReal(context);
    }
    const { runOcoCrashProcesses } = await import('../../adapters/chaos/oco-crash/process-real.ts');
    return runOcoCrashProcesses(context);
  },
  invariants: ocoInvariants,
};
