/**
 * Revokes (server.revoke) that ran while onAuth was deciding for a channel — its opening or
 * a re-auth — kept until every decision in flight has its outcome in place, then applied to
 * that outcome: access onAuth granted just before a revoke does not outlive it.
 */
import type { TandemError } from "../../shared/errors.ts";

export interface RevokeMeanwhile<C> {
  readonly match: (channel: C) => boolean;
  readonly error: TandemError;
}

export class RevokesMeanwhile<C> {
  private revokes: RevokeMeanwhile<C>[] = [];
  private deciding = 0;

  /** server.revoke ran: kept if a decision is in flight. */
  add(match: (channel: C) => boolean, error: TandemError): void {
    if (this.deciding > 0) this.revokes.push({ match, error });
  }

  /** onAuth starts deciding: the revokes from here on apply to its outcome. */
  start(): number {
    this.deciding++;
    return this.revokes.length;
  }

  /** The decision started at `from` has its outcome in place (or failed): the revokes made meanwhile. */
  finish(from: number): readonly RevokeMeanwhile<C>[] {
    const revokes = this.revokes.slice(from);
    if (--this.deciding === 0) this.revokes = [];
    return revokes;
  }
}
