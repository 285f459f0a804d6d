// The strategies shipped with sim, by name.
import { SimError, type StrategyDefinition } from '../engine/index.ts';
import { smaCross } from './sma-cross.ts';
import { orb } from './orb.ts';
import { trendPullback } from './trend-pullback.ts';
import { trailing } from './trailing.ts';

export const STRATEGIES: readonly StrategyDefinition[] = [orb, smaCross, trendPullback, trailing];

export function findStrategy(name: string): StrategyDefinition {
  const found = STRATEGIES.find((definition) => definition.name === name);
  if (!found) throw new SimError('STRATEGY_UNKNOWN', `expected a strategy (${STRATEGIES.map((d) => d.name).join(', ')}), found '${name}'`);
  return found;
}

export { smaCross, orb, trendPullback, trailing };
