/**
 * What a channel (actor-channel.ts) needs of its socket session (socket-session.ts).
 */
import type { AuthRequest } from "../../shared/context.ts";
import type { DownMessage } from "../../shared/protocol/index.ts";
import type { ServerLogger } from "../log.ts";
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import type { Limits } from "./limits.ts";

/** What a channel needs of its socket session. */
export interface ChannelHost {
  readonly runtime: ActorRuntime;
  readonly limits: Limits;
  readonly log: ServerLogger;
  readonly request: AuthRequest | undefined;
  readonly clientId: string;
  /** For a peer node's relay link: that node's id (where the client is); null for a client's own socket. */
  readonly peerNode: string | null;
  readonly socketId: string;
  sendFrame(frame: Uint8Array): void;
  send(message: DownMessage): void;
  /** A channel passed onAuth as this identity (a digest): leader-tab fencing is per identity. */
  identified(identity: string): void;
  /** Resolves when the peer has room for a whole document (read backpressure, output-room.ts). */
  outputRoom(): Promise<void>;
  /** A channel that was `identified` as `identity` no longer is (closed, or re-authenticated). */
  released(identity: string): void;
  /** An action of this channel was answered (the socket may read more). */
  actionSettled(): void;
  /**
   * The channel is gone (closed by the actor or refused): forget it — `which` only, not a
   * newer channel the client opened under the same number since.
   */
  forget(channel: number, which: object): void;
}
