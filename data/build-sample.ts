// Rebuilds the bundled sample catalog data/catalog from the six real 1-minute CSV files, through the same
// import code as `sim data import`. Run: npx tsx data/build-sample.ts [SOURCE_DIR]
// (SOURCE_DIR defaults to /work/shared/data/real/stocks-1m-2024).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFiles } from '../adapters/catalog/import-files.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.resolve(process.argv[2] ?? '/work/shared/data/real/stocks-1m-2024');
const target = path.join(here, 'catalog');
const files = (await fs.readdir(source)).filter((name) => name.endsWith('.csv')).sort().map((name) => path.join(source, name));
const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-sample-'));
const report = await importFiles({ catalogDir: staging, files });
for (const entry of ['bars', 'ticks', 'manifest.json']) await fs.rm(path.join(target, entry), { recursive: true, force: true });
await fs.mkdir(target, { recursive: true });
await fs.cp(path.join(staging, 'bars'), path.join(target, 'bars'), { recursive: true });
await fs.copyFile(path.join(staging, 'manifest.json'), path.join(target, 'manifest.json'));
await fs.copyFile(path.join(source, 'LICENSE'), path.join(target, 'LICENSE'));
await fs.rm(staging, { recursive: true, force: true });
process.stdout.write(`${files.length} files, ${report.rowsAfter} bars, ${report.datesWritten.length} dates -> ${target}\n`);
