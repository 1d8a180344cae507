/**
 * The inspector page: one self-contained HTML document (no data in it, no external
 * resources). It takes the token from the URL fragment (`#token=…`, never the query string:
 * a fragment is not sent to servers or written to their logs) or asks for it, keeps it in
 * sessionStorage, and polls the API once a second. All data is shown as text (textContent),
 * never as HTML.
 */
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tandem inspector</title>
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
  body { margin: 0; }
  header { background: #1d232a; color: #fff; padding: 8px 16px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 16px; margin: 0; }
  header .muted { color: #aab; }
  main { display: grid; grid-template-columns: minmax(280px, 1fr) 2fr; gap: 16px; padding: 16px; }
  section { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 12px; overflow: auto; }
  h2 { font-size: 14px; margin: 0 0 8px; }
  h3 { font-size: 13px; margin: 12px 0 4px; color: #445; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  td, th { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef; vertical-align: top; }
  tr.actor { cursor: pointer; }
  tr.actor:hover, tr.selected { background: #eef3ff; }
  .tree ul { list-style: none; padding-left: 16px; margin: 0; }
  .tree { font-family: ui-monospace, monospace; font-size: 12px; }
  .k { color: #7a3e9d; } .s { color: #1a7f37; } .n { color: #0550ae; }
  .err { color: #b42318; } .ok { color: #1a7f37; }
  button { font: inherit; font-size: 12px; margin-right: 6px; }
  #login { max-width: 420px; margin: 48px auto; }
  #login input { width: 100%; box-sizing: border-box; padding: 6px; margin: 8px 0; }
  .badge { display: inline-block; padding: 0 6px; border-radius: 8px; background: #eef; font-size: 11px; }
  .badge.running { background: #dcfce7; } .badge.asleep { background: #e5e7eb; } .badge.stopping { background: #fef3c7; }
</style>
</head>
<body>
<header><h1>Tandem inspector</h1><span class="muted" id="node"></span><span class="muted" id="net" data-testid="network"></span><span class="err" id="error" data-testid="error"></span></header>
<form id="login" hidden>
  <h2>Inspector token</h2>
  <p>Paste the token the server printed (or TANDEM_INSPECTOR_TOKEN). It is kept in this tab only (sessionStorage).</p>
  <input id="token" type="password" autocomplete="off" data-testid="token-input">
  <button type="submit">Open</button>
</form>
<main id="app" hidden>
  <section>
    <h2>Live actors <span class="muted" id="count"></span></h2>
    <table><thead><tr><th>kind</th><th>key</th><th>status</th><th>conns</th><th>last commit</th></tr></thead><tbody id="actors" data-testid="actors"></tbody></table>
    <h3>Asleep with an alarm</h3>
    <table><tbody id="asleep" data-testid="asleep"></tbody></table>
  </section>
  <section id="detail" data-testid="detail"><p class="muted">Pick an actor.</p></section>
</main>
<script>
(() => {
  const KEY = "tandem.inspector.token";
  // A token in the fragment is taken and cleared from the address bar (on load, and when
  // only the fragment changes: that is no new load).
  function takeFragmentToken() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (!fragment.get("token")) return false;
    sessionStorage.setItem(KEY, fragment.get("token"));
    history.replaceState(null, "", location.pathname);
    return true;
  }
  takeFragmentToken();
  window.addEventListener("hashchange", () => { if (takeFragmentToken()) { $("login").hidden = true; $("error").textContent = ""; start(); } });
  const base = location.pathname.replace(/\\/inspector\\/?$/, "");
  let selected = null;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; };
  const when = (ms) => ms ? new Date(ms).toLocaleTimeString() : "—";

  async function api(path, init) {
    const response = await fetch(base + "/inspector/api" + path, { ...init, headers: { ...(init && init.headers), authorization: "Bearer " + sessionStorage.getItem(KEY) } });
    const body = await response.json().catch(() => null);
    if (response.status === 401 || response.status === 403) { sessionStorage.removeItem(KEY); showLogin(body && body.error ? body.error.message : "refused"); throw new Error("refused"); }
    if (!response.ok) throw new Error(body && body.error ? body.error.code + ": " + body.error.message : "HTTP " + response.status);
    return body;
  }

  function showLogin(message) { $("app").hidden = true; $("login").hidden = false; $("error").textContent = message || ""; }
  $("login").addEventListener("submit", (event) => { event.preventDefault(); sessionStorage.setItem(KEY, $("token").value.trim()); $("login").hidden = true; $("error").textContent = ""; start(); });

  function tree(value) {
    if (value === null || typeof value !== "object") {
      return el("span", JSON.stringify(value), typeof value === "string" ? "s" : "n");
    }
    const list = el("ul");
    for (const [key, item] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
      const li = el("li"); li.append(el("span", key, "k"), ": ", tree(item)); list.append(li);
    }
    if (list.children.length === 0) return el("span", Array.isArray(value) ? "[]" : "{}");
    return list;
  }

  function table(rows, columns, testid) {
    const t = el("table"); if (testid) t.dataset.testid = testid;
    const head = el("tr"); for (const c of columns) head.append(el("th", c[0])); t.append(head);
    for (const row of rows) { const tr = el("tr"); for (const c of columns) { const cell = c[1](row); tr.append(cell instanceof Node ? (() => { const td = el("td"); td.append(cell); return td; })() : el("td", cell)); } t.append(tr); }
    if (rows.length === 0) { const tr = el("tr"); const td = el("td", "none", "muted"); td.colSpan = columns.length; tr.append(td); t.append(tr); }
    return t;
  }

  async function admin(path, body) {
    try { await api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) }); $("error").textContent = ""; }
    catch (error) { $("error").textContent = String(error.message); }
    refresh();
  }

  function renderDetail(actor) {
    const d = $("detail"); d.replaceChildren();
    const title = el("h2"); title.append(actor.name + " " + JSON.stringify(actor.key) + " ", el("span", actor.status, "badge " + actor.status)); d.append(title);
    d.append(el("div", "id " + actor.id + (actor.ownerNodeId ? " · owner node " + actor.ownerNodeId : ""), "muted"));
    const buttons = el("div");
    const wake = el("button", "Wake"); wake.dataset.testid = "wake"; wake.onclick = () => admin("/actors/" + encodeURIComponent(actor.name) + "/" + actor.id + "/wake");
    const sleep = el("button", "Sleep"); sleep.dataset.testid = "sleep"; sleep.onclick = () => admin("/actors/" + encodeURIComponent(actor.name) + "/" + actor.id + "/sleep");
    buttons.append(wake, sleep); d.append(buttons);
    if (!actor.loaded) { d.append(el("p", (actor.status === "elsewhere" ? "Live on node " + actor.ownerNodeId + ", not here." : "Asleep: not loaded.") + (actor.alarmAt ? " Next alarm " + when(actor.alarmAt) : ""))); return; }
    d.append(el("div", "last commit " + when(actor.lastCommitAt) + " · state " + actor.stateBytes + " bytes · storage size " + actor.storageNote + " · mailbox " + actor.mailbox, "muted"));
    d.append(el("h3", "State"));
    const t = el("div", undefined, "tree"); t.dataset.testid = "state"; t.append(actor.stateTooLarge ? el("span", "too large to show (" + actor.stateBytes + " bytes)") : tree(actor.state)); d.append(t);
    d.append(el("h3", "Connections (" + actor.connectionList.total + ")"));
    d.append(table(actor.connectionList.items, [["id", (c) => c.id], ["identity", (c) => JSON.stringify(c.identity)], ["params", (c) => JSON.stringify(c.params)], ["address", (c) => c.address || "inline"]], "connections"));
    d.append(el("h3", "Presence (" + actor.presence.total + ")"));
    d.append(table(actor.presence.items, [["client", (p) => p.clientId], ["state", (p) => JSON.stringify(p.state)]], "presence"));
    d.append(el("h3", "Recent actions and events"));
    d.append(table(actor.recent, [["at", (r) => when(r.at)], ["kind", (r) => r.kind], ["name", (r) => r.name], ["ms", (r) => r.kind === "event" ? "→ " + r.targets : r.ms.toFixed(2)], ["outcome", (r) => el("span", r.outcome, r.outcome === "ok" ? "ok" : "err")], ["conn", (r) => r.conn || ""]], "recent"));
    d.append(el("h3", "Schedules (" + actor.schedules.total + ")"));
    d.append(table(actor.schedules.items, [["id", (s) => s.id], ["at", (s) => when(s.at)], ["action", (s) => s.action], ["args", (s) => JSON.stringify(s.args)]], "schedules"));
    d.append(el("h3", "Exactly-once records (" + actor.exactlyOnce.total + " client ids × identities, " + actor.exactlyOnce.bytes + " bytes)"));
    d.append(table(actor.exactlyOnce.owners, [["client id", (o) => o.clientId], ["identity", (o) => o.identity || "—"], ["last seq", (o) => o.lastSeq], ["records", (o) => o.records], ["seen", (o) => when(o.seenAt)], ["", (o) => { const b = el("button", "Reset"); b.title = "Forget this client id's records: an applied action it resends would run again"; b.onclick = () => { if (confirm("Forget the exactly-once records of " + o.clientId + "? An applied action it resends would run again.")) admin("/actors/" + encodeURIComponent(actor.name) + "/" + actor.id + "/reset-client", { clientId: o.clientId }); }; return b; }]], "exactly-once"));
  }

  async function refresh() {
    try {
      const list = await api("/actors");
      $("node").textContent = list.nodeId ? "node " + list.nodeId : "single node";
      $("net").textContent = list.network.sockets + " sockets · " + list.network.channels + " channels · " + list.network.queuedBytes + " B queued";
      $("count").textContent = "(" + list.total + ")";
      const body = $("actors"); body.replaceChildren();
      for (const a of list.actors) {
        const tr = el("tr", undefined, "actor" + (selected && selected.id === a.id ? " selected" : "")); tr.dataset.id = a.id;
        tr.append(el("td", a.name), el("td", JSON.stringify(a.key)), (() => { const td = el("td"); td.append(el("span", a.status, "badge " + a.status)); return td; })(), el("td", a.connections), el("td", when(a.lastCommitAt)));
        tr.onclick = () => { selected = { name: a.name, id: a.id }; refresh(); };
        body.append(tr);
      }
      const asleep = $("asleep"); asleep.replaceChildren();
      if (list.asleepWithAlarms.length === 0) asleep.append(el("tr", "none", "muted"));
      for (const a of list.asleepWithAlarms) { const tr = el("tr", undefined, "actor"); tr.append(el("td", a.name), el("td", JSON.stringify(a.key)), el("td", "alarm " + when(a.alarmAt))); tr.onclick = () => { selected = { name: a.name, id: a.id }; refresh(); }; asleep.append(tr); }
      if (selected) renderDetail(await api("/actors/" + encodeURIComponent(selected.name) + "/" + selected.id));
      if ($("error").textContent.startsWith("offline")) $("error").textContent = "";
    } catch (error) {
      if (error.message !== "refused") $("error").textContent = "offline? " + error.message;
    }
  }

  let timer = null;
  function start() { $("app").hidden = false; refresh(); if (timer === null) timer = setInterval(() => { if (sessionStorage.getItem(KEY)) refresh(); }, 1000); }
  if (sessionStorage.getItem(KEY)) start(); else showLogin();
})();
</script>
</body>
</html>
`;
