// The code version recorded in a run's manifest: the package version plus a sha256 over the sources that can
// change a result (engine/ and strategies/, tests excluded), so two runs with equal digests of inputs and code
// are comparable even outside a git checkout.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let cached: Promise<string> | undefined;

async function listSources(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listSources(full)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(full);
  }
  return files;
}

export function codeVersion(): Promise<string> {
  cached ??= (async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const files = [...(await listSources(path.join(ROOT, 'engine'))), ...(await listSources(path.join(ROOT, 'strategies')))]
      .map((file) => path.relative(ROOT, file).split(path.sep).join('/'))
      .sort();
    const hash = createHash('sha256');
    for (const file of files) hash.update(file).update('\0').update(await fs.readFile(path.join(ROOT, file))).update('\0');
    return `${pkg.version}+${hash.digest('hex').slice(0, 12)}`;
  })();
  return cached;
}
