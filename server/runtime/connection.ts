/**
 * A caller of an actor as the actor sees it (`c.conn`, `c.conns`): a live connection with
 * a transport behind it (inline now, WebSocket later), or a one-off call. Events reach the
 * transport through `ConnSink`; the actor decides when (after its task commits).
 */
import type { AuthRequest, Conn } from "../../shared/context.ts";
import type { EventMap } from "../../shared/actor.ts";

/** Where a live connection's events and close go: implemented by each transport. */
export interface ConnSink {
  event(name: string, payload: unknown): void;
  close(reason: string): void;
}

export interface ConnEmitter {
  /** Sends an event to some connections, after the running task commits (if any). */
  emit(targets: readonly ConnImpl[] | "all", name: string, payload: unknown): void;
  /** Closes a live connection (runs onDisconnect). */
  disconnect(conn: ConnImpl, reason: string): void;
}

let nextConnId = 0;

export function newConnId(prefix: string): string {
  nextConnId = (nextConnId + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${Date.now().toString(36)}-${nextConnId.toString(36)}`;
}

export class ConnImpl implements Conn<unknown, unknown, EventMap> {
  emitter: ConnEmitter | null = null;

  constructor(
    readonly id: string,
    /** Replaced when a live connection re-authenticates (a token refresh: the network's auth frame). */
    public auth: unknown,
    public params: unknown,
    readonly sink: ConnSink | null,
    readonly request: AuthRequest | undefined = undefined,
  ) {}

  get live(): boolean {
    return this.sink !== null;
  }

  send(name: string, payload: unknown): void {
    if (this.sink === null) return; // a one-off call has nobody listening
    this.emitter?.emit([this], name, payload);
  }

  disconnect(reason = "disconnected by the actor"): void {
    if (this.sink === null) return;
    this.emitter?.disconnect(this, reason);
  }
}

/** The caller of trusted server code and of schedules: no auth unless one is given. */
export function systemConn(kind: "inline" | "schedule", auth?: unknown, params?: unknown): ConnImpl {
  return new ConnImpl(newConnId(kind), auth, params, null);
}
