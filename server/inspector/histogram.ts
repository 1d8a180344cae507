/**
 * A Prometheus histogram with fixed buckets: counts per bucket in a Float64Array, a sum and
 * a count. `observe` allocates nothing (a loop over the bounds).
 */

/** Bucket bounds in seconds, from 0.1 ms to 10 s: actions on memory are sub-millisecond, fsyncs are milliseconds. */
export const SECONDS_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram {
  /** Observations at or under each bound (not cumulative: the exposition sums them). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = SECONDS_BUCKETS) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}
