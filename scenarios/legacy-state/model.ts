// The legacy-state workload: a runner starts from a state file an older version wrote (version 1: upper-case
// enums, renamed fields, maybe a stored signal without its bar timestamp) and trades a session, saving its
// state after every bar. `naive` reads the file as if it had the current shape; `lenient` (the incident's
// fix) reads old field names as aliases and enums in any case, but migrates nothing it cannot alias, so a
// signal stored without its bar timestamp is carried on and saved again without one; `migrate` reads it
// through the production migration (adapters/journal migrateState), which migrates or refuses before trading.
import { isSimError } from '../../engine/errors.ts';
import { US_PER_MINUTE } from '../../engine/types.ts';
import { migrateState, type PersistedState } from '../../adapters/journal/state-file.ts';
import { History } from '../framework/history.ts';
import type { Fault, RunContext, RunRecord } from '../framework/scenario.ts';
import type { SeededRandom } from '../framework/seeded-random.ts';
import type { EventScheduler } from '../framework/virtual-scheduler.ts';

export type LegacyVariant = 'naive' | 'lenient' | 'migrate';
export const MUTATIONS = ['uppercase-enums', 'renamed-fields', 'missing-signal-timestamp'] as const;
export const BARS = 30;
/** The naive runner's first use of position quantities (its exposure check) comes at this bar. */
const EXPOSURE_CHECK_BAR = 5;

export interface StatePort {
  read(): string;
  write(state: unknown): void;
}

export interface LegacyTruth {
  readonly finalState: unknown;
  readonly mutations: readonly string[];
}

/** The state file an older version would have written, with the seeded mutations applied. */
export function legacyStateText(mutations: readonly string[]): string {
  const upper = mutations.includes('uppercase-enums');
  const renamed = mutations.includes('renamed-fields');
  const missing = mutations.includes('missing-signal-timestamp');
  const enumText = (value: string) => (upper ? value.toUpperCase().replace(/-/g, '_') : value);
  const order = renamed
    ? { client_order_id: 'b1-stop', symbol: 'AAPL', side: enumText('sell'), order_type: enumText('stop'), time_in_force: enumText('day'), qty: 10, filled_qty: 0, status: enumText('accepted'), stop_price: 18_950 }
    : { clientOrderId: 'b1-stop', symbol: 'AAPL', side: enumText('sell'), type: enumText('stop'), timeInForce: enumText('day'), quantity: 10, filledQuantity: 0, status: enumText('accepted'), stopPriceTicks: 18_950, epoch: 0 };
  const position = renamed ? { symbol: 'AAPL', qty: 10 } : { symbol: 'AAPL', quantity: 10 };
  const signals: Record<string, unknown>[] = [
    renamed ? { strategy_id: 'orb', symbol: 'AAPL', side: enumText('buy'), bar_time_us: 1_000 * US_PER_MINUTE } : { strategyId: 'orb', symbol: 'AAPL', side: enumText('buy'), barStartUs: 1_000 * US_PER_MINUTE },
    renamed ? { strategy_id: 'orb', symbol: 'AAPL', side: enumText('sell') } : { strategyId: 'orb', symbol: 'AAPL', side: enumText('sell') },
  ];
  if (!missing) {
    if (renamed) signals[1].bar_time_us = 1_001 * US_PER_MINUTE; else signals[1].barStartUs = 1_001 * US_PER_MINUTE;
  }
  const legacy = mutations.length > 0;
  const root: Record<string, unknown> = legacy ? {} : { version: 2 };
  root[renamed ? 'saved_at_us' : 'savedAtUs'] = 1_002 * US_PER_MINUTE;
  Object.assign(root, { orders: [order], positions: [position], signals });
  return JSON.stringify(root);
}

/** The incident's fix: old names read as aliases of the new ones, enums lower-cased; no version check. */
export function lenientState(raw: unknown): PersistedState {
  const root = raw as Record<string, unknown>;
  const pick = (record: Record<string, unknown>, ...names: string[]): any => names.map((name) => record[name]).find((value) => value !== undefined);
  const enumValue = (value: unknown): any => (typeof value === 'string' ? value.toLowerCase().replace(/_/g, '-') : value);
  const list = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value as Record<string, unknown>[] : []);
  return {
    version: 2,
    savedAtUs: pick(root, 'savedAtUs', 'saved_at_us'),
    orders: list(root.orders).map((order) => ({
      clientOrderId: pick(order, 'clientOrderId', 'client_order_id'), symbol: order.symbol, side: enumValue(order.side), type: enumValue(pick(order, 'type', 'order_type')),
      timeInForce: enumValue(pick(order, 'timeInForce', 'time_in_force')), quantity: pick(order, 'quantity', 'qty'), filledQuantity: pick(order, 'filledQuantity', 'filled_qty'),
      status: enumValue(order.status), stopPriceTicks: pick(order, 'stopPriceTicks', 'stop_price'), epoch: pick(order, 'epoch') ?? 0,
    })),
    positions: list(root.positions).map((position) => ({ symbol: position.symbol, quantity: pick(position, 'quantity', 'qty') })),
    signals: list(root.signals).map((signal) => ({ strategyId: pick(signal, 'strategyId', 'strategy_id'), symbol: signal.symbol, side: enumValue(signal.side), barStartUs: pick(signal, 'barStartUs', 'bar_time_us') })),
  } as PersistedState;
}

export async function runLegacyState(context: RunContext, scheduler: EventScheduler, store: StatePort): Promise<RunRecord<LegacyTruth>> {
  const variant = context.variant as LegacyVariant;
  const history = new History(() => scheduler.nowUs());
  const mutations = context.faults.map((fault) => fault.kind);
  store.write(JSON.parse(legacyStateText(mutations)));
  let state: PersistedState | null = null;
  const load = history.invoke('runner', 'load-state', { mutations });
  if (variant === 'naive') {
    state = JSON.parse(store.read()) as PersistedState;
    history.complete(load, 'ok');
  } else if (variant === 'lenient') {
    state = lenientState(JSON.parse(store.read()));
    history.complete(load, 'ok');
  } else {
    try {
      state = migrateState(JSON.parse(store.read()));
      history.complete(load, 'ok');
    } catch (error) {
      if (!isSimError(error)) throw error;
      history.complete(load, 'failed', null, `${error.code}: ${error.message}`);
      history.note('runner', 'refused', { code: error.code, message: error.message });
    }
  }
  if (state !== null) {
    const session = state;
    history.note('runner', 'session-started');
    let failed = false;
    for (let bar = 1; bar <= BARS; bar += 1) {
      scheduler.at(bar * US_PER_MINUTE, () => {
        if (failed) return;
        const step = history.invoke('runner', 'bar', { bar });
        try {
          if (bar === EXPOSURE_CHECK_BAR) {
            const exposure = session.positions.reduce((sum, position) => sum + position.quantity, 0);
            if (!Number.isInteger(exposure)) throw new Error(`exposure is ${exposure}: a position quantity is missing`);
            const working = session.orders.filter((order) => order.status === 'accepted' || order.status === 'triggered');
            if (exposure > 0 && working.length === 0) throw new Error('a long position has no working stop (order statuses not recognised)');
          }
          session.signals.push({ strategyId: 'orb', symbol: 'AAPL', side: bar % 2 === 0 ? 'buy' : 'sell', barStartUs: (1_002 + bar) * US_PER_MINUTE });
          store.write({ ...session, version: 2, savedAtUs: (1_002 + bar) * US_PER_MINUTE });
          history.complete(step, 'ok');
        } catch (error) {
          failed = true;
          history.complete(step, 'failed', null, (error as Error).message);
          history.note('runner', 'session-failed', { bar, message: (error as Error).message });
        }
      });
    }
  }
  await scheduler.runUntil((BARS + 1) * US_PER_MINUTE);
  history.closeOpenOperations();
  const finalState = JSON.parse(store.read());
  return { history: history.entries, truth: { finalState, mutations }, metrics: { mutations: mutations.length, barsTraded: history.entries.filter((entry) => entry.kind === 'operation' && entry.operation === 'bar' && entry.outcome === 'ok').length } };
}

export function legacyFaultSchedule(rng: SeededRandom): Fault[] {
  // Each mutation with probability 3/4; at least one, so every seed starts from a legacy file.
  const chosen = MUTATIONS.filter(() => rng.next() < 0.75);
  if (chosen.length === 0) chosen.push(MUTATIONS[rng.int(MUTATIONS.length)]);
  return chosen.map((kind) => ({ kind, atUs: 0, durationUs: 0 }));
}
