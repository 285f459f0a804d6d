// Benchmark entry: `npm run bench -- <suite> [--json]`. Each suite is a module in bench/ exporting `run`.
import { SimError, isSimError } from '../engine/errors.ts';

const suites: Record<string, () => Promise<{ run(args: readonly string[]): Promise<unknown> }>> = {
  engine: () => import('./engine.ts'),
  query: () => import('./query.ts'),
};

export async function runBench(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    const load = name ? suites[name] : undefined;
    if (!load) throw new SimError('BENCH_UNKNOWN', `expected a suite (${Object.keys(suites).join(', ')}), found ${name ?? 'none'}`);
    const suite = await load();
    const result = await suite.run(rest);
    if (rest.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`bench: ${isSimError(error) ? `${error.code}: ${error.message}` : String(error)}\n`);
    return 1;
  }
}
