// A discrete event scheduler in virtual time for sim-mode scenarios. Events run in (time, sequence) order, so
// two events at the same instant run in the order they were scheduled, and a run is a pure function of
// its inputs. The event count is bounded: a runaway scenario stops with an error instead of spinning.
import { SimError } from '../../engine/errors.ts';

interface ScheduledEvent {
  readonly timeUs: number;
  readonly sequence: number;
  readonly action: () => void;
  cancelled: boolean;
}

export interface TimerHandle {
  cancel(): void;
}

/** What scenario workloads schedule on: VirtualScheduler in sim mode, a wall-clock scheduler in real mode. */
export interface EventScheduler {
  nowUs(): number;
  at(timeUs: number, action: () => void): TimerHandle;
  after(delayUs: number, action: () => void): TimerHandle;
  /** Runs until scenario time `endUs` (at once in sim mode, in compressed wall time in real mode). */
  runUntil(endUs: number): void | Promise<void>;
}

export class VirtualScheduler implements EventScheduler {
  private heap: ScheduledEvent[] = [];
  private sequence = 0;
  private currentUs: number;
  private executed = 0;

  constructor(startUs = 0, private readonly eventCountMax = 50_000_000) {
    this.currentUs = startUs;
  }

  nowUs(): number {
    return this.currentUs;
  }

  get executedEvents(): number {
    return this.executed;
  }

  /** Runs `action` at absolute virtual time `timeUs` (not before now). */
  at(timeUs: number, action: () => void): TimerHandle {
    const event: ScheduledEvent = { timeUs: Math.max(timeUs, this.currentUs), sequence: this.sequence++, action, cancelled: false };
    this.push(event);
    return { cancel: () => { event.cancelled = true; } };
  }

  after(delayUs: number, action: () => void): TimerHandle {
    return this.at(this.currentUs + delayUs, action);
  }

  /** Repeats `action` every `periodUs` starting at `firstUs` while it is before `untilUs`. */
  every(firstUs: number, periodUs: number, untilUs: number, action: () => void): void {
    const step = (timeUs: number) => {
      if (timeUs >= untilUs) return;
      this.at(timeUs, () => {
        action();
        step(timeUs + periodUs);
      });
    };
    step(firstUs);
  }

  /** Runs every event scheduled before `endUs`; leaves the clock at `endUs`. */
  runUntil(endUs: number): void {
    while (this.heap.length > 0 && this.heap[0].timeUs < endUs) {
      const event = this.pop();
      if (event.cancelled) continue;
      this.currentUs = event.timeUs;
      this.executed += 1;
      if (this.executed > this.eventCountMax) {
        throw new SimError('SCHEDULER_EVENT_BOUND', `expected at most ${this.eventCountMax} events in a run, found more`);
      }
      event.action();
    }
    this.currentUs = Math.max(this.currentUs, endUs);
  }

  private less(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.sequence < b.sequence);
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    heap.push(event);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(heap[index], heap[parent])) break;
      [heap[index], heap[parent]] = [heap[parent], heap[index]];
      index = parent;
    }
  }

  private pop(): ScheduledEvent {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && this.less(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && this.less(heap[right], heap[smallest])) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest], heap[index]];
        index = smallest;
      }
    }
    return top;
  }
}
