// A runner process for leader-lock tests: a live session against an AlpacaFake under a Redis leader lock
// (SessionLeadership, as `sim live --redis` wires it), epoch on the wire, /ready served on a free port.
// SIM_STRATEGY picks a test-only strategy: `resting-bid` (default) keeps one resting limit bid far below the
// market, cancelled and sent anew every few ticks (orders come and go, no position); `bracket-hold` holds one
// bracketed long and manages it (see test-strategies.ts), so a takeover inherits a position and its exits.
// Ticks come from the wall clock every 50 ms until SIGTERM (bounded), at the price in SIM_PRICE_FILE (ticks, read
// at every tick, so a test can move the market) or 100.00. Prints JSON lines: {health} once listening, {done}
// at the end (with the engine's position and run digest).
import { readFileSync } from 'node:fs';
import { Strategy, type StrategyContext, type StrategyDefinition, type TickView, type Instrument } from '../../engine/index.ts';
import { HealthServer, RuntimeMetrics } from '../../adapters/health/index.ts';
import { AlpacaRuntimeVenue } from '../../adapters/runtime/alpaca-runtime-venue.ts';
import { SessionRunner } from '../../adapters/runtime/session-runner.ts';
import { SessionLeadership } from '../../adapters/runtime/session-leadership.ts';
import { bracketHold } from './test-strategies.ts';

class RestingBid extends Strategy {
  private ticks = 0;
  override onTick(ctx: StrategyContext, tick: TickView): void {
    this.ticks++;
    const open = ctx.openOrders(tick.symbol);
    if (open.length > 0 && this.ticks % 4 === 0) for (const order of open) ctx.cancel(order.clientOrderId);
    else if (open.length === 0) ctx.limit(tick.symbol, 'buy', 1, 50, { timeInForce: 'gtc' });
  }
}
const restingBid: StrategyDefinition = { name: 'test-resting-bid', describe: 'test only: one resting bid far below the market', params: {}, create: () => new RestingBid() };
const strategy = process.env.SIM_STRATEGY === 'bracket-hold' ? bracketHold : restingBid;
const priceFile = process.env.SIM_PRICE_FILE;
const priceTicks = (): number => (priceFile === undefined ? 10_000 : Number(readFileSync(priceFile, 'utf8').trim()));

const instrument: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const TICK_EVERY_MS = 50;
const TICKS_MAX = 2_400;

function environment(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`expected ${name} in the environment, found it missing`);
  return value;
}

async function main(): Promise<void> {
  const nowUs = (): number => Date.now() * 1_000;
  const metrics = new RuntimeMetrics({ clock: { nowUs }, heartbeatAgeMsMax: { market: 5_000 } });
  let fatal: Error | null = null;
  let stopReason: string | null = null;
  const runnerRef: { runner: SessionRunner | null } = { runner: null };
  const leadership = SessionLeadership.create(() => runnerRef.runner!, {
    redisUrl: environment('SIM_REDIS_URL'), key: 'sim:leader:test', ttlMs: Number(environment('SIM_LOCK_TTL_MS')), metrics,
    log: (line) => process.stderr.write(`${line}\n`), onFatal: (error) => { fatal = error; stopReason = 'fatal'; },
  });
  const venue = new AlpacaRuntimeVenue({
    keyId: environment('APCA_API_KEY_ID'), secret: environment('APCA_API_SECRET_KEY'), restUrl: environment('APCA_API_BASE_URL'),
    streamUrl: environment('APCA_STREAM_URL'), instruments: [instrument], clock: { nowUs }, epochOnWire: true,
  });
  const { runner } = await SessionRunner.open({
    config: { runId: 'LEAD', strategy: strategy.name, params: {}, instruments: [instrument], initialCash: 100_000, risk: {}, venue: 'alpaca' },
    venue, journalPath: environment('SIM_JOURNAL'), nowUs, resolveStrategy: () => strategy,
    leader: { leader: false, epoch: 0 }, leadershipCheck: () => leadership.isLeader(),
  });
  runnerRef.runner = runner;
  const health = await HealthServer.start({ metrics });
  process.once('SIGTERM', () => { stopReason = 'SIGTERM'; });
  leadership.start();
  process.stdout.write(`${JSON.stringify({ health: health.port })}\n`);
  for (let i = 0; i < TICKS_MAX && stopReason === null; i++) {
    const seen = runner.pushMarket({ k: 'tick', t: Math.max(nowUs(), runner.engine.nowUs()), s: 0, p: priceTicks(), q: 100, b: null, a: null });
    if (seen) await seen;
    metrics.recordHeartbeat('market');
    // The feed's pace (a real feed's arrival), not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, TICK_EVERY_MS));
  }
  await runner.stop(stopReason ?? 'feed ended');
  await leadership.stop();
  await venue.idle();
  await health.close();
  await runner.close();
  process.stdout.write(`${JSON.stringify({ done: stopReason, fatal: fatal === null ? null : (fatal as Error).message, position: runner.engine.portfolio.position[0], digest: runner.engine.log.digest() })}\n`);
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
