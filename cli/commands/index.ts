// Every command group of the CLI. Each file owns one group.
import type { CommandModule } from 'yargs';
import { replayCommand } from './replay.ts';
import { dataCommand } from './data.ts';
import { tapeCommand } from './tape.ts';
import { chaosCommand } from './chaos.ts';
import { paperCommand, liveCommand } from './runtime.ts';

export const commands: readonly CommandModule<any, any>[] = [replayCommand, dataCommand, tapeCommand, chaosCommand, paperCommand, liveCommand];
