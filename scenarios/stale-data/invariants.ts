// The stale-data invariants, judged against the true age of the data (true tick times, not feed clocks).
import { notes, operations } from '../framework/history.ts';
import type { Invariant, Violation } from '../framework/scenario.ts';
import { SIGNAL_EVERY_US, STALE_AFTER_US, type StaleTruth } from './model.ts';

/** Answers "newest true tick time delivered by time t" in O(log n): arrivals sorted, with a running max. */
class NewestIndex {
  private readonly arrivals: Float64Array;
  private readonly newest: Float64Array;

  constructor(truth: StaleTruth) {
    const sorted = [...truth.delivered].sort((a, b) => a.arrivalUs - b.arrivalUs);
    this.arrivals = new Float64Array(sorted.length);
    this.newest = new Float64Array(sorted.length);
    let running = Number.NEGATIVE_INFINITY;
    sorted.forEach((tick, index) => {
      running = Math.max(running, tick.trueUs);
      this.arrivals[index] = tick.arrivalUs;
      this.newest[index] = running;
    });
  }

  at(timeUs: number): number {
    let low = 0;
    let high = this.arrivals.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.arrivals[middle] <= timeUs) low = middle + 1; else high = middle;
    }
    return low === 0 ? Number.NEGATIVE_INFINITY : this.newest[low - 1];
  }
}

const indexes = new WeakMap<StaleTruth, NewestIndex>();
function newestTrueUs(truth: StaleTruth, timeUs: number): number {
  let index = indexes.get(truth);
  if (!index) { index = new NewestIndex(truth); indexes.set(truth, index); }
  return index.at(timeUs);
}

const noEntryOnStaleData: Invariant<StaleTruth> = {
  name: 'no-entry-on-stale-data',
  describe: `no entry while the newest data is older than ${STALE_AFTER_US / 1e6} s (true age)`,
  check(history, truth) {
    const violations: Violation[] = [];
    for (const entry of operations(history, 'entry')) {
      const age = entry.invokedUs - newestTrueUs(truth, entry.invokedUs);
      if (age > STALE_AFTER_US) violations.push({ invariant: 'no-entry-on-stale-data', message: `entry at ${entry.invokedUs} us on data ${Math.round(age / 1000)} ms old`, timeUs: entry.invokedUs });
    }
    return { violations, checked: operations(history, 'entry').length };
  },
};

const stopsManaged: Invariant<StaleTruth> = {
  name: 'stops-managed',
  describe: 'every entry is followed by an exit or is still open at the end; an exit never precedes its entry',
  check(history) {
    const events = [...operations(history, 'entry').map((entry) => ({ timeUs: entry.invokedUs, kind: 'entry' })), ...operations(history, 'exit').map((entry) => ({ timeUs: entry.invokedUs, kind: 'exit' }))]
      .sort((a, b) => a.timeUs - b.timeUs);
    let open = 0;
    const violations: Violation[] = [];
    for (const event of events) {
      open += event.kind === 'entry' ? 1 : -1;
      if (open < 0 || open > 1) violations.push({ invariant: 'stops-managed', message: `${open} positions open after ${event.kind} at ${event.timeUs} us` });
    }
    return { violations, checked: events.length };
  },
};

const readinessFollowsData: Invariant<StaleTruth> = {
  name: 'readiness-follows-data',
  describe: 'readiness turns false while the data is stale for more than a second beyond the threshold, and true again after',
  check(history, truth, context) {
    // Real mode runs on compressed wall time: timers fire late by a few wall milliseconds, which is seconds
    // of scenario time at a small time scale, so it gets more slack.
    const slackUs = (context.mode === 'real' ? 3_000_000 : 1_000_000) + (truth.timerLatenessUsMax ?? 0);
    const changes = notes(history, 'readiness').map((note) => ({ timeUs: note.timeUs, ready: (note.data as { ready: boolean }).ready }));
    let cursor = 0;
    let ready = true;
    // Samples go forward in time, so one cursor over the changes is enough.
    const readyAt = (timeUs: number) => {
      while (cursor < changes.length && changes[cursor].timeUs <= timeUs) { ready = changes[cursor].ready; cursor += 1; }
      return ready;
    };
    const violations: Violation[] = [];
    let checked = 0;
    // Sample each second: where the true age exceeds threshold + 1 s, readiness must be false; where the age
    // has been under the threshold for 3 s, it must be true.
    for (let timeUs = 5_000_000; timeUs < truth.endUs; timeUs += 1_000_000) {
      checked += 1;
      const age = timeUs - newestTrueUs(truth, timeUs);
      const freshSince = timeUs - slackUs - 2_000_000 - newestTrueUs(truth, timeUs - slackUs - 2_000_000);
      if (age > STALE_AFTER_US + slackUs && readyAt(timeUs)) violations.push({ invariant: 'readiness-follows-data', message: `ready at ${timeUs} us with data ${Math.round(age / 1000)} ms old` });
      else if (age < STALE_AFTER_US && freshSince < STALE_AFTER_US && !readyAt(timeUs)) violations.push({ invariant: 'readiness-follows-data', message: `not ready at ${timeUs} us with data ${Math.round(age / 1000)} ms old` });
    }
    return { checked, violations: violations.length > 0 ? [violations[0], ...violations.slice(1).filter((_, index) => index % 10 === 0)] : [] };
  },
};

const tradingResumes: Invariant<StaleTruth> = {
  name: 'trading-resumes',
  describe: 'after each fault ends, the runner never stays flat for two signal periods within the next four',
  check(history, truth) {
    const events = [...operations(history, 'entry').map((entry) => ({ timeUs: entry.invokedUs, open: true })), ...operations(history, 'exit').map((entry) => ({ timeUs: entry.invokedUs, open: false }))]
      .sort((a, b) => a.timeUs - b.timeUs);
    // Flat intervals from the entry/exit sequence.
    const flat: { fromUs: number; toUs: number }[] = [];
    let flatSinceUs: number | null = 0;
    for (const event of events) {
      if (event.open && flatSinceUs !== null) { flat.push({ fromUs: flatSinceUs, toUs: event.timeUs }); flatSinceUs = null; }
      if (!event.open) flatSinceUs = event.timeUs;
    }
    if (flatSinceUs !== null) flat.push({ fromUs: flatSinceUs, toUs: truth.endUs });
    const violations: Violation[] = [];
    let checked = 0;
    for (const fault of truth.faults) {
      const endUs = fault.atUs + fault.durationUs;
      const boundUs = endUs + 4 * SIGNAL_EVERY_US;
      if (boundUs > truth.endUs) continue;
      checked += 1;
      const idle = flat.find((interval) => Math.min(interval.toUs, boundUs) - Math.max(interval.fromUs, endUs) >= 2 * SIGNAL_EVERY_US);
      if (idle) violations.push({ invariant: 'trading-resumes', message: `flat and not entering from ${Math.max(idle.fromUs, endUs)} us after ${fault.kind} ended at ${endUs} us` });
    }
    return { violations, checked };
  },
};

export const staleInvariants: readonly Invariant<StaleTruth>[] = [noEntryOnStaleData, stopsManaged, readinessFollowsData, tradingResumes];
