// The piscina task that runs a batch of seeds of one scenario in sim mode and returns their results.
import { findScenario } from '../../scenarios/index.ts';
import { runSeedSim, type SeedResult, type SeedRunRequest } from '../../scenarios/framework/run-scenario.ts';
import { SimError } from '../../engine/errors.ts';

export interface SeedBatch {
  readonly request: Omit<SeedRunRequest, 'seed'>;
  readonly seeds: readonly number[];
}

export async function runSeedBatch(batch: SeedBatch): Promise<SeedResult[]> {
  const scenario = findScenario(batch.request.scenario);
  if (!scenario) throw new SimError('UNKNOWN_SCENARIO', `expected a known scenario, found "${batch.request.scenario}"`);
  const results: SeedResult[] = [];
  for (const seed of batch.seeds) results.push(await runSeedSim(scenario, { ...batch.request, seed }));
  return results;
}
