// Proves the catalog writer lock is exclusive: a second holder in the same process is refused (also while the first is still taking it), writers of several processes racing for a stale lock get one holder at a time, the lock file always names its holder, an empty lock counts as held until stale, a dead holder's (or a reused pid's) lock is taken over, a live process's is not, and two concurrent imports into one catalog in one process both land.
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_LOCK_STALE_MS, lockCatalog } from '../adapters/catalog/catalog-lock.ts';
import { importFiles, openCatalog } from '../adapters/catalog/index.ts';
import { isSimError } from '../engine/errors.ts';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-data-lock-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function lockError(dir: string): Promise<string> {
  try {
    const unlock = await lockCatalog(dir);
    await unlock();
  } catch (error) {
    expect(isSimError(error), String(error)).toBe(true);
    return `${(error as { code: string }).code}: ${(error as Error).message}`;
  }
  return 'granted';
}

/** A child process that stays alive until killed, and its pid. */
function sleeper(): { pid: number; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { pid: child.pid!, stop: async () => { child.kill('SIGKILL'); await exited; } };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return child.pid!;
}

const RACER = path.join(path.dirname(new URL(import.meta.url).pathname), 'support', 'lock-racer.mjs');

describe('catalog writer lock', () => {
  it('refuses a second holder in the same process, and is free again once released', async () => {
    const dir = path.join(root, 'twice');
    const unlock = await lockCatalog(dir);
    expect((await fs.readFile(`${dir}.lock`, 'utf8')).split(' ')[0]).toBe(String(process.pid));
    expect(await lockError(dir)).toBe(`DATA_CATALOG_LOCKED: expected no other writer on ${dir}, found this process (${process.pid}) already holding ${dir}.lock`);
    await unlock();
    await expect(fs.stat(`${dir}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await lockError(dir)).toBe('granted');
    expect((await fs.readdir(root)).filter((name) => name.startsWith('twice.'))).toEqual([]);
  });

  it('treats an empty lock file as held until it is stale, then takes it over', async () => {
    const dir = path.join(root, 'empty');
    await fs.writeFile(`${dir}.lock`, '');
    expect(await lockError(dir)).toMatch(/^DATA_CATALOG_LOCKED: expected a writer's pid in .*empty\.lock, found an empty lock \d+ ms old/);
    expect(await fs.readFile(`${dir}.lock`, 'utf8')).toBe('');
    const old = (Date.now() - EMPTY_LOCK_STALE_MS - 1_000) / 1000;
    await fs.utimes(`${dir}.lock`, old, old);
    expect(await lockError(dir)).toBe('granted');
  });

  it('refuses a lock held by a live process and takes over one left by a dead process or by this pid in an earlier life', async () => {
    const dir = path.join(root, 'others');
    const live = sleeper();
    try {
      await fs.writeFile(`${dir}.lock`, String(live.pid));
      expect(await lockError(dir)).toBe(`DATA_CATALOG_LOCKED: expected no other writer on ${dir}, found process ${live.pid} holding ${dir}.lock`);
    } finally {
      await live.stop();
    }
    expect(await lockError(dir)).toBe('granted'); // the holder is dead now
    await fs.writeFile(`${dir}.lock`, `${process.pid} from-an-earlier-process\n`);
    expect(await lockError(dir)).toBe('granted');
  });

  it('lets two concurrent imports into one catalog both land, one after the other', async () => {
    const rows = (day: number): string => Array.from({ length: 50 }, (_, index) => `${1_704_205_800 + day * 86_400 + index * 60},10,11,9,10,5`).join('\n');
    const first = path.join(root, 'A.csv');
    const second = path.join(root, 'B.csv');
    await fs.writeFile(first, `time,open,high,low,close,volume\n${rows(0)}\n`);
    await fs.writeFile(second, `time,open,high,low,close,volume\n${rows(1)}\n`);
    const dir = path.join(root, 'concurrent');
    const results = await Promise.allSettled([
      importFiles({ catalogDir: dir, files: [first], symbol: 'X' }),
      importFiles({ catalogDir: dir, files: [second], symbol: 'X' }),
    ]);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value.datesWritten : String(result.reason)))).toEqual([['2024-01-02'], ['2024-01-03']]);
    const catalog = await openCatalog(dir);
    try {
      expect(catalog.dates('bars')).toEqual(['2024-01-02', '2024-01-03']);
    } finally {
      await catalog.close();
    }
    expect((await fs.readdir(root)).filter((name) => name.startsWith('concurrent.'))).toEqual([]);
  });

  it('gives a stale lock to one of several writers of this process taking it at once', async () => {
    const dir = path.join(root, 'stale-here');
    await fs.writeFile(`${dir}.lock`, `${await deadPid()} stale\n`);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockCatalog(dir)));
    const granted = results.filter((result) => result.status === 'fulfilled');
    expect(granted).toHaveLength(1);
    expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.code)).toEqual(Array(7).fill('DATA_CATALOG_LOCKED'));
    await (granted[0] as PromiseFulfilledResult<() => Promise<void>>).value();
    expect(await lockError(dir)).toBe('granted');
  });

  it('lets writers of several processes racing for a stale lock hold it one at a time', async () => {
    // Before the break lock, a writer that read the stale lock moved a lock taken over meanwhile aside and back,
    // and a third writer took the moment between: two holders at once (about one round in ten of these).
    for (let round = 0; round < 4; round += 1) {
      const dir = path.join(root, `race-${round}`);
      const log = path.join(root, `race-${round}.holds`);
      await fs.writeFile(`${dir}.lock`, `${await deadPid()} stale\n`);
      const startAtMs = Date.now() + 1_500;
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [RACER, dir, String(startAtMs), '200', log], (error, stdout) => (error ? reject(error) : resolve(stdout)));
      })));
      expect(outcomes.filter((outcome) => outcome !== 'granted' && outcome !== 'DATA_CATALOG_LOCKED')).toEqual([]);
      const holds = (await fs.readFile(log, 'utf8')).trim().split('\n').map((line) => line.split(' ').map(Number)).sort((a, b) => a[1] - b[1]);
      expect(holds.length).toBe(outcomes.filter((outcome) => outcome === 'granted').length);
      expect(holds.length).toBeGreaterThanOrEqual(1);
      for (let i = 1; i < holds.length; i += 1) expect(holds[i][1], `round ${round}: hold of ${holds[i][0]} began before ${holds[i - 1][0]} released`).toBeGreaterThanOrEqual(holds[i - 1][2]);
      expect((await fs.readdir(root)).filter((name) => name.startsWith(`race-${round}.lock`))).toEqual([]);
    }
  }, 60_000);

  it('is one lock for two paths to one catalog (a symlink), and a lock that cannot be written is a typed error', async () => {
    const dir = path.join(root, 'real-catalog');
    await fs.mkdir(dir);
    const alias = path.join(root, 'alias-catalog');
    await fs.symlink(dir, alias);
    const unlock = await lockCatalog(dir);
    expect(await lockError(alias)).toBe(`DATA_CATALOG_LOCKED: expected no other writer on ${alias}, found this process (${process.pid}) already holding ${dir}.lock`);
    await unlock();
    expect(await lockError(alias)).toBe('granted');
    // A catalog path under a file: the lock cannot be written, and says so with its code.
    const blocked = path.join(root, 'not-a-folder');
    await fs.writeFile(blocked, '');
    expect(await lockError(path.join(blocked, 'catalog'))).toBe(`DATA_CATALOG_LOCK_FAILED: expected to write the lock ${blocked}/catalog.lock, found ENOTDIR`);
    expect(await lockError(path.join(blocked, 'catalog'))).toMatch(/^DATA_CATALOG_LOCK_FAILED/); // and this process holds nothing
  });
});
