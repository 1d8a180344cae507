/**
 * A channel: one socket subscribed to one actor (a "session" of socket × actor). Opening it
 * runs onAuth (before the actor loads), loads or creates the actor, connects (onBeforeConnect,
 * onConnect) and answers with `subscribed` and sync step 2. Then it carries the actor's
 * updates, events and presence down, and actions, edits and presence up.
 */
import * as Y from "yjs";
import type { Intent } from "../../shared/context.ts";
import { ActorStopped, InvalidArguments, StorageUnavailable, TandemError, toWireError } from "../../shared/errors.ts";
import { normalizeKey } from "../../shared/key.ts";
import type { Action, Auth, Edit, Subscribe } from "../../shared/protocol/index.ts";
import { Kind } from "../../shared/protocol/kinds.ts";
import { MalformedFrame, malformedFrame } from "../../shared/protocol/errors.ts";
import type { ActorInstance } from "../runtime/actor-instance.ts";
import { identityDigest, seqOwner } from "../runtime/exactly-once.ts";
import { ConnImpl, type ConnSink, newConnId } from "../runtime/connection.ts";
import { type ActorHub, hubOf } from "./actor-hub.ts";
import { authenticate } from "./auth.ts";
import type { ChannelHost } from "./channel-host.ts";
import { type ChannelMember, memberOf, subscriberOf } from "./channel-outlets.ts";
import { type EditTarget, EditBatcher } from "./edit-batch.ts";
import { editClientCount } from "./edit-clients.ts";
import { checkParamsSize } from "./params-size.ts";
import { frameWithBody } from "./frames.ts";
import { identityOf } from "./presence.ts";
import { RevokesMeanwhile } from "./revokes-meanwhile.ts";
import { eventFrame } from "./event-body.ts";
import type { UpdateSubscriber } from "./fanout.ts";

export class ActorChannel {
  private instance: ActorInstance | null = null;
  private conn: ConnImpl | null = null;
  private hub: ActorHub | null = null;
  private pendingActions = 0;
  /** Whose exactly-once records this channel's actions use: the client id bound to its identity. */
  private seqOwner = "";
  /** Revokes that ran while onAuth was deciding for this channel (revokes-meanwhile.ts). */
  private readonly revokes = new RevokesMeanwhile<ActorChannel>();
  /** Re-auths received (the newest one's outcome is the one applied). */
  private reauths = 0;
  /** The identity digest this channel told its socket it speaks as (released when it closes). */
  private identity: string | null = null;
  private closed = false;
  private readonly member: ChannelMember;
  private readonly subscriber: UpdateSubscriber;
  private readonly edits = new EditBatcher(this.editTarget());
  /** Resolves once subscribed; frames that arrive earlier wait for it, in order. */
  readonly ready: Promise<boolean>;

  constructor(
    private readonly host: ChannelHost,
    readonly channel: number,
    subscribe: Subscribe,
  ) {
    this.subscriber = subscriberOf(this, host);
    this.member = memberOf(this, host);
    // open() answers every failure itself; if even that answer throws, the channel is dropped
    // here rather than leaving a rejection nobody handles (which would end the process).
    // Opened from the next microtask: a subscribe refused at once answers after the socket has
    // taken the channel in, so its forget() finds it there.
    this.ready = Promise.resolve()
      .then(() => this.open(subscribe))
      .catch((error: unknown) => {
      host.log.error({ err: error, channel }, "opening a channel failed");
      this.closed = true;
      this.release();
      host.forget(channel, this);
      return false;
    });
  }

  private async open(subscribe: Subscribe): Promise<boolean> {
    const { runtime } = this.host;
    const decision = this.revokes.start();
    try {
      if (subscribe.stateVector.length > 0) {
        try {
          Y.decodeStateVector(subscribe.stateVector);
        } catch {
          throw malformedFrame("the subscribe's state vector does not decode");
        }
      }
      checkParamsSize(subscribe.params, this.host.limits.maxParamsBytes);
      const config = runtime.config(subscribe.name);
      const target = subscribe.target;
      // By id: onAuth sees the actor's real key (an unknown id is actor_not_found, onAuth never runs).
      const key = target.by === "key" ? normalizeKey(target.key) : await runtime.keyOfId(subscribe.name, target.id);
      const intents: Intent[] = target.by === "key" && target.mode !== "get" ? ["connect", "create"] : ["connect"];
      const auth = await authenticate(config, { name: subscribe.name, key, params: subscribe.params, intents, request: this.host.request });
      const identity = identityDigest(auth, config.identity);
      this.identify(identity); // a stale leader tab's socket closes here, before the actor loads
      if (this.closed) return false;
      const instance =
        target.by === "id"
          ? await runtime.resolveById(subscribe.name, target.id)
          : await runtime.resolve(subscribe.name, key, target.mode === "get" ? { kind: "get" } : { kind: target.mode, input: target.input });
      // An id of its own: a channel number can be reused while its previous connection closes.
      const conn = new ConnImpl(newConnId(`${this.host.socketId}.${this.channel}`), auth, subscribe.params, this.sink(), this.host.request);
      await instance.connect(conn, this.host.request);
      const canEdit = await instance.canEdit(conn);
      // A peer that does not read what it was sent gets no more documents until it does.
      await this.host.outputRoom();
      if (this.closed) {
        await instance.disconnect(conn, "unsubscribed");
        return false;
      }
      this.instance = instance;
      this.conn = conn;
      this.member.identity = identityOf(auth, config.identity);
      this.seqOwner = seqOwner(this.host.clientId, identity);
      this.hub = hubOf(instance);
      // From here on every committed update reaches this channel; step 2 covers all before.
      this.hub.fanout.subscribers.add(this.subscriber);
      this.hub.presence.members.add(this.member);
      this.host.send({ kind: Kind.subscribed, channel: this.channel, actorId: instance.id, canEdit, connId: conn.id });
      if (subscribe.stateVector.length > 0) {
        const diff = Y.encodeStateAsUpdate(instance.doc, subscribe.stateVector);
        this.host.send({ kind: Kind.sync, channel: this.channel, step: "step2", data: diff });
      } else this.host.sendFrame(this.hub.fullState.frame(this.channel));
      this.sendPresence();
      return !this.revokedMeanwhile(decision);
    } catch (error) {
      this.revokedMeanwhile(decision);
      const wire = toWireError(error);
      if (!(error instanceof TandemError)) this.host.log.error({ err: error, actor: subscribe.name }, "subscribe failed");
      this.closed = true;
      this.release();
      // Worth another try: the actor stopped or moved, or storage is unreachable for now (Redis restarting).
      const retry = wire.code === "actor_stopped" || error instanceof StorageUnavailable;
      this.host.send({ kind: Kind.unsubscribed, channel: this.channel, error: wire, retry });
      this.host.forget(this.channel, this);
      return false;
    }
  }

  /** Events and actor-initiated closes of this channel's connection. */
  private sink(): ConnSink {
    const self = this;
    return {
      event(name, payload) {
        if (self.closed) return;
        // Updates the fan-out holds for a burst go first: an event follows the state it announces.
        self.hub?.fanout.flush();
        self.host.sendFrame(eventFrame(self.channel, name, payload));
      },
      close(reason) {
        if (self.closed) return;
        self.detach();
        const error = new ActorStopped(reason).toWire();
        self.host.send({ kind: Kind.unsubscribed, channel: self.channel, error, retry: true });
        self.host.forget(self.channel, self);
      },
    };
  }

  async step1(stateVector: Uint8Array): Promise<void> {
    this.edits.close();
    if (!(await this.ready) || this.closed) return;
    await this.host.outputRoom();
    if (this.closed) return;
    let diff: Uint8Array;
    try {
      diff = Y.encodeStateAsUpdate(this.instance!.doc, stateVector);
    } catch {
      this.host.send({ kind: Kind.error, channel: this.channel, error: new MalformedFrame("Malformed state vector").toWire() });
      return;
    }
    this.host.send({ kind: Kind.sync, channel: this.channel, step: "step2", data: diff });
  }

  get pendingCount(): number {
    return this.pendingActions;
  }

  /** The socket holds further actions back while this channel has too many pending. */
  async action(message: Action): Promise<void> {
    this.edits.close();
    this.pendingActions++;
    try {
      if (!(await this.ready) || this.closed) {
        this.ack(message.id, new ActorStopped("The channel is not subscribed"), null);
        return;
      }
      // Exactly-once records belong to the client id *and* this connection's identity.
      const seq = message.seq > 0 ? { clientId: this.seqOwner, seq: message.seq } : undefined;
      try {
        const outcome = await this.instance!.actionDetailed(message.name, [...message.args], this.conn!, seq);
        this.ack(message.id, null, outcome.update, outcome.value);
      } catch (error) {
        this.ack(message.id, this.host.runtime.callerError(error, { actor: this.instance!.name, action: message.name }), null);
      }
    } finally {
      this.pendingActions--;
      this.host.actionSettled();
    }
  }

  private ack(id: number, error: unknown, update: Uint8Array | null, result?: unknown): void {
    if (this.closed) return;
    const empty = new Uint8Array();
    if (error !== null) this.host.send({ kind: Kind.ack, channel: this.channel, id, ok: false, error: toWireError(error), update: empty });
    else this.host.send({ kind: Kind.ack, channel: this.channel, id, ok: true, result, update: update ?? empty });
  }

  /** Direct edits go through the batcher: frames read back to back are applied as one. */
  edit(message: Edit): Promise<void> {
    const limit = this.host.limits.maxEditClients;
    if (editClientCount(message.update) > limit) {
      const error = new InvalidArguments(`An edit may write for at most ${limit} Yjs clients`).toWire();
      this.host.send({ kind: Kind.editResult, channel: this.channel, id: message.id, ok: false, error });
      return Promise.resolve();
    }
    return this.edits.add(message);
  }

  private editTarget(): EditTarget {
    const self = this;
    return {
      async ready() {
        return (await self.ready) && !self.closed;
      },
      mergeable() {
        return self.instance!.config.onEdit === undefined;
      },
      apply(updates) {
        return self.instance!.edit(self.conn!, updates);
      },
      answer(edit, error) {
        if (self.closed) return;
        if (error === null) return self.host.send({ kind: Kind.editResult, channel: self.channel, id: edit.id, ok: true });
        const wire = toWireError(self.host.runtime.callerError(error, { actor: self.instance!.name, edit: edit.id }));
        self.host.send({ kind: Kind.editResult, channel: self.channel, id: edit.id, ok: false, error: wire });
      },
      notSubscribed(edit) {
        self.host.send({ kind: Kind.editResult, channel: self.channel, id: edit.id, ok: false, error: new ActorStopped("The channel is not subscribed").toWire() });
      },
    };
  }

  /** Every presence state of the actor, to this channel (on subscribe, and when a peer asks: yjs/yjs-session.ts). */
  sendPresence(): void {
    const presence = this.closed ? null : (this.hub?.presence.snapshot() ?? null);
    if (presence !== null) this.host.sendFrame(frameWithBody(Kind.awareness, this.channel, presence));
  }

  /** The actor's document (null until subscribed): what a peer's state vector is compared with. */
  get document(): Y.Doc | null {
    return this.closed ? null : (this.instance?.doc ?? null);
  }

  /** The connection to the actor (null until subscribed). */
  get connection(): ConnImpl | null {
    return this.conn;
  }

  /** What `server.revoke` matches on: the actor and the connection's auth (null until subscribed). */
  get subject(): { readonly name: string; readonly key: readonly string[]; readonly auth: unknown; readonly params: unknown } | null {
    if (this.closed || this.instance === null || this.conn === null) return null;
    return { name: this.instance.name, key: this.instance.key, auth: this.conn.auth, params: this.conn.params };
  }

  /**
   * New params on the live channel (a token refresh): onAuth runs again with intent
   * "connect"; accepted, `c.conn.auth` and the presence identity change in place; refused,
   * the channel closes with the error. The exactly-once owner follows the identity.
   */
  async reauth(message: Auth): Promise<void> {
    if (!(await this.ready) || this.closed) {
      this.host.send({ kind: Kind.authResult, channel: this.channel, id: message.id, ok: false, error: new ActorStopped("The channel is not subscribed").toWire() });
      return;
    }
    try {
      checkParamsSize(message.params, this.host.limits.maxParamsBytes);
    } catch (error) {
      // Refused before onAuth: the channel keeps the params it had.
      this.host.send({ kind: Kind.authResult, channel: this.channel, id: message.id, ok: false, error: toWireError(error) });
      return;
    }
    const instance = this.instance!;
    const conn = this.conn!;
    let auth: unknown;
    let presenceIdentity: unknown;
    // The newest re-auth decides: an older one whose onAuth answers later changes nothing.
    const turn = ++this.reauths;
    const decision = this.revokes.start();
    try {
      auth = await authenticate(instance.config, { name: instance.name, key: instance.key, params: message.params, intents: ["connect"], request: this.host.request });
      presenceIdentity = identityOf(auth, instance.config.identity); // user code: may throw too
    } catch (error) {
      this.revokedMeanwhile(decision);
      if (this.closed) return;
      const wire = toWireError(this.host.runtime.callerError(error, { actor: instance.name, reauth: message.id }));
      this.host.send({ kind: Kind.authResult, channel: this.channel, id: message.id, ok: false, error: wire });
      if (turn === this.reauths) void this.end(wire);
      return;
    }
    if (this.closed) return void this.revokedMeanwhile(decision);
    if (turn !== this.reauths) {
      this.revokedMeanwhile(decision);
      this.host.send({ kind: Kind.authResult, channel: this.channel, id: message.id, ok: true });
      return;
    }
    conn.auth = auth;
    conn.params = message.params;
    const identity = identityDigest(auth, instance.config.identity);
    this.seqOwner = seqOwner(this.host.clientId, identity);
    this.member.identity = presenceIdentity;
    this.identify(identity);
    this.host.send({ kind: Kind.authResult, channel: this.channel, id: message.id, ok: true });
    this.revokedMeanwhile(decision);
  }

  /** server.revoke ran: if onAuth is deciding for this channel, its outcome is checked against it too. */
  revokeWhileDeciding(match: (channel: ActorChannel) => boolean, error: TandemError): void {
    if (!this.closed) this.revokes.add(match, error);
  }

  /**
   * The decision started at `from` has its outcome in place (or failed): a revoke made
   * meanwhile that matches the channel now closes it. True if one did.
   */
  private revokedMeanwhile(from: number): boolean {
    const revokes = this.revokes.finish(from);
    if (this.closed || this.instance === null) return false;
    for (const { match, error } of revokes) {
      if (match(this)) {
        void this.end(error.toWire());
        return true;
      }
    }
    return false;
  }

  /** The server revoked this channel (server.revoke): closed with `error`; false if it was not open. */
  revoke(error: TandemError): boolean {
    if (this.closed || this.instance === null) return false;
    void this.end(error.toWire());
    return true;
  }

  /** Closes the channel from the server's side with an error the client must not retry past. */
  private async end(error: ReturnType<TandemError["toWire"]>): Promise<void> {
    if (this.closed) return;
    this.host.send({ kind: Kind.unsubscribed, channel: this.channel, error, retry: false });
    this.host.forget(this.channel, this);
    await this.close("access revoked");
  }

  async awareness(update: Uint8Array): Promise<void> {
    if (!(await this.ready) || this.closed) return;
    try {
      this.hub!.presence.apply(this.member, update, this.host.limits);
    } catch (error) {
      this.host.send({ kind: Kind.error, channel: this.channel, error: toWireError(error) });
    }
  }

  /**
   * Work for this channel failed where no caller waits (a fan-out or presence relay at a
   * turn's end): logged, and the channel is closed with a retry, so the client resubscribes
   * and catches up; the socket's other channels and the actor go on.
   */
  fail(error: unknown): void {
    if (this.closed) return;
    this.host.log.error({ err: error, channel: this.channel }, "a channel failed at the end of a turn");
    const instance = this.instance;
    const conn = this.conn;
    this.detach();
    this.host.send({ kind: Kind.unsubscribed, channel: this.channel, error: toWireError(error), retry: true });
    this.host.forget(this.channel, this);
    if (instance !== null && conn !== null) {
      instance.disconnect(conn, "channel failed").catch((cause: unknown) => this.host.log.error({ err: cause }, "disconnect after a channel failure failed"));
    }
  }

  /** The client unsubscribed or the socket closed. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => false);
    const instance = this.instance;
    const conn = this.conn;
    this.detach();
    if (instance !== null && conn !== null) await instance.disconnect(conn, reason);
  }

  /** Speaks as `identity` from now on (the one before, if any, is released). */
  private identify(identity: string): void {
    const previous = this.identity;
    this.identity = identity;
    this.host.identified(identity);
    if (previous !== null) this.host.released(previous);
  }

  private release(): void {
    if (this.identity === null) return;
    this.host.released(this.identity);
    this.identity = null;
  }

  private detach(): void {
    this.closed = true;
    this.release();
    if (this.hub !== null) {
      this.hub.fanout.flush();
      this.hub.fanout.subscribers.delete(this.subscriber);
      this.hub.presence.leave(this.member);
    }
  }
}
