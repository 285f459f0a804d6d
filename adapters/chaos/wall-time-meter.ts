// Real-mode CostMeter for position-scale: wall time of each measured section in nanoseconds (hrtime).
import type { CostMeter } from '../../scenarios/position-scale/model.ts';

export function wallTimeMeter(): CostMeter {
  let totalNs = 0n;
  let startedNs = 0n;
  return {
    begin: () => { startedNs = process.hrtime.bigint(); },
    end: () => { totalNs += process.hrtime.bigint() - startedNs; },
    total: () => Number(totalNs),
  };
}
