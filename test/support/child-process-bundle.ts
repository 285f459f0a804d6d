// Builds a test child script into one ESM file (esbuild, packages left external) so that each child process
// starts in well under a second instead of compiling TypeScript on every start; and runs it with a bounded wait.
// The bundle lives under node_modules/.cache so its bare imports resolve against the repository's packages.
// mathjs (run summaries only, never reached by a session child) is stubbed: importing it costs ~0.5 s per start.
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function bundleChild(entry: string): Promise<string> {
  const directory = path.join(repository, 'node_modules', '.cache', 'sim-test', String(process.pid));
  mkdirSync(directory, { recursive: true });
  const outfile = path.join(directory, `${path.basename(entry, '.ts')}.mjs`);
  await build({
    entryPoints: [path.join(repository, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, packages: 'external', logLevel: 'warning',
    plugins: [{
      name: 'stub-mathjs',
      setup(builder) {
        builder.onResolve({ filter: /^mathjs(\/number)?$/ }, () => ({ path: 'mathjs', namespace: 'stub' }));
        builder.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export function mean() { throw new Error("mathjs is stubbed in test children"); } export const std = mean;', loader: 'js' }));
      },
    }],
  });
  return outfile;
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node file args` and waits for its exit, killing it (and failing) past `limitMs`. */
export function runChild(file: string, args: readonly string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`expected ${path.basename(file)} to exit within ${limitMs} ms, found it still running; stderr: ${stderr.slice(-2000)}`));
    }, limitMs);
    // 'close', not 'exit': it comes once the pipes have drained too.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningChild {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  signal(signal: NodeJS.Signals): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node file` and returns at once; output accumulates for polling. */
export function startChild(file: string, env: NodeJS.ProcessEnv): RunningChild {
  const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { pid: child.pid!, stdout: () => stdout, stderr: () => stderr, signal: (signal) => { child.kill(signal); }, exited };
}

/** Polls `condition` every 20 ms until it holds, failing with `what` past `limitMs`. */
export async function pollUntil(condition: () => boolean | Promise<boolean>, limitMs: number, what: string): Promise<void> {
  for (let waitedMs = 0; waitedMs <= limitMs; waitedMs += 20) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`expected ${what} within ${limitMs} ms, found it did not happen`);
}

/** The HTTP status of /ready on a runner child that printed `{"health": port}`, or 0 before it listens or when it does not answer. */
export async function readyStatus(runner: RunningChild): Promise<number> {
  const line = runner.stdout().split('\n').find((text) => text.startsWith('{"health"'));
  if (line === undefined) return 0;
  const { health } = JSON.parse(line) as { health: number };
  try {
    return (await fetch(`http://127.0.0.1:${health}/ready`)).status;
  } catch {
    return 0;
  }
}
