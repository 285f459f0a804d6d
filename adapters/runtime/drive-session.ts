// Drives a session from a feed in (possibly accelerated) real time: each record is released when the clock
// reaches its time, the engine's timers fire when due, heartbeats feed the health endpoint, and a stop request
// (SIGINT/SIGTERM) ends the feed gracefully. With speed 0 the feed runs as fast as it can, in record time.
//
// A recovered session's feed starts again from its beginning and skips the records the journal already holds
// (`marketRecordsJournaled`), without waiting for them: an accelerated clock (`startClock`) starts at the first
// record the session applies, so a restart waits only for the records it has yet to apply, as the interrupted
// run would have.
//
// A live feed (Alpaca's stream) is not replayed: each record is applied as it arrives (its time is the market's,
// not a clock's to wait for), a restarted session's feed delivers only what is new (the feed is told what the
// journal holds), and while the feed is quiet the engine's timers still fire, up to the time of the last record
// plus the real time since it arrived, less the feed's delivery grace (so a record that arrives on time is never
// older than the engine's clock). Quiet time is not market time: the market heartbeat beats only on records,
// so a feed that is down shows as stale on /ready; the loop heartbeat beats on every wake-up.
import { setTimeout as sleep } from 'node:timers/promises';
import { SimError, type Clock } from '../../engine/index.ts';
import type { RuntimeMetrics } from '../health/index.ts';
import type { Feed, LiveFeed } from './feeds.ts';
import type { MarketRecord } from './session-records.ts';
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

/** Wake-ups of a live session while its feed is quiet (timers, loop heartbeat, stop requests). */
const LIVE_WAKE_MS = 250;
const STOP: unique symbol = Symbol('stop');
const WAKE: unique symbol = Symbol('wake');

export async function driveSession(runner: SessionRunner, feed: Feed, options: DriveOptions): Promise<{ records: number; stoppedBy: string }> {
  if (feed.live !== undefined) return driveLive(runner, feed, feed.live, options);
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

async function driveLive(runner: SessionRunner, feed: Feed, live: LiveFeed, options: DriveOptions): Promise<{ records: number; stoppedBy: string }> {
  let stopReason: string | null = null;
  const stop = options.stopRequested.then((reason): typeof STOP => {
    stopReason = reason;
    return STOP;
  });
  live.resumeAfter(runner.lastMarketUs, runner.lastBarEndUsBySymbol);
  runner.releaseHeldMarket();
  const iterator = feed.records[Symbol.asyncIterator]();
  const nextRecord = (): Promise<IteratorResult<MarketRecord>> => {
    const next = iterator.next();
    // A feed that fails while the loop is busy elsewhere must not count as an unhandled rejection: it is awaited next.
    next.catch(() => undefined);
    return next;
  };
  let pending = nextRecord();
  let records = 0;
  let lastRecordUs = runner.lastMarketUs;
  let lastArrivalMs = performance.now();
  let wakeTimer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const wake = new Promise<typeof WAKE>((resolve) => { wakeTimer = setTimeout(() => resolve(WAKE), LIVE_WAKE_MS); });
      const next = await Promise.race([pending, wake, stop]);
      clearTimeout(wakeTimer);
      if (next === STOP) break;
      if (next === WAKE) {
        options.metrics?.recordHeartbeat('loop');
        if (Number.isFinite(lastRecordUs)) runner.pushTimers(Math.floor(lastRecordUs + (performance.now() - lastArrivalMs) * 1_000 - live.deliveryGraceUs));
        continue;
      }
      if (next.done) break;
      const record = next.value;
      pending = nextRecord();
      runner.pushTimers(record.t);
      const seen = runner.pushMarket(record);
      if (seen) await seen;
      options.metrics?.recordHeartbeat('market');
      options.metrics?.recordHeartbeat('loop');
      records++;
      if (record.t > lastRecordUs) lastRecordUs = record.t;
      lastArrivalMs = performance.now();
      if (options.maxRecords !== undefined && records >= options.maxRecords) break;
    }
  } finally {
    clearTimeout(wakeTimer);
  }
  const stoppedBy = stopReason ?? (options.maxRecords !== undefined && records >= options.maxRecords ? 'max records' : 'feed ended');
  await runner.stop(stoppedBy);
  return { records, stoppedBy };
}
