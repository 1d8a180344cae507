/**
 * A socket's handshake. The first frame must be hello, and it must come within
 * `helloTimeoutMs`; it names the protocol version (one too old gets upgrade_required and
 * the socket closes), the client id and the leader tab's term (leader-terms.ts). The
 * welcome answers with the versions this server speaks.
 */
import { MalformedFrame, UpgradeRequired } from "../../shared/errors.ts";
import { BATCH_PROTOCOL_VERSION, CloseCode, type DownMessage, Kind, MAX_CLIENT_ID_LENGTH, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../../shared/protocol/index.ts";
import { runGuarded } from "./guard.ts";

/** What the handshake needs of its socket session. */
export interface HelloHost {
  readonly socketId: string;
  readonly isClosed: boolean;
  send(message: DownMessage): void;
  close(code: number, reason: string): void;
  /** Work with no caller failed (the timer): the socket goes. */
  fail(error: unknown): void;
  /** The hello was accepted: who the client is, and whether it reads batch frames. */
  greeted(clientId: string, epoch: number, batching: boolean, version: number): void;
}

export class Handshake {
  private done = false;
  private timer: NodeJS.Timeout | null;

  constructor(
    private readonly host: HelloHost,
    private readonly timeoutMs: number,
  ) {
    this.timer = setTimeout(() => runGuarded(() => this.timedOut(), (error) => host.fail(error)), timeoutMs);
  }

  /** Whether the hello was accepted. */
  get isDone(): boolean {
    return this.done;
  }

  /** Refuses every frame but hello until the hello was accepted. */
  admit(kind: number): void {
    if (!this.done && kind !== Kind.hello) {
      throw new MalformedFrame("The first frame must be hello");
    }
  }

  hello(version: number, clientId: string, epoch: number): void {
    if (this.done) throw new MalformedFrame("hello was already received");
    if (version < MIN_PROTOCOL_VERSION) {
      this.host.send({ kind: Kind.error, channel: 0, error: new UpgradeRequired(`Protocol ${version} is too old; this server needs ${MIN_PROTOCOL_VERSION} or newer`).toWire() });
      this.host.close(CloseCode.upgradeRequired, "upgrade required");
      return;
    }
    if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) throw new MalformedFrame(`A client id has 1 to ${MAX_CLIENT_ID_LENGTH} characters`);
    this.done = true;
    this.stop();
    this.host.greeted(clientId, epoch, version >= BATCH_PROTOCOL_VERSION, version);
    this.host.send({ kind: Kind.welcome, channel: 0, version: PROTOCOL_VERSION, minVersion: MIN_PROTOCOL_VERSION, clientId, socketId: this.host.socketId });
  }

  private timedOut(): void {
    this.timer = null;
    if (this.done || this.host.isClosed) return;
    this.host.send({ kind: Kind.error, channel: 0, error: new MalformedFrame(`No hello within ${this.timeoutMs} ms`).toWire() });
    this.host.close(CloseCode.protocolError, "no hello");
  }

  /** The hello came, or the socket closed: no timeout any more. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
