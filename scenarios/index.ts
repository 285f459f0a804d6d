// Every chaos scenario by name: the public face of scenarios/.
import type { Scenario } from './framework/scenario.ts';
import { lockContentionScenario } from './lock-contention/index.ts';
import { redisLossScenario } from './redis-loss/index.ts';
import { ocoCrashScenario } from './oco-crash/index.ts';
import { legacyStateScenario } from './legacy-state/index.ts';
import { staleDataScenario } from './stale-data/index.ts';
import { positionScaleScenario } from './position-scale/index.ts';
import { lostJournalScenario } from './lost-journal/index.ts';

export const scenarios: readonly Scenario<any>[] = [lockContentionScenario, redisLossScenario, ocoCrashScenario, legacyStateScenario, staleDataScenario, positionScaleScenario, lostJournalScenario];

export function findScenario(name: string): Scenario<any> | undefined {
  return scenarios.find((scenario) => scenario.name === name);
}

export type { Scenario } from './framework/scenario.ts';
