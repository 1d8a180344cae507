/** The connection's sync progress (conn.progress / conn.onProgress), as React state. */
import { useSyncExternalStore } from "react";
import type { SyncProgress } from "tandem/client";

export interface ProgressSource {
  readonly progress: SyncProgress | null;
  onProgress(listener: (progress: SyncProgress | null) => void): () => void;
}

export function useProgress(conn: ProgressSource): SyncProgress | null {
  return useSyncExternalStore(
    (notify) => conn.onProgress(notify),
    () => conn.progress,
  );
}

/** What the badge says of it: "2 of 5 saved", "1.2 KB received"; null when there is nothing to say. */
export function progressLabel(progress: SyncProgress | null): string | null {
  if (progress === null || progress.phase === "load") return null;
  if (progress.phase === "flush") return `${progress.done} of ${progress.total} saved`;
  if (progress.total === null) return null;
  const kb = progress.total / 1024;
  return `${kb < 10 ? kb.toFixed(1) : Math.round(kb)} KB received`;
}
