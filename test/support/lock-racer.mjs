// A writer racing for a catalog's lock (test/data-lock.test.ts): waits for a shared start time, takes the lock,
// appends its hold interval to a shared file, holds the lock a while and releases it. Prints 'granted' or the
// refusal's code.
import '../../bin/register-typescript.mjs';
import { appendFileSync } from 'node:fs';

const [dir, startAtMs, holdMs, log] = process.argv.slice(2);
const { lockCatalog } = await import('../../adapters/catalog/catalog-lock.ts');
while (Date.now() < Number(startAtMs)) { /* spin to the shared start */ }
try {
  const unlock = await lockCatalog(dir);
  const from = performance.timeOrigin + performance.now();
  await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
  const to = performance.timeOrigin + performance.now();
  appendFileSync(log, `${process.pid} ${from} ${to}\n`);
  await unlock();
  process.stdout.write('granted');
} catch (error) {
  process.stdout.write(error.code ?? String(error));
}
