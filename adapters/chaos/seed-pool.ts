// Spreads the seeds of a sim-mode run over a piscina pool of worker threads. Batches are merged by seed, so
// the result is the same for any number of workers.
import { Piscina } from 'piscina';
import type { SeedResult, SeedRunRequest } from '../../scenarios/framework/run-scenario.ts';
import { runSeedBatch, type SeedBatch } from './seed-task.ts';

const BATCH_SIZE = 8;

export async function runSeedsInPool(request: Omit<SeedRunRequest, 'seed'>, seeds: readonly number[], workers: number): Promise<SeedResult[]> {
  const batches: SeedBatch[] = [];
  for (let start = 0; start < seeds.length; start += BATCH_SIZE) batches.push({ request, seeds: seeds.slice(start, start + BATCH_SIZE) });
  if (workers <= 1) {
    const results: SeedResult[] = [];
    for (const batch of batches) results.push(...(await runSeedBatch(batch)));
    return results.sort((a, b) => a.seed - b.seed);
  }
  const pool = new Piscina({
    filename: new URL('./seed-worker.mjs', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1_000,
  });
  try {
    const results = await Promise.all(batches.map((batch) => pool.run(batch) as Promise<SeedResult[]>));
    return results.flat().sort((a, b) => a.seed - b.seed);
  } finally {
    await pool.destroy();
  }
}
