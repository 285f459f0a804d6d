// Real mode of lock-contention: a real DuckDB file (@duckdb/node-api), components as separate OS processes
// or as worker threads of one process, scenario time compressed by the time scale. The owner of the file
// in single-writer is this coordinating process. The ground truth is read back from the file at the end.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import { SimError } from '../../../engine/errors.ts';
import type { HistoryEntry } from '../../../scenarios/framework/history.ts';
import type { RunContext, RunRecord } from '../../../scenarios/framework/scenario.ts';
import { lockMetrics } from '../../../scenarios/lock-contention/metrics.ts';
import { CANDLE_US, type Candle, type Layout, type LockTruth, type LockVariant, type StoredTick } from '../../../scenarios/lock-contention/workload.ts';
import type { ComponentConfig, ComponentResult } from './component.ts';
import { OwnedDatabase, SCHEMA_SQL, type StorageMessage } from './storage.ts';

const ENTRY = new URL('./component-entry.mjs', import.meta.url);
/** Rows the backfill writes per unit of load: about 0.2 s of lock hold on this machine. */
const BACKFILL_ROWS_PER_LOAD = 1_000_000;
const READY_TIMEOUT_MS = 30_000;
const RUN_SLACK_MS = 30_000;

interface Endpoint {
  send(message: unknown): void;
  onMessage(listener: (message: any) => void): void;
  stop(): void;
}

/** Event-loop layout: the component runs as async tasks in this thread, behind the same message contract. */
async function startInProcess(config: ComponentConfig): Promise<Endpoint> {
  const { Component } = await import('./component.ts');
  const listeners: ((message: any) => void)[] = [];
  // Deliver on a later turn, as a port would, so no listener runs inside the sender's call.
  const deliver = (message: unknown): void => { setImmediate(() => { for (const listener of listeners) listener(message); }); };
  const component = new Component(config, deliver);
  deliver({ type: 'ready' });
  return {
    send: (message: any) => {
      if (message.type === 'start') void component.run(performance.now() + message.delayMs).then((result) => deliver({ type: 'result', result }));
      else component.onMessage(message);
    },
    onMessage: (listener) => { listeners.push(listener); },
    stop: () => {},
  };
}

function startEndpoint(layout: Layout, config: ComponentConfig): Endpoint | Promise<Endpoint> {
  if (layout === 'event-loop') return startInProcess(config);
  if (layout === 'processes') {
    const child: ChildProcess = fork(ENTRY, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return { send: (message) => child.send(message as any), onMessage: (listener) => child.on('message', listener), stop: () => child.kill('SIGKILL') };
  }
  const worker = new Worker(ENTRY, { workerData: config });
  return { send: (message) => worker.postMessage(message), onMessage: (listener) => worker.on('message', listener), stop: () => { void worker.terminate(); } };
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SimError('CHAOS_TIMEOUT', `expected ${what} within ${milliseconds} ms, found none`)), milliseconds);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}

export async function runLockContentionReal(context: RunContext): Promise<RunRecord<LockTruth>> {
  const variant = context.variant as LockVariant;
  const layout = String(context.options.layout) as Layout;
  const load = Number(context.options.load);
  const timeScale = Number(context.options['time-scale']);
  const directory = mkdtempSync(join(tmpdir(), 'sim-lock-'));
  const path = join(directory, 'market.duckdb');
  const setup = await DuckDBInstance.create(path);
  const setupConnection = await setup.connect();
  for (const sql of SCHEMA_SQL) await setupConnection.run(sql);
  setupConnection.closeSync();
  setup.closeSync();

  const owner = variant === 'single-writer' ? await OwnedDatabase.open(path) : null;
  const base = { variant, layout, path, seed: context.seed, timeScale, durationUs: context.durationUs, backfillRows: Math.round(BACKFILL_ROWS_PER_LOAD * load) };
  const configs: ComponentConfig[] = [
    { ...base, role: 'backfill', name: 'backfill' },
    { ...base, role: 'ingestor', name: 'ingestor' },
    { ...base, role: 'aggregator', name: 'aggregator' },
    { ...base, role: 'strategy', name: 'strategy' },
  ];
  for (let index = 0; index < Math.max(1, Math.round(load)); index += 1) configs.push({ ...base, role: 'dashboard', name: `dashboard-${index + 1}` });

  const endpoints: Endpoint[] = [];
  const results: ComponentResult[] = [];
  try {
    const ready: Promise<void>[] = [];
    const done: Promise<void>[] = [];
    for (const config of configs) {
      const endpoint = await startEndpoint(layout, config);
      endpoints.push(endpoint);
      ready.push(new Promise((resolve) => endpoint.onMessage((message) => { if (message.type === 'ready') resolve(); })));
      done.push(new Promise((resolve) => endpoint.onMessage((message) => { if (message.type === 'result') { results.push(message.result); resolve(); } })));
      endpoint.onMessage((message: StorageMessage) => {
        if (message.type !== 'storage-request' || !owner) return;
        owner.execute(message.request!).then(
          (rows) => endpoint.send({ type: 'storage-reply', requestId: message.requestId, rows: rows.map((row) => row.map((cell) => (typeof cell === 'bigint' ? Number(cell) : cell))) }),
          (error: Error) => endpoint.send({ type: 'storage-reply', requestId: message.requestId, error: error.message }),
        );
      });
    }
    await withTimeout(Promise.all(ready), READY_TIMEOUT_MS, 'every component ready');
    for (const endpoint of endpoints) endpoint.send({ type: 'start', delayMs: 200 });
    await withTimeout(Promise.all(done), (context.durationUs / 1000) * timeScale + RUN_SLACK_MS, 'every component to finish');
  } finally {
    for (const endpoint of endpoints) endpoint.stop();
    owner?.close();
  }

  // Ground truth from the file itself. A file that cannot be opened any more lost everything in it.
  const errorMessages: Record<string, number> = {};
  let tickRows: unknown[][] = [];
  let candleRows: unknown[][] = [];
  let fileCorrupted = 0;
  try {
    const reader = await DuckDBInstance.create(path);
    const connection = await reader.connect();
    tickRows = (await connection.runAndReadAll('SELECT id, time_us, price, size FROM ticks WHERE id > 0 ORDER BY id')).getRows();
    candleRows = (await connection.runAndReadAll('SELECT * FROM candles ORDER BY minute')).getRows();
    connection.closeSync();
    reader.closeSync();
  } catch (error) {
    fileCorrupted = 1;
    errorMessages[`final read: ${(error as Error).message.split('\n')[0].replace(/"[^"]*\.duckdb(\.wal)?"/, '"<file>"')}`] = 1;
  }
  rmSync(directory, { recursive: true, force: true });

  const storedTicks: StoredTick[] = tickRows.map((row) => ({ id: Number(row[0]), timeUs: Number(row[1]), priceTicks: Number(row[2]), sizeLots: Number(row[3]) }));
  const candles: Candle[] = candleRows.map((row) => ({
    minute: Number(row[0]), open: Number(row[1]), high: Number(row[2]), low: Number(row[3]), close: Number(row[4]), volume: Number(row[5]), tickCount: Number(row[6]),
  }));
  const entries: HistoryEntry[] = [];
  for (const result of results) {
    entries.push(...result.entries);
    for (const [message, count] of Object.entries(result.errors)) errorMessages[message] = (errorMessages[message] ?? 0) + count;
  }
  // One history ordered by time; ids renumbered so they are unique across components.
  const timeOf = (entry: HistoryEntry) => (entry.kind === 'operation' ? entry.invokedUs : entry.timeUs);
  entries.sort((a, b) => timeOf(a) - timeOf(b));
  const history = entries.map((entry, index) => ({ ...entry, id: index + 1 }));
  const truth: LockTruth = { storedTicks, candles, closedMinuteMax: Math.floor(context.durationUs / CANDLE_US) - 2, errorMessages };
  return { history, truth, metrics: { ...lockMetrics(history, truth, context.durationUs), fileCorrupted }, details: { errorMessages } };
}
