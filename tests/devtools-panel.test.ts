/**
 * The devtools panel (tandem/devtools) in a jsdom page over a real server: it shows the
 * tab, each connection's status, outbox statuses (with a rejection's error), predictions,
 * unconfirmed edits and state; state written by anyone shows as text (never markup); its
 * bounds hold on huge and deep state; unmounting removes it and stops listening; bad input
 * is refused with invalid_arguments.
 */
import "./support/dom.ts";
import { afterEach, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, setup, UserError } from "tandem";
import { type Client, createClient, memoryStorage } from "tandem/client";
import { mountDevtools } from "tandem/devtools";
import { createServer, memoryDriver, type TandemServer } from "tandem/server";
import { MAX_CHILDREN, MAX_DEPTH } from "../client/devtools/state-tree.ts";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy.ts";

const board = actor({
  state: { items: [] as string[], notes: new Y.Text(""), blob: {} as Record<string, unknown> },
  canEdit: () => true,
  actions: {
    add: (c, item: string) => {
      if (item.endsWith("!")) throw new UserError("no shouting", { code: "shouting" });
      c.state.items.push(item);
    },
    put: (c, value: Record<string, unknown>) => {
      c.state.blob = value;
    },
  },
});
const registry = setup({ use: { board } });
type R = typeof registry;

let server: TandemServer<R> | null = null;
let proxy: TcpProxy | null = null;
const clients: Client<R>[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.dispose();
  await proxy?.close();
  proxy = null;
  await server?.close();
  server = null;
  document.body.replaceChildren();
});

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function start(): Promise<Client<R>> {
  server = createServer(registry, { driver: memoryDriver(), logger: false });
  await server.listen();
  proxy = await tcpProxy(server.port);
  const client = createClient<R>(proxy.url, {
    storage: memoryStorage(),
    backoff: { baseMs: 5, maxMs: 20 },
    optimistic: { board: { add: (state, item) => void state.items.push(String(item)) } },
  });
  clients.push(client);
  return client;
}

const field = (root: ParentNode, name: string) => root.querySelector(`[data-field="${name}"]`)?.textContent ?? null;

test("shows status, outbox statuses, predictions, edits and state while offline and after a reconnect", async () => {
  const client = await start();
  const conn = client.board.getOrCreate("panel").connect();
  await conn.whenSynced();
  const host = document.createElement("div");
  document.body.append(host);
  const unmount = mountDevtools(client, { container: host });
  const panel = host.querySelector("#tandem-devtools")!;
  expect(panel).not.toBeNull();
  expect(panel.classList.contains("tdt-floating")).toBe(false);
  const section = () => panel.querySelector<HTMLElement>('section.tdt-connection[data-name="board"]')!;
  await until("synced shown", () => section()?.dataset.status === "synced");
  expect(field(panel, "tab-role")).toContain("alone");

  proxy!.cut();
  await until("offline shown", () => section().dataset.status === "offline");
  const calls = [conn.add("fine"), conn.add("loud!").catch(() => undefined)];
  (conn.doc.getMap("state").get("notes") as Y.Text).insert(0, "<img src=x onerror=alert(1)>");
  await until("queued shown", () => section().querySelectorAll('tr.tdt-entry[data-status="queued"]').length === 2);
  expect(field(section(), "predictions")).toMatch(/^add#\d+, add#\d+$/); // both predictions applied
  expect(field(section(), "edits")).toMatch(/^1 \(/);
  expect(section().querySelector("img")).toBeNull(); // state shows as text
  expect(section().querySelector(".tdt-state")!.textContent).toContain("<img src=x onerror=alert(1)>");

  proxy!.restore();
  await Promise.all(calls);
  await until("settled shown", () => section().dataset.status === "synced" && section().querySelectorAll("tr.tdt-entry").length === 2 && section().dataset.edits === "0");
  const rows = [...section().querySelectorAll<HTMLElement>("tr.tdt-entry")].map((row) => [row.dataset.status, row.querySelector(".tdt-entry-detail")!.textContent]);
  expect(rows[0]![0]).toBe("confirmed");
  expect(rows[1]).toEqual(["rejected", "shouting: no shouting"]);
  expect(field(section(), "progress")).toBe("idle");

  unmount();
  unmount(); // twice is harmless
  expect(host.querySelector("#tandem-devtools")).toBeNull();
  // unmounted: nothing listens any more (settled entries are no longer kept)
  await conn.add("after");
  expect(client.inspect().snapshot().connections[0]!.settled).toEqual([]);
});

test("huge and deep state stays bounded; the floating panel closes with its button", async () => {
  const client = await start();
  const conn = client.board.getOrCreate("big").connect();
  await conn.whenSynced();
  const wide: Record<string, number> = {};
  for (let i = 0; i < 5000; i++) wide[`k${i}`] = i;
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 30; i++) deep = { deeper: deep }; // under the protocol's value depth limit, over the panel's
  await conn.put({ wide, deep });
  const unmount = mountDevtools(client);
  const panel = document.querySelector<HTMLElement>("body > #tandem-devtools.tdt-floating")!;
  await until("state shown", () => panel.querySelector(".tdt-state details") !== null);
  const wideNode = panel.querySelector<HTMLElement>('details[data-path$=".blob.wide"]')!;
  expect(wideNode.querySelectorAll(":scope > ul > li")).toHaveLength(MAX_CHILDREN);
  expect(wideNode.textContent).toContain(`… ${5000 - MAX_CHILDREN} more`);
  let depth = 0;
  for (let node: Element | null = panel.querySelector('details[data-path$=".blob.deep"]'); node !== null; node = node.querySelector(":scope > ul > li > details")) depth++;
  expect(depth).toBeLessThanOrEqual(MAX_DEPTH);
  panel.querySelector<HTMLButtonElement>(".tdt-close")!.click();
  expect(document.querySelector("#tandem-devtools")).toBeNull();
  unmount(); // after the close button: harmless
});

test("bad input is refused with invalid_arguments and mounts nothing", async () => {
  const client = await start();
  const bad: unknown[] = [null, undefined, 42, {}, { inspect: 1 }];
  for (const each of bad) expect(() => mountDevtools(each as Client<R>)).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
  expect(() => mountDevtools(client, { container: "body" as unknown as HTMLElement })).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
  expect(() => mountDevtools(client, null as unknown as object)).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
  expect(document.querySelector("#tandem-devtools")).toBeNull();
});
