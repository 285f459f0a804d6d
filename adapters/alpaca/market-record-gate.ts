// What a live market-data stream may hand to the session: each record once, and never one that would move the
// engine's clock back. A stream that reconnects can send a bar again (the server resends what was in flight) or
// late (out of order); delivering it would apply it twice or step time backwards.
// - A bar whose end is not after the last delivered bar's end for its symbol is dropped: the same end is a
//   duplicate, an earlier one is out of order.
// - Any record older than the newest delivered one (of any symbol) is dropped as out of order: the engine runs on
//   one clock, and bars of one minute arrive together, so only a late record falls behind it.
// - A trade whose (exchange, id) was delivered recently is a duplicate (ids are unique per exchange; the memory
//   is bounded, and a resent trade comes right after the reconnect).
// Drops are counted by reason; nothing is repaired or filled in: a gap stays a gap, and the session's market
// heartbeat shows it.
import type { MarketRecord } from '../runtime/session-records.ts';

export type MarketDropReason = 'duplicate' | 'out-of-order';

/** Bound on the trade ids remembered for duplicate detection. */
const RECENT_TRADES_MAX = 8_192;

export class MarketRecordGate {
  readonly dropped = { duplicate: 0, outOfOrder: 0 };
  private readonly lastBarEndUs: Float64Array;
  private newestUs = -Infinity;
  private readonly recentTrades = new Set<string>();
  private readonly recentOrder: string[] = [];
  private recentHead = 0;

  constructor(symbolCount: number) {
    this.lastBarEndUs = new Float64Array(symbolCount).fill(-Infinity);
  }

  /**
   * What a session already holds (a restart on its journal): nothing older than `newestUs` is delivered, nor a
   * bar of a symbol that does not end after `lastBarEndUsBySymbol`'s.
   */
  resumeAfter(newestUs: number, lastBarEndUsBySymbol: ReadonlyMap<number, number> = new Map()): void {
    if (newestUs > this.newestUs) this.newestUs = newestUs;
    for (const [symbolIndex, endUs] of lastBarEndUsBySymbol) {
      if (symbolIndex >= 0 && symbolIndex < this.lastBarEndUs.length && endUs > this.lastBarEndUs[symbolIndex]) this.lastBarEndUs[symbolIndex] = endUs;
    }
  }

  /** Null when `record` may be delivered (and is now counted as delivered), else why it is dropped. */
  admit(record: MarketRecord, tradeKey?: string): MarketDropReason | null {
    let reason: MarketDropReason | null = null;
    if (record.k === 'bar') {
      const last = this.lastBarEndUs[record.s];
      if (record.t <= last) reason = record.t === last ? 'duplicate' : 'out-of-order';
      else if (record.t < this.newestUs) reason = 'out-of-order';
    } else if (tradeKey !== undefined && this.recentTrades.has(tradeKey)) {
      reason = 'duplicate';
    } else if (record.t < this.newestUs) {
      reason = 'out-of-order';
    }
    if (reason !== null) {
      if (reason === 'duplicate') this.dropped.duplicate++;
      else this.dropped.outOfOrder++;
      return reason;
    }
    if (record.k === 'bar') this.lastBarEndUs[record.s] = record.t;
    if (record.t > this.newestUs) this.newestUs = record.t;
    if (tradeKey !== undefined) this.remember(tradeKey);
    return null;
  }

  private remember(tradeKey: string): void {
    if (this.recentOrder.length < RECENT_TRADES_MAX) {
      this.recentOrder.push(tradeKey);
    } else {
      this.recentTrades.delete(this.recentOrder[this.recentHead]);
      this.recentOrder[this.recentHead] = tradeKey;
      this.recentHead = (this.recentHead + 1) % RECENT_TRADES_MAX;
    }
    this.recentTrades.add(tradeKey);
  }
}
