/**
 * This server process as one node of a cluster sharing a Redis driver (driver
 * `ownership`). It keeps what ownership needs alive and answers where things are:
 *
 * - **Leases:** every `leaseMs / 3` it renews the leases of the actors live here in one
 *   round trip. An actor whose lease is gone (taken over after this node paused, or Redis
 *   lost it) stops at once: its connections close (clients subscribe again, through
 *   whichever node, to the new owner). If Redis cannot be reached for a whole lease time,
 *   every actor here stops: the leases have expired by then and another node may own them.
 * - **Alarms:** every `alarmPollMs` it asks for alarms due soon and wakes those actors (only
 *   the node that gets the lease runs them): alarms fire after their owner died.
 * - **Routing:** `route(id)` — null when the actor is (or may become) live here, else the
 *   owner's address. Relays and HTTP forwarding use it.
 * - **Announcement:** its URL, so peers can forward to it.
 * - **Following the clients:** an actor whose channels have all come from one other node
 *   for two checks in a row (every `followClientsMs`) is handed over to that node: it
 *   stops here (its queued work done, its lease released) and its clients, told to subscribe
 *   again, load it on their own node. Each action then crosses one node instead of two. An
 *   actor with clients on several nodes, or any of its own, stays where it is.
 */
import type { Lease, NodeAddress, Ownership } from "../drivers/driver.ts";
import type { ServerLogger } from "../log.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { soleRemoteOrigin } from "./channel-origins.ts";
import { LeaseLost } from "./lease-lost.ts";

export interface ClusterOptions {
  /**
   * The base URL peers reach this node's Tandem routes at (with the plugin's prefix, if it is
   * mounted with one). Default: the address `listen()` bound. Needed when it listens on
   * 0.0.0.0, behind NAT, or when `server.plugin` is mounted into an app that listens itself.
   */
  readonly advertiseUrl?: string;
  /** How often due alarms are polled (ms). Default min(1,000, leaseMs / 2). */
  readonly alarmPollMs?: number;
  /** How often actors whose clients are all on one other node are looked for, to move there (ms; 0: never). Default 1,000. */
  readonly followClientsMs?: number;
}

/** How long a node that could not be reached is not tried again (its lease runs out meanwhile). */
const UNREACHABLE_FOR_MS = 1_000;

export class ClusterNode {
  readonly nodeId: string;
  private secretValue: string | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private alarmTimer: NodeJS.Timeout | null = null;
  private renewing = false;
  private polling = false;
  private lastRenewed = Date.now();
  private advertised: string | null = null;
  private closed = false;
  private readonly unreachable = new Map<string, number>();
  private readonly alarmPollMs: number;
  private followTimer: NodeJS.Timeout | null = null;
  /** Actors seen at the last check with all their channels from one other node (id → that node). */
  private leaning = new Map<string, string>();
  /** Actors handed over to the node their clients are on (for tests and metrics). */
  handedOver = 0;

  constructor(
    readonly ownership: Ownership,
    readonly runtime: ActorRuntime,
    private readonly log: ServerLogger,
    private readonly options: ClusterOptions = {},
  ) {
    this.nodeId = ownership.nodeId;
    this.alarmPollMs = options.alarmPollMs ?? Math.min(1_000, Math.max(50, Math.floor(ownership.leaseMs / 2)));
  }

  get registry(): ActorRuntime["registry"] {
    return this.runtime.registry;
  }

  /** The cluster secret (after start). */
  get secret(): string | null {
    return this.secretValue;
  }

  get leaseMs(): number {
    return this.ownership.leaseMs;
  }

  async start(): Promise<void> {
    this.secretValue = await this.ownership.secret();
    // Known up front (a server mounted as a plugin into an app that listens by itself): peers may forward at once.
    if (this.options.advertiseUrl !== undefined) await this.listening(this.options.advertiseUrl);
    this.lastRenewed = Date.now();
    const every = Math.max(20, Math.floor(this.ownership.leaseMs / 3));
    this.renewTimer = setInterval(() => void this.renew(), every);
    this.renewTimer.unref();
    this.alarmTimer = setInterval(() => void this.pollAlarms(), this.alarmPollMs);
    this.alarmTimer.unref();
    const follow = this.options.followClientsMs ?? 1_000;
    if (follow > 0) {
      this.followTimer = setInterval(() => this.followClients(), follow);
      this.followTimer.unref();
    }
  }

  /** Hands over actors whose channels have all come from one other node since the last check. */
  private followClients(): void {
    try {
      const next = new Map<string, string>();
      for (const [id, instance] of this.runtime.loaded) {
        if (!instance.isRunning) continue;
        const node = soleRemoteOrigin(instance);
        if (node === null) continue;
        if (this.leaning.get(id) !== node) {
          next.set(id, node);
          continue;
        }
        this.handedOver++;
        this.log.info({ actorId: id, to: node }, "handing an actor over to the node its clients are on");
        void instance.stop("moved to the node its clients are on").catch((error: unknown) => this.log.error({ err: error, actorId: id }, "handing an actor over failed"));
      }
      this.leaning = next;
    } catch (error) {
      this.log.error({ err: error }, "looking for actors to hand over failed");
    }
  }

  /** The server listens at `url`: peers may forward to it from now on. */
  async listening(url: string): Promise<void> {
    this.advertised = this.options.advertiseUrl ?? url;
    await this.ownership.announce(this.advertised);
  }

  get url(): string | null {
    return this.advertised;
  }

  /** Where an actor is served: null here (live here, or nobody holds it), else its owner. */
  async route(id: string): Promise<NodeAddress | null> {
    if (this.runtime.loaded.get(id)?.isRunning) return null;
    const owner = await this.ownership.owner(id);
    if (owner === null || owner.nodeId === this.nodeId) return null;
    return owner;
  }

  /** A peer could not be reached: links to it fail fast for a while (its leases expire meanwhile). */
  markUnreachable(nodeId: string): void {
    this.unreachable.set(nodeId, Date.now() + UNREACHABLE_FOR_MS);
  }

  isUnreachable(nodeId: string): boolean {
    const until = this.unreachable.get(nodeId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.unreachable.delete(nodeId);
    return false;
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.closed) return;
    this.renewing = true;
    try {
      const leases: Lease[] = [];
      for (const instance of this.runtime.loaded.values()) if (instance.isRunning) leases.push(instance.lease);
      try {
        const lost = await this.ownership.renew(leases);
        this.lastRenewed = Date.now();
        for (const lease of lost) this.lose(lease, "its lease moved to another node");
      } catch (error) {
        const silentFor = Date.now() - this.lastRenewed;
        this.log.warn({ err: error, silentForMs: silentFor }, "could not renew leases");
        if (silentFor >= this.ownership.leaseMs) {
          for (const lease of leases) this.lose(lease, "its lease could not be renewed for a whole lease time");
        }
      }
    } catch (error) {
      this.log.error({ err: error }, "lease renewal failed");
    } finally {
      this.renewing = false;
    }
  }

  private lose(lease: Lease, why: string): void {
    const instance = this.runtime.loaded.get(lease.id);
    if (instance === undefined || instance.lease.token !== lease.token) return;
    instance.fail(new LeaseLost(lease.id, lease.token), why);
  }

  private async pollAlarms(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const due = await this.ownership.dueAlarms(Date.now() + this.alarmPollMs);
      for (const alarm of due) if (!this.runtime.loaded.has(alarm.id)) this.runtime.wakeAt(alarm);
    } catch (error) {
      this.log.warn({ err: error }, "could not poll alarms");
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    if (this.alarmTimer !== null) clearInterval(this.alarmTimer);
    if (this.followTimer !== null) clearInterval(this.followTimer);
  }
}
