// Proves that a session started with a new journal under a run id the broker already knows (the same configuration
// gives the same run id; a journal is lost with a machine or a cleaned `runs/` folder) never reuses a client order id
// the broker has seen, and never starts flat beside what the lost session left: `sim live` against the Alpaca fake with
// fresh journals, refused while the run's position is held there, continuing the ids once it is closed, and refused
// again while an order of the run works there. The broker's history is padded with more than a listing page of other
// orders, so the run's newest id is not on the first page.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedInstruments } from '../adapters/catalog/generate-ticks.ts';
import { Journal } from '../adapters/journal/index.ts';
import { AlpacaFake } from '../adapters/alpaca/fake/index.ts';
import type { SessionRecord } from '../adapters/runtime/session-records.ts';
import { recordShortTape, sim } from './support/session-orders.ts';

const TAPE_MINUTES = 30;
const PARAMS = ['--strategy', 'sma-cross', '--param', 'fast=3', '--param', 'slow=8', '--run-id', 'FRESH', '--no-risk'];
let directory: string;
let tape: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'sim-fresh-'));
  tape = path.join(directory, 'short.arrow');
  recordShortTape(tape, TAPE_MINUTES);
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const submitted = (journalPath: string): string[] => Journal.readAll<SessionRecord>(journalPath).records.flatMap((record) => (record.k === 'submit' ? [record.r.clientOrderId] : []));
const sequenceOf = (id: string): number => Number(/-(\d+)$/.exec(id)![1]);
const SYMBOL = generatedInstruments(2)[0].symbol;

describe('a new journal under a known run id', () => {
  it('continues the ids after the broker\'s, and refuses to start while a position or an order of the run is held there', async () => {
    const fake = await AlpacaFake.start({ seed: 4, cash: '10000000', requestsPerWindowMax: 100_000 });
    const env = {
      PATH: process.env.PATH, APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secret, APCA_API_BASE_URL: fake.restUrl, APCA_STREAM_URL: fake.streamUrl,
      SIM_ALPACA_MARKET_ECHO: '1',
    };
    const auth = { 'APCA-API-KEY-ID': fake.keyId, 'APCA-API-SECRET-KEY': fake.secret };
    const live = (journal: string) => sim(['live', '--venue', 'alpaca', '--confirm-live', '--feed', `tape:${tape}`, '--speed', '0', '--journal', journal, '--json', ...PARAMS], env, 60_000);
    const post = async (body: Record<string, unknown>): Promise<number> => (await fetch(`${fake.restUrl}/v2/orders`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body),
    })).status;
    try {
      const first = path.join(directory, 'first.journal');
      const firstRun = await live(first);
      expect(firstRun.code, firstRun.stderr).toBe(0);
      const firstIds = submitted(first);
      expect(firstIds.length).toBeGreaterThanOrEqual(2);
      const firstMax = Math.max(...firstIds.map(sequenceOf));

      // Another bot on the account: 600 orders after the run's, more than one listing page, cancelled.
      for (let i = 0; i < 600; i++) expect(await post({ symbol: SYMBOL, qty: '1', side: 'buy', type: 'limit', limit_price: '1.00', time_in_force: 'gtc', client_order_id: `other-${i}` })).toBe(200);
      const cancel = await fetch(`${fake.restUrl}/v2/orders`, { method: 'DELETE', headers: auth });
      expect(cancel.status).toBeLessThan(300);

      // The journal is gone, and the run's last buy left a position at the broker (sma-cross sets no exits): a new
      // journal would start flat and never sell it, so the start is refused, naming it.
      const held = (await (await fetch(`${fake.restUrl}/v2/positions`, { headers: auth })).json() as { symbol: string; qty: string }[])
        .filter((position) => Number(position.qty) !== 0);
      expect(held.length).toBeGreaterThan(0);
      const refused = await live(path.join(directory, 'refused.journal'));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('SESSION_JOURNAL_MISSING');
      expect(refused.stderr).toContain(`${held[0].symbol} ${Number(held[0].qty)}`);
      // The trader closes it at the broker (outside the run: another client order id).
      for (const [i, position] of held.entries()) {
        const quantity = Number(position.qty);
        expect(await post({ symbol: position.symbol, qty: String(Math.abs(quantity)), side: quantity > 0 ? 'sell' : 'buy', type: 'market', time_in_force: 'day', client_order_id: `close-${i}` })).toBe(200);
        fake.pushTrade(position.symbol, '100.00', 1_000);
      }

      // Now the same configuration starts a new journal, and its ids continue after the broker's.
      const second = path.join(directory, 'second.journal');
      const secondRun = await live(second);
      expect(secondRun.code, secondRun.stderr).toBe(0);
      const secondIds = submitted(second);
      expect(secondIds.length).toBe(firstIds.length);
      expect(Math.min(...secondIds.map(sequenceOf))).toBe(firstMax + 1);
      const records = Journal.readAll<SessionRecord>(second).records;
      expect(records.filter((record) => record.k === 'adopt').map((record) => record.k === 'adopt' && record.sequence)).toEqual([firstMax]);
      expect(records.filter((record) => record.k === 'report' && record.r.type === 'rejected')).toEqual([]);
      expect(fake.stats.duplicateClientOrderIds).toBe(0);

      // An order of the run still working at the broker: it belongs to a journal this start does not have.
      const working = `${firstIds[0].replace(/-\d+$/, '')}-${firstMax + 500}`;
      expect(await post({ symbol: SYMBOL, qty: '1', side: 'sell', type: 'limit', limit_price: '9999.00', time_in_force: 'gtc', client_order_id: working })).toBe(200);
      const third = await live(path.join(directory, 'third.journal'));
      expect(third.code).not.toBe(0);
      expect(third.stderr).toContain('SESSION_JOURNAL_MISSING');
      expect(third.stderr).toContain(working);
      expect(third.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await fake.close();
    }
  }, 120_000);
});
