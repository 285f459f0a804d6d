// What a paper or live session journals: every inbound message (market data, broker reports, timer firings,
// leadership changes) before it is acted on, and every outbound intent (submit, cancel, modify) before it is sent.
// The journal is the session recording: re-applying its inbound records to a fresh engine reproduces the engine's
// state and its outbound intents exactly, which is how a restart recovers and how `sim replay --session` checks.
import type { ExecutionReport, Instrument, OrderChanges, OrderRequest } from '../../engine/index.ts';

export const SESSION_FORMAT_VERSION = 1;

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

/** A completed bar: `t` is the bar's end, when it is known complete; prices in ticks, volume in units. */
export interface BarRecord { readonly k: 'bar'; readonly t: number; readonly s: number; readonly st: number; readonly i: number; readonly o: number; readonly h: number; readonly l: number; readonly c: number; readonly v: number }
/** A trade print: prices in ticks, size in lots; bid/ask NaN-free (null when absent). */
export interface TickRecord { readonly k: 'tick'; readonly t: number; readonly s: number; readonly p: number; readonly q: number; readonly b: number | null; readonly a: number | null }
export interface ReportRecord { readonly k: 'report'; readonly t: number; readonly r: ExecutionReport }
export interface TimerRecord { readonly k: 'timer'; readonly t: number }
export interface LeaderRecord { readonly k: 'leader'; readonly t: number; readonly leader: boolean; readonly epoch: number; readonly reason: string }
/** Reconciliation re-creating a protective stop for an unprotected position (inbound, so replays repeat it). */
export interface ProtectRecord { readonly k: 'protect'; readonly t: number; readonly s: number; readonly stop: number; readonly q: number }
export interface StopRecord { readonly k: 'stop'; readonly t: number; readonly reason: string }
/** `resend`: a second send of a journaled intent the broker never received (not a new intent). */
export interface SubmitRecord { readonly k: 'submit'; readonly t: number; readonly r: OrderRequest; readonly resend?: boolean }
/** `orphan`: reconciliation cancelling a broker order the session does not hold open (not a strategy intent). */
export interface CancelRecord { readonly k: 'cancel'; readonly t: number; readonly id: string; readonly orphan?: boolean }
/** `resend`: a second send of a journaled modify the broker never acted on (not a new intent). */
export interface ModifyRecord { readonly k: 'modify'; readonly t: number; readonly id: string; readonly c: OrderChanges; readonly resend?: boolean }
export interface ReconciledRecord { readonly k: 'reconciled'; readonly t: number; readonly resent: number; readonly adopted: number; readonly cancelledOrphans: number }

export type MarketRecord = BarRecord | TickRecord;
export type InboundRecord = MarketRecord | ReportRecord | TimerRecord | LeaderRecord | StopRecord | ProtectRecord;
export type OutboundRecord = SubmitRecord | CancelRecord | ModifyRecord;
export type SessionRecord = SessionHeader | InboundRecord | OutboundRecord | ReconciledRecord;

export function isInbound(record: SessionRecord): record is InboundRecord {
  return record.k === 'bar' || record.k === 'tick' || record.k === 'report' || record.k === 'timer' || record.k === 'leader' || record.k === 'stop' || record.k === 'protect';
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
