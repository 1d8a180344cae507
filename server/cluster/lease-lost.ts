/** An actor's lease is no longer this node's: the instance stops at once (cluster-node.ts). */
import { ActorStopped } from "../../shared/errors.ts";

export class LeaseLost extends ActorStopped {
  constructor(
    readonly actorId: string,
    readonly token: number,
  ) {
    super(`Actor ${actorId} moved to another node (lease ${token} lost)`);
  }
}
