// Piscina worker entry of a sweep: registers the TypeScript hooks inside the worker thread, then loads the task.
import '../../bin/register-typescript.mjs';

const { runSweepTaskInWorker } = await import('./sweep-task.ts');
export default runSweepTaskInWorker;
