/**
 * Folding an actor's snapshot and commits into what the runtime loads. Shared by every
 * driver so that all of them give the same answer for the same history.
 */
import type { ActorMeta, Commit, ScheduleEntry, SeqRecord, Snapshot, StoredActor } from "./driver.ts";

export function foldCommits(meta: ActorMeta, snapshot: Snapshot | null, commits: readonly Commit[]): StoredActor {
  const updates: Uint8Array[] = [];
  let privateState: unknown = undefined;
  const seqs = new Map<string, SeqRecord>();
  const schedules = new Map<string, ScheduleEntry>();
  if (snapshot !== null) {
    updates.push(snapshot.doc);
    privateState = snapshot.privateState;
    for (const record of snapshot.seqs) seqs.set(record.clientId, record);
    for (const entry of snapshot.schedules) schedules.set(entry.id, entry);
  }
  for (const commit of commits) {
    if (commit.update !== undefined) updates.push(commit.update);
    if ("privateState" in commit) privateState = commit.privateState;
    for (const key of commit.seqsRemoved ?? []) seqs.delete(key);
    for (const record of commit.seqs ?? []) seqs.set(record.clientId, record);
    for (const entry of commit.schedules?.put ?? []) schedules.set(entry.id, entry);
    for (const id of commit.schedules?.remove ?? []) schedules.delete(id);
  }
  return { meta, updates, privateState, seqs, schedules: [...schedules.values()], commitsSinceSnapshot: commits.length };
}
