// One life of the oco-crash runner as its own OS process: journal in a real file (fsync per append), the
// venue reached over IPC (lookups answered from the snapshot the coordinator sent at start), history
// streamed to the coordinator as it happens. At a crash boundary it tells the coordinator, which SIGKILLs it.
import { Journal } from '../../journal/journal.ts';
import { History } from '../../../scenarios/framework/history.ts';
import type { Fault } from '../../../scenarios/framework/scenario.ts';
import {
  BRACKET_EVERY_US, Runner, armedFault, type Boundary, type JournalRecord, type OcoVariant, type VenueOrder, type VenuePort, type VenueReport,
} from '../../../scenarios/oco-crash/model.ts';
import { WallClockScheduler } from '../wall-clock-scheduler.ts';

export interface RunnerProcessConfig {
  readonly variant: OcoVariant;
  readonly life: number;
  readonly journalPath: string;
  readonly originAbsoluteMs: number;
  readonly timeScale: number;
  readonly pending: readonly Fault[];
  readonly endUs: number;
  readonly snapshot: { readonly orders: readonly VenueOrder[]; readonly position: number; readonly priceTicks: number };
}

const send = (message: unknown) => process.send!(message);

class StreamedHistory extends History {
  override invoke(process: string, operation: string, input: unknown) {
    const entry = super.invoke(process, operation, input);
    send({ type: 'history', entry });
    return entry;
  }

  override complete(...args: Parameters<History['complete']>) {
    super.complete(...args);
    send({ type: 'history', entry: args[0] });
  }

  override note(process: string, event: string, data: unknown = null) {
    super.note(process, event, data);
    send({ type: 'history', entry: this.entries[this.entries.length - 1] });
  }
}

export function runRunnerProcess(config: RunnerProcessConfig): void {
  const scheduler = new WallClockScheduler(config.timeScale, config.originAbsoluteMs);
  const history = new StreamedHistory(() => scheduler.nowUs());
  const journal = Journal.open(config.journalPath);
  const records: JournalRecord[] = [...(journal.existingRecords as JournalRecord[])];
  const orders = new Map(config.snapshot.orders.map((order) => [order.clientOrderId, order]));
  const venue: VenuePort = {
    submit: (order) => send({ type: 'submit', order }),
    cancel: (clientOrderId) => send({ type: 'cancel', clientOrderId }),
    lookup: (clientOrderId) => orders.get(clientOrderId),
    position: config.snapshot.position,
    priceTicks: config.snapshot.priceTicks,
    listener: null,
  };
  const pending = [...config.pending];
  const armed: { boundary: Boundary | null; onCrash: () => void } = { boundary: null, onCrash: () => undefined };
  const arm = () => {
    const fault = armedFault(pending, scheduler.nowUs());
    armed.boundary = fault ? (fault.kind as Boundary) : null;
    armed.onCrash = () => send({ type: 'crash', fault });
  };
  const runner = new Runner(config.variant, scheduler, venue, { append: (record) => { journal.append(record); records.push(record); }, records: () => [...records] }, history, armed, config.life);
  let finished = false;
  process.on('message', (message: { type: string; report?: VenueReport }) => {
    // A report still on its way after 'finish' would write to a closed journal.
    if (finished) return;
    if (message.type === 'report') venue.listener?.(message.report!);
    if (message.type === 'finish') {
      finished = true;
      send({ type: 'position', position: runner.position });
      journal.close();
      scheduler.dispose();
      // Not in this handler: a 'finish' that arrived before the listener is replayed by Node in a loop that
      // touches the channel after each message, and a channel gone mid-loop throws inside Node.
      setImmediate(() => process.disconnect());
    }
  });
  send({ type: 'booted', life: config.life });
  if (config.life > 1) runner.restore();
  arm();
  const first = Math.ceil((scheduler.nowUs() + 1) / BRACKET_EVERY_US) * BRACKET_EVERY_US;
  const trade = (timeUs: number) => {
    if (timeUs >= config.endUs - 60_000_000) return;
    scheduler.at(timeUs, () => { arm(); runner.tradeTick(Math.round(timeUs / BRACKET_EVERY_US)); trade(timeUs + BRACKET_EVERY_US); });
  };
  trade(first);
  send({ type: 'started', life: config.life });
}
