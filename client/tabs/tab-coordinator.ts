/**
 * Leader election among the tabs of one origin that share a storage (README.md
 * "Local-first", many tabs). The leader holds the Web Lock `tandem leader <storage>` for as long as it
 * lives; every other tab waits in the lock's queue, so when the leader tab closes or
 * crashes the browser hands the lock to the next one at once. Each term has an epoch (a
 * counter in storage, raised by every new leader): followers only listen to the newest
 * leader, and a leader only serves messages meant for its own term, so a stale leader's
 * frames are refused.
 *
 * The coordinator only elects and routes; what a leader or a follower does is its
 * handlers' business (the client core).
 */
import { type BroadcastChannelLike, type LinkDown, type LinkUp, type LockManagerLike, TAB_PROTOCOL_VERSION, type TabMessage, isTabMessage } from "./tab-messages.ts";

export type TabRole = "leader" | "follower";

export interface TabHandlers {
  /** This tab leads from now on (at start, or taking over): open the socket, take over the outbox. */
  becameLeader(): Promise<void>;
  /** Leader: a follower's message on one of its link channels. */
  fromFollower(tab: string, channel: number, message: LinkUp): void;
  /** Leader: a tab is gone (closed, crashed, disposed). */
  tabGone(tab: string): void;
  /** Follower: a new leader is known, or the leader left (`leaderTab` is null until the next one). */
  leaderChanged(): void;
  /** Follower: the leader's message on one of this tab's link channels. */
  fromLeader(channel: number, message: LinkDown): void;
}

export interface TabCoordinatorOptions {
  /** The shared storage's name: tabs over the same storage elect one leader. */
  readonly name: string;
  readonly tabId: string;
  readonly locks: LockManagerLike;
  readonly channel: BroadcastChannelLike;
  /** The last epoch in storage, and storing a new one (only the leader writes it). */
  readEpoch(): Promise<number>;
  writeEpoch(epoch: number): Promise<void>;
  readonly handlers: TabHandlers;
  /** How often the leader checks that its followers' tabs are still alive (Web Locks query). */
  readonly livenessMs?: number;
}

export class TabCoordinator {
  role: TabRole = "follower";
  /** The current term: this tab's own when leading, the leader's when following. */
  epoch = 0;
  /** The leader's tab id (this tab's when leading); null while no leader is known. */
  leaderTab: string | null = null;
  private releaseLock: (() => void) | null = null;
  private releaseTabLock: (() => void) | null = null;
  private readonly waiting = new AbortController();
  private livenessTimer: ReturnType<typeof setInterval> | null = null;
  private readonly followers = new Set<string>();
  /** Leader, and done taking over: followers may link now. */
  private serving = false;
  private disposed = false;

  constructor(private readonly options: TabCoordinatorOptions) {
    options.channel.onmessage = (event) => this.receive(event.data);
  }

  private get lockName(): string {
    return `tandem leader ${this.options.name}`;
  }

  private tabLockName(tab: string): string {
    return `tandem tab ${this.options.name} ${tab}`;
  }

  /** Decides this tab's role; resolves once it is leader or follower (a follower keeps waiting for the lock). */
  async start(): Promise<void> {
    // A lock of its own says this tab is alive (the leader checks it for its followers).
    void this.hold(this.tabLockName(this.options.tabId), false).then((release) => {
      if (release === null) return;
      if (this.disposed) release();
      else this.releaseTabLock = release;
    });
    const release = await this.hold(this.lockName, true);
    if (release !== null && this.disposed) {
      release(); // disposed while the lock was being granted: never keep it
      return;
    }
    if (release !== null) {
      this.releaseLock = release;
      await this.lead();
      return;
    }
    if (this.disposed) return;
    this.role = "follower";
    this.post({ t: "who", from: this.options.tabId });
    void this.hold(this.lockName, false, this.waiting.signal).then(async (next) => {
      if (next === null) return;
      if (this.disposed) {
        next();
        return;
      }
      this.releaseLock = next;
      await this.lead();
    });
  }

  sendUp(channel: number, message: LinkUp): boolean {
    if (this.role !== "follower" || this.leaderTab === null) return false;
    this.post({ t: "up", epoch: this.epoch, from: this.options.tabId, ch: channel, msg: message });
    return true;
  }

  sendDown(tab: string, channel: number, message: LinkDown): void {
    if (this.role !== "leader") return;
    this.post({ t: "down", epoch: this.epoch, to: tab, ch: channel, msg: message });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.post({ t: "bye", from: this.options.tabId });
    this.waiting.abort();
    if (this.livenessTimer !== null) clearInterval(this.livenessTimer);
    this.releaseLock?.();
    this.releaseTabLock?.();
    this.options.channel.onmessage = null;
    this.options.channel.close();
  }

  private async lead(): Promise<void> {
    const stored = await this.options.readEpoch().catch(() => 0);
    if (this.disposed) return;
    this.epoch = Math.max(stored, this.epoch) + 1;
    await this.options.writeEpoch(this.epoch).catch(() => undefined);
    this.role = "leader";
    this.leaderTab = this.options.tabId;
    await this.options.handlers.becameLeader();
    if (this.disposed) return;
    this.serving = true;
    this.post({ t: "leader", epoch: this.epoch, from: this.options.tabId });
    const query = this.options.locks.query?.bind(this.options.locks);
    if (query !== undefined) this.livenessTimer = setInterval(() => void this.checkFollowers(query), this.options.livenessMs ?? 2_000);
  }

  /** Followers whose tab lock is no longer held have gone without saying goodbye (a crash). */
  private async checkFollowers(query: NonNullable<LockManagerLike["query"]>): Promise<void> {
    if (this.followers.size === 0) return;
    const snapshot = await query().catch(() => null);
    if (snapshot === null || this.disposed) return;
    const held = new Set((snapshot.held ?? []).map((lock) => lock.name));
    for (const tab of [...this.followers]) {
      if (held.has(this.tabLockName(tab))) continue;
      this.followers.delete(tab);
      this.options.handlers.tabGone(tab);
    }
  }

  private receive(data: unknown): void {
    if (this.disposed || !isTabMessage(data)) return;
    const message: TabMessage = data;
    switch (message.t) {
      case "who":
        if (this.serving) this.post({ t: "leader", epoch: this.epoch, from: this.options.tabId });
        return;
      case "leader":
        if (message.from === this.options.tabId || this.role === "leader") return;
        if (message.epoch < this.epoch || (message.epoch === this.epoch && message.from === this.leaderTab)) return;
        this.epoch = message.epoch;
        this.leaderTab = message.from;
        this.options.handlers.leaderChanged();
        return;
      case "up":
        if (!this.serving || message.epoch !== this.epoch) return; // meant for another term
        this.followers.add(message.from);
        this.options.handlers.fromFollower(message.from, message.ch, message.msg);
        return;
      case "down":
        if (this.role !== "follower" || message.to !== this.options.tabId || message.epoch !== this.epoch || this.leaderTab === null) return;
        this.options.handlers.fromLeader(message.ch, message.msg);
        return;
      case "bye":
        if (this.role === "leader") {
          this.followers.delete(message.from);
          this.options.handlers.tabGone(message.from);
        } else if (message.from === this.leaderTab) {
          this.leaderTab = null;
          this.options.handlers.leaderChanged();
        }
        return;
    }
  }

  private post(message: TabMessage): void {
    try {
      this.options.channel.postMessage({ ...message, v: TAB_PROTOCOL_VERSION });
    } catch {
      // the channel is closed (the page is going away)
    }
  }

  /** Takes a lock and keeps it until the returned release is called; null if not granted. */
  private hold(name: string, ifAvailable: boolean, signal?: AbortSignal): Promise<(() => void) | null> {
    return new Promise((resolve) => {
      const options: { ifAvailable?: boolean; signal?: AbortSignal } = ifAvailable ? { ifAvailable: true } : {};
      if (signal !== undefined) options.signal = signal;
      this.options.locks
        .request(name, options, (lock: unknown) => {
          if (lock === null) {
            resolve(null);
            return undefined;
          }
          return new Promise<void>((release) => resolve(() => release()));
        })
        .catch(() => resolve(null));
    });
  }
}
