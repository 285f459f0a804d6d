// Proves the catalog summary counts rows per symbol and reports session gaps in New York time (missing minutes, bars outside 09:30-16:00, weekdays without data).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importFiles, openCatalog } from '../adapters/catalog/index.ts';
import { describeCatalog } from '../adapters/catalog/describe-catalog.ts';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sim-data-info-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

it('reports rows, ranges and session gaps across daylight saving', async () => {
  const file = path.join(root, 'GAP.csv');
  // 2024-03-08 is before US daylight saving (session 14:30-21:00 UTC), 2024-03-11 and 2024-03-13 after it
  // (13:30-20:00 UTC); 2024-03-12 is a weekday with no data.
  await fs.writeFile(file, [
    'time,open,high,low,close,volume',
    '2024-03-08T14:29:00Z,10,10,10,10,1', // 09:29 New York: outside
    '2024-03-08T14:30:00Z,10,10,10,10,1',
    '2024-03-08T20:59:00Z,10,10,10,10,1',
    '2024-03-08T21:00:00Z,10,10,10,10,1', // 16:00 New York: outside
    '2024-03-11T13:30:00Z,10,10,10,10,1',
    '2024-03-13T19:59:00Z,10,10,10,10,1',
  ].join('\n'));
  await importFiles({ catalogDir: path.join(root, 'catalog'), files: [file] });
  const catalog = await openCatalog(path.join(root, 'catalog'));
  try {
    const summary = await describeCatalog(catalog, { gaps: true });
    expect(summary.symbols).toEqual(['GAP']);
    const [dataset] = summary.datasets;
    expect([dataset.kind, dataset.interval, dataset.rows, dataset.dates, dataset.firstDate, dataset.lastDate]).toEqual(['bars', '1m', 6, 3, '2024-03-08', '2024-03-13']);
    const [symbol] = dataset.symbols;
    expect(symbol.firstTime).toBe('2024-03-08T14:29:00Z');
    expect(symbol.lastTime).toBe('2024-03-13T19:59:00Z');
    expect(symbol.gaps).toEqual({
      missingSessionMinutes: 388 + 389 + 389,
      daysWithMissingMinutes: 3,
      worstDays: [{ date: '2024-03-11', sessionBars: 1 }, { date: '2024-03-13', sessionBars: 1 }, { date: '2024-03-08', sessionBars: 2 }],
      outsideSessionBars: 2,
      missingWeekdays: ['2024-03-12'],
    });
  } finally {
    await catalog.close();
  }
});
