// A binary min-heap of scheduled events ordered by (timeUs, sequence). The sequence is assigned on push, so
// events at the same instant run in the order they were scheduled, on every run.
//
// Entries live in typed columns indexed by a slot, recycled through a free list, so scheduling allocates nothing
// once the columns have grown: a task is a (runner, task code, integer argument) triple that the runner decodes
// (the simulated venue's request arrivals, the engine's timers). Plain callbacks are kept for the rare events
// that need a closure.
import { invariantFailed } from '../errors.ts';
import { grown } from './columns.ts';

/** Something that runs its own scheduled tasks: `task` and `arg` are the integers it was scheduled with. */
export interface TaskRunner {
  runTask(task: number, arg: number): void;
}

/** The runner of plain callbacks: `arg` indexes the queue's callback column. */
const CALLBACK_TASK = -1;

export class EventQueue {
  private timeUs = new Float64Array(64);
  private sequence = new Float64Array(64);
  private task = new Int32Array(64);
  private arg = new Int32Array(64);
  private runner: (TaskRunner | null)[] = new Array<TaskRunner | null>(64).fill(null);
  private callback: ((() => void) | null)[] = new Array<(() => void) | null>(64).fill(null);
  /** Heap of slots. */
  private heap = new Int32Array(64);
  private count = 0;
  /** Free slots (a stack). */
  private free = Int32Array.from({ length: 64 }, (_, i) => 63 - i);
  private freeCount = 64;
  private nextSequence = 0;
  /** Time of the earliest event, or +Infinity when empty: a field, so the hot loop checks it with one load. */
  nextTimeUs = Infinity;

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event, or +Infinity when empty. */
  peekTimeUs(): number {
    return this.nextTimeUs;
  }

  /** Schedule a closure (for rare events; a task allocates nothing). */
  push(timeUs: number, run: () => void): void {
    const slot = this.insert(timeUs, null, CALLBACK_TASK, 0);
    this.callback[slot] = run;
  }

  /** Schedule `runner.runTask(task, arg)` at `timeUs`. */
  pushTask(timeUs: number, runner: TaskRunner, task: number, arg: number): void {
    this.insert(timeUs, runner, task, arg);
  }

  /**
   * Remove the earliest event and run it. Returns nothing: the caller reads `nextTimeUs` before calling, which
   * is the time of the event this runs.
   */
  runNext(): void {
    if (this.count === 0) invariantFailed('runNext on an empty event queue');
    const slot = this.heap[0];
    this.removeTop();
    const runner = this.runner[slot];
    const task = this.task[slot];
    const arg = this.arg[slot];
    const callback = this.callback[slot];
    this.runner[slot] = null;
    this.callback[slot] = null;
    this.free[this.freeCount++] = slot;
    if (task === CALLBACK_TASK) callback!();
    else runner!.runTask(task, arg);
  }

  private insert(timeUs: number, runner: TaskRunner | null, task: number, arg: number): number {
    if (!(Number.isFinite(timeUs))) invariantFailed(`event time must be finite, found ${timeUs}`);
    if (this.freeCount === 0) this.grow();
    const slot = this.free[--this.freeCount];
    const sequence = this.nextSequence++;
    this.timeUs[slot] = timeUs;
    this.sequence[slot] = sequence;
    this.runner[slot] = runner;
    this.task[slot] = task;
    this.arg[slot] = arg;
    const heap = this.heap;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const other = heap[parent];
      const otherTime = this.timeUs[other];
      if (!(timeUs < otherTime || (timeUs === otherTime && sequence < this.sequence[other]))) break;
      heap[i] = other;
      i = parent;
    }
    heap[i] = slot;
    this.nextTimeUs = this.timeUs[heap[0]];
    return slot;
  }

  private removeTop(): void {
    const heap = this.heap;
    const n = --this.count;
    if (n === 0) {
      this.nextTimeUs = Infinity;
      return;
    }
    const last = heap[n];
    const lastTime = this.timeUs[last];
    const lastSequence = this.sequence[last];
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.before(heap[right], heap[left])) child = right;
      const c = heap[child];
      const childTime = this.timeUs[c];
      if (!(childTime < lastTime || (childTime === lastTime && this.sequence[c] < lastSequence))) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    this.nextTimeUs = this.timeUs[heap[0]];
  }

  private before(a: number, b: number): boolean {
    const ta = this.timeUs[a];
    const tb = this.timeUs[b];
    return ta < tb || (ta === tb && this.sequence[a] < this.sequence[b]);
  }

  private grow(): void {
    const capacity = this.timeUs.length;
    const doubled = capacity * 2;
    this.timeUs = grown(this.timeUs, doubled);
    this.sequence = grown(this.sequence, doubled);
    this.task = grown(this.task, doubled);
    this.arg = grown(this.arg, doubled);
    this.heap = grown(this.heap, doubled);
    this.free = grown(this.free, doubled);
    for (let slot = capacity; slot < doubled; slot++) {
      this.runner.push(null);
      this.callback.push(null);
    }
    for (let slot = doubled - 1; slot >= capacity; slot--) this.free[this.freeCount++] = slot;
  }
}
