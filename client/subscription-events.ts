/**
 * What a subscription emits (one typed emitter, client/emitter.ts): what connections hear
 * (status … settled), and what the leader tab relays to its followers (mirror … view).
 */
import type * as Y from "yjs";
import type { TandemError } from "../shared/errors.ts";
import type { ConnectionStatus } from "./connection-status.ts";
import type { OutboxEntry } from "./outbox-entry.ts";
import type { SyncProgress } from "./sync-progress.ts";

/** Why local data was thrown away: a rejected edit (and all after it), or a read-only replica. */
export interface DiscardedEdits {
  readonly error: TandemError;
  readonly updates: readonly Uint8Array[];
}

export type SubscriptionEvents = {
  readonly status: [ConnectionStatus];
  readonly error: [TandemError];
  readonly change: [];
  readonly doc: [{ doc: Y.Doc; discarded: DiscardedEdits }];
  readonly outbox: [readonly OutboxEntry[]];
  readonly settled: [OutboxEntry];
  /** Every change of `doc`, whatever its origin (heard from the doc only while someone listens). */
  readonly mirror: [Uint8Array];
  /** `doc` was replaced: its content, and why. */
  readonly replaced: [Uint8Array, TandemError];
  /** Every actor event, by name. */
  readonly anyEvent: [string, unknown];
  /** Others' presence as the server sent it (this browser's own left out). */
  readonly remoteAwareness: [Uint8Array];
  readonly failed: [TandemError];
  /** Sync progress changed (null: nothing under way). */
  readonly progress: [SyncProgress | null];
  /** The picture a follower mirrors changed (status, outbox, actor id, canEdit). */
  readonly view: [];
};
