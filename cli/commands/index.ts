// Every command group of the CLI, loaded on demand: running one command imports only its module (DuckDB, Arrow,
// the Alpaca SDK and Redis client load only when a command needs them). Help without a command loads them all.
import type { CommandModule } from 'yargs';

type Loader = () => Promise<CommandModule<any, any>>;

export const commandLoaders: Readonly<Record<string, Loader>> = {
  replay: async () => (await import('./replay.ts')).replayCommand,
  sweep: async () => (await import('./sweep.ts')).sweepCommand,
  data: async () => (await import('./data.ts')).dataCommand,
  tape: async () => (await import('./tape.ts')).tapeCommand,
  chaos: async () => (await import('./chaos.ts')).chaosCommand,
  paper: async () => (await import('./runtime.ts')).paperCommand,
  live: async () => (await import('./runtime.ts')).liveCommand,
};

/** The command modules needed for these arguments: the named command, or all of them. */
export async function loadCommands(argv: readonly string[]): Promise<CommandModule<any, any>[]> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const loader = name === undefined ? undefined : commandLoaders[name];
  if (loader) return [await loader()];
  return Promise.all(Object.values(commandLoaders).map((load) => load()));
}
