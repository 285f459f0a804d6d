// The redis-loss invariants: pure functions over the history (leadership notes, submits) and the ground
// truth (who held the lock when, what the broker accepted, when the faults ended).
import { notes } from '../framework/history.ts';
import type { HistoryEntry } from '../framework/history.ts';
import type { Fault, Invariant, Violation } from '../framework/scenario.ts';
import type { AcceptedOrder } from './workload.ts';

export interface RedisTruth {
  /** Who held the lock from each instant on: a runner name, null (no key) or 'unreachable' (store down or stalled). */
  readonly holderChanges: readonly { readonly timeUs: number; readonly holder: string | null }[];
  readonly accepted: readonly AcceptedOrder[];
  /** Instants when Redis came back or a paused leader resumed: trading must resume after each. */
  readonly recoveriesUs: readonly number[];
  readonly ttlUs: number;
  readonly resumeBoundUs: number;
  readonly endUs: number;
}

interface Tenure {
  readonly runner: string;
  readonly tenure: number;
  readonly startUs: number;
  endUs: number;
}

export function tenures(history: readonly HistoryEntry[], endUs: number): Tenure[] {
  const byNumber = new Map<number, Tenure>();
  for (const note of notes(history, 'lead-start')) {
    const data = note.data as { runner: string; tenure: number };
    byNumber.set(data.tenure, { runner: data.runner, tenure: data.tenure, startUs: note.timeUs, endUs });
  }
  for (const note of notes(history, 'lead-end')) {
    const data = note.data as { tenure: number };
    const tenure = byNumber.get(data.tenure);
    if (tenure && tenure.endUs === endUs) tenure.endUs = note.timeUs;
  }
  return [...byNumber.values()].sort((a, b) => a.tenure - b.tenure);
}

const noStaleLeaderOrder: Invariant<RedisTruth> = {
  name: 'no-stale-leader-order',
  describe: 'once the broker accepted anything from a newer tenure, nothing from an older tenure is accepted',
  check(history, truth) {
    const violations: Violation[] = [];
    // Hellos are not in `accepted`; take newer tenures' first acceptance from accepted orders and hellos.
    let newestTenure = 0;
    const events: { timeUs: number; tenure: number; order: AcceptedOrder | null }[] = truth.accepted.map((order) => ({ timeUs: order.timeUs, tenure: order.tenure, order }));
    for (const entry of history) {
      if (entry.kind === 'operation' && entry.operation === 'submit' && entry.outcome === 'ok' && (entry.input as { kind: string }).kind === 'hello') {
        events.push({ timeUs: entry.completedUs ?? entry.invokedUs, tenure: (entry.input as { tenure: number }).tenure, order: null });
      }
    }
    events.sort((a, b) => a.timeUs - b.timeUs || (a.order === null ? -1 : 1));
    for (const event of events) {
      if (event.tenure < newestTenure && event.order) {
        violations.push({ invariant: 'no-stale-leader-order', message: `broker accepted ${event.order.clientOrderId} from ${event.order.runner} (tenure ${event.tenure}) at ${event.timeUs} us after tenure ${newestTenure} had acted`, timeUs: event.timeUs });
      }
      newestTenure = Math.max(newestTenure, event.tenure);
    }
    return { violations, checked: truth.accepted.length };
  },
};

const singleActingLeader: Invariant<RedisTruth> = {
  name: 'single-acting-leader',
  describe: 'never two runners with accepted orders while both believed they led',
  check(history, truth) {
    const all = tenures(history, truth.endUs);
    const violations: Violation[] = [];
    // Every tenure is checked against every other (a single tenure is checked against none: trivially alone).
    const checked = all.length;
    for (let first = 0; first < all.length; first += 1) {
      for (let second = first + 1; second < all.length; second += 1) {
        const a = all[first];
        const b = all[second];
        if (a.runner === b.runner) continue;
        const fromUs = Math.max(a.startUs, b.startUs);
        const toUs = Math.min(a.endUs, b.endUs);
        if (fromUs >= toUs) continue;
        const acted = (tenure: number) => truth.accepted.some((order) => order.tenure === tenure && order.timeUs >= fromUs && order.timeUs <= toUs);
        if (acted(a.tenure) && acted(b.tenure)) {
          violations.push({ invariant: 'single-acting-leader', message: `${a.runner} (tenure ${a.tenure}) and ${b.runner} (tenure ${b.tenure}) both traded between ${fromUs} and ${toUs} us`, timeUs: fromUs });
        }
      }
    }
    return { violations, checked };
  },
};

/** Start of the stretch, ending at `timeUs`, during which the lock was continuously not held by `runner`; null if it holds it. */
function lostSinceUs(changes: RedisTruth['holderChanges'], runner: string, timeUs: number): number | null {
  let index = -1;
  for (let probe = 0; probe < changes.length && changes[probe].timeUs <= timeUs; probe += 1) index = probe;
  if (index < 0 || changes[index].holder === runner) return null;
  while (index > 0 && changes[index - 1].holder !== runner) index -= 1;
  return changes[index].timeUs;
}

const killSwitchWithinTtl: Invariant<RedisTruth> = {
  name: 'kill-switch-within-ttl',
  describe: 'no runner decides a new trade more than one TTL after losing the lock (key gone, taken, or store unreachable)',
  check(history, truth) {
    const violations: Violation[] = [];
    const starts = new Map<number, number>();
    for (const note of notes(history, 'lead-start')) starts.set((note.data as { tenure: number }).tenure, note.timeUs);
    const reported = new Set<number>();
    const decisions = notes(history, 'decide');
    for (const note of decisions) {
      const { runner, tenure } = note.data as { runner: string; tenure: number };
      if (reported.has(tenure)) continue;
      const lostUs = lostSinceUs(truth.holderChanges, runner, note.timeUs);
      if (lostUs === null) continue;
      const sinceUs = Math.max(lostUs, starts.get(tenure) ?? lostUs);
      if (note.timeUs - sinceUs > truth.ttlUs) {
        reported.add(tenure);
        violations.push({ invariant: 'kill-switch-within-ttl', message: `${runner} (tenure ${tenure}) decided a trade ${Math.round((note.timeUs - sinceUs) / 1000)} ms after losing the lock at ${sinceUs} us`, timeUs: sinceUs });
      }
    }
    return { violations, checked: decisions.length };
  },
};

const tradingResumes: Invariant<RedisTruth> = {
  name: 'trading-resumes',
  describe: 'after Redis or a paused leader comes back, some runner trades again within the bound',
  check(_history, truth) {
    const violations: Violation[] = [];
    let checked = 0;
    for (const recoveryUs of truth.recoveriesUs) {
      if (recoveryUs + truth.resumeBoundUs > truth.endUs) continue;
      checked += 1;
      const resumed = truth.accepted.some((order) => order.timeUs >= recoveryUs && order.timeUs <= recoveryUs + truth.resumeBoundUs);
      if (!resumed) violations.push({ invariant: 'trading-resumes', message: `no accepted order within ${truth.resumeBoundUs / 1000} ms after recovery at ${recoveryUs} us`, timeUs: recoveryUs });
    }
    return { violations, checked };
  },
};

/** Holder of the lock at `timeUs` by the ground truth (the last change at or before it). */
function holderAt(changes: RedisTruth['holderChanges'], timeUs: number): string | null | undefined {
  let holder: string | null | undefined;
  for (const change of changes) {
    if (change.timeUs > timeUs) break;
    holder = change.holder;
  }
  return holder;
}

/**
 * Stretches in which a step-down can be legitimate: from each outage fault (Redis killed or paused, a leader
 * frozen) to its end plus the resume bound. A Buffer-valued reply is no outage: a correct client decodes it.
 */
function outageWindows(history: readonly HistoryEntry[], context: { readonly faults: readonly Fault[] }, truth: RedisTruth): { fromUs: number; toUs: number }[] {
  const windows = context.faults.filter((fault) => fault.kind !== 'buffer-values').map((fault) => ({ fromUs: fault.atUs, toUs: fault.atUs + fault.durationUs + truth.resumeBoundUs }));
  for (const paused of notes(history, 'paused')) {
    windows.push({ fromUs: paused.timeUs, toUs: paused.timeUs + (paused.data as { durationMs: number }).durationMs * 1000 + truth.resumeBoundUs });
  }
  return windows;
}

const noSpuriousStepDown: Invariant<RedisTruth> = {
  name: 'no-spurious-step-down',
  describe: 'outside outages a leader steps down only when the lock is really gone, taken or unreachable, never while the key still holds its token',
  check(history, truth, context) {
    const windows = outageWindows(history, context, truth);
    const healthy = (timeUs: number) => !windows.some((window) => timeUs >= window.fromUs && timeUs <= window.toUs);
    const violations: Violation[] = [];
    // Cases: the tenures that led at some healthy instant (each could have stepped down spuriously).
    let checked = 0;
    for (const tenure of tenures(history, truth.endUs)) {
      for (let timeUs = tenure.startUs; timeUs <= tenure.endUs; timeUs += truth.ttlUs) {
        if (healthy(timeUs)) { checked += 1; break; }
      }
    }
    for (const note of notes(history, 'lead-end')) {
      const { runner, tenure, reason } = note.data as { runner: string; tenure: number; reason: string };
      if (reason === 'stopped' || !healthy(note.timeUs)) continue;
      if (holderAt(truth.holderChanges, note.timeUs) !== runner) continue;
      violations.push({ invariant: 'no-spurious-step-down', message: `${runner} (tenure ${tenure}) stepped down at ${note.timeUs} us while the lock still held its token (${reason})`, timeUs: note.timeUs });
    }
    return { violations, checked };
  },
};

const noDuplicateClientOrderId: Invariant<RedisTruth> = {
  name: 'no-duplicate-client-order-id',
  describe: 'the broker never accepted two orders with the same client order id',
  check(_history, truth) {
    const seen = new Set<string>();
    const violations: Violation[] = [];
    for (const order of truth.accepted) {
      if (seen.has(order.clientOrderId)) violations.push({ invariant: 'no-duplicate-client-order-id', message: `${order.clientOrderId} accepted twice (again from ${order.runner} at ${order.timeUs} us)`, timeUs: order.timeUs });
      seen.add(order.clientOrderId);
    }
    return { violations, checked: truth.accepted.length };
  },
};

const noOrphanOcoLeg: Invariant<RedisTruth> = {
  name: 'no-orphan-oco-leg',
  describe: 'every accepted bracket has its entry and both exits (or is one atomic bracket)',
  check(_history, truth) {
    const legs = new Map<string, Set<string>>();
    for (const order of truth.accepted) {
      const key = `${order.group}/${order.tenure}`;
      const set = legs.get(key) ?? new Set<string>();
      set.add(order.kind);
      legs.set(key, set);
    }
    const violations: Violation[] = [];
    for (const [key, set] of legs) {
      if (set.has('bracket')) continue;
      if (!(set.has('entry') && set.has('stop') && set.has('target'))) {
        violations.push({ invariant: 'no-orphan-oco-leg', message: `bracket ${key} has only ${[...set].join(', ')} accepted` });
      }
    }
    return { violations, checked: legs.size };
  },
};

export const redisInvariants: readonly Invariant<RedisTruth>[] = [noStaleLeaderOrder, singleActingLeader, killSwitchWithinTtl, tradingResumes, noSpuriousStepDown, noDuplicateClientOrderId, noOrphanOcoLeg];

export function redisMetrics(history: readonly HistoryEntry[], truth: RedisTruth): Record<string, number> {
  let rejected = 0;
  let submits = 0;
  for (const entry of history) {
    if (entry.kind !== 'operation' || entry.operation !== 'submit') continue;
    submits += 1;
    if (entry.outcome === 'failed') rejected += 1;
  }
  return {
    tenures: notes(history, 'lead-start').length,
    submits,
    ordersAccepted: truth.accepted.length,
    ordersRejectedByFence: rejected,
    holderChanges: truth.holderChanges.length,
  };
}
