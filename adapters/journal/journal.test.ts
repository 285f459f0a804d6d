// Proves the journal and state file on real files: records round-trip, a torn tail cut at every byte offset of the last record is detected and truncated on open, mid-file corruption is refused, and old state shapes migrate or are refused.
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSimError } from '../../engine/errors.ts';
import { Journal, JOURNAL_HEADER, RECORD_BYTES_MAX, migrateState, readAll, readState, writeStateAtomic, STATE_VERSION } from './index.ts';

const directory = mkdtempSync(join(tmpdir(), 'sim-journal-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = (): string => join(directory, `journal-${++fileCounter}.bin`);

describe('Journal', () => {
  it('round-trips records across close and reopen, in both durability modes', () => {
    for (const durability of ['every-append', 'batched'] as const) {
      const path = freshPath();
      const journal = Journal.open(path, { durability });
      for (let index = 0; index < 50; index += 1) journal.append({ index, text: `record ${index} ✓` });
      journal.close();
      const reopened = Journal.open(path);
      expect(reopened.droppedTailBytes).toBe(0);
      expect(reopened.existingRecords).toHaveLength(50);
      reopened.append({ index: 50 });
      reopened.close();
      const read = readAll<{ index: number }>(path);
      expect(read.tornTailBytes).toBe(0);
      expect(read.records.map((record) => record.index)).toEqual(Array.from({ length: 51 }, (_, index) => index));
    }
  });

  it('detects a torn tail cut at every byte offset of the last record and truncates it on open', () => {
    const path = freshPath();
    const journal = Journal.open(path);
    journal.append({ first: true });
    journal.append({ second: 'two' });
    const beforeLast = journal.sizeBytes();
    journal.append({ last: 'a longer last record with some text in it', n: 12345 });
    const full = journal.sizeBytes();
    journal.close();
    const original = readFileSync(path);
    for (let cut = beforeLast; cut < full; cut += 1) {
      const tornPath = join(directory, `torn-${cut}.bin`);
      writeFileSync(tornPath, original.subarray(0, cut));
      const read = readAll(tornPath);
      expect(read.records).toEqual([{ first: true }, { second: 'two' }]);
      expect(read.tornTailBytes).toBe(cut - beforeLast);
      const reopened = Journal.open(tornPath);
      expect(reopened.droppedTailBytes).toBe(cut - beforeLast);
      reopened.append({ after: cut });
      reopened.close();
      expect(statSync(tornPath).size).toBeGreaterThan(beforeLast);
      const again = readAll(tornPath);
      expect(again.tornTailBytes).toBe(0);
      expect(again.records).toEqual([{ first: true }, { second: 'two' }, { after: cut }]);
    }
  });

  it('treats a garbled last record as a torn tail but refuses a garbled record followed by good ones', () => {
    const path = freshPath();
    const journal = Journal.open(path);
    journal.append({ a: 1 });
    journal.append({ b: 2 });
    journal.close();
    const bytes = readFileSync(path);
    const lastByte = bytes.length - 2;
    const garbledLast = Buffer.from(bytes);
    garbledLast[lastByte] ^= 0xff;
    writeFileSync(path, garbledLast);
    expect(readAll(path).records).toEqual([{ a: 1 }]);
    const garbledFirst = Buffer.from(bytes);
    garbledFirst[JOURNAL_HEADER.length + 9] ^= 0xff;
    writeFileSync(path, garbledFirst);
    expect(() => readAll(path)).toThrow(expect.objectContaining({ code: 'JOURNAL_CORRUPT' }));
  });

  it('refuses a corrupt length field mid-file (above the maximum, past the end, or zero) and leaves the file byte for byte as it was', () => {
    const path = freshPath();
    const journal = Journal.open(path);
    for (let index = 0; index < 5; index += 1) journal.append({ index, pad: 'x'.repeat(50) });
    journal.close();
    const original = readFileSync(path);
    const second = JOURNAL_HEADER.length + 8 + original.readUInt32LE(JOURNAL_HEADER.length);
    const lengthOfSecond = original.readUInt32LE(second);
    const third = second + 8 + lengthOfSecond;
    const cases: Array<[string, number, string]> = [
      ['a bit flip in the high byte', lengthOfSecond ^ 0x4000_0000, `expected a record length of at most 16777216 at byte ${second} of ${path}, found ${lengthOfSecond ^ 0x4000_0000}`],
      ['a length past the end of the file', lengthOfSecond + 10_000, `expected only a torn tail after the bad frame at byte ${second} of ${path} (length ${lengthOfSecond + 10_000}`],
      ['a zero length', 0, `expected only a torn tail after the bad frame at byte ${second} of ${path} (length 0`],
    ];
    for (const [label, length, message] of cases) {
      const damaged = Buffer.from(original);
      damaged.writeUInt32LE(length, second);
      writeFileSync(path, damaged);
      for (const attempt of [() => readAll(path), () => Journal.open(path)]) {
        let caught: unknown;
        try { attempt(); } catch (error) { caught = error; }
        expect(isSimError(caught) && caught.code, label).toBe('JOURNAL_CORRUPT');
        expect((caught as Error).message, label).toContain(message);
        if (length <= RECORD_BYTES_MAX) expect((caught as Error).message, label).toContain(`found a valid record at byte ${third}`);
      }
      expect(readFileSync(path).equals(damaged), label).toBe(true);
      expect(readdirSync(directory).filter((name) => name.startsWith(`${path.split('/').pop()!}.torn`)), label).toEqual([]);
    }
  });

  it('refuses a length above the maximum in the last frame header, with nothing after it', () => {
    const path = freshPath();
    const journal = Journal.open(path);
    journal.append({ a: 1 });
    journal.close();
    const header = Buffer.alloc(8);
    header.writeUInt32LE(RECORD_BYTES_MAX + 1, 0);
    appendFileSync(path, header);
    expect(() => readAll(path)).toThrow(expect.objectContaining({ code: 'JOURNAL_CORRUPT' }));
  });

  it('saves every torn tail to <journal>.torn-<n> before cutting it, zero-filled tails included', () => {
    const path = freshPath();
    const journal = Journal.open(path);
    journal.append({ first: true });
    const beforeLast = journal.sizeBytes();
    journal.append({ last: 'the record a crash tore' });
    journal.close();
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 5));
    const reopened = Journal.open(path);
    expect(reopened.droppedTailBytes).toBe(full.length - 5 - beforeLast);
    expect(reopened.droppedTailFile).toBe(`${path}.torn-1`);
    reopened.close();
    expect(readFileSync(`${path}.torn-1`).equals(full.subarray(beforeLast, full.length - 5))).toBe(true);
    expect(statSync(path).size).toBe(beforeLast);
    // A crash that extended the file with zeros (the length field reads 0): a torn tail, saved beside the first.
    appendFileSync(path, Buffer.alloc(4096));
    const zeroFilled = Journal.open(path);
    expect(zeroFilled.droppedTailBytes).toBe(4096);
    expect(zeroFilled.droppedTailFile).toBe(`${path}.torn-2`);
    zeroFilled.append({ after: true });
    zeroFilled.close();
    expect(readFileSync(`${path}.torn-2`).equals(Buffer.alloc(4096))).toBe(true);
    expect(readAll(path)).toMatchObject({ records: [{ first: true }, { after: true }], tornTailBytes: 0 });
    const clean = Journal.open(path);
    expect(clean.droppedTailFile).toBeUndefined();
    clean.close();
    expect(existsSync(`${path}.torn-3`)).toBe(false);
    expect(readdirSync(directory).filter((name) => name.includes('.torn-tmp'))).toEqual([]);
  });

  it('bounds the unsynced records of a batched journal', () => {
    const journal = Journal.open(freshPath(), { durability: 'batched', batchRecordsMax: 3 });
    journal.append(1);
    journal.append(2);
    expect(journal.pendingRecords()).toBe(2);
    journal.append(3);
    expect(journal.pendingRecords()).toBe(0);
    journal.append(4);
    journal.flush();
    expect(journal.pendingRecords()).toBe(0);
    journal.close();
  });

  it('recovers a file cut inside its header', () => {
    const path = freshPath();
    Journal.open(path).close();
    truncateSync(path, 3);
    const journal = Journal.open(path);
    expect(journal.droppedTailBytes).toBe(3);
    journal.append({ ok: true });
    journal.close();
    expect(readAll(path)).toMatchObject({ records: [{ ok: true }], tornTailBytes: 0 });
  });
});

describe('state file', () => {
  const current = {
    version: STATE_VERSION, savedAtUs: 1_700_000_000_000_000,
    orders: [{ clientOrderId: 'o-1', symbol: 'AAPL', side: 'buy', type: 'stop-limit', timeInForce: 'gtc', quantity: 10, filledQuantity: 0, status: 'accepted', limitPriceTicks: 15000, stopPriceTicks: 14990, epoch: 7 }],
    positions: [{ symbol: 'AAPL', quantity: -5 }],
    signals: [{ strategyId: 's', symbol: 'AAPL', side: 'sell', barStartUs: 1_699_999_940_000_000 }],
  };

  it('writes atomically and reads back the same state, leaving no temp file', () => {
    const path = join(directory, 'state.json');
    writeStateAtomic(path, current);
    writeStateAtomic(path, { ...current, savedAtUs: current.savedAtUs + 1 });
    expect(readState(path)).toEqual({ ...current, savedAtUs: current.savedAtUs + 1 });
    expect(readdirSync(directory).filter((name) => name.includes('.tmp'))).toEqual([]);
    expect(readState(join(directory, 'missing.json'))).toBeNull();
  });

  it('migrates version 1 shapes: upper-case enums and renamed fields', () => {
    const old = {
      saved_at_us: 1_700_000_000_000_000,
      orders: [{ client_order_id: 'o-1', symbol: 'AAPL', side: 'BUY', order_type: 'STOP_LIMIT', time_in_force: 'GTC', qty: 10, filled_qty: 0, status: 'NEW', limit_price: 15000, stop_price: 14990, epoch: 7 }],
      positions: [{ symbol: 'AAPL', qty: -5 }],
      signals: [{ strategy_id: 's', symbol: 'AAPL', side: 'SELL', bar_time_us: 1_699_999_940_000_000 }],
    };
    expect(migrateState(old)).toEqual(current);
    expect(migrateState({ ...old, orders: [{ ...old.orders[0], status: 'FILLED' }] }).orders[0].status).toBe('filled');
  });

  it('refuses what it cannot migrate with STATE_UNMIGRATABLE and a message saying what it expected', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ version: 1, saved_at_us: 1, signals: [{ strategy_id: 's', symbol: 'AAPL', side: 'BUY' }] }, /expected a bar timestamp .* found none/],
      [{ version: 9, savedAtUs: 1 }, /expected state version 1 or 2, found 9/],
      [{ version: 1, saved_at_us: 1, orders: [{ client_order_id: 'o', symbol: 'A', side: 'HOLD', type: 'market', qty: 1, status: 'NEW' }] }, /expected one of buy, sell at state.orders\[0\].side, found "HOLD"/],
      [{ version: 1, saved_at_us: 1, orders: [{ client_order_id: 'o', symbol: 'A', side: 'BUY', type: 'limit', qty: 1, status: 'NEW', limit_price: 150.25 }] }, /expected an integer at state.orders\[0\].limitPriceTicks, found 150.25/],
      ['not an object', /expected an object at state/],
    ];
    for (const [raw, message] of cases) {
      let caught: unknown;
      try { migrateState(raw); } catch (error) { caught = error; }
      expect(isSimError(caught) && caught.code).toBe('STATE_UNMIGRATABLE');
      expect((caught as Error).message).toMatch(message);
    }
  });
});
