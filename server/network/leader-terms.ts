/**
 * Fencing of a browser's leader tabs (DESIGN §4 "Multi-tab"): the tabs of one browser share
 * a client id, and each leader term has an epoch that the leader's hello carries. The server
 * remembers the newest epoch per client id; a socket of an older term is refused, and when a
 * newer leader greets, the older leader's sockets are closed — so a stale leader (a frozen tab
 * that still thinks it leads) can never send actions with seqs the new one also uses.
 * Epoch 0 means "no tabs" (Node clients, a lone tab without Web Locks): never fenced.
 */
/** How many client ids are remembered (the oldest are forgotten first). */
const MAX_CLIENTS = 10_000;

export interface Fenced {
  /** The newer leader took over: this socket must close. */
  supersede(): void;
}

export class LeaderTerms {
  private readonly terms = new Map<string, { epoch: number; sockets: Set<Fenced> }>();

  /** A hello of `clientId` in term `epoch`: false if a newer term already spoke (refuse the socket). */
  admit(clientId: string, epoch: number, socket: Fenced): boolean {
    if (epoch === 0) return true;
    const known = this.terms.get(clientId);
    if (known !== undefined && epoch < known.epoch) return false;
    if (known !== undefined && epoch === known.epoch) {
      known.sockets.add(socket);
      return true;
    }
    if (known !== undefined) for (const stale of known.sockets) stale.supersede();
    this.terms.delete(clientId); // re-inserted: the newest stays last
    this.terms.set(clientId, { epoch, sockets: new Set([socket]) });
    if (this.terms.size > MAX_CLIENTS) this.terms.delete(this.terms.keys().next().value!);
    return true;
  }

  /** A socket of this client closed. */
  leave(clientId: string, socket: Fenced): void {
    this.terms.get(clientId)?.sockets.delete(socket);
  }
}
