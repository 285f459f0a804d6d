// Process entry of one oco-crash runner life: registers tsx, then runs the TypeScript runner.
import { register } from 'tsx/esm/api';

register();
const { runRunnerProcess } = await import('./runner-process.ts');
runRunnerProcess(JSON.parse(process.argv[2]));
