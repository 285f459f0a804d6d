// Placeholder until paper and live trading land; both refuse with a clear message.
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';

export const paperCommand: CommandModule = {
  command: 'paper',
  describe: 'paper trading (not built yet)',
  handler: () => { throw new SimError('NOT_BUILT', 'expected a built "paper" command, found a placeholder'); },
};
export const liveCommand: CommandModule = {
  command: 'live',
  describe: 'live trading (not built yet)',
  handler: () => { throw new SimError('NOT_BUILT', 'expected a built "live" command, found a placeholder'); },
};
