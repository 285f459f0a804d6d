// Registers the TypeScript module hooks for this thread (the main thread, a worker or a child process), with
// source maps so that stack traces point at the .ts lines.
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./typescript-hooks.mjs', import.meta.url);
