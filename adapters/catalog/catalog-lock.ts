// One writer at a time per catalog: an exclusive lock file `<catalog>.lock` beside the folder, holding the
// writer's pid. A lock left by a process that no longer exists (killed mid-import) is taken over.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SimError } from '../../engine/errors.ts';


function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function lockCatalog(dir: string): Promise<() => Promise<void>> {
  const file = `${path.resolve(dir)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await fs.rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && processExists(holder) && holder !== process.pid) {
        throw new SimError('DATA_CATALOG_LOCKED', `expected no other writer on ${dir}, found process ${holder} holding ${file}`);
      }
      await fs.rm(file, { force: true });
    }
  }
  throw new SimError('DATA_CATALOG_LOCKED', `expected to take the lock ${file}, found it retaken by another writer`);
}
