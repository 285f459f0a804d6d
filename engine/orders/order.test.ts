// Proves the order state machine: the legal transitions are exactly the table, terminal states are final, and an
// illegal transition stops the program as a broken invariant.
import { describe, expect, it } from 'vitest';
import { Order, canTransition } from './order.ts';
import { InvariantError } from '../errors.ts';
import type { OrderStatus } from '../types.ts';

const ALL: OrderStatus[] = ['held', 'submitted', 'accepted', 'triggered', 'partially-filled', 'filled', 'cancelled', 'expired', 'rejected', 'denied'];

function order(status: OrderStatus): Order {
  return new Order({
    request: { clientOrderId: 'c-1', symbol: 'X', side: 'buy', type: 'limit', quantity: 10, timeInForce: 'gtc', limitPriceTicks: 100, reduceOnly: false, epoch: 0 },
    symbolIndex: 0, role: 'plain', status, createdUs: 0,
  });
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
