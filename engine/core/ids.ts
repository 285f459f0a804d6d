// Deterministic ids: `${prefix}-${n}` with n counting from 1 per prefix. Client order ids are built from
// (run, strategy, sequence) so a restarted runner regenerates the same ids for the same intents.
import type { IdSource } from '../types.ts';

export class SequentialIdSource implements IdSource {
  private readonly counters = new Map<string, number>();

  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}-${n}`;
  }

  /** Continue a sequence after a restart: the next id of `prefix` will be n + 1. */
  advanceTo(prefix: string, n: number): void {
    if ((this.counters.get(prefix) ?? 0) < n) this.counters.set(prefix, n);
  }

  current(prefix: string): number {
    return this.counters.get(prefix) ?? 0;
  }
}
