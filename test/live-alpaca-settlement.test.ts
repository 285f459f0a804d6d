// Proves how the Alpaca adapter settles what it cannot see, against the fake over loopback: a placement resent
// after a lookup lag meets the venue's 422 duplicate and is taken over, never rejected; a replace whose answer was
// lost is settled by the replacement's id and the old order's replaced_by, and stays unsettled (then settles) while
// lookups fail; the runtime venue hands every problem on and rechecks unsettled outcomes on its timers; an oco
// stop-loss leg Alpaca keeps `held` is working to a takeover; and an orphan cancel refused for keys or fencing throws.
import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { AlpacaVenue } from '../adapters/alpaca/index.ts';
import { AlpacaRuntimeVenue } from '../adapters/runtime/alpaca-runtime-venue.ts';
import { RealTimeClock } from '../adapters/real-time-clock.ts';
import type { ExecutionReport, Instrument, OrderRequest } from '../engine/types.ts';
import { RecordingSink } from './conformance/recording-sink.ts';

const instrument: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function startFake(): Promise<AlpacaFake> {
  const fake = await AlpacaFake.start({ seed: 3, requestsPerWindowMax: 100_000, cash: '10000000' });
  closers.push(() => fake.close());
  return fake;
}

async function connectVenue(fake: AlpacaFake, options: { epochOnWire?: boolean; secret?: string } = {}) {
  const sink = new RecordingSink();
  const problems: string[] = [];
  const venue = new AlpacaVenue({
    keyId: fake.keyId, secret: options.secret ?? fake.secret, restUrl: fake.restUrl, streamUrl: fake.streamUrl, instruments: [instrument], sink,
    clock: RealTimeClock.real(), requestTimeoutMs: 2_000, lookupSettleMs: 20, requestsPerMinuteMax: 60_000, epochOnWire: options.epochOnWire,
    onProblem: (error) => problems.push(`${error.code}: ${error.message}`),
  });
  closers.push(() => venue.close());
  if (options.secret === undefined) await venue.connect();
  return { venue, sink, problems };
}

function request(clientOrderId: string, overrides: Partial<OrderRequest> = {}): OrderRequest {
  return { clientOrderId, symbol: instrument.symbol, side: 'buy', type: 'limit', limitPriceTicks: 10_000, quantity: 1, timeInForce: 'gtc', reduceOnly: false, epoch: 0, ...overrides };
}

const kinds = (reports: readonly ExecutionReport[], clientOrderId: string): string[] =>
  reports.filter((report) => report.clientOrderId === clientOrderId).map((report) => `${report.type}${'code' in report ? ` ${report.code}` : ''}`);

async function settled(venue: AlpacaVenue): Promise<void> {
  await venue.idle();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await venue.idle();
}

describe('AlpacaVenue settling unknown outcomes', () => {
  it('takes over a placement that a lookup lag made look absent: the resend meets a 422 duplicate, never a rejection', async () => {
    const fake = await startFake();
    const { venue, sink, problems } = await connectVenue(fake);
    // The POST lands but its answer is lost, and the next two lookups of its id miss (the index lags).
    fake.injectNext('lost-response');
    fake.injectNext('lookup-lag');
    venue.submit(request('x-1'));
    await settled(venue);
    expect(fake.stats.laggedLookups).toBe(2);
    expect(fake.stats.duplicateClientOrderIds).toBe(1); // the resend happened and was refused
    expect(fake.allOrders().map((order) => `${order.client_order_id} ${order.status}`)).toEqual(['x-1 new']);
    expect(kinds(sink.reports, 'x-1')).toEqual(['accepted']);
    expect(problems).toEqual([]);
    // The adapter holds it as ours: a cancel reaches the order.
    venue.cancel('x-1');
    await sink.waitFor((report) => report.type === 'cancelled' && report.clientOrderId === 'x-1', 3_000, 'x-1 cancelled');
    expect(fake.allOrders().map((order) => order.status)).toEqual(['canceled']);
  });

  it('settles a replace whose answer was lost and whose lookups lag by the old order\'s replaced_by: modified, and a cancel reaches the replacement', async () => {
    const fake = await startFake();
    const { venue, sink, problems } = await connectVenue(fake);
    venue.submit(request('r-1'));
    await sink.waitFor((report) => report.type === 'accepted', 3_000, 'r-1 accepted');
    await settled(venue);
    fake.injectNext('lost-replace-response');
    fake.injectNext('lookup-lag');
    venue.modify('r-1', { limitPriceTicks: 9_000 });
    await settled(venue);
    expect(kinds(sink.reports, 'r-1')).toEqual(['accepted', 'modified']);
    venue.cancel('r-1');
    await sink.waitFor((report) => report.type === 'cancelled' && report.clientOrderId === 'r-1', 3_000, 'r-1 cancelled');
    expect(fake.allOrders().map((order) => `${order.client_order_id} ${order.status} ${order.limit_price}`)).toEqual(['r-1 replaced 100', 'r-1.r1 canceled 90']);
    expect(kinds(sink.reports, 'r-1')).toEqual(['accepted', 'modified', 'cancelled']);
    expect(problems).toEqual([]);
  });

  it('keeps a replace unsettled while its lookups fail (no modify-rejected), holds a cancel meanwhile, and settles both in catchUp', async () => {
    const fake = await startFake();
    const { venue, sink, problems } = await connectVenue(fake);
    venue.submit(request('r-2'));
    await sink.waitFor((report) => report.type === 'accepted', 3_000, 'r-2 accepted');
    await settled(venue);
    fake.injectNext('lost-replace-response');
    // The PATCH takes effect (its answer lost); each settling round makes four lookups: all answered 500.
    for (let failure = 0; failure < 4; failure += 1) fake.injectNext('lookup-error');
    venue.modify('r-2', { limitPriceTicks: 9_500 });
    await settled(venue);
    expect(kinds(sink.reports, 'r-2')).toEqual(['accepted']);
    expect(problems.at(-1)).toMatch(/^VENUE_OUTCOME_UNKNOWN: expected to learn whether the replace r-2\.r1 of r-2 took effect/);
    // A second change waits for the first to settle; a cancel is held until then too.
    venue.modify('r-2', { limitPriceTicks: 9_400 });
    venue.cancel('r-2');
    await settled(venue);
    expect(kinds(sink.reports, 'r-2')).toEqual(['accepted', 'modify-rejected MODIFY_PENDING']);
    await venue.catchUp();
    await sink.waitFor((report) => report.type === 'cancelled' && report.clientOrderId === 'r-2', 3_000, 'r-2 cancelled after the replace settled');
    expect(kinds(sink.reports, 'r-2')).toEqual(['accepted', 'modify-rejected MODIFY_PENDING', 'modified', 'cancelled']);
    expect(fake.allOrders().map((order) => `${order.client_order_id} ${order.status} ${order.limit_price}`)).toEqual(['r-2 replaced 100', 'r-2.r1 canceled 95']);
  });

  it('reports a replace refused only after two answers that it did not happen: the old order still working and not replaced', async () => {
    const fake = await startFake();
    const { venue, sink } = await connectVenue(fake);
    venue.submit(request('r-3'));
    await sink.waitFor((report) => report.type === 'accepted', 3_000, 'r-3 accepted');
    await settled(venue);
    // The PATCH itself gets a 500: nothing was replaced.
    fake.injectNext('server-error');
    venue.modify('r-3', { limitPriceTicks: 9_000 });
    await settled(venue);
    expect(kinds(sink.reports, 'r-3')).toEqual(['accepted', 'modify-rejected VENUE_TIMEOUT']);
    expect(fake.allOrders().map((order) => `${order.client_order_id} ${order.status}`)).toEqual(['r-3 new']);
  });
});

describe('AlpacaRuntimeVenue problems and rechecks', () => {
  it('hands every adapter problem to onProblem and settles an unknown placement on its own timer, without a catchUp call', async () => {
    const fake = await startFake();
    const problems: string[] = [];
    const reports: ExecutionReport[] = [];
    const venue = new AlpacaRuntimeVenue({
      keyId: fake.keyId, secret: fake.secret, restUrl: fake.restUrl, streamUrl: fake.streamUrl, instruments: [instrument], clock: RealTimeClock.real(),
      requestsPerMinuteMax: 60_000, requestTimeoutMs: 2_000, lookupSettleMs: 20, unsettledRecheckMs: 100,
      onProblem: (error) => problems.push(error.code),
    });
    closers.push(() => venue.close());
    await venue.connect((report) => reports.push(report));
    // The POST and the four lookups of the first settling round answer 500: the outcome is unknown.
    for (let failure = 0; failure < 5; failure += 1) fake.injectNext('server-error');
    venue.submit(request('u-1'));
    await venue.idle();
    expect(problems).toEqual(['VENUE_UNAVAILABLE', 'VENUE_UNAVAILABLE', 'VENUE_UNAVAILABLE', 'VENUE_UNAVAILABLE', 'VENUE_OUTCOME_UNKNOWN']);
    expect(reports).toEqual([]);
    // Nobody calls catchUp: the recheck timer looks again, finds it absent twice and settles it.
    for (let waited = 0; waited < 3_000 && reports.length === 0; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(kinds(reports, 'u-1')).toEqual(['rejected VENUE_TIMEOUT']);
    expect(fake.allOrders()).toEqual([]);
  });
});

describe('held oco stop-loss legs and orphan cancels', () => {
  it('counts an oco stop-loss leg Alpaca keeps held as working: accepted, listed for a takeover, adopted, and filled from held', async () => {
    const fake = await startFake();
    const { venue, sink } = await connectVenue(fake);
    const base = { side: 'sell', quantity: 1, reduceOnly: true } as const;
    venue.submit(request('S-1', { ...base, type: 'limit', limitPriceTicks: 11_000, ocoWithClientOrderId: 'S-2' }));
    venue.submit(request('S-2', { ...base, type: 'stop', limitPriceTicks: undefined, stopPriceTicks: 9_500, ocoWithClientOrderId: 'S-1' }));
    await sink.waitFor((report) => report.type === 'accepted' && report.clientOrderId === 'S-2', 3_000, 'held stop leg accepted');
    expect(fake.allOrders().map((order) => `${order.type} ${order.status}`)).toEqual(['limit new', 'stop held']);
    // In our terms the held oco leg is working (accepted), not a contingent order waiting for a parent.
    expect((await venue.fetchOpenOrders()).map((order) => `${order.clientOrderId} ${order.status}`)).toEqual(['S-1 accepted', 'S-2 accepted']);
    expect(await venue.lookupByClientOrderId('S-2')).toMatchObject({ type: 'stop', status: 'accepted' });
    await venue.close();
    // Another runner takes the session over: both members are working orders it must adopt.
    const { venue: successor, sink: successorSink } = await connectVenue(fake);
    const session = await successor.fetchSessionOrders('S-');
    expect(session.open.map((order) => `${order.request.clientOrderId} ${order.request.type} ${order.ocoRole}`)).toEqual(['S-1 limit take-profit', 'S-1-oco-stop stop stop-loss']);
    for (const held of session.open) {
      expect(await successor.adopt(held.request, { accepted: true, filledQuantity: 0, filledNotionalTickLots: 0 })).toBe(true);
    }
    fake.pushTrade('AAPL', '94.00', 10);
    await successorSink.waitFor((report) => report.type === 'fill' && report.clientOrderId === 'S-1-oco-stop', 3_000, 'stop leg filled from held');
    await successorSink.waitFor((report) => report.type === 'cancelled' && report.clientOrderId === 'S-1', 3_000, 'take-profit cancelled');
  });

  it('cancels an orphan quietly when it is gone or finished, and throws when the venue refuses for keys or fencing', async () => {
    const fake = await startFake();
    const { venue, sink } = await connectVenue(fake, { epochOnWire: true });
    venue.submit(request('o-1', { epoch: 5 }));
    venue.submit(request('o-2', { epoch: 5, type: 'market', limitPriceTicks: undefined }));
    await sink.waitFor((report) => report.type === 'accepted' && report.clientOrderId === 'o-1', 3_000, 'o-1 accepted');
    await sink.waitFor((report) => report.type === 'accepted' && report.clientOrderId === 'o-2', 3_000, 'o-2 accepted');
    fake.pushTrade('AAPL', '101.00', 1); // fills o-2 only
    await sink.waitFor((report) => report.type === 'fill' && report.clientOrderId === 'o-2', 3_000, 'o-2 filled');
    const [working, filled] = fake.allOrders();
    // Gone or finished: nothing to cancel.
    await expect(venue.cancelUntracked('00000000-0000-4000-8000-000000000000', 5)).resolves.toBeUndefined();
    await expect(venue.cancelUntracked(filled.id, 5)).resolves.toBeUndefined();
    // Fenced (a deposed leader's epoch) and wrong keys: the order keeps working, so the cancel is no success.
    await expect(venue.cancelUntracked(working.id, 4)).rejects.toMatchObject({ code: 'STALE_EPOCH', message: expect.stringMatching(/^expected the venue to cancel untracked order .* found 403: /) });
    const { venue: badKeys } = await connectVenue(fake, { secret: 'wrong-secret' });
    await expect(badKeys.cancelUntracked(working.id)).rejects.toMatchObject({ code: 'VENUE_UNAUTHORIZED' });
    expect(fake.allOrders().find((order) => order.id === working.id)?.status).toBe('new');
    await expect(venue.cancelUntracked(working.id, 5)).resolves.toBeUndefined();
    expect(fake.allOrders().find((order) => order.id === working.id)?.status).toBe('canceled');
  });
});
