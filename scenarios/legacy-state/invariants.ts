// The legacy-state invariants.
import { notes, operations } from '../framework/history.ts';
import type { Invariant } from '../framework/scenario.ts';
import { legacyStateText, type LegacyTruth } from './model.ts';

const noMidSessionFailure: Invariant<LegacyTruth> = {
  name: 'no-mid-session-failure',
  describe: 'once trading started, the session never fails',
  check(history) {
    // One session per run: judged whether it traded or was refused before trading.
    const checked = operations(history, 'load-state').length;
    if (notes(history, 'session-started').length === 0) return { violations: [], checked };
    return { checked, violations: notes(history, 'session-failed').map((note) => ({ invariant: 'no-mid-session-failure', message: `failed at bar ${(note.data as { bar: number }).bar}: ${(note.data as { message: string }).message}`, timeUs: note.timeUs })) };
  },
};

const refusalIsClearAndNeeded: Invariant<LegacyTruth> = {
  name: 'refusal-clear-and-needed',
  describe: 'a refusal comes before trading, with a code and a message saying what was expected, and only for a state that cannot be migrated',
  check(history, truth) {
    const refusals = notes(history, 'refused');
    // Every load is a decision to refuse or not.
    const checked = operations(history, 'load-state').length;
    if (refusals.length === 0) return { violations: [], checked };
    const { code, message } = refusals[0].data as { code: string; message: string };
    const problems: string[] = [];
    if (notes(history, 'session-started').length > 0) problems.push('refused after trading started');
    if (!code || !/expected/.test(message)) problems.push(`unclear message "${message}"`);
    if (!truth.mutations.includes('missing-signal-timestamp')) problems.push(`refused a migratable state (${truth.mutations.join(', ')})`);
    return { checked, violations: problems.map((problem) => ({ invariant: 'refusal-clear-and-needed', message: problem })) };
  },
};

const signalsHaveBarTimestamp: Invariant<LegacyTruth> = {
  name: 'signals-have-bar-timestamp',
  describe: 'every signal in the persisted state has the integer timestamp of its bar; a runner that never traded leaves the file as it found it',
  check(history, truth) {
    if (operations(history, 'bar').every((entry) => entry.outcome !== 'ok')) {
      const untouched = JSON.stringify(truth.finalState) === JSON.stringify(JSON.parse(legacyStateText(truth.mutations)));
      return { checked: 1, violations: untouched ? [] : [{ invariant: 'signals-have-bar-timestamp', message: 'a runner that never traded rewrote the state file' }] };
    }
    const signals = ((truth.finalState as { signals?: unknown[] }).signals ?? []) as Record<string, unknown>[];
    return {
      checked: signals.length,
      violations: signals
        .map((signal, index) => ({ signal, index }))
        .filter(({ signal }) => !Number.isInteger(signal.barStartUs))
        .map(({ index }) => ({ invariant: 'signals-have-bar-timestamp', message: `persisted signal ${index} has no barStartUs` })),
    };
  },
};

export const legacyInvariants: readonly Invariant<LegacyTruth>[] = [noMidSessionFailure, refusalIsClearAndNeeded, signalsHaveBarTimestamp];
