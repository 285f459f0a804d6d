// Real mode of legacy-state: the state lives in a real file, written atomically (temp file, fsync, rename)
// by the production writer and read back from disk before the session; bars run on compressed wall time.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeStateAtomic } from '../journal/state-file.ts';
import type { RunContext, RunRecord } from '../../scenarios/framework/scenario.ts';
import { runLegacyState, type LegacyTruth } from '../../scenarios/legacy-state/model.ts';
import { WallClockScheduler } from './wall-clock-scheduler.ts';

export async function runLegacyStateReal(context: RunContext): Promise<RunRecord<LegacyTruth>> {
  const directory = mkdtempSync(join(tmpdir(), 'sim-legacy-'));
  const path = join(directory, 'state.json');
  const scheduler = new WallClockScheduler(Number(context.options['time-scale']));
  try {
    return await runLegacyState(context, scheduler, { read: () => readFileSync(path, 'utf8'), write: (state) => writeStateAtomic(path, state) });
  } finally {
    scheduler.dispose();
    rmSync(directory, { recursive: true, force: true });
  }
}
