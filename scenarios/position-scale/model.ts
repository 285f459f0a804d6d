// The position-scale workload: the same trailing-stop workload with 1, 45 and 500 open positions. Each tick
// moves one symbol; every position in it whose best price improves gets its trailing stop raised, which
// means finding that position's stop order and changing it. `scan` finds the order by searching the list of
// all orders (the unfixed code); `by-symbol` (the incident's fix) groups the orders by symbol and searches
// only the position's symbol, which is cheap while each symbol carries a position or two and a scan again
// once positions pile up in a few symbols (averaging down, pyramiding); `indexed` keeps orders in a map by
// position. Sim mode counts the records each update touches (deterministic); real mode measures wall time
// per update.
import { History } from '../framework/history.ts';
import type { RunContext, RunRecord } from '../framework/scenario.ts';

export type ScaleVariant = 'scan' | 'by-symbol' | 'indexed';
export const POSITION_COUNTS = [1, 45, 500] as const;
/** Symbols the positions are spread over, unless the `symbols` option says otherwise. */
export const SYMBOLS = 50;
export const TRAIL_TICKS = 20;

/** How the cost of the update section is measured: counted operations (sim) or elapsed time (real). */
export interface CostMeter {
  begin(): void;
  /** Ends a measured section; `operations` is what the section counted. */
  end(operations: number): void;
  /** The cost of one section: the mean of counted operations (sim), the median wall time (real). */
  perSection(): number;
}

export interface ScaleTruth {
  /** Cost per stop update, by position count. */
  readonly costPerUpdate: Readonly<Record<number, number>>;
  /** Stops that differ from best price minus trail after the run, by position count. */
  readonly wrongStops: Readonly<Record<number, number>>;
}

export interface StopOrder { readonly positionId: number; stopTicks: number }
interface Position { readonly id: number; readonly symbol: number; bestTicks: number }

/**
 * Real mode times the stop-order lookup of an update in batches (one clock read per batch, best of several
 * rounds), because a single update is shorter than a clock read. Returns nanoseconds per lookup.
 */
export type LookupTimer = (lookup: (positionId: number) => StopOrder | undefined, positionIds: readonly number[]) => number;

export function runPositionScale(context: RunContext, meterFor: () => CostMeter, lookupTimer?: LookupTimer): RunRecord<ScaleTruth> {
  const variant = context.variant as ScaleVariant;
  const history = new History(() => 0);
  const ticks = Number(context.options.ticks);
  const symbols = Number(context.options.symbols ?? SYMBOLS);
  const costPerUpdate: Record<number, number> = {};
  const wrongStops: Record<number, number> = {};
  const metrics: Record<string, number> = {};
  for (const count of POSITION_COUNTS) {
    const rng = context.rng.child(`positions-${count}`);
    const prices = Array.from({ length: symbols }, () => 10_000);
    const positions: Position[] = [];
    const bySymbol: Position[][] = Array.from({ length: symbols }, () => []);
    const orderList: StopOrder[] = [];
    const orderMap = new Map<number, StopOrder>();
    for (let id = 0; id < count; id += 1) {
      const position: Position = { id, symbol: rng.int(symbols), bestTicks: 10_000 };
      positions.push(position);
      bySymbol[position.symbol].push(position);
      const order: StopOrder = { positionId: id, stopTicks: 10_000 - TRAIL_TICKS };
      orderList.push(order);
      orderMap.set(id, order);
    }
    // The orders of each symbol, in the order of the (shuffled) list of all orders.
    const ordersBySymbol: StopOrder[][] = Array.from({ length: symbols }, () => []);
    const lookup = (positionId: number): { order: StopOrder | undefined; operations: number } => {
      if (variant === 'indexed') return { order: orderMap.get(positionId), operations: 1 };
      let operations = 0;
      for (const candidate of variant === 'by-symbol' ? ordersBySymbol[positions[positionId].symbol] : orderList) {
        operations += 1;
        if (candidate.positionId === positionId) return { order: candidate, operations };
      }
      return { order: undefined, operations };
    };
    // Shuffle the order list so a scan's position in it is not the position id.
    for (let index = orderList.length - 1; index > 0; index -= 1) {
      const other = rng.int(index + 1);
      [orderList[index], orderList[other]] = [orderList[other], orderList[index]];
    }
    for (const order of orderList) ordersBySymbol[positions[order.positionId].symbol].push(order);
    const meter = meterFor();
    let updates = 0;
    for (let tick = 0; tick < ticks; tick += 1) {
      const symbol = rng.int(symbols);
      prices[symbol] += rng.int(5) - 2;
      const price = prices[symbol];
      for (const position of bySymbol[symbol]) {
        if (price <= position.bestTicks) continue;
        position.bestTicks = price;
        meter.begin();
        const found = lookup(position.id);
        found.order!.stopTicks = price - TRAIL_TICKS;
        meter.end(found.operations);
        updates += 1;
      }
    }
    costPerUpdate[count] = lookupTimer
      ? lookupTimer((positionId) => lookup(positionId).order, positions.map((position) => position.id))
      : (updates === 0 ? 0 : meter.perSection());
    wrongStops[count] = positions.filter((position) => orderMap.get(position.id)!.stopTicks !== position.bestTicks - TRAIL_TICKS).length;
    metrics[`stopUpdates${count}`] = updates;
    metrics[`costPerUpdate${count}`] = Math.round(costPerUpdate[count] * 1000) / 1000;
    history.note('runner', 'measured', { positions: count, updates, costPerUpdate: costPerUpdate[count] });
  }
  metrics.costRatio500To45 = Math.round((costPerUpdate[500] / costPerUpdate[45]) * 100) / 100;
  return { history: history.entries, truth: { costPerUpdate, wrongStops }, metrics };
}
