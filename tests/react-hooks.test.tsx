/**
 * tandem/react against a real server (port 0) and the real client: one subscription for
 * StrictMode's double mount and for a quick remount, released on unmount; re-renders only
 * when the selected part changes (predictions, confirmations, rollbacks, direct edits from
 * this client and from others); stable selections with inline selectors; and the status,
 * outbox, pending, presence and event hooks.
 */
import "./support/dom.ts";
import { Component, useEffect, useLayoutEffect, useState, type ReactNode } from "react";
import { describe, expect, test } from "vitest";
import * as Y from "yjs";
import { actor, event, setup, UserError } from "tandem";
import type { Client } from "tandem/client";
import { TandemProvider, useActor, useActorState, useClient, useEvent, useOutbox, usePending, usePresence, useStatus } from "tandem/react";
import { sleep, waitFor } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";
import { useReactRoots } from "./support/react-root.ts";
import { tcpProxy } from "./support/tcp-proxy.ts";

interface Todo {
  id: string;
  text: string;
  done: boolean;
}

/** Subscriptions the server saw (onConnect) and let go (onDisconnect), per board key. */
const connects = new Map<string, number>();
const disconnects = new Map<string, number>();
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

const board = actor({
  state: { notes: new Y.Text(""), todos: [] as Todo[], count: 0 },
  onAuth: ({ params }: { params: { name?: string } }) => ({ name: params?.name ?? "anon" }),
  identity: (auth) => ({ name: auth.name }),
  canEdit: () => true,
  onConnect: (c) => void bump(connects, c.key.join("/")),
  onDisconnect: (c) => void bump(disconnects, c.key.join("/")),
  events: { todoAdded: event<Todo>() },
  actions: {
    addTodo: (c, text: string) => {
      if (text.length > 10) throw new UserError("too long", { code: "too_long" });
      const todo = { id: crypto.randomUUID(), text, done: false };
      c.state.todos.push(todo);
      c.broadcast("todoAdded", todo);
      return todo;
    },
    inc: (c) => {
      c.state.count += 1;
    },
  },
});
const registry = setup({ use: { board } });
type R = typeof registry;

const net = useNetwork();
const roots = useReactRoots();

const RELEASE_MS = 40;

async function start() {
  const server = await net.server(registry, { allowedOrigins: "*" });
  const client = net.client<R>(server.url, {
    optimistic: { board: { addTodo: (state: { todos: Todo[] }, text: string) => void state.todos.push({ id: "", text, done: false }) } },
  });
  return { server, client };
}

function providing(client: Client<R>, node: ReactNode) {
  return (
    <TandemProvider client={client} releaseDelayMs={RELEASE_MS}>
      {node}
    </TandemProvider>
  );
}

/** An error boundary that keeps what it caught. */
class Catch extends Component<{ into: unknown[]; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override componentDidCatch(error: unknown) {
    this.props.into.push(error);
  }
  override render() {
    return this.state.failed ? null : this.props.children;
  }
}

/** A component that connects to a board and shows its status. */
function Board({ boardKey, name = "ada" }: { boardKey: string; name?: string }) {
  const client = useClient<R>();
  const conn = useActor(client.board.getOrCreate(boardKey, { params: { name } }));
  const status = useStatus(conn);
  return <p data-status={status}>{boardKey}</p>;
}

describe("useActor", () => {
  test("StrictMode's double mount shares one subscription, released once on unmount", async () => {
    const { client } = await start();
    const conns = new Set<unknown>();
    function Strict() {
      const conn = useActor(useClient<R>().board.getOrCreate("strict", { params: { name: "ada" } }));
      conns.add(conn);
      return <p data-status={useStatus(conn)} />;
    }
    const root = roots.mount(providing(client, <Strict />), { strict: true });
    await waitFor(() => root.container.querySelector("[data-status=synced]"), { what: "synced" });
    expect(conns.size).toBe(1); // one connect(): one subscription in the client
    await sleep(RELEASE_MS * 3); // past the release delay: the mount/unmount/mount kept the one connection
    expect(connects.get("strict")).toBe(1);
    expect(disconnects.get("strict") ?? 0).toBe(0);
    expect(root.container.querySelector("p")!.dataset.status).toBe("synced");

    root.unmount();
    await waitFor(() => disconnects.get("strict") === 1, { what: "the subscription released" });
    await sleep(RELEASE_MS * 2);
    expect(connects.get("strict")).toBe(1);
    expect(disconnects.get("strict")).toBe(1);
  });

  test("components on the same actor share a connection; a quick remount reuses it; none leaks", async () => {
    const { client } = await start();
    let seen: unknown[] = [];
    function Probe({ boardKey }: { boardKey: string }) {
      const conn = useActor(useClient<R>().board.getOrCreate(boardKey, { params: { name: "ada" } }));
      seen.push(conn);
      return null;
    }
    const root = roots.mount(
      providing(
        client,
        <>
          <Probe boardKey="shared" />
          <Probe boardKey="shared" />
          <Board boardKey="shared" />
        </>,
      ),
    );
    await waitFor(() => root.container.querySelector("[data-status=synced]"), { what: "synced" });
    expect(new Set(seen).size).toBe(1);
    root.render(providing(client, null)); // unmounted…
    root.render(providing(client, <Board boardKey="shared" />)); // …and back before the delay
    await sleep(RELEASE_MS * 3);
    expect(connects.get("shared")).toBe(1);
    expect(root.container.querySelector("p")!.dataset.status).toBe("synced");

    // another key: a connection of its own; switching back and forth settles to one each
    seen = [];
    root.render(providing(client, <Board boardKey="other" />));
    await waitFor(() => root.container.querySelector("[data-status=synced]"), { what: "the other board synced" });
    await waitFor(() => disconnects.get("shared") === 1, { what: "the first board released" });
    root.unmount();
    await waitFor(() => disconnects.get("other") === 1, { what: "the other board released" });
    expect(connects.get("other")).toBe(1);
  });

  test("a connection got by a render that never commits is released after the delay", async () => {
    const { client } = await start();
    function Throws(): never {
      throw new Error("render abandoned");
    }
    function Abandoned() {
      useActor(useClient<R>().board.getOrCreate("abandoned", { params: { name: "ada" } }));
      return <Throws />;
    }
    const errors = console.error;
    console.error = () => {}; // React reports the caught error
    try {
      roots.mount(providing(client, <Catch into={[]}><Abandoned /></Catch>));
    } finally {
      console.error = errors;
    }
    await waitFor(() => connects.get("abandoned") === 1, { what: "the subscription opened" });
    await waitFor(() => disconnects.get("abandoned") === 1, { what: "the unheld connection released" });
  });

  test("with releaseDelayMs 0 a connection may be released before the effect holds it: the component gets a fresh one", async () => {
    const { client } = await start();
    const conns = new Set<{ status: string }>();
    function Eager() {
      const conn = useActor(useClient<R>().board.getOrCreate("eager", { params: { name: "ada" } }));
      conns.add(conn);
      return <p data-status={useStatus(conn)} />;
    }
    const container = document.createElement("div");
    const { createRoot } = await import("react-dom/client");
    const root = createRoot(container);
    // Not flushSync: a default-priority render, whose effects run in a later task — after the
    // 0 ms release timer set during the render, often enough.
    root.render(
      <TandemProvider client={client} releaseDelayMs={0}>
        <Eager />
      </TandemProvider>,
    );
    await waitFor(() => container.querySelector("[data-status=synced]"), { what: "synced" });
    const live = [...conns].at(-1)!;
    await sleep(20);
    expect(live.status).toBe("synced"); // held: not released under the component
    expect((connects.get("eager") ?? 0) - (disconnects.get("eager") ?? 0)).toBeLessThanOrEqual(1);
    root.unmount();
    await waitFor(() => connects.get("eager") === disconnects.get("eager"), { what: "every subscription released" });
  });

  test("no handle, no connection; a value that is no handle is refused with a clear error", async () => {
    const { client } = await start();
    let got: unknown = "unset";
    function Maybe() {
      got = useActor(null);
      return null;
    }
    roots.mount(providing(client, <Maybe />));
    expect(got).toBeNull();
    function Wrong() {
      useActor({ connect: () => ({ dispose() {} }) });
      return null;
    }
    const caught: unknown[] = [];
    const errors = console.error;
    console.error = () => {}; // React reports the caught errors
    try {
      roots.mount(providing(client, <Catch into={caught}><Wrong /></Catch>));
      roots.mount(<Catch into={caught}><Board boardKey="nowhere" /></Catch>);
      for (const releaseDelayMs of [-1, Number.NaN, Infinity])
        roots.mount(<Catch into={caught}><TandemProvider client={client} releaseDelayMs={releaseDelayMs}><Board boardKey="never" /></TandemProvider></Catch>);
    } finally {
      console.error = errors;
    }
    expect(caught).toEqual([expect.objectContaining({ code: "invalid_arguments", message: expect.stringMatching(/handle/) }), expect.objectContaining({ code: "invalid_arguments", message: expect.stringMatching(/TandemProvider/) }), ...[1, 2, 3].map(() => expect.objectContaining({ code: "invalid_arguments", message: expect.stringMatching(/releaseDelayMs/) }))]);
    expect(connects.get("never")).toBeUndefined();
  });
});

describe("useActorState", () => {
  test("re-renders only when the selected part changes: predictions, confirmations, rollbacks, direct edits here and elsewhere", async () => {
    const { server, client } = await start();
    const renders = { count: 0, todos: 0, notes: 0 };
    const last: { count?: number; todos?: readonly { text: string; id: string }[]; notes?: string } = {};
    const todoHistory: (readonly { text: string; id: string }[] | undefined)[] = [];
    let conn: ReturnType<ReturnType<typeof client.board.getOrCreate>["connect"]> | null = null;
    function Count() {
      const c = useActor(useClient<R>().board.getOrCreate("counts", { params: { name: "ada" } }));
      conn = c;
      last.count = useActorState(c, (s) => s.count);
      renders.count++;
      return null;
    }
    function Todos() {
      const c = useActor(useClient<R>().board.getOrCreate("counts", { params: { name: "ada" } }));
      last.todos = useActorState(c, (s) => s.todos);
      todoHistory.push(last.todos);
      renders.todos++;
      return null;
    }
    function Notes() {
      const c = useActor(useClient<R>().board.getOrCreate("counts", { params: { name: "ada" } }));
      last.notes = useActorState(c, (s) => s.notes.toString());
      renders.notes++;
      return null;
    }
    roots.mount(
      providing(
        client,
        <>
          <Count />
          <Todos />
          <Notes />
        </>,
      ),
    );
    await waitFor(() => last.count === 0, { what: "the state synced" });
    await conn!.whenSynced();
    const base = { ...renders };

    // an action with a prediction: Todos renders for the prediction and for the confirmation, nobody else
    const shownBefore = todoHistory.length;
    await conn!.addTodo("milk");
    await waitFor(() => last.todos?.[0]?.id !== "", { what: "the confirmation" });
    expect(todoHistory.slice(shownBefore).map((todos) => todos?.map((t) => (t.id === "" ? "predicted" : "confirmed")))).toEqual([["predicted"], ["confirmed"]]);
    expect(renders.todos - base.todos).toBe(2);
    expect(renders.count).toBe(base.count);
    expect(renders.notes).toBe(base.notes);

    // a rejected action: the prediction shows, then rolls back
    const before = last.todos;
    const beforeRejected = todoHistory.length;
    const rejected = await conn!.addTodo("far too long a todo").catch((error: unknown) => error);
    expect(rejected).toMatchObject({ code: "too_long" });
    await waitFor(() => last.todos?.length === 1, { what: "the rollback" });
    expect(todoHistory.slice(beforeRejected).map((todos) => todos?.length)).toEqual([2, 1]); // the prediction, then its rollback
    expect(last.todos).toEqual(before);
    expect(last.todos![0]).toBe(before![0]); // unchanged parts keep their identity
    expect(renders.count).toBe(base.count);
    expect(renders.notes).toBe(base.notes);

    // an action without prediction, confirmed: only Count
    const todosNow = renders.todos;
    await conn!.inc();
    await waitFor(() => last.count === 1, { what: "the count" });
    expect(renders.todos).toBe(todosNow);
    expect(renders.notes).toBe(base.notes);

    // a direct edit here (shows at once), then one confirmed from another client: only Notes
    const countNow = renders.count;
    (conn!.doc.getMap("state").get("notes") as Y.Text).insert(0, "local ");
    await waitFor(() => last.notes === "local ", { what: "the local edit" });
    const other = net.client<R>(server.url).board.getOrCreate("counts", { params: { name: "bob" } }).connect();
    await other.whenSynced();
    await waitFor(() => other.state?.notes.toString() === "local ", { what: "the edit at the other client" });
    (other.doc.getMap("state").get("notes") as Y.Text).insert(6, "remote");
    await waitFor(() => last.notes === "local remote", { what: "the other client's edit" });
    expect(renders.count).toBe(countNow);
    expect(renders.todos).toBe(todosNow);
    other.dispose();
  });

  test("an inline selector building a new object each time gives the same object while nothing it reads changed", async () => {
    const { client } = await start();
    const seen: unknown[] = [];
    let renders = 0;
    let rerender: () => void = () => {};
    let conn: ReturnType<ReturnType<typeof client.board.getOrCreate>["connect"]> | null = null;
    function Summary() {
      const [, set] = useState(0);
      rerender = () => set((n) => n + 1);
      conn = useActor(useClient<R>().board.getOrCreate("inline", { params: { name: "ada" } }));
      const summary = useActorState(conn, (s) => ({ open: s.todos.filter((t) => !t.done).length, titles: s.todos.map((t) => t.text) }));
      seen.push(summary);
      renders++;
      return null;
    }
    const root = roots.mount(providing(client, <Summary />));
    await waitFor(() => seen.at(-1) !== undefined, { what: "a first state" });
    await conn!.whenSynced();
    const first = seen.at(-1);
    expect(first).toEqual({ open: 0, titles: [] });
    // the parent renders again, the selector is a new function: same selection object
    for (let i = 0; i < 3; i++) root.render(providing(client, <Summary />));
    rerender();
    await sleep(0);
    expect(new Set(seen.slice(seen.indexOf(first)))).toEqual(new Set([first]));
    // a change it does not read: no render at all
    const rendersBefore = renders;
    await conn!.inc();
    await sleep(20);
    expect(renders).toBe(rendersBefore);
    // a change it reads: a new object
    await conn!.addTodo("eggs");
    await waitFor(() => (seen.at(-1) as { titles: string[] }).titles[0] === "eggs", { what: "the new title" });
    expect(seen.at(-1)).not.toBe(first);
  });

  test("isEqual may keep the previous selection", async () => {
    const { client } = await start();
    const seen: (readonly { readonly id: string }[] | undefined)[] = [];
    let conn: ReturnType<ReturnType<typeof client.board.getOrCreate>["connect"]> | null = null;
    function Lengths() {
      conn = useActor(useClient<R>().board.getOrCreate("equal", { params: { name: "ada" } }));
      seen.push(useActorState(conn, (s) => s.todos, (a, b) => a.length === b.length));
      return null;
    }
    roots.mount(providing(client, <Lengths />));
    await waitFor(() => seen.at(-1) !== undefined, { what: "a first state" });
    await conn!.whenSynced();
    await conn!.addTodo("a"); // predicted (id ""), then confirmed (its id): the same length
    await sleep(20);
    expect(conn!.state!.todos[0]!.id).not.toBe("");
    expect(seen.at(-1)![0]!.id).toBe(""); // isEqual kept the prediction's selection
    await conn!.addTodo("b");
    await waitFor(() => seen.at(-1)!.length === 2, { what: "a longer list" });
    expect(seen.at(-1)![0]!.id).toBe(conn!.state!.todos[0]!.id);
  });
});

describe("status, outbox, pending, presence and events", () => {
  test("status and the outbox follow the link; pending counts what is not confirmed", async () => {
    const { server } = await start();
    const proxy = await tcpProxy(server.port);
    const client = net.client<R>(proxy.url);
    const shown: { status?: string; pending?: number; outbox?: readonly { name: string; status: string }[] } = {};
    let conn: ReturnType<ReturnType<typeof client.board.getOrCreate>["connect"]> | null = null;
    function Badge() {
      conn = useActor(useClient<R>().board.getOrCreate("badge", { params: { name: "ada" } }));
      shown.status = useStatus(conn);
      shown.pending = usePending(conn);
      shown.outbox = useOutbox(conn);
      return null;
    }
    roots.mount(providing(client, <Badge />));
    await waitFor(() => shown.status === "synced", { what: "synced" });
    expect(shown.pending).toBe(0);
    expect(shown.outbox).toEqual([]);

    proxy.cut();
    await waitFor(() => shown.status !== "synced", { what: "the link lost", timeoutMs: 5000 });
    const inc = conn!.inc();
    await waitFor(() => shown.pending === 1, { what: "one pending" });
    expect(shown.outbox!.map((entry) => entry.name)).toEqual(["inc"]);

    proxy.restore();
    await inc;
    await waitFor(() => shown.status === "synced" && shown.pending === 0 && shown.outbox!.length === 0, { what: "synced again", timeoutMs: 5000 });
    await proxy.close();
  });

  test("presence of others (stamped by the server) and events, heard while mounted with the latest listener", async () => {
    const { server, client } = await start();
    const heard: string[] = [];
    let presence: { self: unknown; others: readonly { state: Record<string, unknown> }[] } = { self: null, others: [] };
    let conn: ReturnType<ReturnType<typeof client.board.getOrCreate>["connect"]> | null = null;
    function Room({ tag }: { tag: string }) {
      conn = useActor(useClient<R>().board.getOrCreate("room", { params: { name: "ada" } }));
      presence = usePresence(conn);
      useEvent(conn, "todoAdded", (todo) => heard.push(`${tag}:${todo.text}`));
      return null;
    }
    const root = roots.mount(providing(client, <Room tag="first" />));
    const bob = net.client<R>(server.url).board.getOrCreate("room", { params: { name: "bob" } }).connect();
    await Promise.all([bob.whenSynced(), waitFor(() => conn?.status === "synced", { what: "synced" })]);
    bob.awareness.setLocalStateField("cursor", 3);
    await waitFor(() => presence.others.some((peer) => peer.state.cursor === 3), { what: "bob's presence" });
    expect(presence.others.find((peer) => peer.state.cursor === 3)!.state.user).toEqual({ name: "bob" });
    const before = presence;
    conn!.awareness.setLocalStateField("cursor", 9);
    await waitFor(() => (presence.self as { cursor?: number } | null)?.cursor === 9, { what: "my own presence" });
    expect(presence.others).toBe(before.others); // unchanged others keep their identity

    await bob.addTodo("one");
    await waitFor(() => heard.length === 1, { what: "the event" });
    root.render(providing(client, <Room tag="second" />)); // a new listener, same subscription
    await bob.addTodo("two");
    await waitFor(() => heard.length === 2, { what: "the second event" });
    expect(heard).toEqual(["first:one", "second:two"]);

    bob.dispose();
    await waitFor(() => presence.others.length === 0, { what: "bob gone" });
    root.unmount();
    const other = net.client<R>(server.url).board.getOrCreate("room", { params: { name: "eve" } }).connect();
    await other.addTodo("three");
    await sleep(30);
    expect(heard).toEqual(["first:one", "second:two"]);
    other.dispose();
  });
});

describe("clean up", () => {
  test("an unmounted tree leaves no listener behind on a connection the app keeps", async () => {
    const { client } = await start();
    const conn = client.board.getOrCreate("kept", { params: { name: "ada" } }).connect();
    await conn.whenSynced();
    let statusListeners = 0;
    const onStatus = conn.onStatus;
    const counted = new Proxy(conn, {
      get(target, prop) {
        if (prop === "onStatus")
          return (listener: Parameters<typeof onStatus>[0]) => {
            statusListeners++;
            const off = onStatus(listener);
            return () => {
              statusListeners--;
              off();
            };
          };
        return Reflect.get(target, prop);
      },
    });
    function Uses() {
      useStatus(counted);
      useEffect(() => {}, []);
      useLayoutEffect(() => {}, []);
      return null;
    }
    const root = roots.mount(providing(client, <Uses />), { strict: true });
    expect(statusListeners).toBe(1);
    root.unmount();
    expect(statusListeners).toBe(0);
    conn.dispose();
  });
});
