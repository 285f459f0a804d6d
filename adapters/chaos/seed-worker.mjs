// Piscina worker entry: registers tsx inside the worker thread so the TypeScript task module can load.
import { register } from 'tsx/esm/api';

register();
const { runSeedBatch } = await import('./seed-task.ts');
export default runSeedBatch;
