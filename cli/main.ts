// The `sim` command line: thin glue from arguments to the engine and adapters. Each command group lives in
// cli/commands/ and exports a yargs CommandModule. Operating errors print one line and exit nonzero; a stack
// trace only with --verbose.
import yargs from 'yargs';
import { isSimError } from '../engine/errors.ts';
import { loadCommands } from './commands/index.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  // A reader that closed the pipe (`sim chaos list | head -1`) has all it wanted: end quietly, not with an EPIPE
  // stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw error;
  });
  let exitCode = 0;
  try {
    let parser = yargs([...argv])
      .scriptName('sim')
      .option('verbose', { type: 'boolean', default: false, describe: 'print stack traces for errors' })
      .strict()
      .demandCommand(1, 'name a command: sim <command> --help')
      .recommendCommands()
      .fail((message, error) => {
        throw error ?? new UsageError(message);
      })
      .help()
      .version(false);
    for (const command of await loadCommands(argv)) parser = parser.command(command as any);
    const parsed = await parser.parseAsync();
    const code = (parsed as { exitCode?: number }).exitCode;
    if (typeof code === 'number') exitCode = code;
    if (typeof process.exitCode === 'number' && process.exitCode !== 0) exitCode = process.exitCode;
  } catch (error) {
    exitCode = reportError(error, verbose);
  }
  return exitCode;
}

export class UsageError extends Error {}

function reportError(error: unknown, verbose: boolean): number {
  if (isSimError(error)) {
    process.stderr.write(`sim: error ${error.code}: ${error.message}\n`);
    if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    return 2;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`sim: ${error.message}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sim: unexpected error: ${message.split('\n')[0]}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 1;
}
