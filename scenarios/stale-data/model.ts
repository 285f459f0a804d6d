// The stale-data workload: a feed of sequenced ticks (exchange timestamps on the feed's clock) reaching a
// runner that enters a position every signal period when flat and manages its stop and target on every
// tick. Faults: the feed stalls, drops a gap, delays, duplicates or reorders ticks, or its clock runs ahead
// of the host. `naive` has no freshness gate; `arrival-gate` (the incident fix) judges freshness by the time
// since the last message arrived; `exchange-gate` judges by the newest tick's own timestamp, never later
// than its arrival, and ignores duplicate and out-of-order ticks.
import { US_PER_SECOND } from '../../engine/types.ts';
import { History } from '../framework/history.ts';
import type { Fault, RunContext, RunRecord } from '../framework/scenario.ts';
import type { SeededRandom } from '../framework/seeded-random.ts';
import type { EventScheduler } from '../framework/virtual-scheduler.ts';

export type StaleVariant = 'naive' | 'arrival-gate' | 'exchange-gate';
export const TICK_EVERY_US = 250_000;
export const SIGNAL_EVERY_US = 5 * US_PER_SECOND;
export const STALE_AFTER_US = 2 * US_PER_SECOND;
export const NETWORK_US = 20_000;
export const STOP_DISTANCE_TICKS = 5;
/** After a stall the held connection replays its backlog back to back, one tick per this (10x the feed's rate). */
export const BACKLOG_DRAIN_EVERY_US = 25_000;
export const FAULT_KINDS = ['stall', 'gap', 'delay', 'duplicate', 'out-of-order', 'clock-skew'] as const;

export interface StaleTruth {
  /** Every tick delivered: sequence, true time, arrival time, price. */
  readonly delivered: readonly { sequence: number; trueUs: number; arrivalUs: number; priceTicks: number }[];
  readonly faults: readonly Fault[];
  readonly endUs: number;
  /** Real mode: how late the wall-clock timers fired at worst, in scenario time (0 in sim mode). */
  readonly timerLatenessUsMax?: number;
}

export interface Tick { sequence: number; trueUs: number; exchangeUs: number; priceTicks: number }

/**
 * How ticks travel from the feed to the runner. `send` hands a tick to the network `delayUs` of scenario time from
 * now (0: at once), NETWORK_US of it being the network's own latency; the transport calls the runner's receiver
 * when the tick arrives. Sim mode: a timer on the scheduler. Real mode: a WebSocket on loopback
 * (adapters/chaos/stale-data), where the network's latency is the socket's.
 */
export interface FeedTransport {
  connect(receive: (tick: Tick) => void): void;
  send(tick: Tick, delayUs: number): void;
  /** Facts about the transport for the report. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Ticks delivered by the scheduler's timers after their delay. */
export function timerTransport(scheduler: EventScheduler): FeedTransport {
  let receiver: (tick: Tick) => void = () => undefined;
  return {
    connect: (receive) => { receiver = receive; },
    send: (tick, delayUs) => {
      if (delayUs === 0) receiver(tick);
      else scheduler.after(delayUs, () => receiver(tick));
    },
  };
}

export async function runStaleData(context: RunContext, scheduler: EventScheduler, transport: FeedTransport = timerTransport(scheduler)): Promise<RunRecord<StaleTruth>> {
  const variant = context.variant as StaleVariant;
  const history = new History(() => scheduler.nowUs());
  const walk = context.rng.child('prices');
  const shuffle = context.rng.child('shuffle');
  const endUs = context.durationUs;
  const delivered: { sequence: number; trueUs: number; arrivalUs: number; priceTicks: number }[] = [];
  const active = (kind: string, timeUs: number) => context.faults.find((fault) => fault.kind === kind && timeUs >= fault.atUs && timeUs < fault.atUs + fault.durationUs);

  // --- Runner state.
  let lastArrivalUs = -Infinity;
  let newestSequence = 0;
  let newestExchangeUs = -Infinity;
  let newestArrivalUs = -Infinity;
  let lastPrice = 10_000;
  let position: { stopTicks: number; targetTicks: number } | null = null;
  let ready = true;

  const ageUs = (nowUs: number): number => {
    if (variant === 'arrival-gate') return nowUs - lastArrivalUs;
    // A tick cannot be younger than its arrival: a feed clock running ahead does not make old data fresh.
    return nowUs - Math.min(newestExchangeUs, newestArrivalUs);
  };

  const receive = (tick: Tick) => {
    const nowUs = scheduler.nowUs();
    delivered.push({ sequence: tick.sequence, trueUs: tick.trueUs, arrivalUs: nowUs, priceTicks: tick.priceTicks });
    lastArrivalUs = nowUs;
    if (variant === 'exchange-gate' && tick.sequence <= newestSequence) return;
    if (tick.sequence > newestSequence) { newestSequence = tick.sequence; newestExchangeUs = tick.exchangeUs; newestArrivalUs = nowUs; }
    lastPrice = tick.priceTicks;
    // Stops and targets are managed on every tick, fresh or not.
    if (position && (lastPrice <= position.stopTicks || lastPrice >= position.targetTicks)) {
      history.complete(history.invoke('runner', 'exit', { priceTicks: lastPrice, sequence: tick.sequence }), 'ok');
      position = null;
    }
  };
  transport.connect(receive);

  // --- Feed.
  let sequence = 0;
  let priceTicks = 10_000;
  // A stall holds the connection: ticks pile up (a gap drops them) and, when the stall ends, the backlog
  // arrives back to back with its original true and exchange times, ticks sent meanwhile queueing behind it,
  // until the connection has caught up. The burst is old data arriving now: fresh by arrival, stale by its
  // own time.
  const backlog: Tick[] = [];
  let draining = false;
  // The k-th tick of a drain is due at its start + k periods; each firing delivers every tick due by now, so
  // timers that fire late (real mode) deliver the same burst at the same pace instead of slowing it down.
  let drainStartUs = 0;
  let drained = 0;
  const drain = () => {
    const stalled = active('stall', scheduler.nowUs());
    if (stalled) { startDrain(stalled.atUs + stalled.durationUs + NETWORK_US); return; }
    while (backlog.length > 0 && drainStartUs + drained * BACKLOG_DRAIN_EVERY_US <= scheduler.nowUs()) {
      transport.send(backlog.shift()!, 0);
      drained += 1;
    }
    if (backlog.length === 0) { draining = false; return; }
    scheduler.at(drainStartUs + drained * BACKLOG_DRAIN_EVERY_US, drain);
  };
  const startDrain = (startUs: number) => {
    drainStartUs = startUs;
    drained = 0;
    scheduler.at(startUs, drain);
  };
  const produce = (trueUs: number) => {
    if (trueUs >= endUs) return;
    scheduler.at(trueUs, () => {
      sequence += 1;
      priceTicks += walk.int(3) - 1;
      const skew = active('clock-skew', trueUs);
      const tick: Tick = { sequence, trueUs, exchangeUs: trueUs + (skew ? 5 * US_PER_SECOND : 0), priceTicks };
      const stall = active('stall', trueUs);
      if (stall || backlog.length > 0 || draining) {
        backlog.push(tick);
        if (stall && backlog.length === 1 && !draining) {
          draining = true;
          startDrain(stall.atUs + stall.durationUs + NETWORK_US);
        }
      } else if (!active('gap', trueUs)) {
        const delay = active('delay', trueUs);
        const reorder = active('out-of-order', trueUs);
        const latencyUs = NETWORK_US + (delay ? 4 * US_PER_SECOND : 0) + (reorder ? shuffle.int(800_000) : 0);
        transport.send(tick, latencyUs);
        if (active('duplicate', trueUs)) transport.send(tick, latencyUs + 50_000);
      }
      produce(trueUs + TICK_EVERY_US);
    });
  };
  produce(TICK_EVERY_US);

  // --- Readiness probe and entries.
  const probe = (timeUs: number) => {
    if (timeUs >= endUs) return;
    scheduler.at(timeUs, () => {
      const nowReady = variant === 'naive' ? true : ageUs(scheduler.nowUs()) <= STALE_AFTER_US;
      if (nowReady !== ready) history.note('runner', 'readiness', { ready: nowReady });
      ready = nowReady;
      probe(timeUs + 100_000);
    });
  };
  probe(100_000);
  const signal = (timeUs: number) => {
    if (timeUs >= endUs) return;
    scheduler.at(timeUs, () => {
      if (position === null && ready) {
        position = { stopTicks: lastPrice - STOP_DISTANCE_TICKS, targetTicks: lastPrice + STOP_DISTANCE_TICKS };
        history.complete(history.invoke('runner', 'entry', { priceTicks: lastPrice, newestSequence }), 'ok');
      }
      signal(timeUs + SIGNAL_EVERY_US);
    });
  };
  signal(SIGNAL_EVERY_US);
  await scheduler.runUntil(endUs + 10 * US_PER_SECOND);
  history.closeOpenOperations();
  return {
    history: history.entries,
    ...(transport.details ? { details: transport.details } : {}),
    truth: { delivered, faults: context.faults, endUs },
    metrics: {
      entries: history.entries.filter((entry) => entry.kind === 'operation' && entry.operation === 'entry').length,
      exits: history.entries.filter((entry) => entry.kind === 'operation' && entry.operation === 'exit').length,
      readinessChanges: history.entries.filter((entry) => entry.kind === 'note' && entry.event === 'readiness').length,
      ticksDelivered: delivered.length,
    },
  };
}

export function staleFaultSchedule(rng: SeededRandom, durationUs: number): Fault[] {
  // Every kind once in a seeded order, spaced out, each 5-40 s long.
  const kinds = [...FAULT_KINDS];
  for (let index = kinds.length - 1; index > 0; index -= 1) {
    const other = rng.int(index + 1);
    [kinds[index], kinds[other]] = [kinds[other], kinds[index]];
  }
  const slotUs = Math.floor((durationUs - 60 * US_PER_SECOND) / kinds.length);
  return kinds.map((kind, index) => ({ kind, atUs: 30 * US_PER_SECOND + index * slotUs + rng.int(Math.max(1, Math.floor(slotUs / 3))), durationUs: (5 + rng.int(36)) * US_PER_SECOND }));
}
