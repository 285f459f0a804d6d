// The lost-journal scenario: the bot's journal is lost and it restarts under the same run id on a broker account
// that already holds the run's client order ids (refused when seen again), maybe its position and working exit,
// and other bots' orders by the page.
import { US_PER_MINUTE } from '../../engine/types.ts';
import type { Scenario } from '../framework/scenario.ts';
import { lostJournalInvariants } from './invariants.ts';
import { LOST_JOURNAL_FAULT_KINDS, ModelBroker, lostJournalFaultSchedule, memoryJournal, runLostJournal, type LostJournalTruth } from './model.ts';

export const lostJournalScenario: Scenario<LostJournalTruth> = {
  name: 'lost-journal',
  describe: 'bot restarted with a new journal under a run id the broker knows (ids, a position and an exit left there)',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'a new journal starts from id 1, flat, with nothing working' },
    { name: 'newest-page', role: 'fix', describe: 'the incident\'s fix: ids continue after the run\'s highest in the newest page of orders' },
    { name: 'scan-refuse', role: 'robust-fix', describe: 'production fresh start: reads back to the run\'s newest order past other bots\' pages; a working order or a position refuses the start until the operator clears it' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [{ name: 'time-scale', describe: 'real mode: wall seconds per scenario second', defaultValue: 0.05, range: [0.001, 10] }],
  faultKinds: LOST_JOURNAL_FAULT_KINDS,
  faultModes: ['sim', 'real'],
  durationModes: ['sim', 'real'],
  durationUs: (mode, short) => (mode === 'real' ? (short ? 4 : 10) : (short ? 10 : 30)) * US_PER_MINUTE,
  faultSchedule: (rng, durationUs) => lostJournalFaultSchedule(rng, durationUs),
  runSim(context) {
    let nowUs = 0;
    return runLostJournal(context, {
      broker: new ModelBroker(() => nowUs), journal: memoryJournal(), nowUs: () => nowUs, until: async (timeUs) => { nowUs = timeUs; },
    }, 'memory journal');
  },
  async runReal(context) {
    const { runLostJournalReal } = await import('../../adapters/chaos/lost-journal/real.ts');
    return runLostJournalReal(context);
  },
  invariants: lostJournalInvariants,
};
