// Placeholder until this command group lands; it refuses with a clear message.
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';

export const replayCommand: CommandModule = {
  command: 'replay',
  describe: 'replay (not built yet)',
  handler: () => {
    throw new SimError('NOT_BUILT', 'expected a built "replay" command, found a placeholder');
  },
};
