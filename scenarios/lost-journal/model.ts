// The lost-journal workload. A bot trades one symbol on a broker account it shares with other bots: a market
// buy, then a limit sell above the fill (its exit, working at the broker until the price reaches it), then again.
// Its client order ids are `<run>-<strategy>-<n>` and the broker refuses an id it has seen, of any status
// (Alpaca's are unique account-wide). The bot journals its intents and state before acting. Faults:
//  - `journal-lost`: the bot's process dies and its journal is gone (a new machine, a cleaned runs/ folder, a
//    container without a volume); it restarts after the fault's duration with a new journal. The run id repeats
//    with the configuration, so the broker already holds the run's ids, and likely its position and working exit.
//  - `crash`: the process dies and restarts from its journal (the journal is fine: the control case).
//  - `flood`: other bots send orders for the fault's duration (FLOOD_ORDERS_PER_SECOND), then cancel them: the
//    account's order history grows by more than a listing page, so the run's newest order leaves the first page.
// How a new journal starts is the variant:
//  - `naive`: ids from 1, flat, nothing working (what the bot believed before the fix).
//  - `newest-page`: the incident's own fix: ids continue after the run's highest in the newest page of orders.
//  - `scan-refuse`: the production decision (adapters/runtime/fresh-start.ts) over the broker read the way the
//    Alpaca venue reads it (adapters/alpaca/order-pages.ts): every open order, and orders of any status back to
//    the run's newest; a working order of the run, or a position once the run has traded, refuses the start.
//    The operator then does what the refusal says (cancels the run's orders, closes the position) and starts it
//    again.
// The same workload runs in sim mode against ModelBroker (virtual time) and in real mode against the Alpaca fake
// over HTTP with journal files on disk (adapters/chaos/lost-journal).
import { clientOrderSequence } from '../../engine/index.ts';
import { US_PER_SECOND } from '../../engine/types.ts';
import { ORDER_PAGE_LIMIT, pageOrders, type ListedOrder } from '../../adapters/alpaca/order-pages.ts';
import { planFreshStart } from '../../adapters/runtime/fresh-start.ts';
import { History } from '../framework/history.ts';
import type { Fault, RunContext, RunRecord } from '../framework/scenario.ts';
import type { SeededRandom } from '../framework/seeded-random.ts';

export type LostJournalVariant = 'naive' | 'newest-page' | 'scan-refuse';

export const RUN_ID = 'LJ';
export const ID_PREFIX = `${RUN_ID}-bot`;
export const SYMBOL = 'LJX';
export const STEP_US = US_PER_SECOND;
/** The bot waits this long when flat before buying again. */
export const COOLDOWN_US = 5 * US_PER_SECOND;
/** Its exit: a limit sell this many ticks above the buy's fill. */
export const EXIT_TICKS = 6;
export const FLOOD_ORDERS_PER_SECOND = 40;
/** The operator answers a refused start after this long. */
export const OPERATOR_DELAY_US = 10 * US_PER_SECOND;
/** After its process dies, a bot must run again within this long (when the run lasts that long). */
export const RESUME_US_MAX = 90 * US_PER_SECOND;

// ------------------------------------------------------------------------------------------------------
// The broker, as the bot sees it (ModelBroker in sim mode, the Alpaca fake over HTTP in real mode).

export type BrokerStatus = 'new' | 'partially_filled' | 'filled' | 'canceled';

export interface BrokerOrder extends ListedOrder {
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly status: BrokerStatus;
  readonly filledQty: number;
  /** Average fill price in ticks, NaN before a fill. */
  readonly filledPriceTicks: number;
}

export interface OrderIntent {
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly type: 'market' | 'limit';
  readonly qty: number;
  readonly limitTicks?: number;
}

export type SubmitOutcome = { readonly ok: true } | { readonly ok: false; readonly status: number; readonly message: string };

export interface BrokerPort {
  /** A trade print at `priceTicks`: the only thing that fills orders. */
  trade(priceTicks: number): Promise<void>;
  submit(order: OrderIntent): Promise<SubmitOutcome>;
  cancel(clientOrderId: string): Promise<void>;
  order(clientOrderId: string): Promise<BrokerOrder | null>;
  /** One listing page, newest first: at most ORDER_PAGE_LIMIT orders of a status submitted before `until` (exclusive). */
  listOrders(status: 'open' | 'all', until: string | undefined): Promise<BrokerOrder[]>;
  /** Signed quantity per symbol (flat symbols absent). */
  positions(): Promise<{ symbol: string; quantity: number }[]>;
}

export const isWorking = (order: BrokerOrder): boolean => order.status === 'new' || order.status === 'partially_filled';
const isRunOrder = (order: BrokerOrder): boolean => order.clientOrderId.startsWith(`${ID_PREFIX}-`);
const DUPLICATE_ID = /client_order_id must be unique/;

/**
 * The broker in virtual time: Alpaca's rules that matter here (ids unique account-wide, listing newest first by
 * submission time with an exclusive `until` in milliseconds, pages of at most ORDER_PAGE_LIMIT, market orders fill at
 * the next print, limits when a print reaches them).
 */
export class ModelBroker implements BrokerPort {
  private readonly orders: (BrokerOrder & { type: 'market' | 'limit'; limitTicks: number; submittedUs: number })[] = [];
  private readonly byClientId = new Map<string, number>();
  private position = 0;
  private lastUs = -1;

  constructor(private readonly nowUs: () => number) {}

  async trade(priceTicks: number): Promise<void> {
    for (let i = 0; i < this.orders.length; i++) {
      const order = this.orders[i];
      if (!isWorking(order)) continue;
      const reaches = order.type === 'market' || (order.side === 'buy' ? priceTicks <= order.limitTicks : priceTicks >= order.limitTicks);
      if (!reaches) continue;
      this.position += order.side === 'buy' ? 1 : -1;
      this.orders[i] = { ...order, status: 'filled', filledQty: 1, filledPriceTicks: order.type === 'market' ? priceTicks : order.limitTicks };
    }
  }

  async submit(intent: OrderIntent): Promise<SubmitOutcome> {
    if (this.byClientId.has(intent.clientOrderId)) return { ok: false, status: 422, message: 'client_order_id must be unique' };
    // Submission times strictly increase (a microsecond apart at least), like the broker's own timestamps.
    const submittedUs = Math.max(this.nowUs(), this.lastUs + 1_000);
    this.lastUs = submittedUs;
    this.byClientId.set(intent.clientOrderId, this.orders.length);
    this.orders.push({
      id: `o${this.orders.length + 1}`, clientOrderId: intent.clientOrderId, side: intent.side, type: intent.type, limitTicks: intent.limitTicks ?? NaN,
      status: 'new', filledQty: 0, filledPriceTicks: NaN, submittedUs, submittedMs: Math.floor(submittedUs / 1000),
    });
    return { ok: true };
  }

  async cancel(clientOrderId: string): Promise<void> {
    const index = this.byClientId.get(clientOrderId);
    if (index !== undefined && isWorking(this.orders[index])) this.orders[index] = { ...this.orders[index], status: 'canceled' };
  }

  async order(clientOrderId: string): Promise<BrokerOrder | null> {
    const index = this.byClientId.get(clientOrderId);
    return index === undefined ? null : this.orders[index];
  }

  async listOrders(status: 'open' | 'all', until: string | undefined): Promise<BrokerOrder[]> {
    const untilMs = until === undefined ? Infinity : Date.parse(until);
    const page: BrokerOrder[] = [];
    for (let i = this.orders.length - 1; i >= 0 && page.length < ORDER_PAGE_LIMIT; i--) {
      const order = this.orders[i];
      if (order.submittedMs >= untilMs) continue;
      if (status === 'open' && !isWorking(order)) continue;
      page.push(order);
    }
    return page;
  }

  async positions(): Promise<{ symbol: string; quantity: number }[]> {
    return this.position === 0 ? [] : [{ symbol: SYMBOL, quantity: this.position }];
  }
}

// ------------------------------------------------------------------------------------------------------
// The bot's journal (memory in sim mode, a file in real mode).

export type BotRecord =
  | { readonly k: 'intent'; readonly order: OrderIntent }
  | { readonly k: 'state'; readonly sequence: number; readonly position: number; readonly working: readonly string[] }
  | { readonly k: 'start'; readonly sequence: number; readonly reason: string };

export interface JournalPort {
  exists(): boolean;
  append(record: BotRecord): void;
  records(): BotRecord[];
  /** The fault: the journal is gone. */
  lose(): void;
}

export function memoryJournal(): JournalPort {
  let records: BotRecord[] | null = null;
  return {
    exists: () => records !== null,
    append: (record) => { (records ??= []).push(record); },
    records: () => [...(records ?? [])],
    lose: () => { records = null; },
  };
}

// ------------------------------------------------------------------------------------------------------
// Ground truth and the run.

export interface SubmitFact {
  readonly timeUs: number;
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  /** The bot's belief and the broker's position just before it sent the order. */
  readonly believedPosition: number;
  readonly brokerPosition: number;
  /** The run's orders working at the broker that the bot did not know of then. */
  readonly unknownWorking: readonly string[];
  readonly accepted: boolean;
  readonly duplicateId: boolean;
  readonly message: string;
}

export interface LostJournalTruth {
  readonly submits: readonly SubmitFact[];
  /** Each death of the bot's process, and when a bot ran again (null: never, by the end). */
  readonly outages: readonly { readonly timeUs: number; readonly kind: string; readonly restartedUs: number | null; readonly journal: 'kept' | 'new' | null }[];
  readonly refusals: readonly { readonly timeUs: number; readonly message: string }[];
  readonly endUs: number;
  readonly believedPositionAtEnd: number;
  readonly brokerPositionAtEnd: number;
  readonly unknownWorkingAtEnd: readonly string[];
}

export interface LostJournalPorts {
  readonly broker: BrokerPort;
  readonly journal: JournalPort;
  /** Resolves once scenario time `timeUs` has come (at once in sim mode). */
  readonly until: (timeUs: number) => Promise<void>;
  /** Scenario time now (the step's time in sim mode; the wall clock's in real mode). */
  readonly nowUs: () => number;
}

interface Bot {
  sequence: number;
  position: number;
  /** The run's orders the bot knows to be working (the buy on its way, or the exit). */
  working: string[];
  flatSinceUs: number;
}

type Life =
  | { readonly kind: 'running'; readonly bot: Bot }
  | { readonly kind: 'down'; readonly restartUs: number; readonly fault: string }
  | { readonly kind: 'refused'; readonly operatorUs: number }
  | { readonly kind: 'operator-closing'; readonly closingId: string | null };

const sequenceOf = (clientOrderId: string): number => clientOrderSequence(ID_PREFIX, clientOrderId);

/** The bot's state from its journal (the last state record, then intents after it as working). */
function restore(records: readonly BotRecord[]): Bot {
  const bot: Bot = { sequence: 0, position: 0, working: [], flatSinceUs: -Infinity };
  for (const record of records) {
    if (record.k === 'state') {
      bot.sequence = record.sequence;
      bot.position = record.position;
      bot.working = [...record.working];
    } else if (record.k === 'start') {
      bot.sequence = record.sequence;
    } else {
      bot.sequence = Math.max(bot.sequence, sequenceOf(record.order.clientOrderId));
      bot.working = [...bot.working, record.order.clientOrderId];
    }
  }
  return bot;
}

async function allPages(broker: BrokerPort, status: 'open' | 'all', enough: (page: readonly BrokerOrder[]) => boolean): Promise<BrokerOrder[]> {
  return (await pageOrders((until) => broker.listOrders(status, until), enough)).views;
}

/** How a new journal starts, per variant: the first sequence, or a refusal. */
async function freshStart(variant: LostJournalVariant, broker: BrokerPort, journalName: string): Promise<{ start: true; sequence: number; reason: string } | { start: false; message: string }> {
  if (variant === 'naive') return { start: true, sequence: 0, reason: 'new journal: ids from 1' };
  if (variant === 'newest-page') {
    let sequence = 0;
    for (const order of await broker.listOrders('all', undefined)) sequence = Math.max(sequence, sequenceOf(order.clientOrderId));
    return { start: true, sequence, reason: `new journal: ids after the newest page's ${ID_PREFIX}-${sequence}` };
  }
  const open = await allPages(broker, 'open', () => false);
  const held = await allPages(broker, 'all', (page) => page.some(isRunOrder));
  const plan = planFreshStart({
    runId: RUN_ID, journalPath: journalName, idPrefix: ID_PREFIX,
    workingIds: open.filter((order) => isRunOrder(order) && isWorking(order)).map((order) => order.clientOrderId),
    heldIds: held.filter(isRunOrder).map((order) => order.clientOrderId),
    positions: await broker.positions(), symbols: [SYMBOL],
  });
  return plan.start ? plan : { start: false, message: plan.message };
}

export async function runLostJournal(context: RunContext, ports: LostJournalPorts, journalName: string): Promise<RunRecord<LostJournalTruth>> {
  const variant = context.variant as LostJournalVariant;
  const { broker, journal } = ports;
  const history = new History(ports.nowUs);
  const submits: SubmitFact[] = [];
  const outages: { timeUs: number; kind: string; restartedUs: number | null; journal: 'kept' | 'new' | null }[] = [];
  const refusals: LostJournalTruth['refusals'][number][] = [];
  const priceRng = context.rng.child('price');
  let price = 10_000;
  let otherCount = 0;
  const otherWorking: string[] = [];
  let operatorCount = 0;

  const brokerPosition = async (): Promise<number> => (await broker.positions()).find((position) => position.symbol === SYMBOL)?.quantity ?? 0;
  const unknownWorking = async (bot: Bot | null): Promise<string[]> => (await allPages(broker, 'open', () => false))
    .filter((order) => isRunOrder(order) && isWorking(order) && !(bot?.working.includes(order.clientOrderId) ?? false)).map((order) => order.clientOrderId);
  const saveState = (bot: Bot): void => journal.append({ k: 'state', sequence: bot.sequence, position: bot.position, working: [...bot.working] });

  const send = async (bot: Bot, timeUs: number, side: 'buy' | 'sell', type: 'market' | 'limit', limitTicks?: number): Promise<void> => {
    const intent: OrderIntent = { clientOrderId: `${ID_PREFIX}-${++bot.sequence}`, side, type, qty: 1, ...(limitTicks === undefined ? {} : { limitTicks }) };
    journal.append({ k: 'intent', order: intent });
    const believedPosition = bot.position;
    const before = await brokerPosition();
    const unknown = await unknownWorking(bot);
    const entry = history.invoke('bot', 'submit', intent);
    const outcome = await broker.submit(intent);
    history.complete(entry, outcome.ok ? 'ok' : 'failed', null, outcome.ok ? null : outcome.message);
    submits.push({
      timeUs, clientOrderId: intent.clientOrderId, side, believedPosition, brokerPosition: before, unknownWorking: unknown, accepted: outcome.ok,
      duplicateId: !outcome.ok && DUPLICATE_ID.test(outcome.message), message: outcome.ok ? '' : outcome.message,
    });
    if (outcome.ok) bot.working.push(intent.clientOrderId);
    saveState(bot);
  };

  /** One step of the bot: learn fills of what it knows is working, then act on its belief. */
  const botStep = async (bot: Bot, timeUs: number): Promise<void> => {
    let changed = false;
    for (const id of [...bot.working]) {
      const order = await broker.order(id);
      if (order !== null && isWorking(order)) continue;
      bot.working = bot.working.filter((known) => known !== id);
      changed = true;
      if (order === null || order.status !== 'filled') continue;
      bot.position += order.side === 'buy' ? 1 : -1;
      if (order.side === 'buy') await send(bot, timeUs, 'sell', 'limit', order.filledPriceTicks + EXIT_TICKS);
      else bot.flatSinceUs = timeUs;
    }
    if (changed) saveState(bot);
    if (bot.position === 0 && bot.working.length === 0 && timeUs - bot.flatSinceUs >= COOLDOWN_US) await send(bot, timeUs, 'buy', 'market');
  };

  const faults = [...context.faults].sort((a, b) => a.atUs - b.atUs);
  let life: Life = { kind: 'down', restartUs: 0, fault: 'start' };
  journal.lose();
  for (let timeUs = 0; timeUs <= context.durationUs; timeUs += STEP_US) {
    await ports.until(timeUs);
    // The market moves: a print fills what it reaches.
    price = Math.max(100 + EXIT_TICKS, price + priceRng.between(-3, 3));
    await broker.trade(price);

    // Other bots: a flood's orders (far below the market, never filled), cancelled when it ends.
    for (const fault of faults) {
      if (fault.kind !== 'flood' || timeUs < fault.atUs) continue;
      const endUs = fault.atUs + fault.durationUs;
      if (timeUs < endUs) {
        for (let i = 0; i < (FLOOD_ORDERS_PER_SECOND * STEP_US) / US_PER_SECOND; i++) {
          const clientOrderId = `other-${++otherCount}`;
          const outcome = await broker.submit({ clientOrderId, side: 'buy', type: 'limit', qty: 1, limitTicks: 100 });
          if (outcome.ok) otherWorking.push(clientOrderId);
        }
      } else if (timeUs < endUs + STEP_US) {
        for (const id of otherWorking.splice(0)) await broker.cancel(id);
        history.note('others', 'flood-ended', { orders: otherCount });
      }
    }

    // The bot's process dies at a fault (its journal with it, for journal-lost).
    for (const fault of faults) {
      if ((fault.kind !== 'journal-lost' && fault.kind !== 'crash') || fault.atUs <= timeUs - STEP_US || fault.atUs > timeUs) continue;
      if (life.kind !== 'running') continue;
      if (fault.kind === 'journal-lost') journal.lose();
      history.note('bot', fault.kind, { journal: journal.exists() ? 'kept' : 'lost' });
      outages.push({ timeUs, kind: fault.kind, restartedUs: null, journal: null });
      life = { kind: 'down', restartUs: timeUs + Math.max(STEP_US, fault.durationUs), fault: fault.kind };
    }

    if (life.kind === 'down' && timeUs >= life.restartUs) {
      const kept = journal.exists();
      if (kept) {
        life = { kind: 'running', bot: restore(journal.records()) };
      } else {
        const plan = await freshStart(variant, broker, journalName);
        if (plan.start) {
          journal.append({ k: 'start', sequence: plan.sequence, reason: plan.reason });
          life = { kind: 'running', bot: { sequence: plan.sequence, position: 0, working: [], flatSinceUs: -Infinity } };
        } else {
          refusals.push({ timeUs, message: plan.message });
          history.note('bot', 'start-refused', { message: plan.message });
          life = { kind: 'refused', operatorUs: timeUs + OPERATOR_DELAY_US };
        }
      }
      if (life.kind === 'running') {
        for (const outage of outages) if (outage.restartedUs === null) Object.assign(outage, { restartedUs: timeUs, journal: kept ? 'kept' : 'new' });
      }
    } else if (life.kind === 'refused' && timeUs >= life.operatorUs) {
      // The operator does what the refusal says: cancels the run's working orders and closes the position.
      for (const order of await allPages(broker, 'open', () => false)) if (isRunOrder(order) && isWorking(order)) await broker.cancel(order.clientOrderId);
      const held = await brokerPosition();
      let closingId: string | null = null;
      if (held !== 0) {
        closingId = `operator-${++operatorCount}`;
        await broker.submit({ clientOrderId: closingId, side: held > 0 ? 'sell' : 'buy', type: 'market', qty: Math.abs(held) });
      }
      history.note('operator', 'closed', { cancelled: true, position: held });
      life = { kind: 'operator-closing', closingId };
    } else if (life.kind === 'operator-closing') {
      const closing = life.closingId === null ? null : await broker.order(life.closingId);
      if (closing === null || !isWorking(closing)) life = { kind: 'down', restartUs: timeUs, fault: 'operator' };
    } else if (life.kind === 'running') {
      await botStep(life.bot, timeUs);
    }
  }
  const bot = life.kind === 'running' ? life.bot : null;
  const truth: LostJournalTruth = {
    submits, outages, refusals, endUs: context.durationUs,
    believedPositionAtEnd: bot?.position ?? 0, brokerPositionAtEnd: await brokerPosition(), unknownWorkingAtEnd: bot === null ? [] : await unknownWorking(bot),
  };
  const metrics = {
    submits: submits.length, accepted: submits.filter((fact) => fact.accepted).length, duplicateIds: submits.filter((fact) => fact.duplicateId).length,
    outages: outages.length, refusals: refusals.length, otherOrders: otherCount,
  };
  return { history: history.entries, truth, metrics };
}

/** The fault kinds: the journal lost, a crash with the journal kept, a flood of other bots' orders. */
export const LOST_JOURNAL_FAULT_KINDS: readonly string[] = ['journal-lost', 'crash', 'flood'];

/**
 * The seeded faults: one or two lost journals, maybe a crash with the journal kept, and one to three floods of
 * other bots' orders (5 to 30 s: 200 to 1,200 orders), the same for every variant of a seed.
 */
export function lostJournalFaultSchedule(rng: SeededRandom, durationUs: number): Fault[] {
  const faults: Fault[] = [];
  const at = (from: number, to: number): number => Math.floor(durationUs * (from + rng.next() * (to - from)) / STEP_US) * STEP_US;
  const losses = rng.between(1, 2);
  for (let i = 0; i < losses; i++) faults.push({ kind: 'journal-lost', atUs: at(0.2, 0.7), durationUs: rng.between(5, 20) * US_PER_SECOND });
  if (rng.next() < 0.5) faults.push({ kind: 'crash', atUs: at(0.1, 0.8), durationUs: rng.between(2, 10) * US_PER_SECOND });
  const floods = rng.between(1, 3);
  for (let i = 0; i < floods; i++) faults.push({ kind: 'flood', atUs: at(0.05, 0.65), durationUs: rng.between(5, 30) * US_PER_SECOND });
  return faults.sort((a, b) => a.atUs - b.atUs || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}
