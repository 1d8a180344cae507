/**
 * A socket of a stock y-websocket provider (`WebsocketProvider` of y-websocket v3) on one
 * actor: a dialect of the Tandem socket. Everything a Tandem socket checks and limits
 * (frame size, frame rate, backpressure, heartbeats, the send budget, per-address caps)
 * applies as is, because this *is* a SocketSession: only its first step (reading a peer's
 * message into Tandem frames) and its last (writing Tandem frames as y-websocket messages)
 * differ. The actor side is an ordinary ActorChannel (channel 1): onAuth, the edit checks,
 * canEdit/onEdit, fan-out and presence (identity stamping, limits) are the same code as for
 * a Tandem client.
 *
 * Reading: the first message opens the channel (a synthesized hello, then subscribe with
 * mode getOrCreate; when it is sync step 1, as a provider's first message always is, its
 * state vector rides on the subscribe, so the answer is one step 2). Then sync step 1 is
 * sync step 1, step 2 and update are edits (answered inside the server, see below),
 * awareness is awareness without the provider's echoes of others' states
 * (awareness-echoes.ts), and query-awareness travels as a ping (so it is rate limited and
 * ordered like any frame) whose pong is answered with every presence state.
 *
 * In a cluster the channel of an actor another node owns is relayed there like a Tandem
 * client's (server/cluster/): the dialect stays here, at the edge, and the owner sees Tandem
 * frames. What needs the actor's document here (step 1 with its state vector, the answer to
 * query-awareness) does without it: step 1 asks for everything, query-awareness gets nothing.
 *
 * Writing: sync and awareness frames keep their bodies (the bytes are the same) under a
 * y-websocket header. An editable channel asks the provider for what the server lacks
 * (sync step 1 after `subscribed`: offline edits come up as step 2).
 *
 * Refusals. An update may depend on changes the actor does not have yet without being
 * wrong: one typed before the provider's step 2 reached the server, one built on another
 * tab's changes (providers of one browser share them over a BroadcastChannel) that are still
 * on their way. So an editable channel's update refused as invalid_arguments asks for
 * everything again (step 1) instead of failing, and further such refusals wait for the
 * answer: the provider's step 2 holds all the server lacks, the refused update included,
 * and is judged whole — refused, it closes the socket. An awareness update refused by
 * presence changes nothing and is only told to the provider (y-protocols' "permission
 * denied", which it logs): the document is not at stake, and a provider that reconnects
 * before the server noticed its old socket is gone has its own id refused until then. Any
 * other refusal — a read-only actor, canEdit or onEdit saying no, onAuth refusing, an
 * unknown actor, a frame limit — closes the socket at once with a close code that mirrors HTTP
 * (yjs-close.ts), preceded by y-protocols' "permission denied" for 401/403. A provider's
 * document cannot be taken back to the server's state (Yjs cannot drop items it applied),
 * so the refusal is made visible instead: v3 providers emit `closed` with the code and
 * reason and stop reconnecting.
 */
import { createHash } from "node:crypto";
import * as decoding from "lib0/decoding";
import * as Y from "yjs";
import type { WebSocket } from "ws";
import type { AuthRequest } from "../../../shared/context.ts";
import { ErrorCodes, type WireError } from "../../../shared/errors.ts";
import { awarenessBody } from "../../../shared/protocol/awareness.ts";
import { Kind, PROTOCOL_VERSION, type UpMessage, decodeDown } from "../../../shared/protocol/index.ts";
import type { ServerLogger } from "../../log.ts";
import type { ActorRuntime } from "../../runtime/actor-runtime.ts";
import type { ChannelQuota } from "../channels-per-address.ts";
import { runGuarded } from "../guard.ts";
import type { LeaderTerms } from "../leader-terms.ts";
import type { Limits } from "../limits.ts";
import type { SendBudget } from "../send-budget.ts";
import type { ClusterNode } from "../../cluster/cluster-node.ts";
import { ActorChannel } from "../actor-channel.ts";
import { SocketSession } from "../socket-session.ts";
import { AwarenessEchoes } from "./awareness-echoes.ts";
import { closeCodeFor, closeReasonFor } from "./yjs-close.ts";
import { frameWithBody } from "../frames.ts";
import { YjsMessageType, readYjsMessage, yjsMessage, yjsPermissionDenied, yjsStep1 } from "./yjs-messages.ts";

/** The actor a y-websocket socket syncs, from its URL (yjs-target.ts). */
export interface YjsTarget {
  readonly name: string;
  readonly key: readonly string[];
  /** The query string's parameters, as onAuth sees them (undefined when there are none). */
  readonly params: Readonly<Record<string, string>> | undefined;
}

/** The socket's one actor channel. */
const CHANNEL = 1;

/** A state vector with no clients: "send everything". */
const EMPTY_STATE_VECTOR = Uint8Array.of(0);

/** Error codes of an awareness update presence refused (the socket stays: the document is not at stake). */
const AWARENESS_REFUSALS: ReadonlySet<string> = new Set([ErrorCodes.invalidArguments, ErrorCodes.messageTooLarge, ErrorCodes.rateLimited]);

/** A short digest of plain data (the hello's client id of a provider). */
function digestOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 22);
}

/** An awareness frame with no states: tells the provider the link is alive, changes nothing. */
const EMPTY_AWARENESS = frameWithBody(Kind.awareness, CHANNEL, awarenessBody(Uint8Array.of(0)));

export class YjsSocketSession extends SocketSession {
  private opened = false;
  /** What the provider was told of others' awareness: its echoes are dropped (awareness-echoes.ts). */
  private readonly echoes: AwarenessEchoes;
  private nextEdit = 0;
  /** What `subscribed` said: an editable channel is asked for the provider's changes. */
  private editable = false;
  /** A refusal closes the socket: once. */
  private ending = false;
  /** Edits sent on and not yet answered, by id: whether each is a step 2 (an answer to step 1). */
  private readonly edits = new Map<number, boolean>();
  /** Step 1 was sent and no step 2 answered yet: updates refused for missing changes wait for it. */
  private resyncing = false;

  constructor(
    socket: WebSocket,
    request: AuthRequest,
    runtime: ActorRuntime,
    limits: Limits,
    log: ServerLogger,
    terms: LeaderTerms,
    budget: SendBudget,
    channelQuota: ChannelQuota,
    /** In a cluster, the channel of an actor another node owns is relayed there (frames pass as Tandem frames). */
    cluster: ClusterNode | null,
    private readonly target: YjsTarget,
  ) {
    super(socket, request, runtime, limits, log, terms, budget, channelQuota, cluster);
    this.echoes = new AwarenessEchoes(limits.maxPresenceStatesPerActor);
  }

  /** A provider reads one message per WebSocket message: never batches. */
  override greeted(clientId: string, epoch: number, _batching: boolean, version: number): void {
    super.greeted(clientId, epoch, false, version);
  }

  /**
   * A provider has no client id of its own: the socket takes its identity's, so a provider
   * that reconnects as the same user may bring back its awareness client id (presence.ts
   * binds a removed id to the client that owned it), and nobody else may. (A relayed
   * channel is identified on the owner, under the hello's client id: a digest of the
   * actor and the params, the same for a provider that reconnects with the same params.)
   */
  override identified(identity: string): void {
    this.clientId = `yjs:${identity}`;
    super.identified(identity);
  }

  /** A provider's message that does not decode: refused as before (y-websocket has no per-call answers). */
  protected override refuseUndecodable(_bytes: Uint8Array, error: unknown): void {
    this.refuseFrame(error);
  }

  protected override fromPeer(bytes: Uint8Array): readonly UpMessage[] {
    const message = readYjsMessage(bytes);
    const frames: UpMessage[] = [];
    if (!this.opened) {
      this.opened = true;
      const { name, key, params } = this.target;
      frames.push({ kind: Kind.hello, channel: 0, version: PROTOCOL_VERSION, clientId: `yjs:${digestOf([name, key, params ?? null])}`, epoch: 0 });
      const stateVector = message.type === "step1" ? message.stateVector : new Uint8Array();
      frames.push({ kind: Kind.subscribe, channel: CHANNEL, name, target: { by: "key", mode: "getOrCreate", key }, params, stateVector });
      if (message.type === "step1") return frames;
    }
    switch (message.type) {
      case "step1":
        frames.push({ kind: Kind.sync, channel: CHANNEL, step: "step1", data: message.stateVector });
        break;
      case "update": {
        const id = ++this.nextEdit;
        this.edits.set(id, message.answer);
        frames.push({ kind: Kind.edit, channel: CHANNEL, id, update: message.update });
        break;
      }
      case "awareness": {
        const update = this.echoes.strip(message.update);
        if (update !== null) frames.push({ kind: Kind.awareness, channel: CHANNEL, update });
        // A provider that hears nothing for 30 s reconnects; the relay does not echo its own state.
        this.sendFrame(EMPTY_AWARENESS);
        break;
      }
      case "queryAwareness":
        frames.push({ kind: Kind.ping, channel: 0 });
        break;
    }
    return frames;
  }

  protected override toPeer(frame: Uint8Array): Uint8Array | null {
    const decoder = decoding.createDecoder(frame);
    const kind = decoding.readVarUint(decoder);
    decoding.readVarUint(decoder); // the channel: this socket has one
    switch (kind) {
      case Kind.sync:
        return yjsMessage(YjsMessageType.sync, frame.subarray(decoder.pos));
      case Kind.awareness: {
        const body = frame.subarray(decoder.pos);
        this.echoes.sent(body);
        return yjsMessage(YjsMessageType.awareness, body);
      }
      case Kind.pong:
        // The answer to a query-awareness (a relayed channel's states are on its owner: none).
        this.localChannel()?.sendPresence();
        return null;
      case Kind.subscribed:
      case Kind.editResult:
      case Kind.unsubscribed:
      case Kind.error:
        return this.answer(frame);
      default:
        // welcome, acks, events, auth results: nothing a provider has.
        return null;
    }
  }

  private answer(frame: Uint8Array): Uint8Array | null {
    const message = decodeDown(frame);
    switch (message.kind) {
      case Kind.subscribed: {
        this.editable = message.canEdit;
        return this.editable ? this.askForChanges() : null;
      }
      case Kind.editResult: {
        const answer = this.edits.get(message.id) === true;
        this.edits.delete(message.id);
        if (answer) this.resyncing = false;
        if (message.ok) return null;
        if (!answer && this.editable && message.error.code === ErrorCodes.invalidArguments) return this.resyncing ? null : this.askForChanges();
        return this.closeFor(message.error);
      }
      case Kind.error:
        // An awareness update refused (another connection's id, too large, over a limit): nothing
        // of it was applied; the provider is told (it logs it) and goes on syncing the document.
        if (message.channel === CHANNEL && AWARENESS_REFUSALS.has(message.error.code)) return yjsPermissionDenied(closeReasonFor(message.error));
        return this.closeFor(message.error);
      case Kind.unsubscribed:
        return this.closeFor(message.error);
      default:
        return null;
    }
  }

  /**
   * Sync step 1 with the actor's state vector: the provider answers with what the actor
   * lacks. A relayed channel has no document here: an empty state vector asks for all the
   * provider has (what the actor already holds is skipped when it is applied).
   */
  private askForChanges(): Uint8Array | null {
    const local = this.localChannel();
    const doc = local === null ? null : local.document;
    if (local !== null && doc === null) return null; // closing
    this.resyncing = true;
    return yjsStep1(doc === null ? EMPTY_STATE_VECTOR : Y.encodeStateVector(doc));
  }

  /** Closes the socket for `error` (after this turn's frames), with y-protocols' permission denied first for 401/403. */
  private closeFor(error: WireError): Uint8Array | null {
    if (this.ending) return null;
    this.ending = true;
    const code = closeCodeFor(error);
    const reason = closeReasonFor(error);
    queueMicrotask(() =>
      runGuarded(
        () => this.close(code, reason),
        (failure) => this.fail(failure),
      ),
    );
    const denied = error.code === ErrorCodes.unauthorized || error.code === ErrorCodes.forbidden;
    return denied ? yjsPermissionDenied(reason) : null;
  }

  /** The channel when this node serves its actor (null: not open, or relayed to the owner). */
  private localChannel(): ActorChannel | null {
    try {
      const channel = this.channel(CHANNEL);
      return channel instanceof ActorChannel ? channel : null;
    } catch {
      return null;
    }
  }
}
