// Proves what `sim live --feed alpaca` does under the market-data stream's faults, against the Alpaca fake on loopback: after a cut it reconnects and resubscribes and the bars resent after the reconnect are dropped, so no bar reaches the engine twice and the orders are still replay's; a bar that comes late is dropped and counted; a wrong key (at connect or at a reconnect), the connection limit (406) and a price off the tick grid end the run with a one-line typed error and a nonzero exit (a stack only with --verbose); missing symbols or keys are refused; and a long outage turns /ready to 503 for stale market data until the stream is back.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runReplay } from '../adapters/replay/run-replay.ts';
import { Journal } from '../adapters/journal/index.ts';
import { AlpacaFake, type AlpacaFakeMarketDataOptions, type AlpacaFakeMarketItem } from '../adapters/alpaca/fake/index.ts';
import type { SessionRecord } from '../adapters/runtime/session-records.ts';
import { writeAlpacaFeedCatalog } from './support/alpaca-feed-catalog.ts';
import { journaledOrders, replayedOrders, sim } from './support/session-orders.ts';

const DATE = '2024-03-15';
const SYMBOLS = ['GWW', 'TYL'];
const repository = path.resolve(import.meta.dirname, '..');
const STRATEGY = ['--strategy', 'sma-cross', '--param', 'fast=5', '--param', 'slow=20', '--no-risk'];
let directory: string;
let catalogDir: string;
let items: AlpacaFakeMarketItem[];
const fakes: AlpacaFake[] = [];

beforeAll(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-alpaca-faults-'));
  catalogDir = path.join(directory, 'catalog');
  items = await writeAlpacaFeedCatalog(catalogDir, SYMBOLS, DATE);
}, 60_000);
afterAll(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

async function fake(marketData: AlpacaFakeMarketDataOptions): Promise<AlpacaFake> {
  const started = await AlpacaFake.start({ seed: 9, cash: '10000000', marketData: { fillOnStream: false, ...marketData } });
  fakes.push(started);
  return started;
}

function env(venue: AlpacaFake, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, APCA_API_KEY_ID: venue.keyId, APCA_API_SECRET_KEY: venue.secret, APCA_API_BASE_URL: venue.restUrl, APCA_STREAM_URL: venue.streamUrl,
    APCA_DATA_STREAM_URL: venue.dataStreamUrl, SIM_ALPACA_MARKET_ECHO: '1', ...overrides,
  };
}

function live(journal: string, extra: readonly string[] = []): string[] {
  return ['live', '--venue', 'alpaca', '--confirm-live', '--feed', 'alpaca', '--symbols', SYMBOLS.join(','), '--run-id', 'FLT', '--journal', path.join(directory, journal), '--json', ...STRATEGY, ...extra];
}

/** The bars a journal holds, as `symbol end` keys, in journal order. */
function journaledBars(journal: string): string[] {
  return Journal.readAll<SessionRecord>(path.join(directory, journal)).records.flatMap((record) => (record.k === 'bar' ? [`${record.s} ${record.t}`] : []));
}

/** One line on stderr: `sim: error CODE: expected ..., found ...`, no stack. */
function expectOneLineError(result: { code: number | null; stderr: string }, code: string): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n').filter((line) => !line.startsWith('sim: market data:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^sim: error ${code}: expected .*, found .*`));
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, limitMs: number, what: string): Promise<T> {
  let last: T | undefined;
  for (let waitedMs = 0; waitedMs <= limitMs; waitedMs += 50) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected ${what} within ${limitMs} ms, found ${JSON.stringify(last)}`);
}

describe('sim live --feed alpaca under stream faults', () => {
  it('reconnects and resubscribes after a cut, drops the bars sent again, and still sends replay\'s orders; a late bar is dropped and counted', async () => {
    const replay = await runReplay({
      catalogDir, fromDate: DATE, toDate: DATE, symbols: SYMBOLS, strategy: 'sma-cross', params: { fast: 5, slow: 20 }, seed: 1, fill: 'next-open', intrabar: 'stop-first',
      feesBps: 0, feeMinimum: 0, slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: {}, skipBad: false, runId: 'FLT',
    });
    // Cut after the second bar of a minute (both symbols') past the 150th; the reconnected stream first sends those
    // two again (each its symbol's last bar: duplicates), and bar 200 comes twice.
    const minuteOf = (item: AlpacaFakeMarketItem): number => (item.kind === 'bar' ? item.startUs : item.timeUs);
    const cutAfter = 1 + items.findIndex((item, index) => index >= 150 && minuteOf(items[index - 1]) === minuteOf(item));
    const cutFake = await fake({ items, faults: { disconnectAfterItems: [cutAfter], resendOnReconnect: 2, duplicateItems: [200] } });
    // A bar held back until after the next one, which belongs to a later minute: it comes late.
    const late = items.findIndex((item, index) => index >= 100 && minuteOf(items[index + 1]) > minuteOf(item));
    const lateFake = await fake({ items, faults: { reorderItems: [late] } });
    const [cut, reordered] = await Promise.all([
      sim(live('cut.journal', ['--max-records', String(items.length)]), env(cutFake), 60_000),
      sim(live('late.journal', ['--max-records', String(items.length - 1)]), env(lateFake), 60_000),
    ]);
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stderr).toMatch(/sim: market data: stream to .* lost; reconnecting/);
    expect(cut.stderr).toMatch(/sim: market data: reconnected to .* and resubscribed to bars for GWW,TYL/);
    expect(cutFake.marketData.stats).toMatchObject({ connections: 2, subscriptions: 2, disconnects: 1, resent: 2, duplicatesSent: 1 });
    expect(JSON.parse(cut.stdout)).toMatchObject({ records: items.length, feedDuplicatesDropped: 3, feedOutOfOrderDropped: 0, feedReconnects: 1 });
    const cutBars = journaledBars('cut.journal');
    expect(cutBars).toHaveLength(items.length);
    expect(new Set(cutBars).size).toBe(items.length);
    expect(journaledOrders(path.join(directory, 'cut.journal'))).toEqual(replayedOrders(replay.engine));

    expect(reordered.code, reordered.stderr).toBe(0);
    expect(lateFake.marketData.stats.reordered).toBe(1);
    expect(JSON.parse(reordered.stdout)).toMatchObject({ records: items.length - 1, feedOutOfOrderDropped: 1, feedDuplicatesDropped: 0 });
    const lateItem = items[late];
    expect(reordered.stderr).toMatch(new RegExp(`sim: market data: dropped ${lateItem.symbol} bar starting .*: older than data already delivered`));
    const lateBars = journaledBars('late.journal');
    expect(new Set(lateBars).size).toBe(lateBars.length);
    const ends = Journal.readAll<SessionRecord>(path.join(directory, 'late.journal')).records.flatMap((record) => (record.k === 'bar' ? [record.t] : []));
    for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThanOrEqual(ends[i - 1]);
  }, 90_000);

  it('ends with a one-line typed error and exit 2 on a wrong key, a failed re-auth, the connection limit and an off-grid price; refuses missing symbols and keys', async () => {
    const authFake = await fake({ items });
    const reauthFake = await fake({ items, faults: { disconnectAfterItems: [20], rejectAuthFromConnection: 2 } });
    const limitFake = await fake({ items });
    const offGrid = items.map((item, index) => (index === 30 && item.kind === 'bar' ? { ...item, close: `${item.close}${item.close.includes('.') ? '' : '.'}00001` } : item));
    const gridFake = await fake({ items: offGrid });
    // Another connection with the same keys holds the stream (Alpaca allows one).
    const holder = new WebSocket(limitFake.dataStreamUrl);
    const frames: string[] = [];
    holder.on('message', (data) => frames.push(String(data)));
    await new Promise<void>((resolve, reject) => { holder.once('open', () => resolve()); holder.once('error', reject); });
    holder.send(JSON.stringify({ action: 'auth', key: limitFake.keyId, secret: limitFake.secret }));
    await pollUntil(async () => frames.join(''), (text) => text.includes('authenticated'), 3_000, 'the holder authenticated');
    try {
      const [wrongKey, verbose, reauth, limit, grid, noSymbols, noKeys] = await Promise.all([
        sim(live('auth.journal'), env(authFake, { APCA_API_SECRET_KEY: 'not-the-secret' }), 30_000),
        sim([...live('auth-verbose.journal'), '--verbose'], env(authFake, { APCA_API_SECRET_KEY: 'not-the-secret' }), 30_000),
        sim(live('reauth.journal'), env(reauthFake), 30_000),
        sim(live('limit.journal'), env(limitFake), 30_000),
        sim(live('grid.journal'), env(gridFake), 30_000),
        sim(['paper', '--feed', 'alpaca', '--journal', path.join(directory, 'nosymbols.journal'), ...STRATEGY], env(authFake), 30_000),
        sim(['paper', '--feed', 'alpaca:trades', '--symbols', 'GWW', '--journal', path.join(directory, 'nokeys.journal'), ...STRATEGY], { PATH: process.env.PATH }, 30_000),
      ]);
      expectOneLineError(wrongKey, 'MARKET_DATA_AUTH_FAILED');
      expect(wrongKey.stderr).toMatch(/found error 402 auth failed\n$/);
      expect(verbose.code).toBe(2);
      expect(verbose.stderr).toMatch(/\n\s+at /);
      expectOneLineError(reauth, 'MARKET_DATA_AUTH_FAILED');
      expect(reauth.stderr).toMatch(/sim: market data: stream to .* lost; reconnecting/);
      expect(journaledBars('reauth.journal')).toHaveLength(20);
      expectOneLineError(limit, 'MARKET_DATA_CONNECTION_LIMIT');
      expect(limit.stderr).toMatch(/found error 406 connection limit exceeded: another connection with these API keys is open/);
      expectOneLineError(grid, 'MARKET_PRICE_OFF_GRID');
      expect(grid.stderr).toMatch(new RegExp(`expected ${offGrid[30].symbol} bar close on the grid of 4 decimals \\(multiples of 0\\.0001\\), found \\d+\\.\\d*00001\\n$`));
      expect(journaledBars('grid.journal')).toHaveLength(30);
      expectOneLineError(noSymbols, 'FEED_NO_SYMBOLS');
      expectOneLineError(noKeys, 'FEED_NO_CREDENTIALS');
      expect(noKeys.stderr).toMatch(/found APCA_API_KEY_ID and APCA_API_SECRET_KEY missing/);
    } finally {
      holder.close();
    }
    expect(authFake.marketData.stats.authFailures).toBe(2);
    expect(limitFake.marketData.stats.connectionLimitRejections).toBe(1);
  }, 90_000);

  it('restarts a paper session killed right after the broker saw a bar: the bar is applied, nothing the journal holds comes twice, and the orders are replay\'s', async () => {
    const replay = await runReplay({
      catalogDir, fromDate: DATE, toDate: DATE, symbols: SYMBOLS, strategy: 'sma-cross', params: { fast: 5, slow: 20 }, seed: 1, fill: 'next-open', intrabar: 'stop-first',
      feesBps: 0, feeMinimum: 0, slippageBps: 0, latencyMs: 0, latencyJitterMs: 0, maxVolumeShare: 1, initialCash: 100_000, risk: {}, skipBad: false, runId: 'FLT',
    });
    const restartFake = await fake({ items });
    const journal = path.join(directory, 'restart.journal');
    const paper = ['paper', '--feed', 'alpaca', '--symbols', SYMBOLS.join(','), '--run-id', 'FLT', '--journal', journal, '--json', ...STRATEGY];
    // Record 40 is the 20th bar, journaled for the paper broker before the engine applies it (the apply-market follows).
    const crashed = await sim(paper, { ...env(restartFake), SIM_CRASH_AFTER_RECORD: '40' }, 30_000);
    expect(crashed.signal).toBe('SIGKILL');
    const before = Journal.readAll<SessionRecord>(journal).records;
    expect(before).toHaveLength(40);
    const held = before[39];
    expect(held).toMatchObject({ k: 'bar', venueFirst: true });
    // The restarted session's stream starts again from the first bar (the worst a venue could resend): the 20 bars the
    // journal holds are dropped, the held one is applied at once, and the remaining bars follow.
    restartFake.marketData.load(items);
    const restarted = await sim([...paper, '--max-records', String(items.length - 20)], env(restartFake), 60_000);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toMatch(/sim: recovered 40 journal records/);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ records: items.length - 20, feedDelivered: items.length - 20, feedDuplicatesDropped: 2, feedOutOfOrderDropped: 18 });
    const after = Journal.readAll<SessionRecord>(journal).records;
    const next = after.slice(40).find((record) => record.k === 'apply-market' || record.k === 'bar');
    expect(next).toEqual({ k: 'apply-market', t: held.k === 'bar' ? held.t : -1 });
    const bars = journaledBars('restart.journal');
    expect(bars).toHaveLength(items.length);
    expect(new Set(bars).size).toBe(items.length);
    expect(journaledOrders(journal)).toEqual(replayedOrders(replay.engine));
    const check = await sim(['replay', '--session', journal, '--json'], { PATH: process.env.PATH }, 30_000);
    expect(JSON.parse(check.stdout)).toMatchObject({ identical: true, runDigest: JSON.parse(restarted.stdout).runDigest });
  }, 90_000);

  it('turns /ready to 503 for stale market data during a long outage, and back to 200 once the stream is back', async () => {
    // Paced like a live stream (one instant every 40 ms), so the session is still running when the outage starts.
    const outageFake = await fake({ items, paceMs: 40 });
    const child = spawn(process.execPath, [path.join(repository, 'bin/sim.mjs'), ...live('outage.journal', ['--health-port', '0', '--stale-data-ms', '1000'])], {
      cwd: repository, env: env(outageFake), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const port = await pollUntil(async () => /health on http:\/\/127\.0\.0\.1:(\d+)\/ready/.exec(stderr)?.[1], (found) => found !== undefined, 15_000, 'the health endpoint');
      const ready = async (): Promise<{ status: number; reasons: string[] }> => {
        const response = await fetch(`http://127.0.0.1:${port}/ready`);
        return { status: response.status, reasons: ((await response.json()) as { reasons: string[] }).reasons };
      };
      await pollUntil(ready, (answer) => answer.status === 200, 10_000, '/ready 200 while bars stream');
      outageFake.marketData.setOutage(true);
      const stale = await pollUntil(ready, (answer) => answer.status === 503, 10_000, '/ready 503 during the outage');
      expect(stale.reasons).toHaveLength(1);
      expect(stale.reasons[0]).toMatch(/^expected heartbeat market within 1000 ms, found \d+ ms$/);
      const barsDuringOutage = journaledBars('outage.journal').length;
      // The session keeps trying (refused upgrades meanwhile), and nothing reaches the journal while it is down.
      await pollUntil(async () => outageFake.marketData.stats.refusedDuringOutage, (refused) => refused >= 2, 10_000, 'reconnect attempts during the outage');
      expect(journaledBars('outage.journal')).toHaveLength(barsDuringOutage);
      outageFake.marketData.setOutage(false);
      await pollUntil(ready, (answer) => answer.status === 200, 15_000, '/ready 200 once the stream is back');
      expect(journaledBars('outage.journal').length).toBeGreaterThan(barsDuringOutage);
      expect(stderr).toMatch(/sim: market data: reconnected to .* and resubscribed/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ stoppedBy: 'SIGTERM', feedReconnects: 1 });
    const bars = journaledBars('outage.journal');
    expect(new Set(bars).size).toBe(bars.length);
  }, 90_000);
});
