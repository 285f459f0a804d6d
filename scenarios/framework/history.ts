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

export function operations(history: readonly HistoryEntry[], operation?: string): OperationEntry[] {
  const found: OperationEntry[] = [];
  for (const entry of history) {
    if (entry.kind === 'operation' && (operation === undefined || entry.operation === operation)) found.push(entry);
  }
  return found;
}

export function notes(history: readonly HistoryEntry[], event?: string): NoteEntry[] {
  const found: NoteEntry[] = [];
  for (const entry of history) {
    if (entry.kind === 'note' && (event === undefined || entry.event === event)) found.push(entry);
  }
  return found;
}

/** Nearest-rank percentile of a list of numbers; 0 for an empty list. */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}
