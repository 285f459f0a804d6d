// Worker entry of a redis-loss runner: registers tsx in the worker, then loads the TypeScript runner.
import { register } from 'tsx/esm/api';

register();
await import('./runner-worker.ts');
