/**
 * The relay links of one client socket, one per owner node it has channels on
 * (relay-link.ts), and the routing of its subscribes: `route` says whether a subscribe is
 * served here or relayed to another node, `open` makes the relayed channel.
 */
import { normalizeKey } from "../../shared/key.ts";
import type { Subscribe } from "../../shared/protocol/index.ts";
import type { NodeAddress } from "../drivers/driver.ts";
import type { Limits } from "../network/limits.ts";
import { actorId, isActorId } from "../runtime/actor-id.ts";
import type { ClusterNode } from "./cluster-node.ts";
import { type LinkHost, RelayLink } from "./relay-link.ts";
import { RelayedChannel, type RelayedChannelHost } from "./relayed-channel.ts";

export interface RelaySessionHost extends LinkHost, RelayedChannelHost {
  /** The client's address and request headers, passed to the owner. */
  readonly clientAddress: string;
  readonly clientHeaders: Iterable<[string, string]>;
}

export class SessionRelays {
  private readonly links = new Map<string, RelayLink>();

  constructor(
    private readonly cluster: ClusterNode,
    private readonly host: RelaySessionHost,
    private readonly limits: Limits,
  ) {}

  /** Where the subscribe's actor lives: null to serve it here (also when the frame names no valid actor: the local path refuses it). */
  async route(subscribe: Subscribe): Promise<NodeAddress | null> {
    let id: string;
    try {
      if (!Object.hasOwn(this.cluster.registry.actors, subscribe.name)) return null;
      if (subscribe.target.by === "id") {
        if (!isActorId(subscribe.target.id)) return null;
        id = subscribe.target.id;
      } else id = actorId(subscribe.name, normalizeKey(subscribe.target.key));
    } catch {
      return null;
    }
    try {
      return await this.cluster.route(id);
    } catch (error) {
      this.host.log.warn({ err: error, actorId: id }, "could not look up an actor's owner; serving it here");
      return null;
    }
  }

  /** The channel relayed to `owner`, or null when that node cannot be reached now (the client should subscribe again soon). */
  open(subscribe: Subscribe, owner: NodeAddress): RelayedChannel | null {
    const secret = this.cluster.secret;
    if (secret === null || this.cluster.isUnreachable(owner.nodeId)) return null;
    let link = this.links.get(owner.nodeId);
    if (link === undefined || link.isEnded || link.options.owner.url !== owner.url) {
      link?.end("the owner moved");
      link = new RelayLink(this.host, {
        owner,
        secret,
        nodeId: this.cluster.nodeId,
        clientAddress: this.host.clientAddress,
        clientHeaders: this.host.clientHeaders,
        heartbeatMs: this.limits.heartbeatMs,
        deadAfterMs: this.limits.deadAfterMs > 0 ? this.limits.deadAfterMs : 3 * this.limits.heartbeatMs,
        pauseAboveBytes: Math.floor(this.limits.maxBufferedBytes / 2),
        closed: (which) => {
          if (this.links.get(owner.nodeId) === which) this.links.delete(owner.nodeId);
        },
        unreachable: () => this.cluster.markUnreachable(owner.nodeId),
      });
      this.links.set(owner.nodeId, link);
    }
    return new RelayedChannel(this.host, subscribe.channel, link, subscribe);
  }

  /** The client's socket closed: every link goes (the owners disconnect the channels). */
  close(): void {
    for (const link of [...this.links.values()]) link.end("the client left", false);
    this.links.clear();
  }
}
