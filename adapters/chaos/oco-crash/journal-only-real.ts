// Real mode of oco-crash with `--crash memory`: wall-clock timers (compressed) and a real journal file
// (adapters/journal, fsync on every append). A crash drops the runner with everything in memory and closes
// the file descriptor; the restart reopens the journal from disk. The default, `--crash process`, kills a
// real runner process instead (process-real.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../journal/journal.ts';
import type { RunContext, RunRecord } from '../../../scenarios/framework/scenario.ts';
import { runOcoCrash, type JournalPort, type JournalRecord, type OcoTruth } from '../../../scenarios/oco-crash/model.ts';
import { WallClockScheduler } from '../wall-clock-scheduler.ts';

export async function runOcoCrashReal(context: RunContext): Promise<RunRecord<OcoTruth>> {
  const directory = mkdtempSync(join(tmpdir(), 'sim-oco-'));
  const path = join(directory, 'runner.journal');
  const scheduler = new WallClockScheduler(Number(context.options['time-scale']));
  let open: Journal | null = null;
  const openJournal = (): JournalPort => {
    open?.close();
    const journal = Journal.open(path);
    open = journal;
    const records: JournalRecord[] = [...(journal.existingRecords as JournalRecord[])];
    return { append: (record) => { journal.append(record); records.push(record); }, records: () => [...records] };
  };
  try {
    return await runOcoCrash(context, { scheduler, journal: openJournal, reopenJournal: openJournal });
  } finally {
    scheduler.dispose();
    (open as Journal | null)?.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
