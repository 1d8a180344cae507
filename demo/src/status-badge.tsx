/**
 * The status badge: offline / connecting / syncing / synced, sync progress ("2 of 5 saved" while
 * an outbox flushes, the first sync's size once it is in), and "N changes not yet saved".
 * A page opened without a network (or with the server down) never gets past "connecting" in
 * the client's terms: it says "offline" when the browser knows it is, or once connecting has
 * taken a while (one timer, when the page opens: no polling).
 */
import { useEffect, useState, useSyncExternalStore } from "react";
import type { ConnectionStatus } from "tandem/client";
import { usePending, useStatus, type PendingSource, type StatusSource } from "tandem/react";
import { progressLabel, useProgress, type ProgressSource } from "./use-progress.ts";

const CONNECTING_GRACE_MS = 2500;

export const STATUS_LABELS: Record<ConnectionStatus, string> = {
  offline: "Offline",
  connecting: "Connecting…",
  syncing: "Syncing…",
  synced: "Synced",
};

/** navigator.onLine, following the window's online and offline events. */
function useOnline(): boolean {
  return useSyncExternalStore(
    (notify) => {
      window.addEventListener("online", notify);
      window.addEventListener("offline", notify);
      return () => {
        window.removeEventListener("online", notify);
        window.removeEventListener("offline", notify);
      };
    },
    () => navigator.onLine,
  );
}

/** Whether the page has been open longer than the connecting grace. */
function useGraceOver(): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setOver(true), CONNECTING_GRACE_MS);
    return () => clearTimeout(timer);
  }, []);
  return over;
}

/** The status as the badge shows it. */
export function useShownStatus(conn: StatusSource): ConnectionStatus {
  const status = useStatus(conn);
  const online = useOnline();
  const graceOver = useGraceOver();
  if (status !== "connecting") return status;
  return !online || graceOver ? "offline" : "connecting";
}

export function StatusBadge({ conn }: { conn: StatusSource & PendingSource & ProgressSource }) {
  const shown = useShownStatus(conn);
  const pending = usePending(conn);
  const progress = useProgress(conn);
  const label = shown === "offline" ? null : progressLabel(progress);
  return (
    <div id="status" className="status" role="status" data-status={shown} data-pending={String(pending)} data-progress={progress === null ? "" : `${progress.phase}:${progress.done}/${progress.total ?? "?"}`}>
      <span className="dot" aria-hidden="true" />
      <span className="status-label">{STATUS_LABELS[shown]}</span>
      <span id="progress" className="progress" hidden={label === null}>
        {label ?? ""}
      </span>
      <span id="pending" className="pending-count" hidden={pending === 0}>
        {pending > 0 ? `${pending} ${pending === 1 ? "change" : "changes"} not yet saved` : ""}
      </span>
    </div>
  );
}
