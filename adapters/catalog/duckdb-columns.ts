// DuckDB glue shared by the catalog: opening an in-memory database, reading result chunks straight into typed
// arrays (no row objects, no bigint), and bulk-appending typed arrays through data chunks.
import {
  DuckDBInstance, DuckDBDataChunk, DuckDBDoubleType, DuckDBIntegerType, DuckDBVarCharType,
  type DuckDBConnection, type DuckDBType, type DuckDBVector,
} from '@duckdb/node-api';

export interface DuckDBSession {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  close(): void;
}

export async function openDuckDB(threads = 2): Promise<DuckDBSession> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** SQL list of string literals: ['a', 'b']. */
export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/**
 * The chunk vector's backing numbers. The node API keeps them in a private typed array view over DuckDB's
 * memory; reading it directly copies a whole column with one `set` instead of one call per value, which is
 * what keeps the query path within reach of DuckDB alone. NULLs are written as NaN by the caller's SQL
 * (coalesce), so the validity mask is not needed here; the fallback goes value by value.
 */
function vectorNumbers(vector: DuckDBVector): Float64Array | Int32Array | undefined {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof Float64Array || items instanceof Int32Array) return items;
  return undefined;
}

/** Copies one numeric column of a chunk into `target` at `offset`. NULL becomes NaN (or 0 in an Int32Array). */
export function copyNumberColumn(chunk: DuckDBDataChunk, columnIndex: number, target: Float64Array | Int32Array, offset: number): void {
  const vector = chunk.getColumnVector(columnIndex);
  const rowCount = chunk.rowCount;
  const items = vectorNumbers(vector);
  if (items !== undefined && items.length >= rowCount) {
    target.set(items.length === rowCount ? items : items.subarray(0, rowCount), offset);
    return;
  }
  for (let index = 0; index < rowCount; index++) {
    const value = vector.getItem(index);
    target[offset + index] = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number.NaN;
  }
}

export type AppendColumn =
  | { readonly type: 'DOUBLE'; readonly values: Float64Array }
  | { readonly type: 'INTEGER'; readonly values: Int32Array }
  | { readonly type: 'VARCHAR'; readonly values: readonly (string | null)[] };

const VECTOR_SIZE = 2048;

/** Appends columns of equal length to an existing table whose columns have exactly these types, in order. */
export async function appendColumns(connection: DuckDBConnection, table: string, columns: readonly AppendColumn[], length: number): Promise<void> {
  const appender = await connection.createAppender(table);
  const types: DuckDBType[] = columns.map((column) =>
    column.type === 'DOUBLE' ? DuckDBDoubleType.instance : column.type === 'INTEGER' ? DuckDBIntegerType.instance : DuckDBVarCharType.instance);
  try {
    for (let start = 0; start < length; start += VECTOR_SIZE) {
      const count = Math.min(VECTOR_SIZE, length - start);
      const chunk = DuckDBDataChunk.create(types, count);
      for (let columnIndex = 0; columnIndex < columns.length; columnIndex++) {
        const column = columns[columnIndex];
        const vector = chunk.getColumnVector(columnIndex);
        if (column.type === 'VARCHAR') {
          for (let index = 0; index < count; index++) vector.setItem(index, column.values[start + index] as never);
        } else {
          const values = column.values;
          const items = vectorNumbers(vector);
          let hasNaN = false;
          if (column.type === 'DOUBLE') for (let index = 0; index < count && !hasNaN; index++) hasNaN = Number.isNaN(values[start + index]);
          if (items !== undefined && !hasNaN && items.length === count && items.constructor === values.constructor) {
            // Whole-vector copy into the chunk's own memory (see vectorNumbers); all values valid.
            items.set(values.subarray(start, start + count));
          } else {
            for (let index = 0; index < count; index++) {
              const value = values[start + index];
              vector.setItem(index, (Number.isNaN(value) ? null : value) as never);
            }
          }
        }
        vector.flush();
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
