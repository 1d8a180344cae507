/**
 * Fencing of a browser's leader tabs (shared/protocol/PROTOCOL.md, multi-tab fencing): the tabs of one browser share
 * a client id, and each leader term has an epoch that the leader's hello carries. The server
 * remembers the newest term per client id; a socket of an older term is closed, and when a
 * newer leader takes over, the older leader's sockets are closed — so a stale leader (a frozen
 * tab that still thinks it leads) can never send actions with seqs the new one also uses.
 * Epoch 0 means "no tabs" (Node clients, a lone tab without Web Locks): never fenced.
 *
 * A hello carries no credentials and client ids can leak, so terms are per identity: fencing
 * happens when a socket's channel has passed onAuth (`identified`, with a digest of who it
 * is), and only between sockets of the same identity. A forged hello with a known client id
 * and a high epoch, from anyone else, closes nobody and locks nobody out; the sockets of
 * other identities under one client id are not fenced at all (their exactly-once records
 * are apart too: exactly-once.ts). Without onAuth there is no identity: all such sockets of
 * a client id count as one.
 */
/** How many (client id, identity) terms are remembered (the oldest are forgotten first). */
const MAX_TERMS = 10_000;

export interface Fenced {
  /** A newer leader took over: this socket must close. */
  supersede(): void;
}

interface Term {
  readonly epoch: number;
  readonly sockets: Set<Fenced>;
}

export class LeaderTerms {
  private readonly terms = new Map<string, Term>();

  /**
   * A socket of `clientId` in term `epoch` passed onAuth as `identity` (a digest). False if
   * a newer term of that identity took over: the socket is stale and must close. A newer
   * epoch takes over: the older term's sockets are superseded.
   */
  identified(clientId: string, epoch: number, socket: Fenced, identity: string): boolean {
    if (epoch === 0) return true;
    const key = `${clientId}\u0000${identity}`;
    const known = this.terms.get(key);
    // An older term is refused while the newer one has a socket open; once it has none, the
    // older may serve again (a browser superseded by a socket that went away recovers; if
    // both leaders send, they flush the same outbox under the same seqs: applied once).
    if (known !== undefined && epoch < known.epoch && known.sockets.size > 0) return false;
    if (known !== undefined && epoch === known.epoch) {
      known.sockets.add(socket);
      return true;
    }
    if (known !== undefined) for (const stale of known.sockets) if (stale !== socket) stale.supersede();
    this.terms.delete(key); // re-inserted: the newest stays last
    this.terms.set(key, { epoch, sockets: new Set([socket]) });
    if (this.terms.size > MAX_TERMS) this.terms.delete(this.terms.keys().next().value!);
    return true;
  }

  /** A socket closed. */
  leave(socket: Fenced, clientId: string, identities: Iterable<string>): void {
    for (const identity of identities) this.terms.get(`${clientId}\u0000${identity}`)?.sockets.delete(socket);
  }
}
