// How a lock-contention component reaches the DuckDB file in real mode: directly (open per access, as the
// unfixed code and the retry fix do) or through the single owner of the file over a message channel.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Layout } from '../../../scenarios/lock-contention/workload.ts';

export type AccessMode = 'read-write' | 'read-only';

export interface StorageRequest {
  readonly sql: string;
  readonly mode: AccessMode;
  /** Read statements return their rows; writes return nothing. */
  readonly returnsRows: boolean;
}

export interface Storage {
  execute(request: StorageRequest): Promise<unknown[][]>;
}

export const SCHEMA_SQL = [
  'CREATE TABLE IF NOT EXISTS ticks (id BIGINT, time_us BIGINT, price BIGINT, size BIGINT)',
  'CREATE TABLE IF NOT EXISTS candles (minute BIGINT PRIMARY KEY, open BIGINT, high BIGINT, low BIGINT, close BIGINT, volume BIGINT, tick_count BIGINT)',
];

async function runOn(connection: DuckDBConnection, request: StorageRequest): Promise<unknown[][]> {
  if (!request.returnsRows) {
    await connection.run(request.sql);
    return [];
  }
  const reader = await connection.runAndReadAll(request.sql);
  return reader.getRows() as unknown[][];
}

/**
 * Opens the file for each access and closes it after. Processes open with DuckDBInstance.create (each
 * process its own instance, guarded by the file lock); threads use DuckDBInstance.fromCache, DuckDB's way to
 * share an instance -- but its cache is per thread, so each worker thread still gets its own instance of the
 * file, the per-process file lock does not separate them, and overlapping writers corrupt the WAL ("WAL
 * cannot contain more than one checkpoint marker"), as real mode shows.
 */
export class DirectStorage implements Storage {
  constructor(private readonly path: string, private readonly layout: Layout) {}

  async execute(request: StorageRequest): Promise<unknown[][]> {
    const options: Record<string, string> = request.mode === 'read-only' ? { access_mode: 'READ_ONLY' } : {};
    // Threads and event-loop tasks share instances through DuckDB's per-thread cache, as such code usually does.
    const instance = this.layout === 'processes' ? await DuckDBInstance.create(this.path, options) : await DuckDBInstance.fromCache(this.path, options);
    let connection: DuckDBConnection | null = null;
    try {
      connection = await instance.connect();
      return await runOn(connection, request);
    } finally {
      connection?.closeSync();
      if (this.layout === 'processes') instance.closeSync();
    }
  }
}

/** The owner's side of single-writer: one instance and connection for the run, one statement at a time. */
export class OwnedDatabase {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly instance: DuckDBInstance, private readonly connection: DuckDBConnection) {}

  static async open(path: string): Promise<OwnedDatabase> {
    const instance = await DuckDBInstance.create(path);
    return new OwnedDatabase(instance, await instance.connect());
  }

  execute(request: StorageRequest): Promise<unknown[][]> {
    const result = this.queue.then(() => runOn(this.connection, request));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export interface StorageMessage {
  readonly type: 'storage-request' | 'storage-reply';
  readonly requestId: number;
  readonly request?: StorageRequest;
  readonly rows?: unknown[][];
  readonly error?: string;
}

/** A component's side of single-writer: requests go to the owner over a channel, replies come back. */
export class RemoteStorage implements Storage {
  private nextRequestId = 1;
  private readonly pending = new Map<number, { resolve: (rows: unknown[][]) => void; reject: (error: Error) => void }>();

  constructor(private readonly send: (message: StorageMessage) => void) {}

  onMessage(message: StorageMessage): void {
    if (message.type !== 'storage-reply') return;
    const waiter = this.pending.get(message.requestId);
    if (!waiter) return;
    this.pending.delete(message.requestId);
    if (message.error !== undefined) waiter.reject(new Error(message.error)); else waiter.resolve(message.rows ?? []);
  }

  execute(request: StorageRequest): Promise<unknown[][]> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.send({ type: 'storage-request', requestId, request });
    });
  }
}
