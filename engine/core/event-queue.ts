// A binary min-heap of scheduled events ordered by (timeUs, sequence). The sequence is assigned on push, so
// events at the same instant run in the order they were scheduled, on every run.
import { invariantFailed } from '../errors.ts';

export interface ScheduledEvent {
  readonly timeUs: number;
  readonly sequence: number;
  run(): void;
}

export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private nextSequence = 0;
  /** Time of the earliest event, or +Infinity when empty: a field, so the hot loop checks it with one load. */
  nextTimeUs = Infinity;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest event, or +Infinity when empty. */
  peekTimeUs(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].timeUs;
  }

  push(timeUs: number, run: () => void): ScheduledEvent {
    if (!(Number.isFinite(timeUs))) invariantFailed(`event time must be finite, found ${timeUs}`);
    const event: ScheduledEvent = { timeUs, sequence: this.nextSequence++, run };
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = event;
    this.nextTimeUs = heap[0].timeUs;
    return event;
  }

  pop(): ScheduledEvent | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && before(heap[right], heap[left]) ? right : left;
        if (!before(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    this.nextTimeUs = heap.length === 0 ? Infinity : heap[0].timeUs;
    return top;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.sequence < b.sequence);
}
