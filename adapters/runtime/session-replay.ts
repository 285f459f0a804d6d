// `sim replay --session FILE`: re-apply a recorded session's inbound records to the same strategy and check that
// the outgoing intents come out exactly as they went out (same client order ids, sides, quantities and prices,
// in the same order), or show the first difference.
import { SimError } from '../../engine/index.ts';
import { Journal } from '../journal/index.ts';
import { intentKey, isInbound, type SessionRecord } from './session-records.ts';
import { replayJournal } from './session-runner.ts';

export interface SessionReplayResult {
  readonly file: string;
  readonly runId: string;
  readonly strategy: string;
  readonly inboundRecords: number;
  readonly intents: number;
  readonly identical: boolean;
  readonly firstDifference: null | { readonly index: number; readonly recorded: string | null; readonly replayed: string | null };
  readonly runDigest: string;
  readonly tornTailBytes: number;
}

export function replaySession(file: string): SessionReplayResult {
  const { records, tornTailBytes } = Journal.readAll<SessionRecord>(file);
  if (records.length === 0) throw new SimError('SESSION_EMPTY', `expected a session journal in ${file}, found no complete records`);
  const capabilities = { orderTypes: ['market', 'limit', 'stop', 'stop-limit', 'trailing-stop'] as const, nativeOco: true, reduceOnly: true, modify: true };
  const { header, core, regenerated, journaled } = replayJournal(records, { ...capabilities, orderTypes: [...capabilities.orderTypes] });
  const length = Math.max(regenerated.length, journaled.length);
  let firstDifference: SessionReplayResult['firstDifference'] = null;
  for (let i = 0; i < length; i++) {
    const recorded = journaled[i] ? intentKey(journaled[i]) : null;
    const replayed = regenerated[i] ? intentKey(regenerated[i]) : null;
    if (recorded !== replayed) {
      firstDifference = { index: i + 1, recorded, replayed };
      break;
    }
  }
  return {
    // A market record journaled ahead for the paper broker and its apply-market mark count once.
    file, runId: header.runId, strategy: header.strategy, inboundRecords: records.filter((r) => isInbound(r) && r.k !== 'apply-market').length,
    intents: journaled.length, identical: firstDifference === null, firstDifference, runDigest: core.engine.log.digest(), tornTailBytes,
  };
}
