/**
 * The writes of each lease this driver holds, numbered in call order (the number the
 * fencing script checks, scripts.ts), and whether one of them failed with an unknown
 * outcome. Once a write's fate is unknown (the connection dropped, Redis timed out or
 * erred, too few replicas acknowledged), every later write of that lease is refused here
 * before it is sent: only a new lease (acquire, then load) may write again.
 */
import { StorageUnavailable } from "../../../shared/errors.ts";
import type { Lease } from "../driver.ts";

interface LeaseState {
  readonly token: number;
  /** The number of the next write. */
  next: number;
  /** Why this lease may not write any more, once a write's outcome is unknown. */
  broken: string | null;
}

/** The write number sent for a lease this driver does not know: Redis refuses it (stale or out of sequence). */
const UNKNOWN_LEASE = -1;

export class LeaseWrites {
  private readonly leases = new Map<string, LeaseState>();

  /** A lease was just acquired: its writes count from 1. */
  start(lease: Lease): void {
    this.leases.set(lease.id, { token: lease.token, next: 1, broken: null });
  }

  /** The lease was released or lost. */
  forget(lease: Lease): void {
    if (this.leases.get(lease.id)?.token === lease.token) this.leases.delete(lease.id);
  }

  /**
   * The number of this write (call order), or throws when an earlier write of the lease
   * failed with an unknown outcome.
   */
  take(lease: Lease): number {
    const writes = this.leases.get(lease.id);
    if (writes === undefined || writes.token !== lease.token) return UNKNOWN_LEASE;
    if (writes.broken !== null) {
      throw new StorageUnavailable(`Actor ${lease.id}: an earlier write of lease ${lease.token} failed (${writes.broken}); it may not write again`);
    }
    return writes.next++;
  }

  /**
   * Throws when the lease broke after `take` numbered a write but before it is sent (a write
   * waiting for the connection while an earlier one failed).
   */
  checkUnbroken(lease: Lease): void {
    const writes = this.leases.get(lease.id);
    if (writes !== undefined && writes.token === lease.token && writes.broken !== null) {
      throw new StorageUnavailable(`Actor ${lease.id}: an earlier write of lease ${lease.token} failed (${writes.broken}); it may not write again`);
    }
  }

  /** A write's outcome is unknown: no later write of the lease may be sent. */
  break(lease: Lease, why: string): void {
    const writes = this.leases.get(lease.id);
    if (writes !== undefined && writes.token === lease.token && writes.broken === null) writes.broken = why;
  }

  get size(): number {
    return this.leases.size;
  }
}

