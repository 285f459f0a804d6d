// The stale-data scenario: feed stalls, gaps, delays, duplicates, reordering and clock skew.
import { US_PER_MINUTE } from '../../engine/types.ts';
import type { Scenario } from '../framework/scenario.ts';
import { VirtualScheduler } from '../framework/virtual-scheduler.ts';
import { staleInvariants } from './invariants.ts';
import { FAULT_KINDS, runStaleData, staleFaultSchedule, type StaleTruth } from './model.ts';

export const staleDataScenario: Scenario<StaleTruth> = {
  name: 'stale-data',
  describe: 'feed stalls, gaps, delayed, duplicated and reordered ticks, feed clock skew',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'no freshness gate: enters on whatever price it has' },
    { name: 'arrival-gate', role: 'fix', describe: 'the incident fix: stale when no message arrived for 2 s' },
    { name: 'exchange-gate', role: 'robust-fix', describe: "stale by the newest tick's own time (never later than its arrival); ignores duplicates and reordering" },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [{ name: 'time-scale', describe: 'real mode: wall seconds per scenario second', defaultValue: 0.02, range: [0.001, 10] }],
  faultKinds: FAULT_KINDS,
  faultModes: ['sim', 'real'],
  durationModes: ['sim', 'real'],
  durationUs: (mode, short) => (mode === 'real' ? (short ? 6 : 12) * US_PER_MINUTE : (short ? 20 : 390) * US_PER_MINUTE),
  faultSchedule: (rng, durationUs) => staleFaultSchedule(rng, durationUs),
  runSim: (context) => runStaleData(context, new VirtualScheduler(0)),
  async runReal(context) {
    const { WallClockScheduler } = await import('../../adapters/chaos/wall-clock-scheduler.ts');
    const { openWebSocketFeed } = await import('../../adapters/chaos/stale-data/websocket-feed.ts');
    const scheduler = new WallClockScheduler(Number(context.options['time-scale']));
    // The ticks cross a real WebSocket on loopback, the faults applied on the feed's side of it.
    const feed = await openWebSocketFeed(scheduler);
    try {
      const record = await runStaleData(context, scheduler, feed);
      // The readiness checker widens its slack by the timers' measured lateness: a loaded machine delays the
      // runner's checks by real milliseconds, which are seconds of compressed scenario time.
      return {
        ...record,
        truth: { ...record.truth, timerLatenessUsMax: scheduler.latenessUsMax },
        metrics: { ...record.metrics, ticksSent: feed.counts.sent, ticksReceived: feed.counts.received },
      };
    } finally {
      scheduler.dispose();
      await feed.close();
    }
  },
  invariants: staleInvariants,
};
