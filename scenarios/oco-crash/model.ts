// The oco-crash workload: a runner trading brackets (market entry, then a stop and a target as an OCO pair
// the runner emulates, since the venue has no native OCO) against a venue that outlives the runner. The
// runner journals each step durably; a fault kills it right at a durable boundary, and it restarts from the
// journal after a delay. `naive` restores from the journal alone; `reprotect` (the incident's fix) trusts the
// venue's position and re-sends the exits of an open position under fresh ids, without looking up the exits
// already working; `reconcile` looks every order up at the venue by client order id, adopts what exists,
// protects an unprotected position at once and cancels the leg left over from a filled exit.
import { US_PER_SECOND } from '../../engine/types.ts';
import { History } from '../framework/history.ts';
import type { Fault, RunContext, RunRecord } from '../framework/scenario.ts';
import type { SeededRandom } from '../framework/seeded-random.ts';
import type { EventScheduler } from '../framework/virtual-scheduler.ts';

export type OcoVariant = 'naive' | 'reprotect' | 'reconcile';
/** Durable boundaries (the journal record just written): the entry submitted, its fill, an exit's fill, and
 * the exits submitted (the crash after the exits were sent and journaled, before either fills). */
export type Boundary = 'after-submit' | 'after-entry-fill' | 'after-exit-fill' | 'after-exits-submitted';
export const BOUNDARIES: readonly Boundary[] = ['after-submit', 'after-entry-fill', 'after-exit-fill', 'after-exits-submitted'];

export const PRICE_TICK_US = 100_000;
export const BRACKET_EVERY_US = 20 * US_PER_SECOND;
export const EXIT_DISTANCE_TICKS = 15;
export const LATENCY_US = 20_000;
/** A position may go without a working stop for at most this long: the longest restart delay (10 s), plus a
 * margin for latency and a real process's usual start-up at the real-mode time scale (STARTUP_ALLOWANCE_US).
 * A real run adds the start-up it measured beyond that allowance to the stretch that restart falls in (`OcoTruth.startups`,
 * from the restart's due time to the process being up, before its restore): on a loaded machine a process starts
 * slower, which says nothing about the variant. */
export const UNPROTECTED_US_MAX = 20 * US_PER_SECOND;
/** The part of UNPROTECTED_US_MAX's margin meant for a runner process's start-up. */
export const STARTUP_ALLOWANCE_US = 5 * US_PER_SECOND;
/** After a restart past the end of the run, how long its restore's requests get to reach the venue. */
export const RESTART_SETTLE_US = 1 * US_PER_SECOND;

export interface JournalPort {
  append(record: JournalRecord): void;
  records(): JournalRecord[];
}

export type JournalRecord =
  | { type: 'submitted'; bracket: number; clientOrderId: string }
  | { type: 'entry-filled'; bracket: number; priceTicks: number }
  | { type: 'exits-submitted'; bracket: number; stopId?: string; targetId?: string }
  | { type: 'exit-filled'; bracket: number; leg: 'stop' | 'target' }
  | { type: 'closed'; bracket: number };

export interface VenueOrder {
  readonly clientOrderId: string;
  readonly bracket: number;
  readonly leg: 'entry' | 'stop' | 'target';
  readonly side: 'buy' | 'sell';
  readonly triggerTicks: number;
  status: 'working' | 'filled' | 'cancelled';
}

export interface OcoTruth {
  readonly received: readonly { clientOrderId: string; bracket: number; leg: string; timeUs: number }[];
  readonly fills: readonly { clientOrderId: string; bracket: number; leg: string; timeUs: number }[];
  /** Venue position over time (changes only) and whether a sell stop was working then. */
  readonly exposure: readonly { timeUs: number; position: number; stopWorking: boolean }[];
  readonly workingAtEnd: readonly { clientOrderId: string; bracket: number; leg: string }[];
  readonly venuePosition: number;
  readonly runnerPosition: number;
  readonly endUs: number;
  /** Real mode with runner processes: each restart's due time and when its process was up (before its
   * restore), in scenario time (absent: no process start-up to allow for). */
  readonly startups?: readonly { readonly dueUs: number; readonly upUs: number }[];
}

export interface VenueReport { type: 'ack' | 'fill' | 'cancelled'; order: VenueOrder; priceTicks: number }

/** What the runner sees of the venue: the venue itself in one process, a proxy over IPC across processes. */
export interface VenuePort {
  submit(order: Omit<VenueOrder, 'status'>): void;
  cancel(clientOrderId: string): void;
  /** Lookup by client order id (in a separate process: from the snapshot taken when the runner started). */
  lookup(clientOrderId: string): VenueOrder | undefined;
  readonly position: number;
  readonly priceTicks: number;
  listener: ((report: VenueReport) => void) | null;
}

/** The venue: persists across runner crashes, matches orders against a seeded price walk. */
export class Venue implements VenuePort {
  readonly orders = new Map<string, VenueOrder>();
  /** Working orders only: the price loop must not walk the whole order history on every tick. */
  private readonly working = new Set<VenueOrder>();
  readonly received: OcoTruth['received'][number][] = [];
  readonly fills: OcoTruth['fills'][number][] = [];
  readonly exposure: OcoTruth['exposure'][number][] = [];
  position = 0;
  priceTicks = 10_000;
  listener: ((report: VenueReport) => void) | null = null;

  constructor(private readonly scheduler: EventScheduler) {}

  submit(order: Omit<VenueOrder, 'status'>): void {
    this.scheduler.after(LATENCY_US, () => {
      const venueOrder: VenueOrder = { ...order, status: 'working' };
      this.orders.set(order.clientOrderId + (this.orders.has(order.clientOrderId) ? '#dup' : ''), venueOrder);
      this.working.add(venueOrder);
      this.received.push({ clientOrderId: order.clientOrderId, bracket: order.bracket, leg: order.leg, timeUs: this.scheduler.nowUs() });
      this.report('ack', venueOrder);
      this.recordExposure();
    });
  }

  cancel(clientOrderId: string): void {
    this.scheduler.after(LATENCY_US, () => {
      const order = this.orders.get(clientOrderId);
      if (!order || order.status !== 'working') return;
      order.status = 'cancelled';
      this.working.delete(order);
      this.report('cancelled', order);
      this.recordExposure();
    });
  }

  lookup(clientOrderId: string): VenueOrder | undefined {
    return this.orders.get(clientOrderId);
  }

  tick(step: number): void {
    this.priceTicks += step;
    for (const order of [...this.working]) {
      const fills = order.leg === 'entry' || (order.leg === 'stop' ? this.priceTicks <= order.triggerTicks : this.priceTicks >= order.triggerTicks);
      if (!fills) continue;
      order.status = 'filled';
      this.working.delete(order);
      this.position += order.side === 'buy' ? 1 : -1;
      this.fills.push({ clientOrderId: order.clientOrderId, bracket: order.bracket, leg: order.leg, timeUs: this.scheduler.nowUs() });
      this.report('fill', order);
    }
    this.recordExposure();
  }

  private report(type: 'ack' | 'fill' | 'cancelled', order: VenueOrder): void {
    const listener = this.listener;
    if (listener) this.scheduler.after(LATENCY_US, () => listener({ type, order, priceTicks: this.priceTicks }));
  }

  private recordExposure(): void {
    let stopWorking = false;
    for (const order of this.working) if (order.leg === 'stop') stopWorking = true;
    const last = this.exposure[this.exposure.length - 1];
    if (!last || last.position !== this.position || last.stopWorking !== stopWorking) this.exposure.push({ timeUs: this.scheduler.nowUs(), position: this.position, stopWorking });
  }
}

interface Bracket {
  readonly number: number;
  entryId: string;
  state: 'submitted' | 'entry-filled' | 'exits-working' | 'closing' | 'closed';
  entryPriceTicks: number;
  /** Client ids of the exits this runner works (re-sent exits get fresh ones). */
  stopId: string;
  targetId: string;
}

const exitIds = (number: number) => ({ stopId: `b${number}-stop`, targetId: `b${number}-target` });

/** One life of the runner (until it crashes). */
export class Runner {
  private alive = true;
  private bracket: Bracket | null = null;
  position = 0;

  constructor(
    private readonly variant: OcoVariant,
    private readonly scheduler: EventScheduler,
    private readonly venue: VenuePort,
    private readonly journal: JournalPort,
    private readonly history: History,
    private readonly crashAt: { boundary: Boundary | null; onCrash: () => void },
    private readonly life: number,
  ) {
    venue.listener = (report) => { if (this.alive) this.onReport(report); };
  }

  crash(): void {
    this.alive = false;
  }

  private boundary(boundary: Boundary): boolean {
    if (this.crashAt.boundary !== boundary) return false;
    this.history.note('runner', 'crash', { boundary, life: this.life });
    this.alive = false;
    this.crashAt.onCrash();
    return true;
  }

  /** Start of a life: restore from the journal (and, when reconciling, from the venue). */
  restore(): void {
    const records = this.journal.records();
    const byBracket = new Map<number, JournalRecord[]>();
    for (const record of records) byBracket.set(record.bracket, [...(byBracket.get(record.bracket) ?? []), record]);
    let position = 0;
    for (const [number, list] of byBracket) {
      const types = new Set(list.map((record) => record.type));
      if (types.has('entry-filled')) position += 1;
      if (types.has('exit-filled') || types.has('closed')) position -= types.has('closed') || types.has('exit-filled') ? 1 : 0;
      if (types.has('closed')) continue;
      const submitted = list.find((record) => record.type === 'submitted') as Extract<JournalRecord, { type: 'submitted' }>;
      const filled = list.find((record) => record.type === 'entry-filled') as Extract<JournalRecord, { type: 'entry-filled' }> | undefined;
      const exits = list.filter((record) => record.type === 'exits-submitted').pop() as Extract<JournalRecord, { type: 'exits-submitted' }> | undefined;
      const bracket: Bracket = {
        number, entryId: submitted.clientOrderId, state: 'submitted', entryPriceTicks: filled?.priceTicks ?? 0,
        stopId: exits?.stopId ?? exitIds(number).stopId, targetId: exits?.targetId ?? exitIds(number).targetId,
      };
      this.bracket = bracket;
      if (this.variant === 'naive') {
        // The unfixed restart: a pending submit is sent again under a fresh id; an entry filled without exits
        // and an exit filled without the cancel are taken as finished brackets.
        if (!types.has('entry-filled')) {
          bracket.entryId = `${submitted.clientOrderId}-r${this.life}`;
          this.journal.append({ type: 'submitted', bracket: number, clientOrderId: bracket.entryId });
          this.venue.submit({ clientOrderId: bracket.entryId, bracket: number, leg: 'entry', side: 'buy', triggerTicks: 0 });
        } else {
          this.journal.append({ type: 'closed', bracket: number });
          this.bracket = null;
        }
        continue;
      }
      if (this.variant === 'reprotect') this.reprotect(bracket, types, list);
      else this.reconcile(bracket, types);
    }
    this.position = this.variant === 'naive' ? position : this.venue.position;
    this.history.note('runner', 'restored', { life: this.life, position: this.position });
  }

  /**
   * The incident's fix: the venue's position decides. A long position gets its stop and target re-sent under
   * fresh ids (the old ones may be taken), whether or not exits already work for it; a filled exit gets its
   * journaled sibling cancelled; a flat bracket whose exits were sent gets them cancelled. Nothing is looked
   * up by client order id, so exits sent before the crash keep working beside the re-sent ones.
   */
  private reprotect(bracket: Bracket, types: Set<string>, list: readonly JournalRecord[]): void {
    const filledExit = list.find((record) => record.type === 'exit-filled') as Extract<JournalRecord, { type: 'exit-filled' }> | undefined;
    if (filledExit) {
      this.venue.cancel(filledExit.leg === 'stop' ? bracket.targetId : bracket.stopId);
    } else if (this.venue.position > 0) {
      if (!types.has('entry-filled')) {
        bracket.entryPriceTicks = this.venue.priceTicks;
        this.journal.append({ type: 'entry-filled', bracket: bracket.number, priceTicks: bracket.entryPriceTicks });
      }
      bracket.state = 'entry-filled';
      bracket.stopId = `b${bracket.number}-stop-r${this.life}`;
      bracket.targetId = `b${bracket.number}-target-r${this.life}`;
      this.submitExits(bracket, bracket.entryPriceTicks);
      return;
    } else if (types.has('exits-submitted')) {
      this.venue.cancel(bracket.stopId);
      this.venue.cancel(bracket.targetId);
    } else {
      return; // entry still pending: its fill report comes to this life
    }
    this.journal.append({ type: 'closed', bracket: bracket.number });
    this.bracket = null;
  }

  private reconcile(bracket: Bracket, types: Set<string>): void {
    const entry = this.venue.lookup(bracket.entryId);
    const stopId = `b${bracket.number}-stop`;
    const targetId = `b${bracket.number}-target`;
    if (!entry) {
      // Unknown outcome settled by lookup: never sent, so send it now under the same id.
      this.venue.submit({ clientOrderId: bracket.entryId, bracket: bracket.number, leg: 'entry', side: 'buy', triggerTicks: 0 });
      return;
    }
    if (entry.status !== 'filled') return;
    if (!types.has('entry-filled')) this.journal.append({ type: 'entry-filled', bracket: bracket.number, priceTicks: this.venue.priceTicks });
    const stop = this.venue.lookup(stopId);
    const target = this.venue.lookup(targetId);
    if (!stop && !target) {
      bracket.state = 'entry-filled';
      this.submitExits(bracket, bracket.entryPriceTicks || this.venue.priceTicks);
      return;
    }
    bracket.state = 'exits-working';
    if (stop?.status === 'filled' && target?.status === 'working') this.venue.cancel(targetId);
    if (target?.status === 'filled' && stop?.status === 'working') this.venue.cancel(stopId);
    if (stop?.status === 'filled' || target?.status === 'filled') {
      this.journal.append({ type: 'closed', bracket: bracket.number });
      this.bracket = null;
    }
  }

  tradeTick(number: number): void {
    if (!this.alive || this.bracket !== null || this.position !== 0) return;
    const entryId = `b${number}-entry`;
    this.bracket = { number, entryId, state: 'submitted', entryPriceTicks: 0, ...exitIds(number) };
    this.journal.append({ type: 'submitted', bracket: number, clientOrderId: entryId });
    this.history.complete(this.history.invoke('runner', 'submit', { clientOrderId: entryId }), 'ok');
    this.venue.submit({ clientOrderId: entryId, bracket: number, leg: 'entry', side: 'buy', triggerTicks: 0 });
    this.boundary('after-submit');
  }

  private submitExits(bracket: Bracket, entryPriceTicks: number): void {
    bracket.state = 'exits-working';
    this.venue.submit({ clientOrderId: bracket.stopId, bracket: bracket.number, leg: 'stop', side: 'sell', triggerTicks: entryPriceTicks - EXIT_DISTANCE_TICKS });
    this.venue.submit({ clientOrderId: bracket.targetId, bracket: bracket.number, leg: 'target', side: 'sell', triggerTicks: entryPriceTicks + EXIT_DISTANCE_TICKS });
    this.journal.append({ type: 'exits-submitted', bracket: bracket.number, stopId: bracket.stopId, targetId: bracket.targetId });
  }

  private onReport(report: VenueReport): void {
    const bracket = this.bracket;
    const { order } = report;
    if (report.type !== 'fill') return;
    this.position += order.side === 'buy' ? 1 : -1;
    if (!bracket || order.bracket !== bracket.number) return;
    if (order.leg === 'entry' && bracket.state === 'submitted') {
      bracket.state = 'entry-filled';
      bracket.entryPriceTicks = report.priceTicks;
      this.journal.append({ type: 'entry-filled', bracket: bracket.number, priceTicks: report.priceTicks });
      if (this.boundary('after-entry-fill')) return;
      this.submitExits(bracket, report.priceTicks);
      this.boundary('after-exits-submitted');
      return;
    }
    if ((order.leg === 'stop' || order.leg === 'target') && bracket.state === 'exits-working') {
      bracket.state = 'closing';
      this.journal.append({ type: 'exit-filled', bracket: bracket.number, leg: order.leg });
      if (this.boundary('after-exit-fill')) return;
      this.venue.cancel(order.leg === 'stop' ? bracket.targetId : bracket.stopId);
      this.journal.append({ type: 'closed', bracket: bracket.number });
      this.bracket = null;
    }
  }
}

/** The crash boundary armed at `nowUs`: the first pending fault that has started. */
export function armedFault(pending: readonly Fault[], nowUs: number): Fault | undefined {
  return pending.find((fault) => fault.atUs <= nowUs);
}

export interface OcoDriver {
  readonly scheduler: EventScheduler;
  readonly journal: () => JournalPort;
  /** Real mode reopens the journal file after a crash; sim keeps the same in-memory one. */
  readonly reopenJournal: () => JournalPort;
}

export async function runOcoCrash(context: RunContext, driver: OcoDriver): Promise<RunRecord<OcoTruth>> {
  const variant = context.variant as OcoVariant;
  const { scheduler } = driver;
  const history = new History(() => scheduler.nowUs());
  const venue = new Venue(scheduler);
  const walk = context.rng.child('prices');
  const pending = [...context.faults].sort((a, b) => a.atUs - b.atUs);
  let journal = driver.journal();
  let life = 1;
  let runner: Runner;
  const armed: { boundary: Boundary | null; onCrash: () => void } = { boundary: null, onCrash: () => undefined };
  // When the runner that crashed last comes back (NaN: none is down).
  let restartDueUs = Number.NaN;
  // When the latest restart restored (its requests take RESTART_SETTLE_US to reach the venue).
  let restoredUs = Number.NEGATIVE_INFINITY;
  const arm = () => {
    const next = armedFault(pending, scheduler.nowUs());
    armed.boundary = next ? (next.kind as Boundary) : null;
    armed.onCrash = () => {
      const fault = next!;
      pending.splice(pending.indexOf(fault), 1);
      armed.boundary = null;
      restartDueUs = scheduler.nowUs() + fault.durationUs;
      scheduler.after(fault.durationUs, () => {
        restartDueUs = Number.NaN;
        life += 1;
        journal = driver.reopenJournal();
        runner = new Runner(variant, scheduler, venue, journal, history, armed, life);
        runner.restore();
        restoredUs = scheduler.nowUs();
        arm();
      });
    };
  };
  runner = new Runner(variant, scheduler, venue, journal, history, armed, life);
  const endUs = context.durationUs;
  const priceStep = (timeUs: number) => {
    if (timeUs >= endUs) return;
    scheduler.at(timeUs, () => { venue.tick(walk.int(3) - 1); priceStep(timeUs + PRICE_TICK_US); });
  };
  priceStep(PRICE_TICK_US);
  const trade = (timeUs: number) => {
    if (timeUs >= endUs - 60 * US_PER_SECOND) return;
    scheduler.at(timeUs, () => { arm(); runner.tradeTick(Math.round(timeUs / BRACKET_EVERY_US)); trade(timeUs + BRACKET_EVERY_US); });
  };
  trade(BRACKET_EVERY_US);
  await scheduler.runUntil(endUs + 5 * US_PER_SECOND);
  // A runner that crashed near the end restarts and restores before the end state is judged: otherwise the
  // verdict would be about a runner that never got the chance to act (an exit it would cancel on restart).
  if (restartDueUs > endUs + 5 * US_PER_SECOND) await scheduler.runUntil(restartDueUs + RESTART_SETTLE_US);
  else if (restoredUs + RESTART_SETTLE_US > endUs + 5 * US_PER_SECOND) await scheduler.runUntil(restoredUs + RESTART_SETTLE_US);
  history.closeOpenOperations();
  const workingAtEnd = [...venue.orders.values()].filter((order) => order.status === 'working').map((order) => ({ clientOrderId: order.clientOrderId, bracket: order.bracket, leg: order.leg }));
  const truth: OcoTruth = {
    received: venue.received, fills: venue.fills, exposure: venue.exposure, workingAtEnd, venuePosition: venue.position, runnerPosition: runner.position, endUs,
  };
  return {
    history: history.entries, truth,
    metrics: { crashes: life - 1, brackets: venue.received.filter((order) => order.leg === 'entry').length, fills: venue.fills.length, venuePosition: venue.position, runnerPosition: runner.position },
  };
}

export function ocoFaultSchedule(rng: SeededRandom, durationUs: number): Fault[] {
  // Every boundary at least once, in a seeded order, then a few more at random.
  const kinds: Boundary[] = [...BOUNDARIES];
  for (let index = kinds.length - 1; index > 0; index -= 1) {
    const other = rng.int(index + 1);
    [kinds[index], kinds[other]] = [kinds[other], kinds[index]];
  }
  const extra = rng.int(3);
  for (let index = 0; index < extra; index += 1) kinds.push(BOUNDARIES[rng.int(BOUNDARIES.length)]);
  const slotUs = Math.floor((durationUs - 120 * US_PER_SECOND) / kinds.length);
  return kinds.map((kind, index) => ({ kind, atUs: 30 * US_PER_SECOND + index * slotUs + rng.int(Math.max(1, slotUs / 2)), durationUs: (1 + rng.int(10)) * US_PER_SECOND }));
}
