/**
 * The panel's content for one client snapshot (client/inspection.ts): this tab and storage,
 * then per connection its status, sync progress, outbox (pending and recently settled),
 * predictions, unconfirmed direct edits and state tree. DOM built with textContent only.
 * The data-* attributes name what each part shows (tests and users' own tooling read them).
 */
import type { ClientSnapshot, ConnectionSnapshot } from "../inspection.ts";
import type { OutboxEntry } from "../outbox-entry.ts";
import type { SyncProgress } from "../sync-progress.ts";
import { type OpenPaths, stateTree } from "./state-tree.ts";
import { type StorageUse, formatBytes } from "./storage-estimate.ts";

export function renderSnapshot(doc: Document, snapshot: ClientSnapshot, storage: StorageUse | null | undefined, open: OpenPaths): DocumentFragment {
  const out = doc.createDocumentFragment();
  const client = el(doc, "div", "tdt-client");
  client.dataset.role = snapshot.tab.role;
  client.append(
    list(doc, [
      ["client id", snapshot.clientId || "(loading)"],
      ["this tab", `${snapshot.tab.tabId.slice(0, 8)} — ${roleText(snapshot.tab.role)}`, "tab-role"],
      ["leader tab", snapshot.tab.leaderTab === null ? "—" : `${snapshot.tab.leaderTab.slice(0, 8)}${snapshot.tab.leaderTab === snapshot.tab.tabId ? " (this tab)" : ""} · epoch ${snapshot.tab.epoch}`, "leader"],
      ["storage", `${snapshot.storage} · ${storageText(storage)}`, "storage"],
    ]),
  );
  out.append(client);
  if (snapshot.connections.length === 0) out.append(el(doc, "div", "tdt-empty", "No live connections."));
  for (const connection of snapshot.connections) out.append(renderConnection(doc, connection, open));
  return out;
}

function renderConnection(doc: Document, c: ConnectionSnapshot, open: OpenPaths): HTMLElement {
  const section = el(doc, "section", "tdt-connection");
  section.dataset.name = c.name;
  section.dataset.status = c.status;
  section.dataset.pending = String(c.outbox.length);
  section.dataset.edits = String(c.unconfirmedEdits.count);
  const target = c.target.by === "id" ? `#${c.target.id}` : `[${c.target.key.join(", ")}]`;
  section.append(el(doc, "h3", "tdt-title", `${c.name} ${target}`));
  const status = el(doc, "span", "tdt-status", c.status);
  section.append(
    list(doc, [
      ["status", status, "status"],
      ["progress", progressText(c.progress), "progress"],
      ["actor id", c.actorId ?? "—"],
      ["can edit", c.canEdit === null ? "—" : String(c.canEdit)],
      ["connect() calls", String(c.refs)],
      ["predictions", c.predictions.length === 0 ? "none" : c.predictions.map((p) => `${p.name}#${p.seq || "?"}`).join(", "), "predictions"],
      ["unconfirmed edits", c.unconfirmedEdits.count === 0 ? "none" : `${c.unconfirmedEdits.count} (${formatBytes(c.unconfirmedEdits.bytes)})`, "edits"],
      ...(c.inMemory ? [["storage", "write failed: kept in memory"] as Row] : []),
    ]),
  );
  section.append(el(doc, "h3", "", "Outbox"));
  section.append(outboxTable(doc, [...c.settled, ...c.outbox]));
  section.append(el(doc, "h3", "", "State"));
  const state = el(doc, "div", "tdt-state");
  state.append(c.state === null ? el(doc, "span", "tdt-empty", "no state yet") : stateTree(doc, c.state, open, `${c.id}$`));
  section.append(state);
  return section;
}

function outboxTable(doc: Document, entries: readonly OutboxEntry[]): HTMLElement {
  if (entries.length === 0) return el(doc, "div", "tdt-empty", "empty");
  const table = el(doc, "table", "tdt-outbox");
  const head = el(doc, "tr", "");
  for (const title of ["seq", "action", "status", "detail"]) head.append(el(doc, "th", "", title));
  table.append(head);
  for (const entry of entries) {
    const row = el(doc, "tr", "tdt-entry");
    row.dataset.status = entry.status;
    row.dataset.name = entry.name;
    const detail = entry.error !== undefined ? `${entry.error.code}: ${entry.error.message}` : entry.status === "confirmed" ? `→ ${brief(entry.result)}` : brief(entry.args);
    row.append(
      el(doc, "td", "", entry.seq === 0 ? "—" : String(entry.seq)),
      el(doc, "td", "", entry.name + (entry.restored ? " (restored)" : "")),
      el(doc, "td", "tdt-entry-status", entry.status),
      el(doc, "td", "tdt-entry-detail", detail),
    );
    table.append(row);
  }
  return table;
}

type Row = readonly [string, string | HTMLElement, string?];

function list(doc: Document, rows: readonly Row[]): HTMLElement {
  const dl = el(doc, "dl", "");
  for (const [term, value, field] of rows) {
    const dd = el(doc, "dd", "");
    if (field !== undefined) dd.dataset.field = field;
    if (typeof value === "string") dd.textContent = value;
    else dd.append(value);
    dl.append(el(doc, "dt", "", term), dd);
  }
  return dl;
}

function el(doc: Document, tag: string, className: string, text?: string): HTMLElement {
  const element = doc.createElement(tag);
  if (className !== "") element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function roleText(role: ClientSnapshot["tab"]["role"]): string {
  if (role === "alone") return "alone (no tab sharing)";
  return role === "leader" ? "leader (holds the socket)" : "follower (relays through the leader)";
}

function storageText(storage: StorageUse | null | undefined): string {
  if (storage === undefined) return "…";
  if (storage === null) return "use unknown";
  return `${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} used`;
}

export function progressText(progress: SyncProgress | null): string {
  if (progress === null) return "idle";
  const label = progress.phase === "load" ? "loading from storage" : progress.phase === "sync" ? "syncing" : "flushing";
  if (progress.total === null) return `${label}: waiting for the server`;
  return progress.unit === "bytes" ? `${label}: ${formatBytes(progress.done)} of ${formatBytes(progress.total)}` : `${label}: ${progress.done} of ${progress.total} ${progress.unit}`;
}

/** A value in one short line (JSON, cut at 120 characters). */
function brief(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_key, each: unknown) => (typeof each === "bigint" ? `${each}n` : each)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
