#!/usr/bin/env node
// `npm run bench -- <suite> [--json]`: runs one benchmark suite from bench/ in this process.
import './register-typescript.mjs';

const { runBench } = await import('../bench/main.ts');
process.exitCode = await runBench(process.argv.slice(2));
