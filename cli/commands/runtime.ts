// `sim paper` and `sim live`: the same strategy classes as replay, driven in real time (or accelerated) against
// the paper broker or a live broker adapter, journaled, with an optional Redis leader lock and health endpoint.
// `--feed alpaca[:bars|:trades]` runs either on Alpaca's real-time market data (a live feed: records are applied as
// they arrive, so `--speed` does not apply).
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { SimError, parseParamPairs, type FillMode } from '../../engine/index.ts';
import { DEFAULT_CATALOG_DIR } from '../../adapters/catalog/index.ts';
import { DEFAULT_RISK, stableHash } from '../../adapters/replay/run-replay.ts';
import { RealTimeClock } from '../../adapters/real-time-clock.ts';
import { HealthServer, RuntimeMetrics } from '../../adapters/health/index.ts';
import { openFeed, type Feed } from '../../adapters/runtime/feeds.ts';
import { PaperBroker } from '../../adapters/runtime/paper-broker.ts';
import { SessionRunner } from '../../adapters/runtime/session-runner.ts';
import { driveSession } from '../../adapters/runtime/drive-session.ts';
import { SessionLeadership } from '../../adapters/runtime/session-leadership.ts';
import type { RuntimeVenue } from '../../adapters/runtime/runtime-venue.ts';
import { STRATEGIES } from '../../strategies/index.ts';

interface RuntimeArguments {
  strategy: string;
  param: string[];
  symbols?: string[];
  feed: string;
  speed: number;
  journal?: string;
  'run-id'?: string;
  cash: number;
  seed: number;
  fill: string;
  'fees-bps': number;
  'slippage-bps': number;
  'latency-ms': number;
  'max-volume-share': number;
  risk: boolean;
  catalog: string;
  'health-port'?: number;
  'max-records'?: number;
  json: boolean;
  venue?: string;
  'confirm-live'?: boolean;
  redis?: string;
  'lock-key'?: string;
  'lock-ttl-ms': number;
  'data-feed': string;
  'stale-data-ms': number;
}

function common(yargs: Argv): Argv<RuntimeArguments> {
  return yargs
    .option('strategy', { type: 'string', default: 'sma-cross', describe: `strategy: ${STRATEGIES.map((s) => s.name).join(', ')}` })
    .option('param', { type: 'string', array: true, default: [], describe: 'strategy parameter k=v (repeatable)' })
    .option('symbols', { type: 'string', array: true, describe: 'symbols (catalog feeds; required with --feed alpaca)' })
    .option('feed', { type: 'string', demandOption: true, describe: 'market data: tape:FILE, catalog:DATE[..DATE], generate[:SEED], or alpaca[:bars|:trades] (Alpaca real-time minute bars, the default, or trade prints; keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY, endpoint from APCA_DATA_STREAM_URL)' })
    .option('data-feed', { type: 'string', default: 'iex', choices: ['iex', 'sip'], describe: 'Alpaca data feed of --feed alpaca (iex free, sip with a paid plan); APCA_DATA_STREAM_URL overrides the endpoint' })
    .option('stale-data-ms', { type: 'number', default: 120_000, describe: 'with --health-port: /ready reports market data stale when no record came for this long' })
    .option('speed', { type: 'number', default: 1, describe: 'clock speed: 1 real time, 60 a minute per second, 0 as fast as possible' })
    .option('journal', { type: 'string', describe: 'session journal (default runs/<mode>-<run id>.journal); an existing one is recovered' })
    .option('run-id', { type: 'string', describe: 'run id in client order ids (default: a hash of the configuration)' })
    .option('cash', { type: 'number', default: 100_000 })
    .option('seed', { type: 'number', default: 1 })
    .option('fill', { type: 'string', default: 'next-open', choices: ['next-open', 'close'] })
    .option('fees-bps', { type: 'number', default: 0 })
    .option('slippage-bps', { type: 'number', default: 0 })
    .option('latency-ms', { type: 'number', default: 0 })
    .option('max-volume-share', { type: 'number', default: 1 })
    .option('risk', { type: 'boolean', default: true, describe: 'apply the default risk limits (--no-risk to run without)' })
    .option('catalog', { type: 'string', default: DEFAULT_CATALOG_DIR })
    .option('health-port', { type: 'number', describe: 'serve /health, /ready and /metrics on this port (0: any free port)' })
    .option('max-records', { type: 'number', describe: 'stop after this many market records' })
    .option('redis', { type: 'string', describe: 'leader lock on this Redis (redis://host:port): stand by until the lock is held; each runner of a pair needs its own --journal' })
    .option('lock-key', { type: 'string', describe: 'leader lock key (default sim:leader:<run id>)' })
    .option('lock-ttl-ms', { type: 'number', default: 5_000, describe: 'leader lease time to live' })
    .option('json', { type: 'boolean', default: false }) as unknown as Argv<RuntimeArguments>;
}

async function runSession(mode: 'paper' | 'live', args: RuntimeArguments): Promise<void> {
  const symbols = (args.symbols ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (args.feed.split(':')[0] === 'alpaca' && args.speed !== 1) {
    throw new SimError('FEED_LIVE_SPEED', `expected no --speed with --feed ${args.feed} (a live feed is applied as it arrives), found --speed ${args.speed}`);
  }
  let keyId: string | undefined;
  let secret: string | undefined;
  if (mode === 'live') {
    if (args.venue !== 'alpaca') throw new SimError('LIVE_VENUE', `expected --venue alpaca, found ${args.venue ?? 'none'}`);
    keyId = process.env.APCA_API_KEY_ID;
    secret = process.env.APCA_API_SECRET_KEY;
    if (!keyId || !secret) throw new SimError('LIVE_NO_CREDENTIALS', 'expected APCA_API_KEY_ID and APCA_API_SECRET_KEY in the environment, found them missing');
    if (!args['confirm-live']) throw new SimError('LIVE_NOT_CONFIRMED', 'expected --confirm-live to send real orders, found it missing');
  }
  const feed = await openFeed(args.feed, {
    catalogDir: path.resolve(args.catalog), symbols,
    alpaca: {
      keyId: process.env.APCA_API_KEY_ID, secret: process.env.APCA_API_SECRET_KEY, url: process.env.APCA_DATA_STREAM_URL, dataFeed: args['data-feed'] as 'iex' | 'sip',
      log: (line) => process.stderr.write(`sim: ${line}\n`),
    },
  });
  // A live feed holds a connection open: whatever happens from here, it is closed.
  try {
    await runOnFeed(mode, args, feed, keyId, secret);
  } finally {
    await feed.close?.();
  }
}

async function runOnFeed(mode: 'paper' | 'live', args: RuntimeArguments, feed: Feed, keyId: string | undefined, secret: string | undefined): Promise<void> {
  if (feed.notice !== undefined) process.stderr.write(`sim: ${feed.notice}\n`);
  const params = parseParamPairs(args.param ?? []);
  const risk = args.risk ? DEFAULT_RISK : {};
  const runId = args['run-id'] ?? stableHash({ mode, strategy: args.strategy, params, feed: args.feed, symbols: feed.instruments.map((i) => i.symbol), seed: args.seed }).slice(0, 8);
  const journalPath = path.resolve(args.journal ?? path.join('runs', `${mode}-${runId}.journal`));
  let clockUs = -Infinity;
  const clockRef: { clock: RealTimeClock | null } = { clock: null };
  const nowUs = (): number => (clockRef.clock ? clockRef.clock.nowUs() : clockUs);

  let venue: RuntimeVenue;
  if (mode === 'paper') {
    venue = new PaperBroker(feed.instruments, {
      fillMode: args.fill as FillMode, feeBps: args['fees-bps'], slippageBps: args['slippage-bps'],
      latency: { kind: 'fixed', latencyUs: Math.round(args['latency-ms'] * 1000) }, maxVolumeShare: args['max-volume-share'],
    }, args.seed);
  } else {
    const { AlpacaRuntimeVenue } = await import('../../adapters/runtime/alpaca-runtime-venue.ts');
    venue = new AlpacaRuntimeVenue({
      keyId: keyId!, secret: secret!, restUrl: process.env.APCA_API_BASE_URL ?? 'https://paper-api.alpaca.markets',
      streamUrl: process.env.APCA_STREAM_URL ?? 'wss://paper-api.alpaca.markets/stream', instruments: feed.instruments, clock: { nowUs },
      // Test harness only: the fake's loopback endpoint hears the feed (refused for any other host).
      marketEchoUrl: process.env.SIM_ALPACA_MARKET_ECHO === '1' ? process.env.APCA_API_BASE_URL : undefined,
      // With a leader lock the epoch rides on the wire (a fencing broker checks it; Alpaca itself ignores it).
      epochOnWire: args.redis !== undefined,
      // Every adapter problem (an outcome still unknown, a stream error, a failed catch-up) is one log line.
      onProblem: (error) => process.stderr.write(`${alpacaProblemLine(error)}\n`),
    });
  }

  let metrics: RuntimeMetrics | undefined;
  if (args['health-port'] !== undefined) {
    metrics = new RuntimeMetrics({ clock: { nowUs: () => Date.now() * 1000 }, heartbeatAgeMsMax: { market: args['stale-data-ms'], loop: 120_000 } });
  }
  let resolveStop: (reason: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => { resolveStop = resolve; });
  let fatal: Error | null = null;
  const runnerRef: { runner: SessionRunner | null } = { runner: null };
  const leadership = args.redis === undefined ? null : SessionLeadership.create(() => runnerRef.runner!, {
    redisUrl: args.redis, key: args['lock-key'] ?? `sim:leader:${runId}`, ttlMs: args['lock-ttl-ms'], metrics,
    log: (line) => process.stderr.write(`${line}\n`),
    onFatal: (error) => { fatal = error; process.stderr.write(`sim: ${error.message}\n`); resolveStop('reconciliation refused'); },
  });

  const { runner, summary } = await SessionRunner.open({
    config: { runId, strategy: args.strategy, params, instruments: feed.instruments, initialCash: args.cash, risk, venue: mode === 'paper' ? 'paper' : 'alpaca' },
    venue, journalPath, nowUs,
    leader: leadership === null ? undefined : { leader: false, epoch: 0 },
    leadershipCheck: leadership === null ? undefined : () => leadership.isLeader(),
    crashAfterRecord: process.env.SIM_CRASH_AFTER_RECORD ? Number(process.env.SIM_CRASH_AFTER_RECORD) : undefined,
    // Session time follows what the engine applied (a market record journaled ahead for the paper broker counts
    // when the engine applies it, at its apply-market record).
    onRecord: (record) => { if ('t' in record && !('venueFirst' in record) && record.t > clockUs) clockUs = record.t; },
  });
  if (summary.recovered) process.stderr.write(`sim: recovered ${summary.replayedRecords} journal records; resent ${summary.resent}, adopted ${summary.adopted}, cancelled ${summary.cancelledOrphans} orphan exits, protected ${summary.protectedPositions} positions\n`);
  const torn = runner.journalTornTail;
  if (torn.bytes > 0) process.stderr.write(`sim: journal ${journalPath} ended in a torn record (${torn.bytes} bytes, written when the process died and never acted on); cut, its bytes saved to ${torn.savedTo ?? 'nowhere'}\n`);

  runnerRef.runner = runner;
  let health: HealthServer | null = null;
  let report: Record<string, string | number>;
  // Whatever happens from here, the venue's stream, the lock and the health server are closed, or the process
  // would stay alive on their handles after an error.
  try {
    if (metrics !== undefined) {
      if (leadership === null) {
        metrics.setLeader(true, 0);
        metrics.setReconciled(runner.reconciled);
      }
      runner.engine.log.subscribe((event) => {
        if (event.type === 'order.submitted') metrics!.recordOrder(String(event.fields.side));
        else if (event.type === 'order.filled') metrics!.recordFill(String(event.fields.side));
        else if (event.type === 'order.denied') metrics!.recordDenial(String(event.fields.code));
        else if (event.type === 'order.rejected') metrics!.recordRejection(String(event.fields.code));
        else if (event.type === 'kill-switch') metrics!.recordKillSwitch(String(event.fields.reason));
      });
      health = await HealthServer.start({ metrics, port: args['health-port'] });
      process.stderr.write(`sim: health on http://127.0.0.1:${health.port}/ready\n`);
    }

    leadership?.start();
    const onSignal = (signal: string) => () => resolveStop(signal);
    process.once('SIGINT', onSignal('SIGINT'));
    process.once('SIGTERM', onSignal('SIGTERM'));

    // The accelerated clock starts at the first record the session applies: a recovered session's feed skips
    // what the journal holds without waiting for it.
    // A live feed needs no clock: its records are applied as they arrive, session time following them.
    const startClock = (firstAppliedUs: number): RealTimeClock => (clockRef.clock = RealTimeClock.accelerated(args.speed, Math.floor(firstAppliedUs)));
    const result = await driveSession(runner, feed, { speed: args.speed, clock: null, startClock: args.speed > 0 && feed.live === undefined ? startClock : undefined, stopRequested, maxRecords: args['max-records'], metrics });
    const engine = runner.engine;
    report = {
      mode, runId, journal: journalPath, records: result.records, stoppedBy: result.stoppedBy, orders: engine.log.count('order.submitted'),
      fills: engine.log.count('order.filled'), denials: engine.log.count('order.denied'), closedTrades: engine.portfolio.closedTrades.length,
      realizedPnl: engine.portfolio.realizedGrossCash / 1e6, equity: engine.portfolio.equityCashValue() / 1e6, runDigest: engine.log.digest(),
      ...(feed.live === undefined ? {} : Object.fromEntries(Object.entries(feed.live.stats()).map(([key, value]) => [`feed${key[0].toUpperCase()}${key.slice(1)}`, value]))),
    };
  } finally {
    await leadership?.stop();
    await health?.close();
    await runner.close();
  }
  if (fatal !== null) throw fatal;
  const width = Math.max(...Object.keys(report).map((key) => key.length)) + 1;
  process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : `${Object.entries(report).map(([k, v]) => `${k.padEnd(width)} ${v}`).join('\n')}\n`);
}

/** One log line for an operating problem of the Alpaca adapter: its stable code, then its one-line message. */
export function alpacaProblemLine(error: SimError): string {
  return `sim: alpaca problem ${error.code}: ${error.message.replace(/\s*\n\s*/g, ' ')}`;
}

export const paperCommand: CommandModule<object, RuntimeArguments> = {
  command: 'paper',
  describe: 'paper-trade a strategy against the simulated venue in (accelerated) real time, journaled',
  builder: (yargs) => common(yargs),
  handler: (args) => runSession('paper', args),
};

export const liveCommand: CommandModule<object, RuntimeArguments> = {
  command: 'live',
  describe: 'trade a strategy against a live broker (needs credentials in the environment and --confirm-live)',
  builder: (yargs) => common(yargs)
    .option('venue', { type: 'string', choices: ['alpaca'], demandOption: true })
    .option('confirm-live', { type: 'boolean', default: false, describe: 'required: confirms that real orders will be sent' }) as unknown as Argv<RuntimeArguments>,
  handler: (args) => runSession('live', args),
};
