// Proves the journal survives a real crash: a child process appending fsync'd records is SIGKILLed mid-stream, and reopening keeps every complete record in order and cuts any torn tail.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Journal } from '../adapters/journal/index.ts';

const directory = mkdtempSync(join(tmpdir(), 'sim-journal-crash-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('Journal under SIGKILL', () => {
  it('keeps every complete record, in order, when the writer is killed mid-append', async () => {
    const journalPath = join(directory, 'crash.journal');
    const writerPath = join(directory, 'writer.mts');
    const journalModule = resolve('adapters/journal/index.ts');
    // Records of varying size so a kill can land anywhere inside a frame; batched durability makes the
    // writer fast enough that the kill usually lands mid-write.
    writeFileSync(writerPath, `
      import { Journal } from ${JSON.stringify(journalModule)};
      const journal = Journal.open(${JSON.stringify(journalPath)}, { durability: 'batched', batchRecordsMax: 16 });
      for (let index = 0; index < 10_000_000; index += 1) journal.append({ index, padding: 'x'.repeat(index % 997) });
    `);
    const child = spawn(process.execPath, ['--import', './bin/register-typescript.mjs', writerPath], { stdio: 'ignore', cwd: resolve('.') });
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    let sizeBytes = 0;
    for (let poll = 0; poll < 1_000 && sizeBytes < 2_000_000; poll += 1) {
      await new Promise((resolveWait) => setTimeout(resolveWait, 10));
      try { sizeBytes = statSync(journalPath).size; } catch { sizeBytes = 0; }
    }
    child.kill('SIGKILL');
    await exited;
    expect(sizeBytes).toBeGreaterThanOrEqual(2_000_000);
    const journal = Journal.open(journalPath);
    const records = journal.existingRecords as Array<{ index: number }>;
    expect(records.length).toBeGreaterThan(100);
    records.forEach((record, position) => expect(record.index).toBe(position));
    journal.append({ index: records.length });
    journal.close();
    const reread = Journal.readAll<{ index: number }>(journalPath);
    expect(reread.tornTailBytes).toBe(0);
    expect(reread.records.at(-1)!.index).toBe(records.length);
  });
});
