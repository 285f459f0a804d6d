// The ordered event log of a run and its digest. Events are appended in the order the engine acts; each has
// a sequence number, the engine time and a flat record of fields whose key order is fixed by the code that
// writes it, so the canonical line of an event (and the digest over all lines) is identical on every run,
// process, time zone and locale. Numbers are integers (ticks, lots, cash units, microseconds) or exact
// decimals produced by JSON.stringify, which does not depend on the locale.
//
// Storage is columnar (times in a typed array, types and field records in plain arrays) so that a long run keeps
// no wrapper object or boxed timestamp per event; `events` builds the objects when someone reads them.
import { createHash } from 'node:crypto';

export type EventValue = string | number | boolean | null;

export interface EngineEvent {
  readonly sequence: number;
  readonly timeUs: number;
  readonly type: string;
  readonly fields: Readonly<Record<string, EventValue>>;
}

export class EventLog {
  private times = new Float64Array(4096);
  private readonly types: string[] = [];
  private readonly fieldRecords: Readonly<Record<string, EventValue>>[] = [];
  private materialized: EngineEvent[] = [];
  /** Listeners see every event as it is appended (journals, live metrics, session recorders). */
  private readonly listeners: ((event: EngineEvent) => void)[] = [];

  get length(): number {
    return this.types.length;
  }

  append(timeUs: number, type: string, fields: Record<string, EventValue>): void {
    const n = this.types.length;
    if (n === this.times.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.times);
      this.times = grown;
    }
    this.times[n] = timeUs;
    this.types.push(type);
    this.fieldRecords.push(fields);
    if (this.listeners.length > 0) {
      const event: EngineEvent = { sequence: n + 1, timeUs, type, fields };
      for (const listener of this.listeners) listener(event);
    }
  }

  subscribe(listener: (event: EngineEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Every event so far, in order (built on first read after new appends). */
  get events(): readonly EngineEvent[] {
    const have = this.materialized.length;
    for (let i = have; i < this.types.length; i++) {
      this.materialized.push({ sequence: i + 1, timeUs: this.times[i], type: this.types[i], fields: this.fieldRecords[i] });
    }
    return this.materialized;
  }

  count(type: string): number {
    let n = 0;
    for (const t of this.types) if (t === type) n++;
    return n;
  }

  /** sha256 over the canonical lines of all events, hex. */
  digest(): string {
    const hash = createHash('sha256');
    for (let i = 0; i < this.types.length; i++) {
      hash.update(JSON.stringify([i + 1, this.times[i], this.types[i], this.fieldRecords[i]])).update('\n');
    }
    return hash.digest('hex');
  }
}

export function canonicalLine(event: EngineEvent): string {
  return JSON.stringify([event.sequence, event.timeUs, event.type, event.fields]);
}
