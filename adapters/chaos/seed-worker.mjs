// Piscina worker entry: registers the TypeScript hooks inside the worker thread so the TypeScript task module can load.
import '../../bin/register-typescript.mjs';

const { runSeedBatch } = await import('./seed-task.ts');
export default runSeedBatch;
