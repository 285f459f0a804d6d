// Proves the session's outbound gate: while the runner does not hold the leader lock, nothing the strategy asks
// reaches the venue (submits, cancels and modifies are refused with NOT_LEADER, as events in the engine's log),
// and once it leads again every intent carries the new tenure's fencing epoch.
import { describe, expect, it } from 'vitest';
import { Strategy, type BarView, type StrategyContext, type Instrument } from '../../engine/index.ts';
import { ALPACA_CAPABILITIES } from '../alpaca/alpaca-venue.ts';
import { SessionCore } from './session-core.ts';
import type { BarRecord, OutboundRecord } from './session-records.ts';

const INSTRUMENTS: Instrument[] = [{ symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'always-open' }];
const START_US = 1_710_509_400_000_000; // 2024-03-15T13:30Z
const MINUTE_US = 60_000_000;

/** Bar 0: a resting limit buy; bar 1: moves it; bar 2: cancels it; bar 3: a market buy. */
class Scripted extends Strategy {
  private limitId = '';
  override onBar(ctx: StrategyContext, bar: BarView): void {
    const i = Math.round((bar.startUs - START_US) / MINUTE_US);
    if (i === 0) this.limitId = ctx.limit('AAPL', 'buy', 1, 90);
    else if (i === 1) ctx.modify(this.limitId, { price: 91 });
    else if (i === 2) ctx.cancel(this.limitId);
    else if (i === 3) ctx.market('AAPL', 'buy', 1);
  }
}

function bar(i: number): BarRecord {
  const st = START_US + i * MINUTE_US;
  return { k: 'bar', t: st + MINUTE_US, s: 0, st, i: MINUTE_US, o: 10_000, h: 10_010, l: 9_990, c: 10_000, v: 1_000 };
}

function session(leader: boolean): { core: SessionCore; sent: OutboundRecord[] } {
  const sent: OutboundRecord[] = [];
  const core = new SessionCore({ runId: 'gate', strategyId: 'scripted', instruments: INSTRUMENTS, initialCash: 100_000, risk: {} }, new Scripted(), ALPACA_CAPABILITIES,
    (record) => sent.push(record), { leader, epoch: 7 });
  return { core, sent };
}

describe('session outbound gate', () => {
  it('refuses every intent with NOT_LEADER while standby and sends nothing', () => {
    const { core, sent } = session(false);
    for (let i = 0; i < 4; i++) core.apply(bar(i));
    expect(sent).toEqual([]);
    const refusals = core.engine.log.events.filter((e) => e.type.endsWith('rejected'));
    // The limit and the market order are refused on submit; the modify and cancel of the refused limit never
    // reach the gate (the engine knows the order is closed).
    expect(refusals.map((e) => [e.type, e.fields.id, e.fields.code])).toEqual([
      ['order.rejected', 'gate-scripted-1', 'NOT_LEADER'],
      ['order.rejected', 'gate-scripted-2', 'NOT_LEADER'],
    ]);
  });

  it('gates cancels and modifies after the lock is lost, and fences with the new epoch once it leads again', () => {
    const { core, sent } = session(true);
    core.apply(bar(0));
    expect(sent.map((r) => r.k)).toEqual(['submit']);
    const submitted = sent[0] as Extract<OutboundRecord, { k: 'submit' }>;
    expect(submitted.r.epoch).toBe(7);
    core.apply({ k: 'report', t: START_US + MINUTE_US + 1, r: { type: 'accepted', clientOrderId: submitted.r.clientOrderId, venueOrderId: 'v-1', timeUs: START_US + MINUTE_US + 1 } });

    core.apply({ k: 'leader', t: START_US + MINUTE_US + 2, leader: false, epoch: 7, reason: 'lease lost' });
    core.apply(bar(1)); // the modify
    core.apply(bar(2)); // the cancel
    expect(sent.map((r) => r.k)).toEqual(['submit']);
    const refusals = core.engine.log.events.filter((e) => e.type.endsWith('rejected')).map((e) => [e.type, e.fields.code]);
    expect(refusals).toEqual([['order.modify-rejected', 'NOT_LEADER'], ['order.cancel-rejected', 'NOT_LEADER']]);

    core.apply({ k: 'leader', t: START_US + 3 * MINUTE_US + 1, leader: true, epoch: 8, reason: 'acquired' });
    core.apply(bar(3)); // the market buy
    expect(sent.map((r) => r.k)).toEqual(['submit', 'submit']);
    expect((sent[1] as Extract<OutboundRecord, { k: 'submit' }>).r.epoch).toBe(8);
  });
});
