// Real mode of oco-crash: each life of the runner is its own OS process, SIGKILLed at the durable boundary
// it reached (it reports the boundary, the coordinator kills it); the venue, the price walk and the ground
// truth live here and outlive every runner. The journal is a real file with fsync on every append, and
// after the fault's delay a new process starts from it.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEntry } from '../../../scenarios/framework/history.ts';
import type { Fault, RunContext, RunRecord } from '../../../scenarios/framework/scenario.ts';
import { PRICE_TICK_US, RESTART_SETTLE_US, Venue, type OcoTruth, type OcoVariant } from '../../../scenarios/oco-crash/model.ts';
import { WallClockScheduler } from '../wall-clock-scheduler.ts';
import type { RunnerProcessConfig } from './runner-process.ts';

const ENTRY = new URL('./runner-entry.mjs', import.meta.url);
const FINISH_TIMEOUT_MS = 10_000;

export async function runOcoCrashProcesses(context: RunContext): Promise<RunRecord<OcoTruth>> {
  const directory = mkdtempSync(join(tmpdir(), 'sim-oco-'));
  const journalPath = join(directory, 'runner.journal');
  const timeScale = Number(context.options['time-scale']);
  const originAbsoluteMs = performance.timeOrigin + performance.now();
  const scheduler = new WallClockScheduler(timeScale, originAbsoluteMs);
  const venue = new Venue(scheduler);
  const walk = context.rng.child('prices');
  const entries = new Map<string, HistoryEntry>();
  let pending: Fault[] = [...context.faults].sort((a, b) => a.atUs - b.atUs);
  let child: ChildProcess | null = null;
  let life = 0;
  let crashes = 0;
  // The newest life that finished its restore (it sends 'started' after the requests its restore made, so those
  // have reached the venue by then). Between a crash and the next spawn `child` is null.
  let startedLife = 0;
  let startedAtUs = Number.NaN;
  // When the pending restart is due (crash + delay): its start-up is counted from there, so that a restart
  // timer firing late on a loaded machine counts too.
  let restartDueUs = 0;
  const startups: { dueUs: number; upUs: number }[] = [];
  const endUs = context.durationUs;
  venue.listener = (report) => { if (child && child.connected) child.send({ type: 'report', report }); };

  const spawnLife = () => {
    life += 1;
    const config: RunnerProcessConfig = {
      variant: context.variant as OcoVariant, life, journalPath, originAbsoluteMs, timeScale, pending, endUs,
      snapshot: { orders: [...venue.orders.values()].map((order) => ({ ...order })), position: venue.position, priceTicks: venue.priceTicks },
    };
    const current = fork(ENTRY, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const currentLife = life;
    child = current;
    current.on('message', (message: { type: string; entry?: HistoryEntry; order?: any; clientOrderId?: string; fault?: Fault; life?: number }) => {
      if (message.type === 'booted') {
        // Up and about to restore: the start-up ends here (the restore is the variant's own work).
        if (message.life! > 1) startups.push({ dueUs: restartDueUs, upUs: scheduler.nowUs() });
      } else if (message.type === 'started') {
        startedLife = message.life!;
        startedAtUs = scheduler.nowUs();
      } else if (message.type === 'history') entries.set(`${currentLife}:${message.entry!.id}`, message.entry!);
      else if (message.type === 'submit') venue.submit(message.order);
      else if (message.type === 'cancel') venue.cancel(message.clientOrderId!);
      else if (message.type === 'crash') {
        current.kill('SIGKILL');
        crashes += 1;
        child = null;
        const fault = message.fault!;
        pending = pending.filter((other) => !(other.atUs === fault.atUs && other.kind === fault.kind));
        restartDueUs = scheduler.nowUs() + fault.durationUs;
        scheduler.after(fault.durationUs, spawnLife);
      }
    });
  };

  try {
    const priceStep = (timeUs: number) => {
      if (timeUs >= endUs) return;
      scheduler.at(timeUs, () => { venue.tick(walk.int(3) - 1); priceStep(timeUs + PRICE_TICK_US); });
    };
    priceStep(PRICE_TICK_US);
    spawnLife();
    await scheduler.runUntil(endUs + 5_000_000);
    // A life that crashed near the end (or, on a loaded machine, one still starting) gets to restore before the
    // end state is judged, as in sim mode: a verdict about a runner that never got to act says nothing of the
    // variant. Bounded by the wall clock, for a life that never starts.
    const deadlineMs = performance.now() + FINISH_TIMEOUT_MS;
    const restored = () => (child as ChildProcess | null) !== null && startedLife === life;
    while (!restored() && performance.now() < deadlineMs) await scheduler.runUntil(scheduler.nowUs() + 100_000);
    // Whether the newest life got to restore (0: judged with it still down or starting, past the wait).
    const restoredAtEnd = restored() ? 1 : 0;
    if (startedAtUs > endUs) await scheduler.runUntil(scheduler.nowUs() + RESTART_SETTLE_US);
    let runnerPosition = Number.NaN;
    const last = child as ChildProcess | null;
    if (last && last.connected) {
      runnerPosition = await new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(Number.NaN), FINISH_TIMEOUT_MS);
        last.on('message', (message: { type: string; position?: number }) => {
          if (message.type === 'position') { clearTimeout(timer); resolve(message.position!); }
        });
        last.send({ type: 'finish' });
      });
    }
    const history = [...entries.values()]
      .sort((a, b) => (a.kind === 'operation' ? a.invokedUs : a.timeUs) - (b.kind === 'operation' ? b.invokedUs : b.timeUs))
      .map((entry, index) => ({ ...entry, id: index + 1, ...(entry.kind === 'operation' && entry.outcome === null ? { outcome: 'unknown' as const } : {}) }));
    const workingAtEnd = [...venue.orders.values()].filter((order) => order.status === 'working').map((order) => ({ clientOrderId: order.clientOrderId, bracket: order.bracket, leg: order.leg }));
    const truth: OcoTruth = { received: venue.received, fills: venue.fills, exposure: venue.exposure, workingAtEnd, venuePosition: venue.position, runnerPosition, endUs, startups };
    return {
      history, truth,
      metrics: { crashes, lives: life, startupUsMax: Math.max(0, ...startups.map((startup) => startup.upUs - startup.dueUs)), restoredAtEnd, brackets: venue.received.filter((order) => order.leg === 'entry').length, fills: venue.fills.length, venuePosition: venue.position, runnerPosition },
    };
  } finally {
    scheduler.dispose();
    (child as ChildProcess | null)?.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  }
}
