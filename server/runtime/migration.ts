/**
 * State versioning on the server (`actor({ version, migrate })`, docs/versioning.md): a
 * stored actor whose document holds an older state version is migrated as it loads — one
 * task of the commit pipeline, before onStart and before anything else reaches it. The
 * task runs `migrate(c, fromVersion)` against a draft of the stored state (as an action
 * does), and its write commits the draft and the new version in one transaction: storage
 * and every replica get both together or neither. A document of a newer version than the
 * definition (a server rolled back) is not loaded: serving it would show its state to code
 * that does not know its shape, and writing would corrupt it.
 */
import * as Y from "yjs";
import type { AnyActorConfig } from "../../shared/actor.ts";
import { InvalidState } from "../../shared/errors.ts";
import { stateVersionOf, writeStateVersion } from "../../shared/state/index.ts";
import type { WriteStep } from "./commit.ts";
import type { TaskContext } from "./task.ts";

export interface Migration {
  /** The task's code: the definition's `migrate`. */
  readonly run: (c: TaskContext) => Promise<void>;
  /** The commit's write: the draft's writes and the new version, in one transaction. */
  readonly write: WriteStep;
}

/** The migration a loaded document needs (null: it has the definition's version). Throws for a newer one. */
export function migrationOf(doc: Y.Doc, config: AnyActorConfig, origin: object, actorId: string): Migration | null {
  const target: number = config.version ?? 1;
  const stored = stateVersionOf(doc);
  if (stored === target) return null;
  if (stored > target) {
    throw new InvalidState(`Actor ${actorId} was stored by state version ${stored} and this server knows version ${target}: refusing to load it`);
  }
  const migrate = config.migrate as ((c: TaskContext, fromVersion: number) => unknown) | undefined;
  return {
    run: async (c) => {
      if (migrate !== undefined) await migrate(c, stored);
    },
    write: (task) => {
      let update: Uint8Array | null = null;
      const capture = (u: Uint8Array, o: unknown) => {
        if (o === origin) update = update === null ? u : Y.mergeUpdates([update, u]);
      };
      doc.on("update", capture);
      try {
        Y.transact(
          doc,
          () => {
            task.draft.commit(origin); // nested: part of this transaction
            writeStateVersion(doc, target);
          },
          origin,
        );
      } finally {
        doc.off("update", capture);
      }
      return update;
    },
  };
}

/** Records the definition's version in a new actor's document (before its first commit is taken). */
export function stampNewDocument(doc: Y.Doc, config: AnyActorConfig): void {
  const version: number = config.version ?? 1;
  if (version > 1) Y.transact(doc, () => writeStateVersion(doc, version));
}
