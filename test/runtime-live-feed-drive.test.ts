// Proves how a session is driven by a live feed (records that arrive when the market makes them): each record is applied on arrival, the engine's timers still fire while the feed is quiet (never later than the last record's time plus the real time since, less the feed's delivery grace), and quiet time beats the loop heartbeat but not the market's, so a silent feed shows as stale.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Strategy, type BarView, type StrategyContext, type StrategyDefinition } from '../engine/index.ts';
import { RealTimeClock } from '../adapters/real-time-clock.ts';
import { RuntimeMetrics } from '../adapters/health/index.ts';
import { Journal } from '../adapters/journal/index.ts';
import { PaperBroker } from '../adapters/runtime/paper-broker.ts';
import { SessionRunner } from '../adapters/runtime/session-runner.ts';
import { driveSession } from '../adapters/runtime/drive-session.ts';
import type { Feed } from '../adapters/runtime/feeds.ts';
import type { BarRecord, MarketRecord, SessionRecord } from '../adapters/runtime/session-records.ts';
import { alpacaEquityInstruments } from '../adapters/alpaca/alpaca-market-records.ts';

const directory = mkdtempSync(path.join(os.tmpdir(), 'sim-live-drive-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const MINUTE_US = 60_000_000;
const START_US = Date.UTC(2024, 2, 15, 14, 0) * 1_000;
const TIMER_DELAY_US = 300_000;

/** On its first bar, asks for a timer 0.3 s after the bar's end; on the timer, buys 1. */
class BuyOnTimer extends Strategy {
  private asked = false;
  override onBar(ctx: StrategyContext, _bar: BarView): void {
    if (this.asked) return;
    this.asked = true;
    ctx.setTimer(ctx.nowUs + TIMER_DELAY_US, 'buy');
  }

  override onTimer(ctx: StrategyContext, name: string): void {
    if (name === 'buy') ctx.market('AAPL', 'buy', 1);
  }
}

const buyOnTimer: StrategyDefinition = { name: 'test-buy-on-timer', describe: 'test only: a timer after the first bar buys 1', params: {}, create: () => new BuyOnTimer() };

/** A live feed the test feeds by hand. */
function handFeed(): { feed: Feed; push: (record: MarketRecord) => void; end: () => void } {
  const waiting: MarketRecord[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  async function* records(): AsyncGenerator<MarketRecord> {
    for (;;) {
      if (waiting.length > 0) {
        yield waiting.shift()!;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  }
  const poke = (): void => { const resolve = wake; wake = null; resolve?.(); };
  return {
    feed: {
      name: 'hand', instruments: alpacaEquityInstruments(['AAPL']), records: records(),
      live: { deliveryGraceUs: 0, resumeAfter: () => undefined, stats: () => ({}) },
    },
    push: (record) => { waiting.push(record); poke(); },
    end: () => { ended = true; poke(); },
  };
}

const bar = (minute: number): BarRecord => ({ k: 'bar', t: START_US + (minute + 1) * MINUTE_US, s: 0, st: START_US + minute * MINUTE_US, i: MINUTE_US, o: 1_700_000, h: 1_700_000, l: 1_700_000, c: 1_700_000, v: 100 });

async function until(condition: () => boolean, what: string, limitMs: number): Promise<void> {
  for (let waitedMs = 0; waitedMs <= limitMs; waitedMs += 20) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`expected ${what} within ${limitMs} ms, found it did not happen`);
}

describe('a session on a live feed', () => {
  it('applies records on arrival and fires a due timer while the feed is quiet; only the loop heartbeat beats meanwhile', async () => {
    const journalPath = path.join(directory, 'live.journal');
    const { feed, push, end } = handFeed();
    const metrics = new RuntimeMetrics({ clock: RealTimeClock.real(), heartbeatAgeMsMax: { market: 200, loop: 5_000 } });
    // Session time follows the records applied, as the CLI has it for a live feed.
    let sessionUs = 0;
    const { runner } = await SessionRunner.open({
      config: { runId: 'LD', strategy: buyOnTimer.name, params: {}, instruments: feed.instruments, initialCash: 100_000, risk: {}, venue: 'paper' },
      venue: new PaperBroker(feed.instruments, {}, 1), journalPath, nowUs: () => sessionUs, resolveStrategy: () => buyOnTimer,
      onRecord: (record) => { if ('t' in record && record.t > sessionUs) sessionUs = record.t; },
    });
    const driving = driveSession(runner, feed, { speed: 1, clock: null, stopRequested: new Promise(() => {}), metrics });
    const records = (): SessionRecord[] => Journal.readAll<SessionRecord>(journalPath).records;
    try {
      push(bar(0));
      await until(() => records().some((record) => record.k === 'submit'), 'the timer to fire and its order to go out with no further record', 3_000);
      const journaled = records();
      const timer = journaled.find((record) => record.k === 'timer')!;
      // Fired while quiet: after the timer's time, and no later than the bar's end plus the real time since.
      expect(timer.t).toBeGreaterThanOrEqual(bar(0).t + TIMER_DELAY_US);
      expect(timer.t).toBeLessThan(bar(0).t + 3_000_000);
      expect(journaled.filter((record) => record.k === 'bar')).toHaveLength(1);
      // No record for longer than the market limit: stale market data, a live loop.
      await until(() => metrics.readiness().reasons.some((reason) => reason.startsWith('expected heartbeat market within 200 ms')), 'the market heartbeat to go stale', 3_000);
      expect(metrics.readiness().reasons.every((reason) => !reason.startsWith('expected heartbeat loop'))).toBe(true);
      push(bar(1));
      await until(() => records().filter((record) => record.k === 'bar').length === 2, 'the second bar applied on arrival', 3_000);
    } finally {
      end();
    }
    expect(await driving).toEqual({ records: 2, stoppedBy: 'feed ended' });
    await runner.close();
  });
});
