// Proves the order state machine: the legal transitions are exactly the table, terminal states are final, and an
// illegal transition stops the program as a broken invariant.
import { describe, expect, it } from 'vitest';
import { OrderTable, STATUSES, canTransition, codeOf } from './order-table.ts';
import { InvariantError } from '../errors.ts';
import type { OrderStatus } from '../types.ts';

const ALL: OrderStatus[] = ['held', 'submitted', 'accepted', 'triggered', 'partially-filled', 'filled', 'cancelled', 'expired', 'rejected', 'denied'];

/** A table with one order in `status`; returns a way to move it and read it. */
function order(status: OrderStatus) {
  const table = new OrderTable();
  const h = table.add(0, 0, 1, 1, 0, codeOf(STATUSES, status), false, 10, 100, NaN, NaN, 0, 0, -1);
  return {
    transition: (to: OrderStatus, timeUs: number) => table.transition(h, codeOf(STATUSES, to), timeUs),
    get status(): OrderStatus { return STATUSES[table.status[h]]; },
    get isTerminal(): boolean { return table.status[h] >= codeOf(STATUSES, 'filled'); },
  };
}

describe('order state machine', () => {
  it('allows the lifecycle of a working order through partial fills to filled', () => {
    const o = order('submitted');
    for (const next of ['accepted', 'triggered', 'partially-filled', 'partially-filled', 'filled'] as const) o.transition(next, 1);
    expect(o.status).toBe('filled');
    expect(o.isTerminal).toBe(true);
  });

  it('never leaves a terminal state', () => {
    for (const terminal of ['filled', 'cancelled', 'expired', 'rejected', 'denied'] as const) {
      for (const to of ALL) expect(canTransition(terminal, to)).toBe(false);
    }
  });

  it('holds bracket exits until released or cancelled', () => {
    expect(ALL.filter((to) => canTransition('held', to))).toEqual(['submitted', 'cancelled']);
  });

  it('stops the program on an illegal transition', () => {
    const o = order('filled');
    expect(() => o.transition('accepted', 1)).toThrow(InvariantError);
    const pending = order('submitted');
    expect(() => pending.transition('filled', 1)).toThrow(/illegal transition submitted -> filled/);
  });
});
