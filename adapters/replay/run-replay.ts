// One replay run: resolve the strategy and its parameters, open the data (catalog or tape), build the engine
// with the simulated venue, stream the chunks through it, and summarize. Everything that decides the result
// goes into the config hash; the run digest is the hash of the engine's ordered event log.
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  Engine, SimulatedVenue, SeededRng, SimError, resolveParams, parseDate, formatScaled,
  CASH_UNITS_PER_CURRENCY, type FillMode, type IntrabarPolicy, type Instrument, type RiskLimits, type MarketDataChunk,
  type ClosedTrade, type ParamValues,
} from '../../engine/index.ts';
import type { RunSummary } from '../../engine/analytics/index.ts';
import { findStrategy } from '../../strategies/index.ts';
import { openCatalog, type BadRowsReport } from '../catalog/index.ts';
import { codeVersion } from './code-version.ts';

export interface ReplayOptions {
  readonly catalogDir: string;
  readonly fromDate: string;
  readonly toDate: string;
  readonly symbols?: readonly string[];
  readonly strategy: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly seed: number;
  readonly fill: FillMode;
  readonly intrabar: IntrabarPolicy;
  readonly feesBps: number;
  readonly feeMinimum: number;
  readonly slippageBps: number;
  /** Adverse slippage in ticks on market and stop fills (added to the bps part). */
  readonly slippageTicks?: number;
  readonly latencyMs: number;
  /** Extra latency drawn uniformly from [0, latencyJitterMs] with the seed. */
  readonly latencyJitterMs: number;
  readonly maxVolumeShare: number;
  readonly initialCash: number;
  readonly risk: RiskOptions;
  readonly skipBad: boolean;
  /** Catalog data to replay: 1-minute bars (default) or trade ticks (tick mode, bars built from the ticks). */
  readonly dataKind?: 'bars' | 'ticks';
  /** Data source: the catalog (default) or an already opened chunk stream (tapes, sessions). */
  readonly source?: ReplaySource;
  /** Progress callback: fraction done in [0, 1]. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly checkLedger?: boolean;
  /** The run id in client order ids (default: the config hash's first 8 hex digits). */
  readonly runId?: string;
  /**
   * Catalog chunks kept from an earlier run with the same data (a sweep runs many over one query): read once,
   * then replayed from memory. The engine never writes to a chunk.
   */
  readonly dataCache?: ReplayDataCache;
}

export type ReplayDataCache = Map<string, { readonly chunks: readonly MarketDataChunk[]; readonly skipped: BadRowsReport | undefined }>;

/** Risk limits in user units (currency, instrument units, fractions), converted for the engine. */
export interface RiskOptions {
  readonly maxPosition?: number;
  readonly maxGrossNotional?: number;
  readonly maxOpenOrders?: number;
  readonly riskPerTrade?: number;
  readonly dailyLossLimit?: number;
  readonly dailyLossAction?: 'reduce' | 'halt';
  readonly priceBand?: number;
  readonly ordersPerMinute?: number;
}

export const DEFAULT_RISK: RiskOptions = {
  maxGrossNotional: 400_000,
  maxOpenOrders: 50,
  riskPerTrade: 0.01,
  dailyLossLimit: 2_000,
  dailyLossAction: 'reduce',
  priceBand: 0.1,
  ordersPerMinute: 120,
};

export interface ReplaySource {
  readonly kind: 'tape' | 'session';
  readonly path: string;
  readonly instruments: readonly Instrument[];
  readonly dataDigest: string;
  readonly chunks: AsyncIterable<MarketDataChunk>;
  readonly fromDate: string;
  readonly toDate: string;
}

export interface ReplayResult {
  readonly runDigest: string;
  readonly configHash: string;
  readonly dataDigest: string;
  readonly codeVersion: string;
  readonly runId: string;
  readonly config: Record<string, unknown>;
  readonly instruments: readonly Instrument[];
  readonly dates: readonly string[];
  readonly bars: number;
  readonly ticks: number;
  readonly summary: RunSummary;
  readonly trades: readonly ClosedTrade[];
  readonly realizedPnl: number;
  readonly totalPnl: number;
  readonly fees: number;
  readonly riskDenials: Readonly<Record<string, number>>;
  readonly skipped: BadRowsReport | undefined;
  readonly engine: Engine;
  /** The equity curve as contiguous columns. */
  readonly curve: { timeUs: Float64Array; equityCash: Float64Array; dayIndex: Int32Array };
}

export function toRiskLimits(risk: RiskOptions, lotsPerUnit: number): RiskLimits {
  return {
    maxPositionLots: risk.maxPosition === undefined ? undefined : Math.round(risk.maxPosition * lotsPerUnit),
    maxGrossNotionalCash: risk.maxGrossNotional === undefined ? undefined : Math.round(risk.maxGrossNotional * CASH_UNITS_PER_CURRENCY),
    maxOpenOrders: risk.maxOpenOrders,
    riskPerTradeFraction: risk.riskPerTrade,
    dailyLossLimitCash: risk.dailyLossLimit === undefined ? undefined : Math.round(risk.dailyLossLimit * CASH_UNITS_PER_CURRENCY),
    dailyLossAction: risk.dailyLossAction,
    priceBandFraction: risk.priceBand,
    orderRate: risk.ordersPerMinute === undefined ? undefined : { count: risk.ordersPerMinute, windowUs: 60_000_000 },
  };
}

/** sha256 of a JSON value with object keys sorted, so equal configs hash equally however they were built. */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

export function validateOptions(options: Omit<ReplayOptions, 'params'>): void {
  const from = parseDate(options.fromDate, '--from date');
  const to = parseDate(options.toDate, '--to date');
  if (to < from) throw new SimError('BAD_DATE_RANGE', `expected --from on or before --to, found ${options.fromDate} after ${options.toDate}`);
  const nonNegative: [string, number][] = [['--slippage-ticks', options.slippageTicks ?? 0], ['--fees-bps', options.feesBps], ['--fee-minimum', options.feeMinimum], ['--slippage-bps', options.slippageBps], ['--latency-ms', options.latencyMs], ['--latency-jitter-ms', options.latencyJitterMs]];
  for (const [name, value] of nonNegative) {
    if (!(Number.isFinite(value) && value >= 0)) throw new SimError('BAD_OPTION', `expected ${name} to be a number >= 0, found ${value}`);
  }
  if (!(options.maxVolumeShare > 0 && options.maxVolumeShare <= 1)) throw new SimError('BAD_OPTION', `expected --max-volume-share in (0, 1], found ${options.maxVolumeShare}`);
  if (!(options.initialCash > 0)) throw new SimError('BAD_OPTION', `expected --cash > 0, found ${options.initialCash}`);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new SimError('BAD_OPTION', `expected --seed to be a whole number >= 0, found ${options.seed}`);
}

export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  validateOptions(options);
  const definition = findStrategy(options.strategy);
  const params: ParamValues = resolveParams(definition, options.params);

  const catalog = options.source ? undefined : await openCatalog(options.catalogDir);
  try {
    let instruments: readonly Instrument[];
    let dates: string[];
    let dataDigest: string;
    let chunks: AsyncIterable<MarketDataChunk>;
    let skippedFromCache: BadRowsReport | undefined;
    if (options.source) {
      instruments = options.source.instruments;
      dates = [...new Set([options.source.fromDate, options.source.toDate])];
      dataDigest = options.source.dataDigest;
      chunks = options.source.chunks;
    } else {
      const query = catalogQuery(options, catalog!);
      const { symbols } = query;
      // Asking for the digest first validates the dates and symbols with the catalog's own messages.
      const kind = options.dataKind ?? 'bars';
      dataDigest = catalog!.dataDigest(query, kind);
      dates = catalog!.dates(kind).filter((d) => d >= options.fromDate && d <= options.toDate);
      instruments = symbols.map((symbol) => catalog!.instrument(symbol));
      const read = () => (kind === 'bars' ? catalog!.readBars(query) : catalog!.readTicks(query)) as AsyncIterable<MarketDataChunk>;
      if (options.dataCache === undefined) chunks = read();
      else {
        // The chunks hold prices and sizes already scaled by the instruments: a changed scale is other data.
        const key = JSON.stringify([path.resolve(options.catalogDir), kind, dataDigest, query, instruments]);
        let cached = options.dataCache.get(key);
        if (cached === undefined) {
          const list: MarketDataChunk[] = [];
          for await (const chunk of read()) list.push(chunk);
          cached = { chunks: list, skipped: catalog!.skipped };
          options.dataCache.set(key, cached);
        }
        chunks = toAsync(cached.chunks);
        skippedFromCache = cached.skipped;
      }
    }

    const config = {
      strategy: definition.name, params, symbols: instruments.map((i) => i.symbol), from: options.fromDate, to: options.toDate,
      source: options.source ? { kind: options.source.kind } : { kind: 'catalog', data: options.dataKind ?? 'bars' }, seed: options.seed, fill: options.fill,
      intrabar: options.intrabar, feesBps: options.feesBps, feeMinimum: options.feeMinimum, slippageBps: options.slippageBps, slippageTicks: options.slippageTicks,
      latencyMs: options.latencyMs, latencyJitterMs: options.latencyJitterMs, maxVolumeShare: options.maxVolumeShare,
      initialCash: options.initialCash, risk: options.risk, skipBad: options.skipBad,
    };
    const configHash = stableHash(config);
    const runId = options.runId ?? configHash.slice(0, 8);
    const engine = new Engine({
      runId, strategyId: definition.name, instruments, initialCash: options.initialCash,
      risk: toRiskLimits(options.risk, 10 ** (instruments[0]?.lotScale ?? 0)), checkLedger: options.checkLedger,
    }, definition.create(params));
    const venue = new SimulatedVenue(engine.scales, {
      fillMode: options.fill, intrabarPolicy: options.intrabar, feeBps: options.feesBps,
      feeMinimumCash: Math.round(options.feeMinimum * CASH_UNITS_PER_CURRENCY), slippageBps: options.slippageBps, slippageTicks: options.slippageTicks ?? 0,
      latency: options.latencyJitterMs > 0
        ? { kind: 'uniform', minUs: Math.round(options.latencyMs * 1000), maxUs: Math.round((options.latencyMs + options.latencyJitterMs) * 1000) }
        : { kind: 'fixed', latencyUs: Math.round(options.latencyMs * 1000) },
      maxVolumeShare: options.maxVolumeShare,
    }, new SeededRng(options.seed));
    engine.connect(venue, venue);

    let bars = 0;
    let ticks = 0;
    let started = false;
    let chunkCount = 0;
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      if (!started) {
        engine.start(chunk.kind === 'bars' ? chunk.startUs[0] : chunk.timeUs[0]);
        started = true;
      }
      if (chunk.kind === 'bars') {
        engine.processBars(chunk);
        bars += chunk.length;
      } else {
        engine.processTicks(chunk);
        ticks += chunk.length;
      }
      options.onProgress?.(++chunkCount, dates.length);
    }
    if (!started) throw new SimError('DATA_EMPTY', `expected bars between ${options.fromDate} and ${options.toDate}, found none for ${instruments.map((i) => i.symbol).join(', ')}`);
    engine.stop();

    const portfolio = engine.portfolio;
    const curve = engine.equity.columns();
    // Loaded here, not at the top: sessions import this module for its option helpers and never summarize.
    const { summarizeRun } = await import('../../engine/analytics/index.ts');
    const summary = summarizeRun({
      initialCashUnits: portfolio.initialCash, equityCash: curve.equityCash, timeUs: curve.timeUs, dayIndex: curve.dayIndex,
      closedTrades: portfolio.closedTrades, feesCash: portfolio.feesCash, exposureSamples: engine.equity.exposedSamples,
    });
    const riskDenials: Record<string, number> = {};
    // Only the denials are built as objects (a long run's log holds millions of events).
    for (let i = 0; i < engine.log.length; i++) {
      if (engine.log.typeAt(i) === 'order.denied') {
        const code = String(engine.log.eventAt(i).fields.code);
        riskDenials[code] = (riskDenials[code] ?? 0) + 1;
      }
    }
    const realizedPnl = Number(formatScaled(portfolio.realizedGrossCash - portfolio.feesCash, 6));
    return {
      runDigest: engine.log.digest(), configHash, dataDigest, codeVersion: await codeVersion(), runId, config, instruments,
      dates, bars, ticks, summary, trades: portfolio.closedTrades, realizedPnl,
      totalPnl: Number(formatScaled(portfolio.equityCashValue() - portfolio.initialCash, 6)),
      fees: Number(formatScaled(portfolio.feesCash, 6)), riskDenials, skipped: skippedFromCache ?? catalog?.skipped, engine, curve,
    };
  } finally {
    await catalog?.close();
  }
}

/** The catalog query of a run: its symbols (all the catalog's by default, sorted) and dates. */
function catalogQuery(options: Omit<ReplayOptions, 'params'>, catalog: { symbols(): string[] }): { symbols: string[]; fromDate: string; toDate: string; skipBad: boolean } {
  const symbols = options.symbols && options.symbols.length > 0 ? [...new Set(options.symbols)].sort() : catalog.symbols();
  return { symbols, fromDate: options.fromDate, toDate: options.toDate, skipBad: options.skipBad };
}

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/**
 * The checks runReplay makes before it reads anything, once: the options, the strategy name, and (from the
 * catalog) the dates and symbols. A sweep makes them before it spreads its runs.
 */
export async function checkReplayRun(options: Omit<ReplayOptions, 'params'>): Promise<void> {
  validateOptions(options);
  findStrategy(options.strategy);
  if (options.source) return;
  const catalog = await openCatalog(options.catalogDir);
  try {
    catalog.dataDigest(catalogQuery(options, catalog), options.dataKind ?? 'bars');
  } finally {
    await catalog.close();
  }
}
