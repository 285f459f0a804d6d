// Shared by the session tests that compare order sequences: run `sim` as a child (bounded), and render the orders
// a replay engine sent and those a session journaled in one comparable form.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { generateTicks, generatedInstruments } from '../../adapters/catalog/generate-ticks.ts';
import { Journal } from '../../adapters/journal/index.ts';
import { intentKey, isOutbound, type SessionRecord } from '../../adapters/runtime/session-records.ts';
import { TapeRecorder } from '../../adapters/tape/index.ts';
import type { Engine, TickColumns } from '../../engine/index.ts';

const repository = path.resolve(import.meta.dirname, '../..');

export interface SimResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `sim ARGS` in a child process with `env`, killed (and failing) past `limitMs`. */
export function sim(args: readonly string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<SimResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repository, 'bin/sim.mjs'), ...args], { cwd: repository, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`expected sim ${args[0]} to finish within ${limitMs} ms, found it running; stderr: ${stderr}`)); }, limitMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** A tape of the first `minutes` of one generated day of seeded prints on two symbols (seed 11, one print per 2 s). */
export function recordShortTape(file: string, minutes: number): void {
  const recorder = TapeRecorder.create(file, generatedInstruments(2), {});
  let cutoffUs = -1;
  generateTicks({ symbols: 2, days: 1, seed: 11, ticksPerSecond: 0.5, chunkRows: 4096 }, (chunk) => {
    if (cutoffUs < 0) cutoffUs = chunk.timeUs[0] + minutes * 60_000_000;
    let rows = 0;
    while (rows < chunk.length && chunk.timeUs[rows] < cutoffUs) rows++;
    if (rows === 0) return;
    const part: TickColumns = {
      kind: 'ticks', length: rows, symbolIndex: chunk.symbolIndex.subarray(0, rows), timeUs: chunk.timeUs.subarray(0, rows), price: chunk.price.subarray(0, rows),
      size: chunk.size.subarray(0, rows), bid: chunk.bid?.subarray(0, rows), ask: chunk.ask?.subarray(0, rows),
    };
    recorder.append(part);
  });
  recorder.close();
}

/** What a replay engine sent, in order: orders submitted at once, and held bracket exits when released (sized then). */
export function replayedOrders(engine: Engine): string[] {
  const held = new Map<unknown, Record<string, unknown>>();
  const replayed: string[] = [];
  for (const event of engine.log.events) {
    const fields = event.type === 'order.released' ? { ...held.get(event.fields.id), quantity: event.fields.quantity } : event.fields;
    if (event.type === 'order.held') held.set(event.fields.id, event.fields);
    if (event.type === 'order.submitted' || event.type === 'order.released') {
      replayed.push(`${fields.id} ${fields.symbol} ${fields.side} ${fields.type} ${fields.quantity} limit=${fields.limit ?? '-'} stop=${fields.stop ?? '-'}`);
    }
  }
  return replayed;
}

/** The submits a session journaled (resends left out), as `replayedOrders` renders them. */
export function journaledOrders(journalPath: string): string[] {
  return Journal.readAll<SessionRecord>(journalPath).records.flatMap((record) => record.k === 'submit' && !record.resend
    ? [`${record.r.clientOrderId} ${record.r.symbol} ${record.r.side} ${record.r.type} ${record.r.quantity} limit=${record.r.limitPriceTicks ?? '-'} stop=${record.r.stopPriceTicks ?? '-'}`]
    : []);
}

/** Every outbound intent a session journaled, as `intentKey` renders it (prices and quantities included). */
export function journaledIntents(journalPath: string): string[] {
  return Journal.readAll<SessionRecord>(journalPath).records.flatMap((record) => (isOutbound(record) ? [intentKey(record)] : []));
}
