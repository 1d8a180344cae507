/**
 * Where the channels of each live actor come from: this node's own clients, or the relay
 * links of a peer node (by its node id). The cluster node moves an actor whose channels all
 * come from one other node to that node (cluster-node.ts, "follow the clients"): then its
 * clients' frames stop crossing two nodes for every action.
 */

/** The origin of a channel of this node's own clients. */
export const LOCAL_ORIGIN = "";

const byActor = new WeakMap<object, Map<string, number>>();

export function originJoined(actor: object, origin: string): void {
  let origins = byActor.get(actor);
  if (origins === undefined) byActor.set(actor, (origins = new Map()));
  origins.set(origin, (origins.get(origin) ?? 0) + 1);
}

export function originLeft(actor: object, origin: string): void {
  const origins = byActor.get(actor);
  const count = origins?.get(origin);
  if (origins === undefined || count === undefined) return;
  if (count <= 1) origins.delete(origin);
  else origins.set(origin, count - 1);
}

/** The peer node every channel of the actor comes from, or null (none, local ones, or several origins). */
export function soleRemoteOrigin(actor: object): string | null {
  const origins = byActor.get(actor);
  if (origins === undefined || origins.size !== 1) return null;
  const [origin] = origins.keys();
  return origin === undefined || origin === LOCAL_ORIGIN ? null : origin;
}
