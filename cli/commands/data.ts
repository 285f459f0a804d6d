// Placeholder until this command group lands; it refuses with a clear message.
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';

export const dataCommand: CommandModule = {
  command: 'data',
  describe: 'data (not built yet)',
  handler: () => {
    throw new SimError('NOT_BUILT', 'expected a built "data" command, found a placeholder');
  },
};
