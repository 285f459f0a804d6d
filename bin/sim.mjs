#!/usr/bin/env node
// The `sim` command: loads the TypeScript CLI through tsx's loader so that `npx sim` works right after
// `npm ci`, with no build step that could go stale.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
