// Real mode of lost-journal: the broker is the Alpaca fake on loopback, spoken to over HTTP with Alpaca's wire
// (orders, lookups by client order id, the paged listing, positions; 422 for a client order id seen before), and
// the bot's journal is a real fsync'd file (adapters/journal) that the fault deletes from disk. Prints are pushed
// into the fake, which fills what they reach. Scenario time runs on the wall clock, compressed by `time-scale`.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimError } from '../../../engine/errors.ts';
import { AlpacaFake } from '../../alpaca/fake/index.ts';
import { ALPACA_TERMINAL_STATUSES, type AlpacaOrderStatus } from '../../alpaca/alpaca-wire.ts';
import { decimalToScaled, scaledToDecimal } from '../../alpaca/decimal-units.ts';
import { ORDER_PAGE_LIMIT } from '../../alpaca/order-pages.ts';
import { Journal } from '../../journal/index.ts';
import type { RunContext, RunRecord } from '../../../scenarios/framework/scenario.ts';
import {
  SYMBOL, runLostJournal, type BotRecord, type BrokerOrder, type BrokerPort, type BrokerStatus, type JournalPort, type LostJournalTruth, type OrderIntent,
} from '../../../scenarios/lost-journal/model.ts';
import { WallClockScheduler } from '../wall-clock-scheduler.ts';

interface OrderWire {
  id: string; client_order_id: string; side: 'buy' | 'sell'; status: AlpacaOrderStatus; filled_qty: string; filled_avg_price: string | null; submitted_at: string;
}

/** The scenario's prices are cents. */
const PRICE_SCALE = 2;
const decimalOf = (ticks: number): string => scaledToDecimal(ticks, PRICE_SCALE);

function brokerOrderOf(wire: OrderWire): BrokerOrder {
  const status: BrokerStatus = wire.status === 'filled' || wire.status === 'partially_filled' ? wire.status : ALPACA_TERMINAL_STATUSES.has(wire.status) ? 'canceled' : 'new';
  return {
    id: wire.id, clientOrderId: wire.client_order_id, side: wire.side, status, filledQty: Number(wire.filled_qty), filledPriceTicks: wire.filled_avg_price === null ? NaN : decimalToScaled(wire.filled_avg_price, PRICE_SCALE, 'nearest', `filled_avg_price of ${wire.id}`),
    submittedMs: Date.parse(wire.submitted_at),
  };
}

/** The Alpaca fake over HTTP, as the bot's broker. */
class FakeBroker implements BrokerPort {
  private readonly headers: Record<string, string>;

  constructor(private readonly fake: AlpacaFake) {
    this.headers = { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret };
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${this.fake.restUrl}${path}`, {
      method, headers: body === undefined ? this.headers : { ...this.headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? null : JSON.parse(text) };
  }

  async trade(priceTicks: number): Promise<void> {
    this.fake.pushTrade(SYMBOL, decimalOf(priceTicks), 1_000_000);
  }

  async submit(order: OrderIntent): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
    const { status, json } = await this.request('POST', '/v2/orders', {
      symbol: SYMBOL, qty: String(order.qty), side: order.side, type: order.type, time_in_force: 'gtc', client_order_id: order.clientOrderId,
      ...(order.limitTicks === undefined ? {} : { limit_price: decimalOf(order.limitTicks) }),
    });
    if (status === 200) return { ok: true };
    return { ok: false, status, message: String((json as { message?: unknown } | null)?.message ?? `HTTP ${status}`) };
  }

  async cancel(clientOrderId: string): Promise<void> {
    const order = await this.order(clientOrderId);
    if (order === null) return;
    const { status } = await this.request('DELETE', `/v2/orders/${order.id}`);
    if (status >= 300 && status !== 422) throw new SimError('FAKE_HTTP_STATUS', `expected the fake to cancel ${clientOrderId}, found HTTP ${status}`);
  }

  async order(clientOrderId: string): Promise<BrokerOrder | null> {
    const { status, json } = await this.request('GET', `/v2/orders:by_client_order_id?client_order_id=${encodeURIComponent(clientOrderId)}`);
    if (status === 404) return null;
    if (status !== 200) throw new SimError('FAKE_HTTP_STATUS', `expected order ${clientOrderId} from the fake, found HTTP ${status}`);
    return brokerOrderOf(json as OrderWire);
  }

  async listOrders(status: 'open' | 'all', until: string | undefined): Promise<BrokerOrder[]> {
    const query = new URLSearchParams({ status, limit: String(ORDER_PAGE_LIMIT), direction: 'desc', ...(until === undefined ? {} : { until }) });
    const response = await this.request('GET', `/v2/orders?${query}`);
    if (response.status !== 200) throw new SimError('FAKE_HTTP_STATUS', `expected a page of orders from the fake, found HTTP ${response.status}`);
    return (response.json as OrderWire[]).map(brokerOrderOf);
  }

  async positions(): Promise<{ symbol: string; quantity: number }[]> {
    const { status, json } = await this.request('GET', '/v2/positions');
    if (status !== 200) throw new SimError('FAKE_HTTP_STATUS', `expected positions from the fake, found HTTP ${status}`);
    return (json as { symbol: string; qty: string }[]).map((position) => ({ symbol: position.symbol, quantity: Number(position.qty) }));
  }
}

/** The bot's journal as a real file; losing it deletes the file. */
function fileJournal(path: string): JournalPort & { close(): void } {
  let journal: Journal | null = null;
  return {
    exists: () => existsSync(path),
    append(record: BotRecord) {
      journal ??= Journal.open(path);
      journal.append(record);
    },
    records: () => (existsSync(path) ? Journal.readAll<BotRecord>(path).records : []),
    lose() {
      journal?.close();
      journal = null;
      rmSync(path, { force: true });
    },
    close() {
      journal?.close();
      journal = null;
    },
  };
}

export async function runLostJournalReal(context: RunContext): Promise<RunRecord<LostJournalTruth>> {
  const directory = mkdtempSync(join(tmpdir(), 'sim-lost-journal-'));
  const journalPath = join(directory, 'bot.journal');
  const fake = await AlpacaFake.start({ seed: context.seed, cash: '100000000', requestsPerWindowMax: 10_000_000 });
  const scheduler = new WallClockScheduler(Number(context.options['time-scale']));
  const journal = fileJournal(journalPath);
  // How far behind scenario time a step started (HTTP round trips of a flood, load): reported, not judged.
  let lateUsMax = 0;
  const until = async (timeUs: number): Promise<void> => {
    await scheduler.runUntil(timeUs);
    lateUsMax = Math.max(lateUsMax, scheduler.nowUs() - timeUs);
  };
  try {
    const record = await runLostJournal(context, { broker: new FakeBroker(fake), journal, nowUs: () => scheduler.nowUs(), until }, journalPath);
    return { ...record, details: { ...record.details, stepLateUsMax: lateUsMax, fakeRequests: fake.stats.requests, duplicateClientOrderIds: fake.stats.duplicateClientOrderIds } };
  } finally {
    journal.close();
    scheduler.dispose();
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
