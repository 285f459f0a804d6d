// The ordered event log of a run and its digest. Events are appended in the order the engine acts; each has
// a sequence number, the engine time and a flat record of fields whose key order is fixed by the code that
// writes it, so the canonical line of an event (and the digest over all lines) is identical on every run,
// process, time zone and locale. Numbers are integers (ticks, lots, cash units, microseconds) or exact
// decimals produced by JSON.stringify, which does not depend on the locale.
import { createHash } from 'node:crypto';

export type EventValue = string | number | boolean | null;

export interface EngineEvent {
  readonly sequence: number;
  readonly timeUs: number;
  readonly type: string;
  readonly fields: Readonly<Record<string, EventValue>>;
}

export class EventLog {
  readonly events: EngineEvent[] = [];
  /** Listeners see every event as it is appended (journals, live metrics, session recorders). */
  private readonly listeners: ((event: EngineEvent) => void)[] = [];

  append(timeUs: number, type: string, fields: Record<string, EventValue>): EngineEvent {
    const event: EngineEvent = { sequence: this.events.length + 1, timeUs, type, fields };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  subscribe(listener: (event: EngineEvent) => void): void {
    this.listeners.push(listener);
  }

  count(type: string): number {
    let n = 0;
    for (const event of this.events) if (event.type === type) n++;
    return n;
  }

  /** sha256 over the canonical lines of all events, hex. */
  digest(): string {
    const hash = createHash('sha256');
    for (const event of this.events) hash.update(canonicalLine(event)).update('\n');
    return hash.digest('hex');
  }
}

export function canonicalLine(event: EngineEvent): string {
  return JSON.stringify([event.sequence, event.timeUs, event.type, event.fields]);
}
