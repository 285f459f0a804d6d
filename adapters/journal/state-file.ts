// The runner's state file: a versioned JSON snapshot written atomically, and a migration from the shapes
// older versions wrote. Migration is strict: it renames and re-cases what it can map without guessing, and
// refuses (STATE_UNMIGRATABLE) anything that would need an invented value -- a signal without the timestamp of
// the bar it came from is refused, never stamped with "now".
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { SimError } from '../../engine/errors.ts';
import type { OrderStatus, OrderType, Side, TimeInForce } from '../../engine/types.ts';

export const STATE_VERSION = 2;

export interface PersistedOrder {
  clientOrderId: string;
  venueOrderId?: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  quantity: number;
  filledQuantity: number;
  status: OrderStatus;
  limitPriceTicks?: number;
  stopPriceTicks?: number;
  epoch: number;
}

export interface PersistedPosition {
  symbol: string;
  /** Signed lots: positive long, negative short. */
  quantity: number;
}

export interface PersistedSignal {
  strategyId: string;
  symbol: string;
  side: Side;
  /** Opening instant of the bar the signal was computed from. Required: it anchors replay and dedup. */
  barStartUs: number;
}

export interface PersistedState {
  version: typeof STATE_VERSION;
  savedAtUs: number;
  orders: PersistedOrder[];
  positions: PersistedPosition[];
  signals: PersistedSignal[];
}

/** Writes `state` so a reader sees the old file or the new one, never a mix: temp file, fsync, rename, fsync dir. */
export function writeStateAtomic(path: string, state: unknown): void {
  const temporaryPath = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const bytes = Buffer.from(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
  const descriptor = openSync(temporaryPath, 'w');
  try {
    let written = 0;
    for (let attempt = 0; written < bytes.length && attempt < 1_000; attempt += 1) {
      written += writeSync(descriptor, bytes, written, bytes.length - written);
    }
    if (written < bytes.length) throw new SimError('STATE_WRITE_SHORT', `expected to write ${bytes.length} bytes to ${temporaryPath}, found ${written}`);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    unlinkSync(temporaryPath);
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporaryPath, path);
  // The rename is durable only once the directory entry is: fsync the directory too.
  const directory = openSync(dirname(path), 'r');
  try { fsyncSync(directory); } finally { closeSync(directory); }
}

/** Reads and migrates a state file; null when it does not exist. */
export function readState(path: string): PersistedState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SimError('STATE_UNMIGRATABLE', `expected JSON in state file ${path}, found ${text.length} bytes that do not parse`);
  }
  return migrateState(raw);
}

const SIDES: Record<string, Side> = { buy: 'buy', sell: 'sell' };
const ORDER_TYPES: Record<string, OrderType> = {
  market: 'market', limit: 'limit', stop: 'stop', stop_limit: 'stop-limit', 'stop-limit': 'stop-limit',
  trailing_stop: 'trailing-stop', 'trailing-stop': 'trailing-stop',
};
const TIMES_IN_FORCE: Record<string, TimeInForce> = { day: 'day', gtc: 'gtc', ioc: 'ioc' };
const STATUSES: Record<string, OrderStatus> = {
  held: 'held', submitted: 'submitted', new: 'accepted', pending_new: 'submitted', accepted: 'accepted', working: 'accepted',
  triggered: 'triggered', partially_filled: 'partially-filled', 'partially-filled': 'partially-filled', filled: 'filled',
  canceled: 'cancelled', cancelled: 'cancelled', expired: 'expired', rejected: 'rejected', denied: 'denied',
};

/**
 * Brings a parsed state file of any known version to the current shape. Version 1 (or no version field) wrote
 * enums in upper case ('BUY', 'FILLED', 'STOP_LIMIT'), `qty`/`filled_qty` for quantities, `stop_price` /
 * `limit_price` (integer ticks) for prices, `client_order_id`, and `bar_time_us` on signals.
 */
export function migrateState(raw: unknown): PersistedState {
  const root = asRecord(raw, 'state');
  const version = root.version ?? 1;
  if (version === STATE_VERSION) return validateCurrent(root);
  if (version !== 1) throw unmigratable(`expected state version 1 or ${STATE_VERSION}, found ${JSON.stringify(version)}`);
  const savedAtUs = pick(root, ['savedAtUs', 'saved_at_us'], 'state');
  const state: PersistedState = {
    version: STATE_VERSION,
    savedAtUs: integer(savedAtUs, 'state.savedAtUs'),
    orders: asArray(root.orders ?? [], 'state.orders').map((order, index) => migrateOrder(order, `state.orders[${index}]`)),
    positions: asArray(root.positions ?? [], 'state.positions').map((position, index) => migratePosition(position, `state.positions[${index}]`)),
    signals: asArray(root.signals ?? [], 'state.signals').map((signal, index) => migrateSignal(signal, `state.signals[${index}]`)),
  };
  return validateCurrent(state as unknown as Record<string, unknown>);
}

function migrateOrder(raw: unknown, where: string): PersistedOrder {
  const order = asRecord(raw, where);
  const result: PersistedOrder = {
    clientOrderId: text(pick(order, ['clientOrderId', 'client_order_id'], where), `${where}.clientOrderId`),
    symbol: text(pick(order, ['symbol'], where), `${where}.symbol`),
    side: enumValue(pick(order, ['side'], where), SIDES, `${where}.side`),
    type: enumValue(pick(order, ['type', 'order_type'], where), ORDER_TYPES, `${where}.type`),
    timeInForce: enumValue(order.timeInForce ?? order.time_in_force ?? 'day', TIMES_IN_FORCE, `${where}.timeInForce`),
    quantity: integer(pick(order, ['quantity', 'qty'], where), `${where}.quantity`),
    filledQuantity: integer(order.filledQuantity ?? order.filled_qty ?? 0, `${where}.filledQuantity`),
    status: enumValue(pick(order, ['status'], where), STATUSES, `${where}.status`),
    epoch: integer(order.epoch ?? 0, `${where}.epoch`),
  };
  const venueOrderId = order.venueOrderId ?? order.venue_order_id;
  if (venueOrderId !== undefined) result.venueOrderId = text(venueOrderId, `${where}.venueOrderId`);
  const limit = order.limitPriceTicks ?? order.limit_price;
  if (limit !== undefined && limit !== null) result.limitPriceTicks = integer(limit, `${where}.limitPriceTicks`);
  const stop = order.stopPriceTicks ?? order.stop_price;
  if (stop !== undefined && stop !== null) result.stopPriceTicks = integer(stop, `${where}.stopPriceTicks`);
  return result;
}

function migratePosition(raw: unknown, where: string): PersistedPosition {
  const position = asRecord(raw, where);
  return {
    symbol: text(pick(position, ['symbol'], where), `${where}.symbol`),
    quantity: integer(pick(position, ['quantity', 'qty'], where), `${where}.quantity`),
  };
}

function migrateSignal(raw: unknown, where: string): PersistedSignal {
  const signal = asRecord(raw, where);
  const barStartUs = signal.barStartUs ?? signal.bar_time_us ?? signal.bar_start_us;
  if (barStartUs === undefined || barStartUs === null) {
    throw unmigratable(`expected a bar timestamp (barStartUs or bar_time_us) on ${where}, found none; a signal's bar is never invented`);
  }
  return {
    strategyId: text(pick(signal, ['strategyId', 'strategy_id', 'strategy'], where), `${where}.strategyId`),
    symbol: text(pick(signal, ['symbol'], where), `${where}.symbol`),
    side: enumValue(pick(signal, ['side'], where), SIDES, `${where}.side`),
    barStartUs: integer(barStartUs, `${where}.barStartUs`),
  };
}

function validateCurrent(root: Record<string, unknown>): PersistedState {
  // The current version is validated field by field too: a hand-edited file fails here, not deep in the runner.
  const orders = asArray(root.orders, 'state.orders').map((order, index) => migrateOrder(order, `state.orders[${index}]`));
  const positions = asArray(root.positions, 'state.positions').map((position, index) => migratePosition(position, `state.positions[${index}]`));
  const signals = asArray(root.signals, 'state.signals').map((signal, index) => migrateSignal(signal, `state.signals[${index}]`));
  return { version: STATE_VERSION, savedAtUs: integer(root.savedAtUs, 'state.savedAtUs'), orders, positions, signals };
}

function unmigratable(message: string): SimError {
  return new SimError('STATE_UNMIGRATABLE', message);
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw unmigratable(`expected an object at ${where}, found ${describe(value)}`);
  return value as Record<string, unknown>;
}

function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw unmigratable(`expected an array at ${where}, found ${describe(value)}`);
  return value;
}

function pick(record: Record<string, unknown>, names: string[], where: string): unknown {
  for (const name of names) if (record[name] !== undefined && record[name] !== null) return record[name];
  throw unmigratable(`expected ${names.join(' or ')} on ${where}, found none`);
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw unmigratable(`expected a non-empty string at ${where}, found ${describe(value)}`);
  return value;
}

function integer(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw unmigratable(`expected an integer at ${where}, found ${describe(value)}`);
  return value;
}

function enumValue<T>(value: unknown, table: Record<string, T>, where: string): T {
  const key = typeof value === 'string' ? value.toLowerCase() : '';
  const mapped = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
  if (mapped === undefined) throw unmigratable(`expected one of ${Object.keys(table).join(', ')} at ${where}, found ${describe(value)}`);
  return mapped;
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}
