// Placeholder until this command group lands; it refuses with a clear message.
import type { CommandModule } from 'yargs';
import { SimError } from '../../engine/errors.ts';

export const tapeCommand: CommandModule = {
  command: 'tape',
  describe: 'tape (not built yet)',
  handler: () => {
    throw new SimError('NOT_BUILT', 'expected a built "tape" command, found a placeholder');
  },
};
