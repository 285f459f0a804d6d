// Proves `sim chaos` checks its input: each scenario's options against their allowed values, options of
// another scenario, --faults and --duration-us where a scenario or mode does not use them, the fault schedule
// itself and the seed are refused as SimErrors with a stable code; `chaos list --json` prints JSON; a replay
// command carries the --faults and --duration-us it was given.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isSimError } from '../engine/errors.ts';
import { runChaos } from '../cli/commands/chaos.ts';

type Argv = Parameters<typeof runChaos>[0];

function argv(name: string, extra: Record<string, unknown> = {}): Argv {
  return { name, mode: 'sim', seed: 1, seeds: 1, workers: 1, json: true, short: true, shrink: false, ...extra } as Argv;
}

async function refusal(args: Argv): Promise<{ code: string; message: string }> {
  try {
    await silenced(() => runChaos(args));
  } catch (error) {
    if (isSimError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be refused, found it ran`);
}

async function silenced<T>(run: () => Promise<T>): Promise<{ value: T; output: string }> {
  const written: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { written.push(String(chunk)); return true; }) as typeof process.stdout.write;
  try {
    const value = await run();
    return { value, output: written.join('') };
  } finally {
    process.stdout.write = original;
  }
}

describe('sim chaos refuses options it would ignore', () => {
  it.each([
    [argv('lock-contention', { layout: 'bogus' }), 'BAD_OPTION', /--layout of lock-contention to be one of processes, threads, event-loop, found bogus/],
    [argv('oco-crash', { mode: 'real', crash: 'bogus' }), 'BAD_OPTION', /--crash of oco-crash to be one of process, memory, found bogus/],
    [argv('lock-contention', { load: -1 }), 'BAD_OPTION', /--load of lock-contention between 0.1 and 10, found -1/],
    [argv('position-scale', { ticks: 0 }), 'BAD_OPTION', /--ticks of position-scale between/],
    [argv('position-scale', { ticks: 1500.5 }), 'BAD_OPTION', /--ticks to be an integer/],
    [argv('stale-data', { 'time-scale': 0 }), 'BAD_OPTION', /--time-scale of stale-data between/],
    [argv('stale-data', { load: 5, layout: 'threads', ticks: 3, crash: 'memory' }), 'BAD_OPTION', /^expected options of stale-data \(--time-scale\), found --/],
    [argv('redis-loss', { 'time-scale': 0.5 }), 'BAD_OPTION', /^expected options of redis-loss \(none\), found --time-scale$/],
    [argv('legacy-state', { 'duration-us': 120_000_000 }), 'BAD_OPTION', /no --duration-us: the length of a legacy-state run is fixed/],
    [argv('position-scale', { 'duration-us': 5 }), 'BAD_OPTION', /no --duration-us/],
    [argv('lock-contention', { mode: 'real', faults: '[]' }), 'BAD_OPTION', /lock-contention injects no faults in real mode/],
    [argv('position-scale', { faults: '[]' }), 'BAD_OPTION', /position-scale injects no faults in any mode/],
    [argv('redis-loss', { 'duration-us': -5 }), 'BAD_OPTION', /--duration-us to be an integer from 1/],
    [argv('redis-loss', { seed: Number.NaN }), 'BAD_OPTION', /--seed to be an integer/],
    [argv('redis-loss', { seed: 1.5 }), 'BAD_OPTION', /--seed to be an integer, |--seed to be an integer from 0/],
    [argv('redis-loss', { workers: 0 }), 'BAD_OPTION', /--workers to be an integer from 1/],
  ])('%#: %o is refused', async (args, code, message) => {
    const found = await refusal(args);
    expect(found.code).toBe(code);
    expect(found.message).toMatch(message);
    expect(found.message).not.toContain('\n');
  });
});

describe('sim chaos checks --faults', () => {
  it.each([
    ['{}', /expected --faults to be a JSON array of faults, found \{\}/],
    ['not json', /expected --faults to be a JSON array/],
    ['[1]', /fault 0 to be an object/],
    ['[{"kind":"after-submit"}]', /fault 0 to have atUs an integer >= 0/],
    ['[{"kind":"after-submit","atUs":1000000,"durationUs":-1}]', /fault 0 to have durationUs an integer >= 0/],
    ['[{"kind":"after-submit","atUs":1.5,"durationUs":1}]', /fault 0 to have atUs an integer/],
    ['[{"kind":"bogus","atUs":1,"durationUs":1}]', /fault 0 of oco-crash to have a kind of after-submit, after-entry-fill, after-exit-fill/],
    ['[{"kind":"after-submit","atUs":1,"durationUs":1,"at":3}]', /only kind, atUs, durationUs and target, found at/],
  ])('oco-crash --faults %s is refused as BAD_FAULTS', async (faults, message) => {
    const found = await refusal(argv('oco-crash', { faults }));
    expect(found.code).toBe('BAD_FAULTS');
    expect(found.message).toMatch(message);
  });

  it('a replay command carries the --faults and --duration-us it was given', async () => {
    const faults = '[{"kind":"buffer-values","atUs":20000000,"durationUs":20000000}]';
    const { value, output } = await silenced(() => runChaos(argv('redis-loss', { variant: 'naive', faults, 'duration-us': 200_000_000 })));
    expect(value).toBe(0);
    const report = JSON.parse(output);
    expect(report.variants[0].verdict).toBe('reproduced');
    expect(report.variants[0].replay).toBe(`npx sim chaos redis-loss --mode sim --seed 1 --variant naive --short --faults '${faults}' --duration-us 200000000`);
  });

  it('a shrunk legacy-state replay has no --duration-us (its length is fixed) and is accepted as printed', async () => {
    const { output } = await silenced(() => runChaos(argv('legacy-state', { variant: 'naive', shrink: true })));
    const replay: string = JSON.parse(output).variants[0].shrunk.replay;
    expect(replay).not.toContain('--duration-us');
    const faults = /--faults '([^']*)'/.exec(replay)![1];
    const again = await silenced(() => runChaos(argv('legacy-state', { variant: 'naive', faults })));
    expect(JSON.parse(again.output).variants[0].verdict).toBe('reproduced');
  });
});

describe('sim chaos list', () => {
  it('--json prints one JSON object naming every scenario, its variants, options and fault kinds', async () => {
    const { value, output } = await silenced(() => runChaos(argv('list')));
    expect(value).toBe(0);
    const list = JSON.parse(output);
    expect(list.scenarios.map((scenario: { name: string }) => scenario.name)).toContain('redis-loss');
    const lock = list.scenarios.find((scenario: { name: string }) => scenario.name === 'lock-contention');
    expect(lock.options.find((option: { name: string }) => option.name === 'layout').choices).toEqual(['processes', 'threads', 'event-loop']);
    expect(lock.faultModes).toEqual(['sim']);
  });

  it('through the real CLI: --faults {} exits 2 with one line and no stack trace', () => {
    let stderr = '';
    let status = 0;
    try {
      execFileSync(process.execPath, ['bin/sim.mjs', 'chaos', 'oco-crash', '--faults', '{}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const failure = error as { status: number; stderr: string };
      status = failure.status;
      stderr = failure.stderr;
    }
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('BAD_FAULTS');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
