// The position-scale scenario: the cost of a trailing-stop update must not grow with the number of open
// positions (no scan over all positions per update).
import type { Invariant } from '../framework/scenario.ts';
import type { Scenario } from '../framework/scenario.ts';
import { SYMBOLS, runPositionScale, type CostMeter, type ScaleTruth } from './model.ts';

/** Sim mode: the cost is the number of order records an update touched. */
function operationMeter(): CostMeter {
  let total = 0;
  let sections = 0;
  return { begin: () => undefined, end: (operations) => { total += operations; sections += 1; }, perSection: () => (sections === 0 ? 0 : total / sections) };
}

const invariants: readonly Invariant<ScaleTruth>[] = [
  {
    name: 'update-cost-within-2x',
    describe: 'cost per stop update at 500 positions is within 2x of the cost at 45',
    check: (_history, truth) => ({
      // One comparison, made only when both position counts were measured.
      checked: truth.costPerUpdate[500] > 0 && truth.costPerUpdate[45] > 0 ? 1 : 0,
      violations: truth.costPerUpdate[500] <= 2 * truth.costPerUpdate[45] ? [] : [{
        invariant: 'update-cost-within-2x', message: `cost per update ${truth.costPerUpdate[500].toFixed(2)} at 500 positions vs ${truth.costPerUpdate[45].toFixed(2)} at 45`,
      }],
    }),
  },
  {
    name: 'stops-correct',
    describe: 'every trailing stop equals the best price reached minus the trail',
    check: (_history, truth) => ({
      checked: Object.keys(truth.wrongStops).map(Number).reduce((sum, positions) => sum + positions, 0),
      violations: Object.entries(truth.wrongStops).filter(([, count]) => count > 0).map(([positions, count]) => ({ invariant: 'stops-correct', message: `${count} wrong stops with ${positions} positions` })),
    }),
  },
];

export const positionScaleScenario: Scenario<ScaleTruth> = {
  name: 'position-scale',
  describe: 'trailing-stop updates with 1, 45 and 500 open positions',
  variants: [
    { name: 'scan', role: 'unfixed', describe: 'finds the stop order by scanning the list of all orders' },
    { name: 'by-symbol', role: 'fix', describe: "groups the orders by symbol and scans the position's symbol: cheap while each symbol has a position or two, a scan again when they pile up" },
    { name: 'indexed', role: 'robust-fix', describe: 'finds the stop order in a map by position' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [
    { name: 'ticks', describe: 'ticks per position count', defaultValue: 200_000, range: [1_000, 10_000_000], integer: true },
    { name: 'symbols', describe: 'symbols the positions are spread over (500 positions over 50: ten a symbol)', defaultValue: SYMBOLS, range: [1, 100_000], integer: true },
  ],
  // No faults and no scenario time: the workload is a count of ticks per position count.
  faultKinds: [],
  faultModes: [],
  durationModes: [],
  durationUs: () => 0,
  faultSchedule: () => [],
  runSim: (context) => runPositionScale(context, operationMeter),
  async runReal(context) {
    const { timeLookups } = await import('../../adapters/chaos/wall-time-meter.ts');
    return runPositionScale(context, operationMeter, timeLookups);
  },
  invariants,
};
