// The history of one scenario run: every operation a component invoked and how it completed (ok, failed, or
// unknown outcome), plus notes about faults and state changes, each stamped with the run's clock (virtual
// microseconds in sim mode, wall microseconds since the run's start in real mode). Checkers read only this
// and the ground truth, so they are pure functions.

export type OperationOutcome = 'ok' | 'failed' | 'unknown';

export interface OperationEntry {
  readonly kind: 'operation';
  readonly id: number;
  readonly process: string;
  readonly operation: string;
  readonly input: unknown;
  readonly invokedUs: number;
  completedUs: number | null;
  outcome: OperationOutcome | null;
  output: unknown;
  error: string | null;
}

export interface NoteEntry {
  readonly kind: 'note';
  readonly id: number;
  readonly process: string;
  readonly event: string;
  readonly data: unknown;
  readonly timeUs: number;
}

export type HistoryEntry = OperationEntry | NoteEntry;

export class History {
  readonly entries: HistoryEntry[] = [];
  private nextId = 1;

  constructor(private readonly nowUs: () => number) {}

  invoke(process: string, operation: string, input: unknown): OperationEntry {
    const entry: OperationEntry = {
      kind: 'operation', id: this.nextId++, process, operation, input, invokedUs: this.nowUs(),
      completedUs: null, outcome: null, output: null, error: null,
    };
    this.entries.push(entry);
    return entry;
  }

  complete(entry: OperationEntry, outcome: OperationOutcome, output: unknown = null, error: string | null = null): void {
    entry.completedUs = this.nowUs();
    entry.outcome = outcome;
    entry.output = output;
    entry.error = error;
  }

  note(process: string, event: string, data: unknown = null): void {
    this.entries.push({ kind: 'note', id: this.nextId++, process, event, data, timeUs: this.nowUs() });
  }

  /** Operations still open at the end of the run get the outcome `unknown`. */
  closeOpenOperations(): void {
    for (const entry of this.entries) {
      if (entry.kind === 'operation' && entry.outcome === null) entry.outcome = 'unknown';
    }
  }
}

/**
 * Entries of one history by kind and name, built once per history (and rebuilt if it grew): checkers and
 * metrics ask for the same few operations many times, and each scan of a trading day's history is long.
 */
interface HistoryIndex {
  readonly length: number;
  readonly operations: Map<string | undefined, OperationEntry[]>;
  readonly notes: Map<string | undefined, NoteEntry[]>;
}

const indexes = new WeakMap<readonly HistoryEntry[], HistoryIndex>();

function indexOf(history: readonly HistoryEntry[]): HistoryIndex {
  const cached = indexes.get(history);
  if (cached !== undefined && cached.length === history.length) return cached;
  const index: HistoryIndex = { length: history.length, operations: new Map([[undefined, []]]), notes: new Map([[undefined, []]]) };
  for (const entry of history) {
    if (entry.kind === 'operation') {
      index.operations.get(undefined)!.push(entry);
      let list = index.operations.get(entry.operation);
      if (list === undefined) index.operations.set(entry.operation, (list = []));
      list.push(entry);
    } else {
      index.notes.get(undefined)!.push(entry);
      let list = index.notes.get(entry.event);
      if (list === undefined) index.notes.set(entry.event, (list = []));
      list.push(entry);
    }
  }
  indexes.set(history, index);
  return index;
}

/** Operations of a history, in order, optionally of one name. The array is shared: do not change it. */
export function operations(history: readonly HistoryEntry[], operation?: string): OperationEntry[] {
  return indexOf(history).operations.get(operation) ?? [];
}

/** Notes of a history, in order, optionally of one event. The array is shared: do not change it. */
export function notes(history: readonly HistoryEntry[], event?: string): NoteEntry[] {
  return indexOf(history).notes.get(event) ?? [];
}

/** Nearest-rank percentile of a list of numbers; 0 for an empty list. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  // A typed array sorts numerically without a comparator call per comparison.
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}
