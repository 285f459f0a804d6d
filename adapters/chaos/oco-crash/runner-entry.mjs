// Process entry of one oco-crash runner life: registers the TypeScript hooks, then runs the TypeScript runner.
import '../../../bin/register-typescript.mjs';

const { runRunnerProcess } = await import('./runner-process.ts');
runRunnerProcess(JSON.parse(process.argv[2]));
