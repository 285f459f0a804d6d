// Worker entry of a redis-loss runner: registers the TypeScript hooks in the worker, then loads the TypeScript runner.
import '../../../bin/register-typescript.mjs';

await import('./runner-worker.ts');
