// Drives a session from a feed in (possibly accelerated) real time: each record is released when the clock
// reaches its time, the engine's timers fire when due, heartbeats feed the health endpoint, and a stop request
// (SIGINT/SIGTERM) ends the feed gracefully. With speed 0 the feed runs as fast as it can, in record time.
//
// A recovered session's feed starts again from its beginning and skips the records the journal already holds
// (`marketRecordsJournaled`), without waiting for them: an accelerated clock (`startClock`) starts at the first
// record the session applies, so a restart waits only for the records it has yet to apply, as the interrupted
// run would have.
import { setTimeout as sleep } from 'node:timers/promises';
import { SimError, type Clock } from '../../engine/index.ts';
import type { RuntimeMetrics } from '../health/index.ts';
import type { Feed } from './feeds.ts';
import type { SessionRunner } from './session-runner.ts';

export interface DriveOptions {
  readonly speed: number;
  /** Real-time clock (accelerated by `speed`), or null for speed 0 or when `startClock` makes it. */
  readonly clock: Clock | null;
  /** Makes the real-time clock at the first record the session applies (after those the journal holds). */
  readonly startClock?: (firstAppliedUs: number) => Clock;
  readonly metrics?: RuntimeMetrics;
  /** Resolves when the session should stop (a signal). */
  readonly stopRequested: Promise<string>;
  /** Stop after this many records (tests and demos). */
  readonly maxRecords?: number;
}

export async function driveSession(runner: SessionRunner, feed: Feed, options: DriveOptions): Promise<{ records: number; stoppedBy: string }> {
  let stopReason: string | null = null;
  void options.stopRequested.then((reason) => { stopReason = reason; });
  let records = 0;
  // A recovered session's journal already holds the feed's first records (the feed restarts from its
  // beginning): they are skipped, not applied twice.
  let skip = runner.marketRecordsJournaled;
  let clock = options.clock;
  for await (const record of feed.records) {
    if (stopReason !== null) break;
    if (skip > 0) {
      skip--;
      if (skip === 0 && record.t !== runner.lastMarketUs) {
        throw new SimError('FEED_DIVERGED', `expected the feed's record ${runner.marketRecordsJournaled} at ${runner.lastMarketUs} us as journaled, found ${record.t} us`);
      }
      continue;
    }
    if (clock === null && options.startClock !== undefined && options.speed > 0) {
      // A restart resumes at the journal's last record: the time between it and this one is what there is to wait.
      // A fresh session starts at its first record's beginning (a bar's start: it waits for the bar to complete).
      clock = options.startClock(runner.marketRecordsJournaled > 0 ? Math.min(runner.lastMarketUs, record.t) : record.k === 'bar' ? record.st : record.t);
    }
    if (clock !== null && options.speed > 0) {
      // Wait for the record's time, waking for engine timers on the way.
      for (;;) {
        const now = clock.nowUs();
        runner.pushTimers(Math.min(now, record.t));
        if (now >= record.t || stopReason !== null) break;
        const waitUs = Math.min(record.t - now, Math.max(0, runner.engine.nextEventUs() - now));
        await sleep(Math.min(250, Math.max(1, waitUs / 1000 / options.speed)));
      }
      if (stopReason !== null) break;
    } else {
      runner.pushTimers(record.t);
    }
    const seen = runner.pushMarket(record);
    if (seen) await seen;
    options.metrics?.recordHeartbeat('market');
    options.metrics?.recordHeartbeat('loop');
    records++;
    if (options.maxRecords !== undefined && records >= options.maxRecords) break;
    // Let venue reports (sockets, timers) in between records.
    if (records % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await runner.stop(stopReason ?? 'feed ended');
  return { records, stoppedBy: stopReason ?? 'feed ended' };
}
