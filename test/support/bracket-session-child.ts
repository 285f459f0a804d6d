// A runner process for crash tests: a live session against an AlpacaFake (URLs and keys from the environment),
// with a test-only strategy that opens one bracket on its first tick, fed four fixed ticks that are echoed to the
// fake in step. Prints one JSON line after reconciliation (what the broker holds then) and one when done.
// SIM_CRASH_AFTER_RECORD=N kills it right after its Nth journal append, as the CLI's hook does; SIM_SCENARIO picks
// the ticks.
import type { Instrument } from '../../engine/index.ts';
import { AlpacaRuntimeVenue } from '../../adapters/runtime/alpaca-runtime-venue.ts';
import { SessionRunner } from '../../adapters/runtime/session-runner.ts';
import type { MarketRecord } from '../../adapters/runtime/session-records.ts';
import { bracketOnce } from './test-strategies.ts';


export const CHILD_INSTRUMENT: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const startUs = Date.UTC(2024, 0, 2, 15, 0, 0) * 1_000;
/**
 * `whole`: 100.00 (bracket sent), 100.50 (entry fills, exits go out), 101.00, 103.50 (take-profit fills, stop
 * cancelled). `partial`: the entry fills 4 then 6 (the prints' sizes), so the exits go out for 4 and are grown
 * to 10 by modifies (Alpaca replaces) before the take-profit fills.
 */
const SCENARIOS: Record<string, readonly [number, number][]> = {
  whole: [[10_000, 100], [10_050, 100], [10_100, 100], [10_350, 100]],
  partial: [[10_000, 100], [10_050, 4], [10_100, 100], [10_350, 100]],
};
const scenario = SCENARIOS[process.env.SIM_SCENARIO ?? 'whole'];
export const CHILD_TICKS: readonly MarketRecord[] = scenario.map(([p, q], i) => ({ k: 'tick', t: startUs + i * 1_000_000, s: 0, p, q, b: null, a: null }));

function environment(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`expected ${name} in the environment, found it missing`);
  return value;
}

async function main(): Promise<void> {
  let clockUs = startUs;
  const venue = new AlpacaRuntimeVenue({
    keyId: environment('APCA_API_KEY_ID'), secret: environment('APCA_API_SECRET_KEY'), restUrl: environment('APCA_API_BASE_URL'),
    streamUrl: environment('APCA_STREAM_URL'), instruments: [CHILD_INSTRUMENT], clock: { nowUs: () => clockUs }, marketEchoUrl: environment('APCA_API_BASE_URL'),
    // The test's fake allows more than Alpaca's 200 a minute: a recovery's lookups would otherwise wait for tokens.
    requestsPerMinuteMax: 6_000,
  });
  const { runner, summary } = await SessionRunner.open({
    config: { runId: 'CRASH', strategy: bracketOnce.name, params: {}, instruments: [CHILD_INSTRUMENT], initialCash: 100_000, risk: {}, venue: 'alpaca' },
    venue, journalPath: environment('SIM_JOURNAL'), nowUs: () => clockUs, resolveStrategy: () => bracketOnce,
    crashAfterRecord: process.env.SIM_CRASH_AFTER_RECORD ? Number(process.env.SIM_CRASH_AFTER_RECORD) : undefined,
    onRecord: (record) => { if ('t' in record && record.t > clockUs) clockUs = record.t; },
  });
  const brokerOpen = await venue.fetchOpenOrders();
  const brokerPositions = await venue.fetchPositions();
  process.stdout.write(`${JSON.stringify({
    phase: 'reconciled', summary, position: runner.engine.portfolio.position[0], brokerPosition: brokerPositions[0]?.quantity ?? 0,
    brokerOpen: brokerOpen.map((o) => ({ side: o.side, type: o.type, quantity: o.quantity, status: o.status })),
  })}\n`);
  for (let i = runner.marketRecordsJournaled; i < CHILD_TICKS.length; i++) await runner.pushMarket(CHILD_TICKS[i]);
  await runner.stop('feed ended');
  await venue.idle();
  const engine = runner.engine;
  process.stdout.write(`${JSON.stringify({ phase: 'done', position: engine.portfolio.position[0], openOrders: [...engine.openOrders()].map((o) => o.clientOrderId) })}\n`);
  await runner.close();
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
