// The lock-contention scenario: several components sharing one DuckDB file (the incident: "Could not set
// lock on file" and lost ticks), with the unfixed code, the incident's retry fix and a single writer.
import { US_PER_MINUTE } from '../../engine/types.ts';
import type { Scenario } from '../framework/scenario.ts';
import { lockInvariants } from './invariants.ts';
import { LOCK_FAULT_KINDS, lockFaultSchedule, runLockContentionSim } from './simulated-lock-run.ts';
import type { LockTruth } from './workload.ts';

const TRADING_DAY_US = 390 * US_PER_MINUTE;

export const lockContentionScenario: Scenario<LockTruth> = {
  name: 'lock-contention',
  describe: 'ingestor, aggregator, backfill and readers sharing one DuckDB file',
  variants: [
    { name: 'naive', role: 'unfixed', describe: 'each component opens the database file itself for each access' },
    { name: 'retry', role: 'fix', describe: 'the incident fix: up to 3 retries after 0.1/0.2/0.3 s around each access' },
    { name: 'single-writer', role: 'robust-fix', describe: 'one owner holds the file; the others send reads and writes through it' },
  ],
  modes: ['sim', 'real'],
  optionSpecs: [
    { name: 'layout', describe: 'processes (one OS process per component), threads (worker threads in one process) or event-loop (async tasks in one thread)', defaultValue: 'processes', choices: ['processes', 'threads', 'event-loop'] },
    { name: 'load', describe: 'load factor: backfill length and number of dashboards scale with it', defaultValue: 1, range: [0.1, 10] },
    // 0.5 keeps real DuckDB's open+write+close (30-50 ms on a small file) well inside the compressed tick
    // period (250 ms); much more compression overloads the file and measures the machine, not the fix.
    { name: 'time-scale', describe: 'real mode: wall seconds per scenario second (intervals are compressed by it)', defaultValue: 0.5, range: [0.01, 10] },
  ],
  faultKinds: LOCK_FAULT_KINDS,
  // Real mode injects no faults: the contention of the workload itself is the fault.
  faultModes: ['sim'],
  durationModes: ['sim', 'real'],
  durationUs(mode, short) {
    // Real: candles of the last two minutes may still be open at the end (closedMinuteMax), so the short run
    // lasts 4 minutes of scenario time to leave 3 closed minutes for the candle invariants to check.
    if (mode === 'real') return short ? 4 * US_PER_MINUTE : 6 * US_PER_MINUTE;
    return short ? 30 * US_PER_MINUTE : TRADING_DAY_US;
  },
  faultSchedule(rng, durationUs, mode, options) {
    // Real mode has no injected faults: the contention of the workload itself is the fault.
    if (mode === 'real') return [];
    return lockFaultSchedule(rng, durationUs, Number(options.load));
  },
  runSim: runLockContentionSim,
  async runReal(context) {
    const { runLockContentionReal } = await import('../../adapters/chaos/lock-contention/real-lock-run.ts');
    return runLockContentionReal(context);
  },
  invariants: lockInvariants,
};
