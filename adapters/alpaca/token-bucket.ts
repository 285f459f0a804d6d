// A client-side request budget for Alpaca's 200 requests/minute. A token bucket of `burst` tokens refilled at
// (perMinute - burst) per minute never lets more than `perMinute` requests through in any 60-second window,
// so the venue's sliding-window limit is never tripped by us. Waiters queue in order, with a hard bound.
import { SimError } from '../../engine/errors.ts';

export interface TokenBucketOptions {
  perMinute: number;
  burst: number;
  /** Most requests allowed to wait for a token; one more is refused with VENUE_RATE_LIMITED. */
  waitingMax: number;
  nowMs?: () => number;
}

export class TokenBucket {
  private readonly refillPerMs: number;
  private readonly burst: number;
  private readonly waitingMax: number;
  private readonly nowMs: () => number;
  private tokens: number;
  private updatedAtMs: number;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(options: TokenBucketOptions) {
    if (!(options.burst >= 1 && options.perMinute > options.burst)) {
      throw new SimError('RATE_LIMIT_CONFIG_INVALID', `expected 1 <= burst < perMinute, found burst ${options.burst}, perMinute ${options.perMinute}`);
    }
    this.refillPerMs = (options.perMinute - options.burst) / 60_000;
    this.burst = options.burst;
    this.waitingMax = options.waitingMax;
    this.nowMs = options.nowMs ?? Date.now;
    this.tokens = options.burst;
    this.updatedAtMs = this.nowMs();
  }

  /** Resolves when a request may go out; rejects at once when the waiting line is full. */
  take(): Promise<void> {
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.waitingMax) {
      return Promise.reject(new SimError('VENUE_RATE_LIMITED', `expected at most ${this.waitingMax} requests waiting for the rate limit, found one more`));
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  waitingCount(): number {
    return this.waiting.length;
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private refill(): void {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updatedAtMs) * this.refillPerMs);
    this.updatedAtMs = now;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const delayMs = Math.max(1, Math.ceil((1 - this.tokens) / this.refillPerMs));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refill();
      while (this.waiting.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiting.shift()!();
      }
      if (this.waiting.length > 0) this.schedule();
    }, delayMs);
  }
}
