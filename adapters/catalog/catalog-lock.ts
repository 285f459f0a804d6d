// One writer at a time per catalog: an exclusive lock file `<catalog>.lock` beside the folder, holding the
// writer's pid and a token of this hold. The file is created atomically with its content already in it (a
// temporary file, fsynced, then hard-linked into place, which fails if the lock exists), so no reader ever
// sees a lock without its holder. A lock whose holder no longer exists (killed mid-import), or that names this
// process's pid but that this process does not hold (a pid reused after a restart), is taken over (removed under
// a second lock, `<catalog>.lock.break`, so that writers racing for it get one holder at a time); an empty or
// unreadable lock (an older writer killed between creating and writing it) counts as held until it is
// EMPTY_LOCK_STALE_MS old. Within one process a second lockCatalog on a held catalog is refused; withCatalogLock
// queues writers of one process instead, one after the other.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { SimError } from '../../engine/errors.ts';
import { fsyncPath } from './manifest.ts';

/** An empty lock file older than this is a writer that died between creating and writing it. */
export const EMPTY_LOCK_STALE_MS = 10_000;
/** A break lock older than this is a writer that died while removing a stale lock (which takes milliseconds). */
export const BREAK_LOCK_STALE_MS = 10_000;
/** How long a writer waits for another one breaking a stale lock before it reads the lock again. */
const BREAK_WAIT_MS = 20;

/** Lock files this process holds (resolved paths) and the exact text written in each. */
const heldHere = new Map<string, string>();
/** Per catalog, the tail of the queue of this process's writers (see withCatalogLock). */
const queues = new Map<string, Promise<void>>();
let sequence = 0;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** Creates `file` holding `text`, atomically; false when it already exists. */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const temporary = `${file}.tmp-${process.pid}-${++sequence}`;
  const handle = await fs.open(temporary, 'wx').catch((error: unknown) => {
    throw new SimError('DATA_CATALOG_LOCK_FAILED', `expected to write the lock ${file}, found ${errorCode(error)}`);
  });
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temporary, file);
    await fsyncPath(path.dirname(file));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SimError('DATA_CATALOG_LOCK_FAILED', `expected to create the lock ${file}, found ${errorCode(error)}`);
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

/**
 * Removes a stale lock whose text was `staleText`, serialized by a second lock, `<lock>.break`: only its holder
 * removes, and only after reading the stale text again under it. Without it, a writer that read the stale text
 * could remove the lock another writer had just taken over (moving a lock aside and putting it back left a
 * moment without one, in which a third writer took it: two holders). A lock is created only where none is and
 * removed only by its holder or under the break lock, so between that read and the removal it cannot change.
 * A break lock left by a writer killed while breaking is itself removed once BREAK_LOCK_STALE_MS old.
 */
async function removeStale(file: string, staleText: string): Promise<void> {
  const breakFile = `${file}.break`;
  const breakText = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  if (!(await createExclusive(breakFile, breakText))) {
    // Another writer is breaking the lock (the caller reads the lock again), or one died breaking it: a break
    // lock is taken over only when its writer is gone (a live one may only be slow) and it is old.
    const holding = await fs.readFile(breakFile, 'utf8').catch(() => '');
    const breaker = Number(holding.trim().split(/\s+/)[0]);
    const ageMs = await fs.stat(breakFile).then((stat) => Date.now() - stat.mtimeMs, () => 0);
    const gone = !(Number.isInteger(breaker) && breaker > 0) || (breaker !== process.pid && !processExists(breaker));
    if (gone && ageMs > BREAK_LOCK_STALE_MS && (await fs.readFile(breakFile, 'utf8').catch(() => '')) === holding) await fs.rm(breakFile, { force: true });
    else await delay(BREAK_WAIT_MS);
    return;
  }
  try {
    const current = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (current === staleText) {
      await fs.rm(file, { force: true });
      await fsyncPath(path.dirname(file));
    }
  } finally {
    // Only this writer's own break lock.
    if ((await fs.readFile(breakFile, 'utf8').catch(() => '')) === breakText) await fs.rm(breakFile, { force: true });
  }
}

async function removeIfOurs(file: string, text: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (current === text) await fs.rm(file, { force: true });
}

/** Removes this process's leftovers beside the lock (temporary files of a writer killed mid-acquire). */
async function removeDeadTemporaries(file: string): Promise<void> {
  const prefix = `${path.basename(file)}.`;
  for (const entry of await fs.readdir(path.dirname(file)).catch(() => [] as string[])) {
    const match = entry.startsWith(prefix) ? /^(?:break\.)?(?:tmp|stale)-(\d+)-\d+$/.exec(entry.slice(prefix.length)) : null;
    if (match && Number(match[1]) !== process.pid && !processExists(Number(match[1]))) await fs.rm(path.join(path.dirname(file), entry), { force: true });
  }
}

/**
 * The lock file of a catalog, through the real path of its parent folder: two paths to one catalog (a symlink,
 * `a/../b`) name one lock, and one process's writers queue on it.
 */
function lockFileOf(dir: string): string {
  const resolved = path.resolve(dir);
  const real = (at: string): string => {
    try {
      return realpathSync(at);
    } catch {
      return at; // not there yet (a new catalog)
    }
  };
  // A symlinked catalog folder itself is followed too.
  return `${real(path.join(real(path.dirname(resolved)), path.basename(resolved)))}.lock`;
}

/** Takes the writer lock of the catalog at `dir`, or throws DATA_CATALOG_LOCKED; returns the release. */
export async function lockCatalog(dir: string): Promise<() => Promise<void>> {
  const file = lockFileOf(dir);
  if (heldHere.has(file)) {
    throw new SimError('DATA_CATALOG_LOCKED', `expected no other writer on ${dir}, found this process (${process.pid}) already holding ${file}`);
  }
  const text = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  // Marked before the lock exists: a concurrent lockCatalog of this process is refused above, instead of reading
  // this pid in the new lock as a pid reused from an earlier life and taking it over.
  heldHere.set(file, text);
  try {
    return await acquire(dir, file, text);
  } catch (error) {
    heldHere.delete(file);
    throw error;
  }
}

async function acquire(dir: string, file: string, text: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let created: boolean;
    try {
      created = await createExclusive(file, text);
    } catch (error) {
      // The link may have been made before what failed (the folder's fsync): the lock is not left behind.
      await removeIfOurs(file, text);
      throw error;
    }
    if (created) {
      try {
        await removeDeadTemporaries(file);
      } catch (error) {
        await removeIfOurs(file, text);
        throw error;
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        // Remove the lock only while it is still ours; this process's mark goes after it.
        await removeIfOurs(file, text);
        heldHere.delete(file);
      };
    }
    let current: string;
    let ageMs: number;
    try {
      current = await fs.readFile(file, 'utf8');
      ageMs = Date.now() - (await fs.stat(file)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw new SimError('DATA_CATALOG_LOCK_FAILED', `expected a readable lock ${file}, found ${errorCode(error)}`);
    }
    const holder = Number(current.trim().split(/\s+/)[0]);
    if (!(Number.isInteger(holder) && holder > 0)) {
      if (ageMs < EMPTY_LOCK_STALE_MS) {
        throw new SimError('DATA_CATALOG_LOCKED', `expected a writer's pid in ${file}, found ${current.trim() === '' ? 'an empty lock' : JSON.stringify(current.slice(0, 40))} ${Math.round(ageMs)} ms old (taken over once ${EMPTY_LOCK_STALE_MS} ms old)`);
      }
    } else if (holder !== process.pid && processExists(holder)) {
      throw new SimError('DATA_CATALOG_LOCKED', `expected no other writer on ${dir}, found process ${holder} holding ${file}`);
    }
    // The holder is gone (or the pid is this process's, reused, and this process does not hold the lock).
    await removeStale(file, current);
  }
  throw new SimError('DATA_CATALOG_LOCKED', `expected to take the lock ${file}, found it retaken by another writer`);
}

/**
 * Runs `work` holding the writer lock of the catalog at `dir`. Writers of this process queue for the catalog
 * (one after the other, in call order); a writer in another process makes it throw DATA_CATALOG_LOCKED.
 */
export async function withCatalogLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const key = lockFileOf(dir);
  const previous = queues.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => { done = resolve; });
  const tail = previous.then(() => mine);
  queues.set(key, tail);
  await previous;
  try {
    const unlock = await lockCatalog(dir);
    try {
      return await work();
    } finally {
      await unlock();
    }
  } finally {
    done();
    if (queues.get(key) === tail) queues.delete(key);
  }
}
