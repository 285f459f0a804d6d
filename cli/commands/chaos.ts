// Placeholder until this command group lands; it refuses with a clear message.
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';

export const chaosCommand: CommandModule = {
  command: 'chaos',
  describe: 'chaos (not built yet)',
  handler: () => {
    throw new SimError('NOT_BUILT', 'expected a built "chaos" command, found a placeholder');
  },
};
