// The oco-crash invariants, over the venue's ground truth.
import type { Invariant, Violation } from '../framework/scenario.ts';
import { STARTUP_ALLOWANCE_US, UNPROTECTED_US_MAX, type OcoTruth } from './model.ts';

const noDuplicateOrder: Invariant<OcoTruth> = {
  name: 'no-duplicate-order',
  describe: 'one entry per bracket and no client order id received twice',
  check(_history, truth) {
    const violations: Violation[] = [];
    const ids = new Set<string>();
    const entries = new Set<number>();
    for (const order of truth.received) {
      if (ids.has(order.clientOrderId)) violations.push({ invariant: 'no-duplicate-order', message: `${order.clientOrderId} received twice` });
      if (order.leg === 'entry' && entries.has(order.bracket)) violations.push({ invariant: 'no-duplicate-order', message: `bracket ${order.bracket} got a second entry ${order.clientOrderId}` });
      ids.add(order.clientOrderId);
      if (order.leg === 'entry') entries.add(order.bracket);
    }
    return { violations, checked: truth.received.length };
  },
};

const noOrphanExit: Invariant<OcoTruth> = {
  name: 'no-orphan-exit',
  describe: 'at the end no exit works without a position to close',
  check(_history, truth) {
    // The end state is one case: any working exit is judged against the venue position.
    const working = truth.workingAtEnd.filter((order) => order.leg !== 'entry');
    if (working.length === 0 || truth.venuePosition >= working.length / 2) return { violations: [], checked: 1 };
    return { checked: 1, violations: working.map((order) => ({ invariant: 'no-orphan-exit', message: `${order.clientOrderId} still working with venue position ${truth.venuePosition}` })) };
  },
};

const neverBothExitsFilled: Invariant<OcoTruth> = {
  name: 'never-both-exits-filled',
  describe: 'no bracket has both its stop and its target filled',
  check(_history, truth) {
    const legs = new Map<number, Set<string>>();
    for (const fill of truth.fills) legs.set(fill.bracket, (legs.get(fill.bracket) ?? new Set()).add(fill.leg));
    return { checked: legs.size, violations: [...legs].filter(([, set]) => set.has('stop') && set.has('target')).map(([bracket]) => ({ invariant: 'never-both-exits-filled', message: `bracket ${bracket}: stop and target both filled` })) };
  },
};

const protectedWithinBound: Invariant<OcoTruth> = {
  name: 'protected-within-bound',
  describe: `a long position always gets a working stop within ${UNPROTECTED_US_MAX / 1e6} s (plus, in real mode, a runner's start-up beyond its allowance)`,
  check(_history, truth) {
    const violations: Violation[] = [];
    // The start-up of a restart due inside a stretch, beyond its allowance, widens that stretch's bound only.
    const boundFor = (fromUs: number, untilUs: number): number => {
      let extraUs = 0;
      for (const startup of truth.startups ?? []) {
        if (startup.dueUs >= fromUs && startup.dueUs <= untilUs) extraUs = Math.max(extraUs, startup.upUs - startup.dueUs - STARTUP_ALLOWANCE_US);
      }
      return UNPROTECTED_US_MAX + extraUs;
    };
    let unprotectedSinceUs: number | null = null;
    const judge = (untilUs: number) => {
      if (unprotectedSinceUs !== null && untilUs - unprotectedSinceUs > boundFor(unprotectedSinceUs, untilUs)) {
        violations.push({ invariant: 'protected-within-bound', message: `position unprotected for ${Math.round((untilUs - unprotectedSinceUs) / 1000)} ms from ${unprotectedSinceUs} us` });
      }
    };
    for (const point of truth.exposure) {
      const exposed = point.position > 0 && !point.stopWorking;
      if (exposed && unprotectedSinceUs === null) unprotectedSinceUs = point.timeUs;
      if (!exposed && unprotectedSinceUs !== null) { judge(point.timeUs); unprotectedSinceUs = null; }
    }
    judge(truth.endUs);
    return { violations, checked: truth.exposure.filter((point) => point.position > 0).length };
  },
};

const positionMatchesVenue: Invariant<OcoTruth> = {
  name: 'position-matches-venue',
  describe: "the runner's position equals the venue's at the end",
  check(_history, truth) {
    return { checked: 1, violations: truth.runnerPosition === truth.venuePosition ? [] : [{ invariant: 'position-matches-venue', message: `runner believes ${truth.runnerPosition}, venue holds ${truth.venuePosition}` }] };
  },
};

export const ocoInvariants: readonly Invariant<OcoTruth>[] = [noDuplicateOrder, noOrphanExit, neverBothExitsFilled, protectedWithinBound, positionMatchesVenue];
