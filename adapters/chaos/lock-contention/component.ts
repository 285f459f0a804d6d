// One lock-contention component in real mode (ingestor, aggregator, backfill, strategy or dashboard reader),
// run in its own process or worker thread on real timers compressed by the time scale. It records its
// history in scenario microseconds and hands it back when the run ends.
import { History } from '../../../scenarios/framework/history.ts';
import {
  AGGREGATOR_PERIOD_US, CANDLE_US, DASHBOARD_READ_PERIOD_US, INGEST_QUEUE_LENGTH_MAX, RETRY_BACKOFFS_US, STRATEGY_READ_PERIOD_US, TICK_PERIOD_US,
  classifyError, tickPrice, tickSize, type Layout, type LockVariant,
} from '../../../scenarios/lock-contention/workload.ts';
import { DirectStorage, RemoteStorage, type Storage, type StorageMessage, type StorageRequest } from './storage.ts';

export interface ComponentConfig {
  readonly role: 'ingestor' | 'aggregator' | 'backfill' | 'strategy' | 'dashboard';
  readonly name: string;
  readonly variant: LockVariant;
  readonly layout: Layout;
  readonly path: string;
  readonly seed: number;
  readonly timeScale: number;
  readonly durationUs: number;
  readonly backfillRows: number;
}

export interface ComponentResult {
  readonly entries: History['entries'];
  readonly errors: Record<string, number>;
}

const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

export class Component {
  private readonly history: History;
  private readonly errors: Record<string, number> = {};
  private readonly storage: Storage;
  private readonly remote: RemoteStorage | null;
  private startMs = 0;

  constructor(private readonly config: ComponentConfig, send: (message: StorageMessage) => void) {
    this.history = new History(() => this.nowUs());
    this.remote = config.variant === 'single-writer' ? new RemoteStorage(send) : null;
    this.storage = this.remote ?? new DirectStorage(config.path, config.layout);
  }

  onMessage(message: StorageMessage): void {
    this.remote?.onMessage(message);
  }

  /** Scenario microseconds since the start: wall time divided by the time scale. */
  nowUs(): number {
    return Math.round(((performance.now() - this.startMs) * 1000) / this.config.timeScale);
  }

  private wallMs(scenarioUs: number): number {
    return (scenarioUs / 1000) * this.config.timeScale;
  }

  /** Sleeps until scenario time `timeUs`. */
  private async until(timeUs: number): Promise<void> {
    const delayMs = this.startMs + this.wallMs(timeUs) - performance.now();
    if (delayMs > 0) await sleep(delayMs);
  }

  private async access(request: StorageRequest): Promise<string | null> {
    const attempts = this.config.variant === 'retry' ? RETRY_BACKOFFS_US.length + 1 : 1;
    let lastError: string | null = null;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      if (attempt > 0) {
        this.history.note(this.config.name, 'retry', { attempt: attempt + 1 });
        // The fix's backoff is real time (0.1, 0.2, 0.3 s), not compressed: DuckDB's lock holds are real.
        await sleep(RETRY_BACKOFFS_US[attempt - 1] / 1000);
      }
      try {
        await this.storage.execute(request);
        return null;
      } catch (error) {
        lastError = (error as Error).message;
        const kind = classifyError(lastError);
        const message = lastError.split('\n')[0].replace(/PID \d+/, 'PID n').replace(/"[^"]*\.duckdb(\.wal)?"/, '"<file>"');
        this.errors[message] = (this.errors[message] ?? 0) + 1;
        this.history.note(this.config.name, 'lock-error', kind);
      }
    }
    return lastError;
  }

  async run(startMs: number): Promise<ComponentResult> {
    this.startMs = startMs;
    await this.until(0);
    const { role } = this.config;
    if (role === 'ingestor') await this.runIngestor();
    else if (role === 'aggregator') await this.runPeriodic(AGGREGATOR_PERIOD_US, () => this.aggregate());
    else if (role === 'backfill') await this.backfill();
    else await this.runPeriodic(role === 'strategy' ? STRATEGY_READ_PERIOD_US : DASHBOARD_READ_PERIOD_US, () => this.read());
    this.history.closeOpenOperations();
    return { entries: this.history.entries, errors: this.errors };
  }

  private async runPeriodic(periodUs: number, action: () => Promise<void>): Promise<void> {
    // Periods are bounded by the run's length; a slow action skips the periods it overran.
    for (let timeUs = periodUs; timeUs < this.config.durationUs; timeUs += periodUs) {
      await this.until(timeUs);
      if (this.nowUs() >= timeUs + periodUs) continue;
      await action();
    }
  }

  private async runIngestor(): Promise<void> {
    const queue: { id: number; timeUs: number; entry: ReturnType<History['invoke']> }[] = [];
    let feedDone = false;
    const feed = (async () => {
      let id = 1;
      for (let timeUs = TICK_PERIOD_US; timeUs < this.config.durationUs; timeUs += TICK_PERIOD_US) {
        await this.until(timeUs);
        const entry = this.history.invoke(this.config.name, 'ingest-tick', { id });
        if (queue.length >= INGEST_QUEUE_LENGTH_MAX) this.history.complete(entry, 'failed', null, 'ingest queue full');
        else queue.push({ id, timeUs: this.nowUs(), entry });
        id += 1;
      }
      feedDone = true;
    })();
    // Drain: one write at a time, in arrival order; stop when the feed is done and the queue empty, or a
    // drain window after the end passes.
    const drainEndUs = this.config.durationUs + 5_000_000;
    while (!(feedDone && queue.length === 0) && this.nowUs() < drainEndUs) {
      const item = queue.shift();
      if (!item) { await sleep(1); continue; }
      const sql = `INSERT INTO ticks VALUES (${item.id}, ${item.timeUs}, ${tickPrice(item.id, this.config.seed)}, ${tickSize(item.id)})`;
      const error = await this.access({ sql, mode: 'read-write', returnsRows: false });
      this.history.complete(item.entry, error === null ? 'ok' : 'failed', null, error);
    }
    await feed;
  }

  private async aggregate(): Promise<void> {
    const currentMinute = Math.floor(this.nowUs() / CANDLE_US);
    const entry = this.history.invoke(this.config.name, 'write-candles', { minutes: [currentMinute - 1, currentMinute] });
    const sql = `INSERT OR REPLACE INTO candles
      SELECT time_us // ${CANDLE_US} AS minute, arg_min(price, time_us * 100000 + id), max(price), min(price),
             arg_max(price, time_us * 100000 + id), sum(size), count(*)
      FROM ticks WHERE id > 0 AND time_us >= ${(currentMinute - 1) * CANDLE_US} GROUP BY minute`;
    const error = await this.access({ sql, mode: 'read-write', returnsRows: false });
    this.history.complete(entry, error === null ? 'ok' : 'failed', null, error);
  }

  private async read(): Promise<void> {
    const entry = this.history.invoke(this.config.name, 'read-candles', null);
    const error = await this.access({ sql: 'SELECT * FROM candles ORDER BY minute DESC LIMIT 5', mode: 'read-only', returnsRows: true });
    this.history.complete(entry, error === null ? 'ok' : 'failed', null, error);
  }

  private async backfill(): Promise<void> {
    const entry = this.history.invoke(this.config.name, 'backfill', { rows: this.config.backfillRows });
    const rows = this.config.backfillRows;
    const sql = `INSERT INTO ticks SELECT -i, -i * 1000, 10000 + (i % 97), 1 + (i % 5) FROM range(1, ${rows + 1}) t(i)`;
    const error = await this.access({ sql, mode: 'read-write', returnsRows: false });
    this.history.complete(entry, error === null ? 'ok' : 'failed', null, error);
  }
}
