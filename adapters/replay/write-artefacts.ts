// Run artefacts: orders, fills, positions, closed trades and the equity curve as Parquet (through DuckDB), the
// ordered event log as JSON lines, and report.json with the manifest and the run digest. Each file is written
// under a temporary name and renamed into place, so a crashed run never leaves a half-written artefact.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { formatScaled, formatTimeUs, type Engine, type EngineEvent } from '../../engine/index.ts';
import { appendColumns, openDuckDB, sqlString, type AppendColumn } from '../catalog/duckdb-columns.ts';
import type { ReplayResult } from './run-replay.ts';

interface TableSpec {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: 'DOUBLE' | 'INTEGER' | 'VARCHAR'; readonly time?: boolean }[];
  readonly data: readonly AppendColumn[];
  readonly length: number;
}

async function writeParquet(dir: string, spec: TableSpec, session: Awaited<ReturnType<typeof openDuckDB>>): Promise<string> {
  const { connection } = session;
  const table = `artefact_${spec.name}`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${table} (${spec.columns.map((c) => `"${c.name}" ${c.type}`).join(', ')})`);
  if (spec.length > 0) await appendColumns(connection, table, spec.data, spec.length);
  const select = spec.columns.map((c) => (c.time ? `make_timestamp("${c.name}"::BIGINT) AS "${c.name.replace(/Us$/, '')}"` : `"${c.name}"`)).join(', ');
  const file = path.join(dir, `${spec.name}.parquet`);
  const temporary = `${file}.tmp`;
  await connection.run(`COPY (SELECT ${select} FROM ${table}) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION zstd)`);
  await connection.run(`DROP TABLE ${table}`);
  await fs.rename(temporary, file);
  return file;
}

async function writeText(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  await fs.writeFile(temporary, text);
  await fs.rename(temporary, file);
}

/** The event log as JSON lines (each event's canonical line), streamed in batches to a temporary file, then renamed. */
async function writeEvents(file: string, log: Engine['log']): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    let batch = '';
    for (let i = 0; i < log.length; i++) {
      batch += `${log.line(i)}\n`;
      if (batch.length > 1 << 20) {
        await handle.write(batch);
        batch = '';
      }
    }
    await handle.write(batch);
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}

function ordersTable(engine: Engine): TableSpec {
  const orders = [...engine.orders.values()];
  const n = orders.length;
  const price = (ticks: number | undefined, s: number): number => (ticks === undefined ? NaN : ticks / engine.scales[s].ticksPerUnit);
  return {
    name: 'orders', length: n,
    columns: [
      { name: 'createdUs', type: 'DOUBLE', time: true }, { name: 'client_order_id', type: 'VARCHAR' }, { name: 'symbol', type: 'VARCHAR' },
      { name: 'side', type: 'VARCHAR' }, { name: 'type', type: 'VARCHAR' }, { name: 'time_in_force', type: 'VARCHAR' }, { name: 'role', type: 'VARCHAR' },
      { name: 'quantity', type: 'DOUBLE' }, { name: 'filled_quantity', type: 'DOUBLE' }, { name: 'average_fill_price', type: 'DOUBLE' },
      { name: 'limit_price', type: 'DOUBLE' }, { name: 'stop_price', type: 'DOUBLE' }, { name: 'status', type: 'VARCHAR' }, { name: 'reason', type: 'VARCHAR' },
      { name: 'parent_client_order_id', type: 'VARCHAR' }, { name: 'oco_client_order_id', type: 'VARCHAR' },
    ],
    data: [
      { type: 'DOUBLE', values: Float64Array.from(orders, (o) => o.createdUs) },
      { type: 'VARCHAR', values: orders.map((o) => o.clientOrderId) },
      { type: 'VARCHAR', values: orders.map((o) => o.symbol) },
      { type: 'VARCHAR', values: orders.map((o) => o.side) },
      { type: 'VARCHAR', values: orders.map((o) => o.type) },
      { type: 'VARCHAR', values: orders.map((o) => o.timeInForce) },
      { type: 'VARCHAR', values: orders.map((o) => o.role) },
      { type: 'DOUBLE', values: Float64Array.from(orders, (o) => o.quantity / engine.scales[o.symbolIndex].lotsPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(orders, (o) => o.filledQuantity / engine.scales[o.symbolIndex].lotsPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(orders, (o) => price(o.filledQuantity > 0 ? o.averageFillPriceTicks : undefined, o.symbolIndex)) },
      { type: 'DOUBLE', values: Float64Array.from(orders, (o) => price(o.limitPriceTicks, o.symbolIndex)) },
      { type: 'DOUBLE', values: Float64Array.from(orders, (o) => price(o.stopPriceTicks, o.symbolIndex)) },
      { type: 'VARCHAR', values: orders.map((o) => o.status) },
      { type: 'VARCHAR', values: orders.map((o) => o.reason ?? null) },
      { type: 'VARCHAR', values: orders.map((o) => o.parentClientOrderId ?? null) },
      { type: 'VARCHAR', values: orders.map((o) => o.ocoWithClientOrderId ?? null) },
    ],
  };
}

function fillsTable(engine: Engine): TableSpec {
  const fills: EngineEvent[] = [];
  for (let i = 0; i < engine.log.length; i++) if (engine.log.typeAt(i) === 'order.filled') fills.push(engine.log.eventAt(i));
  const scaleOf = (symbol: string) => engine.scales[engine.symbolIndex(symbol)];
  return {
    name: 'fills', length: fills.length,
    columns: [
      { name: 'timeUs', type: 'DOUBLE', time: true }, { name: 'fill_id', type: 'VARCHAR' }, { name: 'client_order_id', type: 'VARCHAR' },
      { name: 'symbol', type: 'VARCHAR' }, { name: 'side', type: 'VARCHAR' }, { name: 'quantity', type: 'DOUBLE' }, { name: 'price', type: 'DOUBLE' },
      { name: 'fee', type: 'DOUBLE' }, { name: 'liquidity', type: 'VARCHAR' }, { name: 'position_after', type: 'DOUBLE' },
    ],
    data: [
      { type: 'DOUBLE', values: Float64Array.from(fills, (e) => e.timeUs) },
      { type: 'VARCHAR', values: fills.map((e) => String(e.fields.fillId)) },
      { type: 'VARCHAR', values: fills.map((e) => String(e.fields.id)) },
      { type: 'VARCHAR', values: fills.map((e) => String(e.fields.symbol)) },
      { type: 'VARCHAR', values: fills.map((e) => String(e.fields.side)) },
      { type: 'DOUBLE', values: Float64Array.from(fills, (e) => Number(e.fields.quantity) / scaleOf(String(e.fields.symbol)).lotsPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(fills, (e) => Number(e.fields.price) / scaleOf(String(e.fields.symbol)).ticksPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(fills, (e) => Number(e.fields.fee) / 1e6) },
      { type: 'VARCHAR', values: fills.map((e) => String(e.fields.liquidity)) },
      { type: 'DOUBLE', values: Float64Array.from(fills, (e) => Number(e.fields.position) / scaleOf(String(e.fields.symbol)).lotsPerUnit) },
    ],
  };
}

function positionsTable(engine: Engine): TableSpec {
  const p = engine.portfolio;
  const n = engine.scales.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  return {
    name: 'positions', length: n,
    columns: [
      { name: 'symbol', type: 'VARCHAR' }, { name: 'quantity', type: 'DOUBLE' }, { name: 'average_price', type: 'DOUBLE' },
      { name: 'mark_price', type: 'DOUBLE' }, { name: 'market_value', type: 'DOUBLE' },
    ],
    data: [
      { type: 'VARCHAR', values: idx.map((s) => engine.scales[s].instrument.symbol) },
      { type: 'DOUBLE', values: Float64Array.from(idx, (s) => p.position[s] / engine.scales[s].lotsPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(idx, (s) => p.averagePriceTicks(s) / engine.scales[s].ticksPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(idx, (s) => p.markTicks[s] / engine.scales[s].ticksPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(idx, (s) => (p.position[s] * p.markTicks[s] * engine.scales[s].cashPerTickLot) / 1e6) },
    ],
  };
}

function tradesTable(engine: Engine): TableSpec {
  const trades = engine.portfolio.closedTrades;
  return {
    name: 'trades', length: trades.length,
    columns: [
      { name: 'openUs', type: 'DOUBLE', time: true }, { name: 'closeUs', type: 'DOUBLE', time: true }, { name: 'symbol', type: 'VARCHAR' },
      { name: 'direction', type: 'VARCHAR' }, { name: 'quantity', type: 'DOUBLE' }, { name: 'gross_pnl', type: 'DOUBLE' }, { name: 'fees', type: 'DOUBLE' },
      { name: 'pnl', type: 'DOUBLE' },
    ],
    data: [
      { type: 'DOUBLE', values: Float64Array.from(trades, (t) => t.openUs) },
      { type: 'DOUBLE', values: Float64Array.from(trades, (t) => t.closeUs) },
      { type: 'VARCHAR', values: trades.map((t) => t.symbol) },
      { type: 'VARCHAR', values: trades.map((t) => t.direction) },
      { type: 'DOUBLE', values: Float64Array.from(trades, (t) => t.quantity / engine.scales[engine.symbolIndex(t.symbol)].lotsPerUnit) },
      { type: 'DOUBLE', values: Float64Array.from(trades, (t) => t.grossPnlCash / 1e6) },
      { type: 'DOUBLE', values: Float64Array.from(trades, (t) => t.feesCash / 1e6) },
      { type: 'DOUBLE', values: Float64Array.from(trades, (t) => t.pnlCash / 1e6) },
    ],
  };
}

function equityTable(curve: ReplayResult['curve']): TableSpec {
  const n = curve.timeUs.length;
  const equity = new Float64Array(n);
  for (let i = 0; i < n; i++) equity[i] = curve.equityCash[i] / 1e6;
  return {
    name: 'equity', length: n,
    columns: [{ name: 'timeUs', type: 'DOUBLE', time: true }, { name: 'equity', type: 'DOUBLE' }, { name: 'trading_day', type: 'INTEGER' }],
    data: [{ type: 'DOUBLE', values: curve.timeUs.subarray(0, n) }, { type: 'DOUBLE', values: equity }, { type: 'INTEGER', values: curve.dayIndex.subarray(0, n) }],
  };
}

/** The JSON report of a run: what `--json` prints and what report.json holds. */
export function buildReport(result: ReplayResult, outDir: string | null): Record<string, unknown> {
  const s = result.summary;
  const engine = result.engine;
  const cash = (value: number): number => Number(formatScaled(Math.round(value), 6));
  return {
    runDigest: result.runDigest,
    trades: s.closedTrades,
    winRate: s.winRate,
    realizedPnl: result.realizedPnl,
    totalPnl: result.totalPnl,
    fees: result.fees,
    returnFraction: s.returnFraction,
    maxDrawdown: cash(s.maxDrawdownCash),
    maxDrawdownFraction: s.maxDrawdownFraction,
    sharpe: s.sharpe,
    sortino: s.sortino,
    returnBasis: s.returnBasis,
    exposure: s.exposureFraction,
    riskDenials: result.riskDenials,
    finalEquity: cash(s.finalEquityCash),
    openPositions: engine.scales.map((sc, i) => ({ symbol: sc.instrument.symbol, quantity: engine.portfolio.position[i] / sc.lotsPerUnit })).filter((p) => p.quantity !== 0),
    bars: result.bars,
    ticks: result.ticks,
    events: engine.log.length,
    skippedRows: result.skipped ? { total: result.skipped.total, counts: result.skipped.counts } : null,
    manifest: {
      codeVersion: result.codeVersion,
      configHash: result.configHash,
      dataDigest: result.dataDigest,
      seed: (result.config as { seed: number }).seed,
      runId: result.runId,
      config: result.config,
      dates: result.dates,
      firstEventUs: engine.log.length > 0 ? engine.log.timeAt(0) : null,
      firstEventTime: engine.log.length > 0 ? formatTimeUs(engine.log.timeAt(0)) : null,
    },
    artefacts: outDir === null ? null : {
      dir: outDir, orders: 'orders.parquet', fills: 'fills.parquet', positions: 'positions.parquet', trades: 'trades.parquet',
      equity: 'equity.parquet', events: 'events.jsonl', report: 'report.json',
    },
  };
}

export async function writeArtefacts(result: ReplayResult, outDir: string): Promise<Record<string, unknown>> {
  await fs.mkdir(outDir, { recursive: true });
  const session = await openDuckDB(1);
  try {
    for (const spec of [ordersTable(result.engine), fillsTable(result.engine), positionsTable(result.engine), tradesTable(result.engine), equityTable(result.curve)]) {
      await writeParquet(outDir, spec, session);
    }
  } finally {
    session.close();
  }
  await writeEvents(path.join(outDir, 'events.jsonl'), result.engine.log);
  const report = buildReport(result, outDir);
  await writeText(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
