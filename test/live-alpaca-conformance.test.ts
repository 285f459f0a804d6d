// Proves the Alpaca adapter (official SDK over loopback) against the protocol-faithful Alpaca fake by running the shared execution-port conformance suite, with faults injected through the fake.
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import { ALPACA_CAPABILITIES, AlpacaVenue } from '../adapters/alpaca/index.ts';
import { RealTimeClock } from '../adapters/real-time-clock.ts';
import { expect } from 'vitest';
import type { Instrument } from '../engine/types.ts';
import { describeExecutionPortConformance, type ExecutionPortHarness } from './conformance/execution-port-conformance.ts';
import { RecordingSink } from './conformance/recording-sink.ts';

const instrument: Instrument = { symbol: 'AAPL', priceScale: 2, lotScale: 0, calendar: 'us-equity' };
const WAIT_LIMIT_MS = 5_000;

async function makeHarness(): Promise<ExecutionPortHarness> {
  const fake = await AlpacaFake.start({ seed: 7 });
  const sink = new RecordingSink();
  const problems: string[] = [];
  const venue = new AlpacaVenue({
    keyId: fake.keyId, secret: fake.secret, restUrl: fake.restUrl, streamUrl: fake.streamUrl, instruments: [instrument], sink,
    clock: RealTimeClock.real(), requestTimeoutMs: 2_000, lookupSettleMs: 50, onProblem: (error) => problems.push(`${error.code}: ${error.message}`),
  });
  await venue.connect();
  const settle = async (): Promise<void> => {
    await venue.idle();
    // Stream events leave the fake on setImmediate after the request that caused them; two loop turns and a
    // short wait for the loopback socket are enough for them to land.
    await new Promise((resolve) => setTimeout(resolve, 30));
    await venue.idle();
  };
  return {
    port: venue,
    instrument,
    reports: () => sink.reports,
    waitForReport: (predicate, what) => sink.waitFor(predicate, WAIT_LIMIT_MS, what),
    settle,
    pushTrade: async (priceTicks, sizeLots) => {
      // Let placements in flight reach the fake first, as a real market would see them before the next print.
      await venue.idle();
      fake.pushTrade(instrument.symbol, (priceTicks / 10 ** instrument.priceScale).toFixed(instrument.priceScale), sizeLots / 10 ** instrument.lotScale);
    },
    faults: {
      loseNextPlacementResponse: () => fake.injectNext('lost-response'),
      duplicateNextStreamEvent: () => fake.injectNext('duplicate-event'),
      reorderNextStreamEvents: () => fake.injectNext('reorder-events'),
      dropStreamAfterNextEvent: () => fake.injectNext('disconnect-stream'),
    },
    close: async () => {
      await settle();
      await venue.close();
      await fake.close();
      // The fake refuses a second order under an id, so its order list can never show a double send: its refusal
      // counter can. Every refusal must be one a case asked for (C05 sends a duplicate and expects its rejection).
      const duplicateRejections = sink.reports.filter((report) => report.type === 'rejected' && report.code === 'DUPLICATE_CLIENT_ORDER_ID').length;
      expect(fake.stats.duplicateClientOrderIds, 'second sends of one client order id').toBe(duplicateRejections);
      expect(problems, 'adapter problems').toEqual([]);
    },
  };
}

describeExecutionPortConformance('Alpaca adapter against the Alpaca fake', {
  capabilities: ALPACA_CAPABILITIES,
  faults: { lostResponse: true, duplicateEvents: true, reorderedEvents: true, streamDrop: true },
  fillsAtTradePrice: true,
  makeHarness,
});
