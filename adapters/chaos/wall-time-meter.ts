// Real-mode timing for position-scale: nanoseconds per stop-order lookup, timed in batches (one clock read
// per batch of lookups, best of several rounds after a warm-up) since one lookup is shorter than a clock read.
import type { LookupTimer } from '../../scenarios/position-scale/model.ts';

const LOOKUPS_PER_ROUND = 50_000;
const ROUNDS = 7;

export const timeLookups: LookupTimer = (lookup, positionIds) => {
  let sink = 0;
  let bestNs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS + 2; round += 1) {
    const startedNs = process.hrtime.bigint();
    for (let index = 0; index < LOOKUPS_PER_ROUND; index += 1) {
      // A fixed stride walks every position evenly whatever the count.
      sink += lookup(positionIds[(index * 7919) % positionIds.length])?.stopTicks ?? 0;
    }
    const elapsedNs = Number(process.hrtime.bigint() - startedNs);
    // The first two rounds warm the JIT up and do not count.
    if (round >= 2) bestNs = Math.min(bestNs, elapsedNs);
  }
  if (sink === Number.MIN_SAFE_INTEGER) return 0;
  return bestNs / LOOKUPS_PER_ROUND;
};
