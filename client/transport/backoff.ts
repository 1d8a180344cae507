/**
 * Reconnect delays: exponential backoff with full jitter (a random delay between 0 and the
 * exponential cap), so clients cut off together do not come back together. A server's
 * retry-after hint sets a floor under the next delay.
 */
export interface BackoffOptions {
  /** First cap, in ms. Default 250. */
  baseMs?: number;
  /** Largest cap, in ms. Default 10,000. */
  maxMs?: number;
  /** Source of randomness (tests). Default Math.random. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private floorMs = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 250;
    this.maxMs = options.maxMs ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt. */
  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = this.floorMs + Math.floor(this.random() * cap);
    this.floorMs = 0;
    return delay;
  }

  /** The server asked to wait at least this long before coming back. */
  retryAfter(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.floorMs = Math.min(ms, 5 * 60_000);
  }

  reset(): void {
    this.attempt = 0;
  }
}
