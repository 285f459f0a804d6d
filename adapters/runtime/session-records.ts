// What a paper or live session journals: every inbound message (market data, broker reports, timer firings,
// leadership changes) before it is acted on, and every outbound intent (submit, cancel, modify) before it is sent.
// The journal is the session recording: re-applying its inbound records to a fresh engine reproduces the engine's
// state and its outbound intents exactly, which is how a restart recovers and how `sim replay --session` checks.
//
// Format 2 (issue 4) adds, all optional or new kinds, so a format-1 journal is a valid format-2 journal:
// - `adopt`: what a new leader took over from another runner of the session at the broker (positions, working
//   exits, the client order id sequence to continue after); inbound, so replays adopt the same.
// - market records with `venueFirst` and `apply-market`: with an in-process venue (the paper broker) a market
//   record is journaled before the venue sees it, and the engine applies it at the `apply-market` record that
//   follows the reports the venue produced from it. The journal then holds every call the venue received, in
//   order, so a restart rebuilds the venue by calling it again (see SessionRunner).
// - `epoch` on cancels and modifies: the fencing epoch they were sent under, as submits carry theirs.
import type { ExecutionReport, Instrument, OrderChanges, OrderRequest, OrderRole } from '../../engine/index.ts';

export const SESSION_FORMAT_VERSION = 2;
/** Formats this version reads: 1 (before issue 4's takeover records) is a subset of 2. */
export const SESSION_FORMATS_READABLE: readonly number[] = [1, 2];

export interface SessionHeader {
  readonly k: 'session';
  readonly version: number;
  readonly runId: string;
  readonly strategy: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly instruments: readonly Instrument[];
  readonly initialCash: number;
  readonly risk: Readonly<Record<string, unknown>>;
  readonly venue: string;
}

/**
 * A completed bar: `t` is the bar's end, when it is known complete; prices in ticks, volume in units.
 * `venueFirst`: journaled before an in-process venue saw it; the engine applies it at the next `apply-market`.
 */
export interface BarRecord { readonly k: 'bar'; readonly t: number; readonly s: number; readonly st: number; readonly i: number; readonly o: number; readonly h: number; readonly l: number; readonly c: number; readonly v: number; readonly venueFirst?: true }
/** A trade print: prices in ticks, size in lots; bid/ask NaN-free (null when absent). `venueFirst` as for bars. */
export interface TickRecord { readonly k: 'tick'; readonly t: number; readonly s: number; readonly p: number; readonly q: number; readonly b: number | null; readonly a: number | null; readonly venueFirst?: true }
/** The engine applies the `venueFirst` market record before it (whose reports came in between); `t` is its time. */
export interface ApplyMarketRecord { readonly k: 'apply-market'; readonly t: number }
export interface ReportRecord { readonly k: 'report'; readonly t: number; readonly r: ExecutionReport }
export interface TimerRecord { readonly k: 'timer'; readonly t: number }
export interface LeaderRecord { readonly k: 'leader'; readonly t: number; readonly leader: boolean; readonly epoch: number; readonly reason: string }
/** Reconciliation re-creating a protective stop for an unprotected position (inbound, so replays repeat it). */
export interface ProtectRecord { readonly k: 'protect'; readonly t: number; readonly s: number; readonly stop: number; readonly q: number }
export interface StopRecord { readonly k: 'stop'; readonly t: number; readonly reason: string }
/** An order another runner of the session left working at the broker, as the new leader's engine adopts it. */
export interface AdoptedOrder {
  readonly r: OrderRequest;
  readonly status: 'accepted' | 'triggered' | 'partially-filled';
  /** Lots. */
  readonly filled: number;
  /** Tick-lots of those fills (for the venue adapter's accounting; the ledger has them in the adopted position). */
  readonly notional: number;
  readonly venueId?: string;
  readonly role: OrderRole;
}
/**
 * A takeover: positions (`q` signed lots at average `p` ticks) and working orders another runner of the session
 * left at the broker, adopted by the new leader's engine, and `sequence`, the highest client order sequence of
 * the session the broker has seen (new ids continue after it, so none is used twice).
 */
export interface AdoptRecord {
  readonly k: 'adopt'; readonly t: number; readonly reason: string; readonly sequence: number;
  readonly positions: readonly { readonly s: number; readonly q: number; readonly p: number }[];
  readonly orders: readonly AdoptedOrder[];
}
/** `resend`: a second send of a journaled intent the broker never received (not a new intent). */
export interface SubmitRecord { readonly k: 'submit'; readonly t: number; readonly r: OrderRequest; readonly resend?: boolean }
/**
 * `orphan`: reconciliation cancelling a broker order the session does not hold open (not a strategy intent).
 * `epoch`: the fencing epoch it was sent under (format 2).
 */
export interface CancelRecord { readonly k: 'cancel'; readonly t: number; readonly id: string; readonly orphan?: boolean; readonly epoch?: number }
/** `resend`: a second send of a journaled modify the broker never acted on (not a new intent). `epoch` as for cancels. */
export interface ModifyRecord { readonly k: 'modify'; readonly t: number; readonly id: string; readonly c: OrderChanges; readonly resend?: boolean; readonly epoch?: number }
export interface ReconciledRecord { readonly k: 'reconciled'; readonly t: number; readonly resent: number; readonly adopted: number; readonly cancelledOrphans: number }

export type MarketRecord = BarRecord | TickRecord;
export type InboundRecord = MarketRecord | ApplyMarketRecord | ReportRecord | TimerRecord | LeaderRecord | StopRecord | ProtectRecord | AdoptRecord;
export type OutboundRecord = SubmitRecord | CancelRecord | ModifyRecord;
export type SessionRecord = SessionHeader | InboundRecord | OutboundRecord | ReconciledRecord;

export function isInbound(record: SessionRecord): record is InboundRecord {
  return record.k === 'bar' || record.k === 'tick' || record.k === 'report' || record.k === 'timer' || record.k === 'leader' || record.k === 'stop' || record.k === 'protect'
    || record.k === 'apply-market' || record.k === 'adopt';
}

/** A market record the engine applies where it stands (not one journaled ahead for an in-process venue). */
export function isAppliedMarket(record: SessionRecord): record is MarketRecord | ApplyMarketRecord {
  return record.k === 'apply-market' || ((record.k === 'bar' || record.k === 'tick') && record.venueFirst !== true);
}

export function isOutbound(record: SessionRecord): record is OutboundRecord {
  return record.k === 'submit' || record.k === 'cancel' || record.k === 'modify';
}

/** The part of an outbound intent that must reproduce exactly: ids, sides, quantities, prices, in order. */
export function intentKey(record: OutboundRecord): string {
  switch (record.k) {
    case 'submit': {
      const r = record.r;
      return `submit ${r.clientOrderId} ${r.symbol} ${r.side} ${r.type} ${r.quantity} limit=${r.limitPriceTicks ?? '-'} stop=${r.stopPriceTicks ?? '-'} trail=${r.trailingOffsetTicks ?? '-'} ${r.timeInForce}${r.reduceOnly ? ' reduce-only' : ''}${r.ocoWithClientOrderId ? ` oco=${r.ocoWithClientOrderId}` : ''}`;
    }
    case 'cancel':
      return `cancel ${record.id}`;
    case 'modify':
      return `modify ${record.id} quantity=${record.c.quantity ?? '-'} limit=${record.c.limitPriceTicks ?? '-'} stop=${record.c.stopPriceTicks ?? '-'}`;
  }
}
