/** The inline client's way to actors of other nodes (server/inline-client.ts `InlineRemote`). */
import type { InlineRemote } from "../inline-client.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { callPeer } from "./peer-call.ts";

export function inlineRemote(cluster: ClusterNode, runtime: ActorRuntime): InlineRemote {
  const timeoutMs = runtime.defaultActionTimeoutMs > 0 ? runtime.defaultActionTimeoutMs + 5_000 : 0;
  return {
    owner: (id) => cluster.route(id),
    call: (owner, call) => callPeer(cluster, owner, call, timeoutMs),
  };
}
