// The execution-port conformance suite: numbered cases every ExecutionPort implementation (simulated venue,
// paper broker, Alpaca adapter) must pass, in the spirit of NautilusTrader's adapter matrix. A case that does
// not apply to a port is skipped with its reason, derived from the port's declared capabilities or the faults
// its harness can inject -- never silently.
//
// Usage, in a *.test.ts file:
//   describeExecutionPortConformance('alpaca adapter + fake', { capabilities, faults: {...}, makeHarness });
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionPort, ExecutionReport, Instrument, OrderRequest, VenueCapabilities } from '../../engine/types.ts';

export interface ExecutionPortHarness {
  port: ExecutionPort;
  /** The instrument every case trades. Prices in the cases are in its ticks, quantities in its lots. */
  instrument: Instrument;
  /** Every report the port has given so far, in arrival order. */
  reports(): readonly ExecutionReport[];
  /** Waits (bounded) for a report matching `predicate`; throws with `what` and the reports seen when none comes. */
  waitForReport(predicate: (report: ExecutionReport) => boolean, what: string): Promise<ExecutionReport>;
  /** Lets everything already in motion finish (requests, events, scheduled work) before asserting an absence. */
  settle(): Promise<void>;
  /** A trade print at `priceTicks` for `sizeLots`: the only thing that may fill orders. */
  pushTrade(priceTicks: number, sizeLots: number): Promise<void>;
  /** Fault hooks; only those the harness can do. Each applies to the next matching occasion only. */
  faults?: {
    loseNextPlacementResponse?(): void;
    duplicateNextStreamEvent?(): void;
    reorderNextStreamEvents?(): void;
    dropStreamAfterNextEvent?(): void;
  };
  close(): Promise<void>;
}

/**
 * Report collection for in-process ports whose reports arrive synchronously once `settle` has run scheduled work:
 * the `reports` and `waitForReport` halves of a harness.
 */
export function synchronousReports(settle: () => Promise<void>): { sink: (report: ExecutionReport) => void; reports: () => readonly ExecutionReport[]; waitForReport: ExecutionPortHarness['waitForReport'] } {
  const reports: ExecutionReport[] = [];
  return {
    sink: (report) => { reports.push(report); },
    reports: () => reports,
    waitForReport: async (predicate, what) => {
      await settle();
      const found = reports.find(predicate);
      if (found === undefined) throw new Error(`expected ${what}, found reports: ${JSON.stringify(reports.map((report) => `${report.type}:${report.clientOrderId}`))}`);
      return found;
    },
  };
}

export interface ConformanceDeclaration {
  capabilities: VenueCapabilities;
  /** The fault hooks the harness implements (drives skips at collection time). */
  faults: { lostResponse: boolean; duplicateEvents: boolean; reorderedEvents: boolean; streamDrop: boolean };
  /** True when fills happen exactly at the trade print's price (no slippage model). */
  fillsAtTradePrice: boolean;
  makeHarness(): Promise<ExecutionPortHarness>;
}

let sequence = 0;

function order(instrument: Instrument, overrides: Partial<OrderRequest> & Pick<OrderRequest, 'side' | 'type'>): OrderRequest {
  sequence += 1;
  return { clientOrderId: `conf-${process.pid}-${sequence}`, symbol: instrument.symbol, quantity: 10, timeInForce: 'gtc', reduceOnly: false, epoch: 0, ...overrides };
}

function filledQuantity(reports: readonly ExecutionReport[], clientOrderId: string): number {
  return reports.reduce((sum, report) => sum + (report.type === 'fill' && report.clientOrderId === clientOrderId ? report.quantity : 0), 0);
}

function countOf(reports: readonly ExecutionReport[], type: ExecutionReport['type'], clientOrderId: string): number {
  return reports.filter((report) => report.type === type && report.clientOrderId === clientOrderId).length;
}

export function describeExecutionPortConformance(name: string, declaration: ConformanceDeclaration): void {
  const { capabilities, faults } = declaration;
  describe(`execution port conformance: ${name}`, () => {
    let harness: ExecutionPortHarness;
    beforeEach(async () => { harness = await declaration.makeHarness(); });
    afterEach(async () => { await harness.close(); });

    const accepted = (id: string) => harness.waitForReport((report) => report.type === 'accepted' && report.clientOrderId === id, `accepted ${id}`);
    const filled = async (id: string, quantity: number) => {
      await harness.waitForReport(() => filledQuantity(harness.reports(), id) >= quantity, `${quantity} lots filled on ${id}`);
      await harness.settle();
      expect(filledQuantity(harness.reports(), id)).toBe(quantity);
    };
    /** Opens a long position of `quantity` lots at `priceTicks` with a market order. */
    const openLong = async (quantity: number, priceTicks: number) => {
      const entry = order(harness.instrument, { side: 'buy', type: 'market', quantity });
      harness.port.submit(entry);
      await accepted(entry.clientOrderId);
      await harness.pushTrade(priceTicks, quantity * 10);
      await filled(entry.clientOrderId, quantity);
      return entry;
    };

    it('C01 a market order is accepted and fills completely at the next trade', async () => {
      const request = order(harness.instrument, { side: 'buy', type: 'market' });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      await harness.pushTrade(10_000, 100);
      await filled(request.clientOrderId, 10);
      const fill = harness.reports().find((report) => report.type === 'fill' && report.clientOrderId === request.clientOrderId);
      if (declaration.fillsAtTradePrice) expect(fill).toMatchObject({ priceTicks: 10_000, side: 'buy', symbol: harness.instrument.symbol });
    });

    it('C02 a limit order rests until a trade crosses it, then fills', async () => {
      const request = order(harness.instrument, { side: 'buy', type: 'limit', limitPriceTicks: 9_900 });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      await harness.pushTrade(10_000, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), request.clientOrderId)).toBe(0);
      await harness.pushTrade(9_890, 100);
      await filled(request.clientOrderId, 10);
    });

    it('C03 a cancelled order reports cancelled once and never fills afterwards', async () => {
      const request = order(harness.instrument, { side: 'buy', type: 'limit', limitPriceTicks: 9_000 });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      harness.port.cancel(request.clientOrderId);
      await harness.waitForReport((report) => report.type === 'cancelled' && report.clientOrderId === request.clientOrderId, 'cancelled');
      await harness.pushTrade(8_000, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), request.clientOrderId)).toBe(0);
      expect(countOf(harness.reports(), 'cancelled', request.clientOrderId)).toBe(1);
    });

    it(`C04 a replaced limit price takes effect${capabilities.modify ? '' : ' [skip: venue declares modify false]'}`, async (context) => {
      context.skip(!capabilities.modify, 'venue declares modify: false; the engine cancels and re-sends instead');
      const request = order(harness.instrument, { side: 'buy', type: 'limit', limitPriceTicks: 9_000 });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      harness.port.modify(request.clientOrderId, { limitPriceTicks: 9_500 });
      await harness.waitForReport((report) => report.type === 'modified' && report.clientOrderId === request.clientOrderId, 'modified');
      await harness.pushTrade(9_400, 100);
      await filled(request.clientOrderId, 10);
    });

    it('C05 a second order with the same client order id is rejected and the first keeps working', async () => {
      const request = order(harness.instrument, { side: 'buy', type: 'limit', limitPriceTicks: 9_000 });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      harness.port.submit({ ...request, limitPriceTicks: 9_100 });
      const rejected = await harness.waitForReport((report) => report.type === 'rejected' && report.clientOrderId === request.clientOrderId, 'duplicate rejected');
      expect(rejected).toMatchObject({ code: 'DUPLICATE_CLIENT_ORDER_ID' });
      // The first keeps its own terms: a trade the duplicate's higher limit would take leaves it unfilled.
      await harness.pushTrade(9_050, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), request.clientOrderId)).toBe(0);
      harness.port.cancel(request.clientOrderId);
      await harness.waitForReport((report) => report.type === 'cancelled' && report.clientOrderId === request.clientOrderId, 'original cancelled');
    });

    it(`C06 a bracket: entry fill, exits released as an OCO pair, take-profit fill cancels the stop${capabilities.nativeOco ? '' : ' [skip: nativeOco false]'}`, async (context) => {
      context.skip(!capabilities.nativeOco, 'venue declares nativeOco: false; the engine holds and cancels exits itself (covered by engine tests)');
      await openLong(10, 10_000);
      // As the engine releases held exits: both legs in one step, each naming the other.
      const takeProfit = order(harness.instrument, { side: 'sell', type: 'limit', limitPriceTicks: 10_500, reduceOnly: true });
      const stopLoss = order(harness.instrument, { side: 'sell', type: 'stop', stopPriceTicks: 9_500, reduceOnly: true });
      harness.port.submit({ ...stopLoss, ocoWithClientOrderId: takeProfit.clientOrderId });
      harness.port.submit({ ...takeProfit, ocoWithClientOrderId: stopLoss.clientOrderId });
      await accepted(takeProfit.clientOrderId);
      await accepted(stopLoss.clientOrderId);
      await harness.pushTrade(10_600, 100);
      await filled(takeProfit.clientOrderId, 10);
      await harness.waitForReport((report) => report.type === 'cancelled' && report.clientOrderId === stopLoss.clientOrderId, 'stop-loss cancelled by the venue');
      await harness.pushTrade(9_000, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), stopLoss.clientOrderId)).toBe(0);
    });

    it(`C07 an OCO pair: the stop fills and the venue cancels the limit${capabilities.nativeOco ? '' : ' [skip: nativeOco false]'}`, async (context) => {
      context.skip(!capabilities.nativeOco, 'venue declares nativeOco: false; the engine emulates OCO');
      await openLong(10, 10_000);
      const limit = order(harness.instrument, { side: 'sell', type: 'limit', limitPriceTicks: 11_000, reduceOnly: true });
      const stop = order(harness.instrument, { side: 'sell', type: 'stop', stopPriceTicks: 9_700, reduceOnly: true });
      harness.port.submit({ ...limit, ocoWithClientOrderId: stop.clientOrderId });
      harness.port.submit({ ...stop, ocoWithClientOrderId: limit.clientOrderId });
      await accepted(stop.clientOrderId);
      await harness.pushTrade(9_800, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), stop.clientOrderId)).toBe(0);
      await harness.pushTrade(9_700, 100);
      await filled(stop.clientOrderId, 10);
      await harness.waitForReport((report) => report.type === 'cancelled' && report.clientOrderId === limit.clientOrderId, 'limit cancelled');
      expect(filledQuantity(harness.reports(), limit.clientOrderId)).toBe(0);
    });

    it(`C08 a reduce-only order that would open a position never fills${capabilities.reduceOnly ? '' : ' [skip: reduceOnly false]'}`, async (context) => {
      context.skip(!capabilities.reduceOnly, 'venue declares reduceOnly: false; the engine emulates reduce-only before sending');
      const request = order(harness.instrument, { side: 'sell', type: 'market', reduceOnly: true });
      harness.port.submit(request);
      await harness.pushTrade(10_000, 100);
      await harness.waitForReport((report) => (report.type === 'rejected' || report.type === 'cancelled') && report.clientOrderId === request.clientOrderId, 'reduce-only refused');
      await harness.settle();
      expect(filledQuantity(harness.reports(), request.clientOrderId)).toBe(0);
    });

    it(`C09 a lost placement response is settled by client order id: one order, no duplicate${faults.lostResponse ? '' : ' [skip: no lost-response hook]'}`, async (context) => {
      context.skip(!faults.lostResponse, 'the harness cannot lose a response (in-process port with no transport)');
      harness.faults!.loseNextPlacementResponse!();
      const request = order(harness.instrument, { side: 'buy', type: 'market' });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      await harness.pushTrade(10_000, 100);
      await filled(request.clientOrderId, 10);
      expect(countOf(harness.reports(), 'accepted', request.clientOrderId)).toBe(1);
      expect(countOf(harness.reports(), 'rejected', request.clientOrderId)).toBe(0);
    });

    it(`C10 a duplicated stream event is reported once${faults.duplicateEvents ? '' : ' [skip: no duplicate-event hook]'}`, async (context) => {
      context.skip(!faults.duplicateEvents, 'the harness has no event stream that can repeat itself');
      const request = order(harness.instrument, { side: 'buy', type: 'market' });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      harness.faults!.duplicateNextStreamEvent!();
      await harness.pushTrade(10_000, 100);
      await filled(request.clientOrderId, 10);
      const fillIds = harness.reports().filter((report) => report.type === 'fill' && report.clientOrderId === request.clientOrderId).map((report) => (report as { fillId: string }).fillId);
      expect(new Set(fillIds).size).toBe(fillIds.length);
    });

    it('C11 partial fills add up to the order quantity, and the order completes once', async () => {
      const request = order(harness.instrument, { side: 'buy', type: 'market' });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      await harness.pushTrade(10_000, 4);
      await harness.waitForReport(() => filledQuantity(harness.reports(), request.clientOrderId) >= 4, 'first partial fill');
      await harness.pushTrade(10_010, 6);
      await filled(request.clientOrderId, 10);
      expect(countOf(harness.reports(), 'fill', request.clientOrderId)).toBe(2);
    });

    it('C12 cancelling an unknown client order id is refused, not thrown', async () => {
      harness.port.cancel('never-sent');
      await harness.waitForReport((report) => report.type === 'cancel-rejected' && report.clientOrderId === 'never-sent', 'cancel-rejected');
    });

    it(`C13 a stop order triggers when a trade touches it, not before${capabilities.orderTypes.includes('stop') ? '' : ' [skip: no stop orders]'}`, async (context) => {
      context.skip(!capabilities.orderTypes.includes('stop'), 'venue declares no stop orders');
      await openLong(10, 10_000);
      const stop = order(harness.instrument, { side: 'sell', type: 'stop', stopPriceTicks: 9_500, reduceOnly: true });
      harness.port.submit(stop);
      await accepted(stop.clientOrderId);
      await harness.pushTrade(9_600, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), stop.clientOrderId)).toBe(0);
      await harness.pushTrade(9_500, 100);
      await filled(stop.clientOrderId, 10);
    });

    it(`C14 reordered stream events still give the right totals and one terminal state${faults.reorderedEvents ? '' : ' [skip: no reorder hook]'}`, async (context) => {
      context.skip(!faults.reorderedEvents, 'the harness has no event stream that can reorder');
      const request = order(harness.instrument, { side: 'buy', type: 'market' });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      harness.faults!.reorderNextStreamEvents!();
      await harness.pushTrade(10_000, 3);
      await harness.pushTrade(10_020, 7);
      await filled(request.clientOrderId, 10);
      const fills = harness.reports().filter((report) => report.type === 'fill' && report.clientOrderId === request.clientOrderId) as Array<{ quantity: number; priceTicks: number }>;
      expect(fills.reduce((sum, fill) => sum + fill.quantity * fill.priceTicks, 0)).toBe(3 * 10_000 + 7 * 10_020);
    });

    it(`C15 a fill that happens while the stream is down is reported after it reconnects${faults.streamDrop ? '' : ' [skip: no stream-drop hook]'}`, async (context) => {
      context.skip(!faults.streamDrop, 'the harness has no stream connection to drop');
      const request = order(harness.instrument, { side: 'buy', type: 'limit', limitPriceTicks: 10_000 });
      harness.port.submit(request);
      harness.faults!.dropStreamAfterNextEvent!();
      await accepted(request.clientOrderId);
      await harness.pushTrade(9_990, 100);
      await filled(request.clientOrderId, 10);
    });

    it('C16 a sell limit fills only at or above its price; fills carry the symbol, side and positive quantities', async () => {
      await openLong(10, 10_000);
      const request = order(harness.instrument, { side: 'sell', type: 'limit', limitPriceTicks: 10_200 });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      await harness.pushTrade(10_100, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), request.clientOrderId)).toBe(0);
      await harness.pushTrade(10_200, 100);
      await filled(request.clientOrderId, 10);
      for (const report of harness.reports()) {
        if (report.type !== 'fill') continue;
        expect(report.symbol).toBe(harness.instrument.symbol);
        expect(report.quantity).toBeGreaterThan(0);
        expect(Number.isInteger(report.priceTicks)).toBe(true);
      }
    });

    it(`C17 a trailing stop follows the best price and triggers on the pullback${capabilities.orderTypes.includes('trailing-stop') ? '' : ' [skip: no trailing stops]'}`, async (context) => {
      context.skip(!capabilities.orderTypes.includes('trailing-stop'), 'venue declares no trailing-stop orders');
      await openLong(10, 10_000);
      const trailing = order(harness.instrument, { side: 'sell', type: 'trailing-stop', trailingOffsetTicks: 200, reduceOnly: true });
      harness.port.submit(trailing);
      await accepted(trailing.clientOrderId);
      for (const priceTicks of [10_000, 10_500, 10_350]) await harness.pushTrade(priceTicks, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), trailing.clientOrderId)).toBe(0);
      await harness.pushTrade(10_290, 100);
      await filled(trailing.clientOrderId, 10);
    });

    it(`C18 a quantity increase on a resting order takes effect${capabilities.modify ? '' : ' [skip: modify false]'}`, async (context) => {
      context.skip(!capabilities.modify, 'venue declares modify: false');
      const request = order(harness.instrument, { side: 'buy', type: 'limit', limitPriceTicks: 9_800 });
      harness.port.submit(request);
      await accepted(request.clientOrderId);
      harness.port.modify(request.clientOrderId, { quantity: 15 });
      await harness.waitForReport((report) => report.type === 'modified' && report.clientOrderId === request.clientOrderId, 'modified');
      await harness.pushTrade(9_800, 100);
      await filled(request.clientOrderId, 15);
    });


    it(`C19 OCO exits released on a partial entry fill grow with the rest of the entry, then one fill cancels the other${capabilities.nativeOco && capabilities.modify ? '' : ' [skip: needs nativeOco and modify]'}`, async (context) => {
      context.skip(!(capabilities.nativeOco && capabilities.modify), 'venue lacks native OCO or modify; the engine emulates this flow');
      const entry = order(harness.instrument, { side: 'buy', type: 'market' });
      harness.port.submit(entry);
      await accepted(entry.clientOrderId);
      await harness.pushTrade(10_000, 4);
      await harness.waitForReport(() => filledQuantity(harness.reports(), entry.clientOrderId) === 4, 'partial entry fill');
      // The engine releases both exits sized to the fill so far...
      const takeProfit = order(harness.instrument, { side: 'sell', type: 'limit', limitPriceTicks: 10_500, quantity: 4, reduceOnly: true });
      const stopLoss = order(harness.instrument, { side: 'sell', type: 'stop', stopPriceTicks: 9_500, quantity: 4, reduceOnly: true });
      harness.port.submit({ ...takeProfit, ocoWithClientOrderId: stopLoss.clientOrderId });
      harness.port.submit({ ...stopLoss, ocoWithClientOrderId: takeProfit.clientOrderId });
      await accepted(takeProfit.clientOrderId);
      await accepted(stopLoss.clientOrderId);
      // ...and grows them as the rest of the entry fills.
      await harness.pushTrade(10_010, 6);
      await filled(entry.clientOrderId, 10);
      harness.port.modify(takeProfit.clientOrderId, { quantity: 10 });
      harness.port.modify(stopLoss.clientOrderId, { quantity: 10 });
      await harness.waitForReport((report) => report.type === 'modified' && report.clientOrderId === takeProfit.clientOrderId, 'take-profit grown');
      await harness.waitForReport((report) => report.type === 'modified' && report.clientOrderId === stopLoss.clientOrderId, 'stop-loss grown');
      await harness.pushTrade(10_600, 100);
      await filled(takeProfit.clientOrderId, 10);
      await harness.waitForReport((report) => report.type === 'cancelled' && report.clientOrderId === stopLoss.clientOrderId, 'stop-loss cancelled');
      await harness.pushTrade(9_000, 100);
      await harness.settle();
      expect(filledQuantity(harness.reports(), stopLoss.clientOrderId)).toBe(0);
    });
  });
}
