#!/usr/bin/env node
// The `sim` command: registers the TypeScript hooks so that `npx sim` works right after `npm ci`, with no build
// step that could go stale, then runs the CLI.
import './register-typescript.mjs';

const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
