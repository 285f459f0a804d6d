// Proves the engine's simulated venue passes the shared execution-port conformance suite, driven by trade prints on a small virtual-time scheduler (no transport, so the transport-fault cases are skipped with that reason).
import { SeededRng } from '../../engine/core/rng.ts';
import { EventQueue } from '../../engine/core/event-queue.ts';
import { scalesOf } from '../../engine/core/instruments.ts';
import type { Instrument } from '../../engine/types.ts';
import { SimulatedVenue, type VenueScheduler } from '../../engine/venue/simulated-venue.ts';
import { describeExecutionPortConformance, synchronousReports, type ExecutionPortHarness } from './execution-port-conformance.ts';

const instrument: Instrument = { symbol: 'SIM', priceScale: 2, lotScale: 0, calendar: 'always-open' };
const START_US = 1_704_205_800_000_000;
const TASKS_PER_RUN_MAX = 100_000;

/** Runs scheduled work in (time, sequence) order on the engine's event queue; time moves only when a trade print is pushed. */
class VirtualScheduler implements VenueScheduler {
  readonly queue = new EventQueue();
  private currentUs = START_US;

  nowUs(): number { return this.currentUs; }

  runUntil(timeUs: number): void {
    for (let ran = 0; ran < TASKS_PER_RUN_MAX && this.queue.nextTimeUs <= timeUs; ran += 1) {
      this.currentUs = Math.max(this.currentUs, this.queue.nextTimeUs);
      this.queue.runNext();
    }
    this.currentUs = Math.max(this.currentUs, timeUs);
  }
}

async function makeHarness(): Promise<ExecutionPortHarness> {
  const scheduler = new VirtualScheduler();
  const venue = new SimulatedVenue([scalesOf(instrument)], { fillMode: 'close' }, new SeededRng(7));
  const settle = async (): Promise<void> => scheduler.runUntil(scheduler.nowUs());
  const { sink, reports, waitForReport } = synchronousReports(settle);
  venue.attach({ onReport: sink }, scheduler);
  return {
    port: venue,
    instrument,
    reports,
    waitForReport,
    settle,
    pushTrade: async (priceTicks, sizeLots) => {
      await settle();
      const timeUs = scheduler.nowUs() + 1_000_000;
      scheduler.runUntil(timeUs);
      venue.onTick(0, timeUs, priceTicks, sizeLots, Number.NaN, Number.NaN);
      await settle();
    },
    close: async () => undefined,
  };
}

describeExecutionPortConformance('engine simulated venue', {
  capabilities: new SimulatedVenue([scalesOf(instrument)], {}, new SeededRng(1)).capabilities,
  faults: { lostResponse: false, duplicateEvents: false, reorderedEvents: false, streamDrop: false },
  fillsAtTradePrice: true,
  makeHarness,
});
