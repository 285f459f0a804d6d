// Proves the paper broker (the simulated venue behind the runtime-venue port, with its own latency queue) passes the
// shared execution-port conformance suite; transport faults do not exist in-process, so those cases are skipped.
import type { Instrument } from '../../engine/types.ts';
import { PaperBroker } from '../../adapters/runtime/paper-broker.ts';
import { describeExecutionPortConformance, synchronousReports, type ExecutionPortHarness } from './execution-port-conformance.ts';

const instrument: Instrument = { symbol: 'SIM', priceScale: 2, lotScale: 0, calendar: 'always-open' };
const START_US = 1_704_205_800_000_000;

async function makeHarness(): Promise<ExecutionPortHarness> {
  const broker = new PaperBroker([instrument], { fillMode: 'close' }, 7);
  let nowUs = START_US;
  broker.advanceTo(nowUs);
  const settle = async (): Promise<void> => broker.advanceTo(nowUs);
  const { sink, reports, waitForReport } = synchronousReports(settle);
  broker.connect(sink);
  return {
    port: broker,
    instrument,
    reports,
    waitForReport,
    settle,
    pushTrade: async (priceTicks, sizeLots) => {
      nowUs += 1_000_000;
      broker.onMarket({ k: 'tick', t: nowUs, s: 0, p: priceTicks, q: sizeLots, b: null, a: null });
    },
    close: async () => broker.close(),
  };
}

describeExecutionPortConformance('paper broker', {
  capabilities: new PaperBroker([instrument], {}, 1).capabilities,
  faults: { lostResponse: false, duplicateEvents: false, reorderedEvents: false, streamDrop: false },
  fillsAtTradePrice: true,
  makeHarness,
});
