/**
 * Who writes as which Yjs client in one actor's document. A Yjs client id is a random number
 * a replica picks; it is no secret (every update names it), and Yjs keeps the first struct
 * it gets for an id and skips any other with the same id. So an editor writing as another
 * replica's client id, at that replica's next clock, would have the victim's next edit
 * acknowledged and silently dropped — the two replicas never agree again.
 *
 * A client id belongs to the identity (identityDigest) of the first connection whose edit
 * wrote as it while this instance runs; other identities' edits that write as it are refused
 * (the victim's own edits keep going through). Nobody may write as the actor's own client
 * id (actions write as it). Without onAuth every connection has the same identity: no
 * protection, as for everything else there. Kept in memory: after a reload an id is claimed
 * again by its first writer.
 */
export class YjsWriters {
  /** Made on the first edit (most actors never get one). */
  private owners: Map<number, string> | null = null;

  /** Whether `identity` may write new structs as `client` (`own`: the actor's client id). */
  mayWrite(client: number, identity: string, own: number): boolean {
    if (client === own) return false;
    const owner = this.owners?.get(client);
    return owner === undefined || owner === identity;
  }

  /** An edit of `identity` that wrote as `clients` was committed. */
  claim(clients: readonly number[], identity: string): void {
    const owners = (this.owners ??= new Map());
    for (const client of clients) if (!owners.has(client)) owners.set(client, identity);
  }
}
