// Proves the catalog summary counts rows per symbol and reports session gaps against NYSE's sessions in New York time (missing minutes, bars outside the session, sessions without data), with early closes and holidays from the engine's calendar.
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
      worstDays: [{ date: '2024-03-11', sessionBars: 1, sessionMinutes: 390 }, { date: '2024-03-13', sessionBars: 1, sessionMinutes: 390 }, { date: '2024-03-08', sessionBars: 2, sessionMinutes: 390 }],
      outsideSessionBars: 2,
      missingSessions: ['2024-03-12'],
      holidays: 0,
    });
  } finally {
    await catalog.close();
  }
});

it('counts an early close as a 210-minute session and a holiday as no session', async () => {
  const file = path.join(root, 'HALF.csv');
  // 2024-11-27 is a full session; 2024-11-28 (Thanksgiving) is a holiday; 2024-11-29 closes at 13:00 EST
  // (18:00 UTC); 2024-12-02 has no data. Run under any TZ: the timestamps are read as UTC.
  await fs.writeFile(file, [
    'time,open,high,low,close,volume',
    '2024-11-27T14:30:00Z,10,10,10,10,1',
    '2024-11-28T15:00:00Z,10,10,10,10,1', // a bar on the holiday: outside any session
    '2024-11-29T14:30:00Z,10,10,10,10,1',
    '2024-11-29T17:59:00Z,10,10,10,10,1', // 12:59 New York: the early close's last minute
    '2024-11-29T18:00:00Z,10,10,10,10,1', // 13:00 New York: after the early close
    '2024-12-03T14:30:00Z,10,10,10,10,1',
    '2024-12-04T00:30:00Z,10,10,10,10,1', // 19:30 New York on the 3rd: the next UTC date, no session of the 4th missing
  ].join('\n'));
  await importFiles({ catalogDir: path.join(root, 'half-catalog'), files: [file] });
  const catalog = await openCatalog(path.join(root, 'half-catalog'));
  try {
    const [symbol] = (await describeCatalog(catalog, { gaps: true })).datasets[0].symbols;
    expect(symbol.gaps).toEqual({
      missingSessionMinutes: 389 + 208 + 389,
      daysWithMissingMinutes: 3,
      worstDays: [{ date: '2024-11-27', sessionBars: 1, sessionMinutes: 390 }, { date: '2024-12-03', sessionBars: 1, sessionMinutes: 390 }, { date: '2024-11-29', sessionBars: 2, sessionMinutes: 210 }],
      outsideSessionBars: 3,
      missingSessions: ['2024-12-02'],
      holidays: 1,
    });
  } finally {
    await catalog.close();
  }
});
