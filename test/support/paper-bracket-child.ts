// A runner process for paper crash tests: a paper session (the in-process PaperBroker, seeded) with a test-only
// strategy that opens one bracket on its first tick, fed four fixed ticks. Prints one JSON line after
// reconciliation (what the broker holds then) and one when done (the engine's state and run digest).
// SIM_CRASH_AFTER_RECORD=N kills it right after its Nth journal append, as the CLI's hook does; SIM_SCENARIO picks
// the ticks. Report times follow the engine's clock, so an interrupted session can end with the very run digest
// of an uninterrupted one.
import type { Instrument } from '../../engine/index.ts';
import { PaperBroker } from '../../adapters/runtime/paper-broker.ts';
import { SessionRunner } from '../../adapters/runtime/session-runner.ts';
import type { MarketRecord } from '../../adapters/runtime/session-records.ts';
import { bracketOnce } from './test-strategies.ts';

const instrument: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const startUs = Date.UTC(2024, 0, 2, 15, 0, 0) * 1_000;
/**
 * `whole`: 100.00 (bracket sent), 100.50 (entry fills, exits go out), 101.00, 103.50 (take-profit fills, stop
 * cancelled). `partial`: the entry fills 4 then 6 (the prints' sizes), so the exits go out for 4 and are grown
 * to 10 by modifies before the take-profit fills.
 */
const SCENARIOS: Record<string, readonly [number, number][]> = {
  whole: [[10_000, 100], [10_050, 100], [10_100, 100], [10_350, 100]],
  partial: [[10_000, 100], [10_050, 4], [10_100, 100], [10_350, 100]],
};
const scenario = SCENARIOS[process.env.SIM_SCENARIO ?? 'whole'];
const TICKS: readonly MarketRecord[] = scenario.map(([p, q], i) => ({ k: 'tick', t: startUs + i * 1_000_000, s: 0, p, q, b: null, a: null }));

function environment(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`expected ${name} in the environment, found it missing`);
  return value;
}

async function main(): Promise<void> {
  const broker = new PaperBroker([instrument], {}, 5);
  const { runner, summary } = await SessionRunner.open({
    config: { runId: 'PAPER', strategy: bracketOnce.name, params: {}, instruments: [instrument], initialCash: 100_000, risk: {}, venue: 'paper' },
    venue: broker, journalPath: environment('SIM_JOURNAL'), nowUs: () => 0, resolveStrategy: () => bracketOnce,
    crashAfterRecord: process.env.SIM_CRASH_AFTER_RECORD ? Number(process.env.SIM_CRASH_AFTER_RECORD) : undefined,
  });
  const brokerOpen = await broker.fetchOpenOrders();
  const brokerPositions = await broker.fetchPositions();
  process.stdout.write(`${JSON.stringify({
    phase: 'reconciled', summary, position: runner.engine.portfolio.position[0], brokerPosition: brokerPositions[0]?.quantity ?? 0,
    brokerOpen: brokerOpen.map((o) => ({ id: o.request.clientOrderId, side: o.request.side, type: o.request.type, quantity: o.request.quantity - o.filledQuantity, status: o.status })),
  })}\n`);
  for (let i = runner.marketRecordsJournaled; i < TICKS.length; i++) await runner.pushMarket(TICKS[i]);
  await runner.stop('feed ended');
  const engine = runner.engine;
  process.stdout.write(`${JSON.stringify({
    phase: 'done', position: engine.portfolio.position[0], cash: engine.portfolio.cashCash, openOrders: [...engine.openOrders()].map((o) => o.clientOrderId),
    brokerOpen: (await broker.fetchOpenOrders()).map((o) => o.request.clientOrderId), brokerPosition: (await broker.fetchPositions())[0]?.quantity ?? 0, digest: engine.log.digest(),
  })}\n`);
  await runner.close();
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
