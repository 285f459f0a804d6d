// A new journal under a run id the broker may already know (the run id repeats with the configuration; a journal
// is lost with a machine or a cleaned `runs/` folder): what the broker holds decides whether the session may start
// and where its client order ids continue. Pure: the runner reads the broker and journals the outcome; the
// lost-journal chaos scenario runs the same decision against its model broker and against the Alpaca fake.
//
// The rules, in order:
//  1. An order of the run still works at the broker: refuse. The new engine does not know it and would trade
//     beside it (a lost session's exit that later fills, say).
//  2. The run has no order at the broker: start, ids from 1.
//  3. The run has traded there and the broker holds a position in one of its symbols: refuse. It is as likely the
//     lost session's (a long without exits) as anything else, and the new engine starts flat, so it would never
//     manage it.
//  4. Otherwise start, ids continuing after the highest the broker holds: the broker refuses a client order id it
//     has seen, also of a finished order (Alpaca's ids are unique account-wide).
// Closing the position or cancelling the orders at the broker, or starting under another run id, lets it start.

import { clientOrderSequence } from '../../engine/index.ts';

export const SESSION_JOURNAL_MISSING = 'SESSION_JOURNAL_MISSING';

export interface FreshStartFacts {
  readonly runId: string;
  /** Where the new journal is, for the message. */
  readonly journalPath: string;
  /** The engine's client order id prefix (`<run>-<strategy>`): ids are `${idPrefix}-${n}`. */
  readonly idPrefix: string;
  /** Ids of the run's orders working at the broker (all of them, however many pages). */
  readonly workingIds: readonly string[];
  /** Ids of the run's orders the broker holds in any status, back to the run's newest. */
  readonly heldIds: readonly string[];
  /** The broker's positions (signed lots). */
  readonly positions: readonly { readonly symbol: string; readonly quantity: number }[];
  /** The run's symbols. */
  readonly symbols: readonly string[];
}

export type FreshStartPlan =
  | { readonly start: true; readonly sequence: number; readonly reason: string }
  | { readonly start: false; readonly code: typeof SESSION_JOURNAL_MISSING; readonly message: string };

/** The highest sequence among ids of the form `${idPrefix}-${n}` (others count as none), 0 when there is none. */
export function highestSequence(idPrefix: string, ids: Iterable<string>): number {
  // A loop, not a spread into Math.max: a standby that refused intents for hours holds many ids.
  let sequence = 0;
  for (const id of ids) sequence = Math.max(sequence, clientOrderSequence(idPrefix, id));
  return sequence;
}

export function planFreshStart(facts: FreshStartFacts): FreshStartPlan {
  const { runId, journalPath, idPrefix } = facts;
  if (facts.workingIds.length > 0) {
    const ids = facts.workingIds;
    return {
      start: false, code: SESSION_JOURNAL_MISSING,
      message: `expected no working orders of run ${runId} at the broker for a new journal (${journalPath}), found ${ids.length} (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''}); resume with that session's journal, cancel them at the broker, or start under another --run-id`,
    };
  }
  const sequence = highestSequence(idPrefix, facts.heldIds);
  if (sequence === 0) return { start: true, sequence: 0, reason: `new journal: run ${runId} has no orders at the broker` };
  const symbols = new Set(facts.symbols);
  const positions = facts.positions.filter((position) => symbols.has(position.symbol) && position.quantity !== 0);
  if (positions.length > 0) {
    return {
      start: false, code: SESSION_JOURNAL_MISSING,
      message: `expected no position in the symbols of run ${runId}, which has traded at the broker (its newest id ${idPrefix}-${sequence}), for a new journal (${journalPath}), found ${positions.map((position) => `${position.symbol} ${position.quantity}`).join(', ')}; resume with that session's journal, close the position at the broker, or start under another --run-id`,
    };
  }
  return { start: true, sequence, reason: `new journal: ids continue after the broker's ${idPrefix}-${sequence}` };
}
