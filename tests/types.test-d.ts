/**
 * Type tests: what `actor()` infers and what the inline client exposes. This file is only
 * type-checked (tsc), never run: every assertion is an `expectTypeOf` or a
 * `@ts-expect-error` line that must stay an error.
 */
import { expectTypeOf, test } from "vitest";
import { actor, event, setup, UserError, Unauthorized, type StandardSchemaV1 } from "tandem";
import type { InlineClient, InlineConnection, InlineHandle } from "tandem";
import { createServer } from "tandem/server";
import { createClient } from "tandem/client";
import type { seedRegistry } from "./seed-registry.ts";

interface Message {
  id: string;
  userId: string;
  text: string;
}

const chatRoom = actor({
  state: { messages: [] as Message[], topic: "" },
  onAuth: async ({ params }) => {
    if (!params.token) throw new Unauthorized();
    return { userId: params.token, role: "member" as "member" | "guest" };
  },
  events: { newMessage: event<Message>(), cleared: event() },
  actions: {
    sendMessage: (c, text: string): Message => {
      expectTypeOf(c.state).toEqualTypeOf<{ messages: Message[]; topic: string }>();
      expectTypeOf(c.state.messages).toEqualTypeOf<Message[]>();
      expectTypeOf(c.conn.auth).toEqualTypeOf<{ userId: string; role: "member" | "guest" }>();
      expectTypeOf(c.conn.live).toEqualTypeOf<boolean>();
      expectTypeOf(c.conn.id).toEqualTypeOf<string>();
      if (c.conn.auth.role !== "member") throw new UserError("Insufficient permissions");
      const message = { id: "1", userId: c.conn.auth.userId, text };
      c.state.messages.push(message);
      c.broadcast("newMessage", message);
      c.broadcast("cleared", undefined);
      // @ts-expect-error: not a declared event
      c.broadcast("newMesage", message);
      // @ts-expect-error: wrong payload for the event
      c.broadcast("newMessage", { text: 1 });
      // @ts-expect-error: wrong payload for the event (a string, not a Message)
      c.broadcast("newMessage", "hi");
      c.conn.send("newMessage", message);
      // @ts-expect-error: not a declared event
      c.conn.send("nope", message);
      // @ts-expect-error: not a field of the auth object
      c.conn.auth.password;
      return message;
    },
    getMessages: (c) => c.state.messages,
    setTopic: async (c, topic: string, options?: { force: boolean }) => {
      c.state.topic = topic;
      return options?.force ?? false;
    },
    count: (c) => c.state.messages.length,
    nothing: () => {},
  },
});

const syncAuth = actor({
  state: { n: 0 },
  onAuth: ({ params }) => ({ user: params.user ?? "anon", admin: false }),
  actions: {
    whoami: (c) => {
      expectTypeOf(c.conn.auth).toEqualTypeOf<{ user: string; admin: boolean }>();
      return c.conn.auth.user;
    },
  },
});

const noEvents = actor({
  state: { count: 0 },
  actions: {
    increment: (c, by: number) => {
      c.state.count += by;
      // Without `events`, any name and payload are allowed.
      c.broadcast("newCount", c.state.count);
      c.broadcast("whatever", { any: "thing" });
      expectTypeOf(c.conn.auth).toEqualTypeOf<undefined>();
      return c.state.count;
    },
  },
});

const game = actor({
  createState: (c, input: { gameMode: string; maxPlayers: number }) => {
    expectTypeOf(c.key).toEqualTypeOf<readonly string[]>();
    return { mode: input.gameMode, maxPlayers: input.maxPlayers, players: [] as string[] };
  },
  actions: {
    getRoomInfo: (c) => {
      expectTypeOf(c.state).toEqualTypeOf<{ mode: string; maxPlayers: number; players: string[] }>();
      return `Room: ${c.state.mode} with players ${c.state.maxPlayers}`;
    },
  },
});

const withVars = actor({
  state: { n: 0 },
  privateState: { secret: "" },
  vars: { hits: 0 },
  actions: {
    hit: (c) => {
      expectTypeOf(c.vars).toEqualTypeOf<{ hits: number }>();
      expectTypeOf(c.privateState).toEqualTypeOf<{ secret: string }>();
      c.vars.hits++;
      return c.vars.hits;
    },
  },
});

const withCreateVars = actor({
  state: {},
  createVars: async () => ({ startedAt: 0 }),
  actions: {
    started: (c) => {
      expectTypeOf(c.vars).toEqualTypeOf<{ startedAt: number }>();
      return c.vars.startedAt;
    },
  },
});

const caller = actor({
  state: { calls: 0 },
  actions: {
    callOthers: async (c) => {
      const client = c.client<typeof registry>();
      expectTypeOf(client).toEqualTypeOf<InlineClient<typeof registry>>();
      const message = await client.chatRoom.getOrCreate("lobby", { auth: { userId: "u", role: "member" } }).sendMessage("hi");
      expectTypeOf(message).toEqualTypeOf<Message>();
      // @ts-expect-error: wrong argument type through c.client too
      await client.chatRoom.getOrCreate("lobby").sendMessage(42);
      // @ts-expect-error: no such actor kind
      client.nope;
      // A registry imported with `import type` from another module types the client too.
      const seed = c.client<typeof seedRegistry>();
      const available = await seed.inventory.getOrCreate("p1").reserveStock(2);
      expectTypeOf(available).toEqualTypeOf<boolean>();
      // @ts-expect-error: reserveStock takes a number
      await seed.inventory.getOrCreate("p1").reserveStock("2");
      return c.state.calls;
    },
  },
});

const registry = setup({ use: { chatRoom, syncAuth, noEvents, game, withVars, withCreateVars, caller } });

test("action arguments and results on handles", async () => {
  const server = createServer(registry, { logger: false });
  const room = server.client.chatRoom.getOrCreate("lobby", { auth: { userId: "u1", role: "member" } });
  expectTypeOf(room).toEqualTypeOf<InlineHandle<typeof chatRoom>>();
  expectTypeOf(room.sendMessage).toEqualTypeOf<(text: string) => Promise<Message>>();
  expectTypeOf(room.sendMessage).parameters.toEqualTypeOf<[text: string]>();
  expectTypeOf(room.sendMessage).returns.resolves.toEqualTypeOf<Message>();
  expectTypeOf(room.getMessages).returns.resolves.toEqualTypeOf<Message[]>();
  expectTypeOf(room.count).toEqualTypeOf<() => Promise<number>>();
  // Async actions are not wrapped twice.
  expectTypeOf(room.setTopic).returns.toEqualTypeOf<Promise<boolean>>();
  expectTypeOf(room.setTopic).parameters.toEqualTypeOf<[topic: string, options?: { force: boolean }]>();
  expectTypeOf(room.nothing).returns.toEqualTypeOf<Promise<void>>();
  expectTypeOf(room.resolve).returns.toEqualTypeOf<Promise<string>>();
  const byId = server.client.chatRoom.getForId(await room.resolve());
  expectTypeOf(byId).toEqualTypeOf<InlineHandle<typeof chatRoom>>();
  expectTypeOf(server.client.chatRoom.get(["org-1", "lobby"]).getMessages).returns.resolves.toEqualTypeOf<Message[]>();
  // @ts-expect-error: getForId takes the string id from resolve()
  server.client.chatRoom.getForId(["org-1", "lobby"]);

  // @ts-expect-error: text must be a string
  await room.sendMessage(42);
  // @ts-expect-error: missing argument
  await room.sendMessage();
  // @ts-expect-error: too many arguments
  await room.sendMessage("a", "b");
  // @ts-expect-error: wrong type in an optional argument
  await room.setTopic("t", { force: "yes" });
  // @ts-expect-error: unknown action name
  await room.sendMesage("hi");
  // @ts-expect-error: unknown action name
  room.deleteEverything;

  const counter = server.client.noEvents.getOrCreate();
  expectTypeOf(counter.increment).toEqualTypeOf<(by: number) => Promise<number>>();
  // @ts-expect-error: no such actor kind
  server.client.counter;
  await server.close();
});

test("auth passed to the inline client is typed from onAuth's return", () => {
  const server = createServer(registry, { logger: false });
  server.client.chatRoom.get("lobby", { auth: { userId: "u", role: "guest" } });
  // @ts-expect-error: role must be "member" | "guest"
  server.client.chatRoom.get("lobby", { auth: { userId: "u", role: "admin" } });
  // @ts-expect-error: userId is required
  server.client.chatRoom.get("lobby", { auth: { role: "member" } });
  server.client.syncAuth.get("x", { auth: { user: "a", admin: true } });
  // @ts-expect-error: admin must be a boolean
  server.client.syncAuth.get("x", { auth: { user: "a", admin: "yes" } });
  // params are strings
  server.client.chatRoom.get("lobby", { params: { token: "t" } });
  // @ts-expect-error: params values are strings
  server.client.chatRoom.get("lobby", { params: { token: 1 } });
  void server.close();
});

test("events type connection listeners", async () => {
  const server = createServer(registry, { logger: false });
  const conn = server.client.chatRoom.getOrCreate("lobby").connect();
  expectTypeOf(conn).toEqualTypeOf<InlineConnection<typeof chatRoom>>();
  conn.on("newMessage", (message) => {
    expectTypeOf(message).toEqualTypeOf<Message>();
  });
  conn.once("newMessage", (message) => {
    expectTypeOf(message).toEqualTypeOf<Message>();
  });
  const onCleared = (payload: undefined) => void payload;
  conn.on("cleared", onCleared);
  conn.off("cleared", onCleared);
  expectTypeOf(conn.on("newMessage", () => {})).toEqualTypeOf<() => void>();
  // @ts-expect-error: not a declared event
  conn.on("newMesage", () => {});
  // @ts-expect-error: listener takes a Message, not a number
  conn.on("newMessage", (n: number) => void n);
  // Connections have the actions too.
  expectTypeOf(conn.sendMessage).toEqualTypeOf<(text: string) => Promise<Message>>();
  // @ts-expect-error: text must be a string
  await conn.sendMessage(1);
  expectTypeOf(conn.id).toEqualTypeOf<string>();
  expectTypeOf(conn.dispose).returns.toEqualTypeOf<Promise<void>>();

  // Without `events`, any name is allowed and payloads are unknown.
  const counterConn = server.client.noEvents.getOrCreate().connect();
  counterConn.on("newCount", (payload) => {
    expectTypeOf(payload).toEqualTypeOf<unknown>();
  });
  counterConn.on("anything-at-all", () => {});
  await server.close();
});

test("create input flows from createState", async () => {
  const server = createServer(registry, { logger: false });
  const handle = await server.client.game.create(["game-456"], { input: { gameMode: "classic", maxPlayers: 4 } });
  expectTypeOf(handle).toEqualTypeOf<InlineHandle<typeof game>>();
  expectTypeOf(handle.getRoomInfo).returns.resolves.toEqualTypeOf<string>();
  // @ts-expect-error: input is required for this actor
  await server.client.game.create(["game-1"]);
  // @ts-expect-error: input is required for this actor
  await server.client.game.create(["game-1"], {});
  // @ts-expect-error: maxPlayers must be a number
  await server.client.game.create(["game-1"], { input: { gameMode: "classic", maxPlayers: "4" } });
  // @ts-expect-error: gameMode is missing
  await server.client.game.create(["game-1"], { input: { maxPlayers: 4 } });

  server.client.game.getOrCreate(["game-2"], { createWithInput: { gameMode: "ranked", maxPlayers: 2 } });
  // @ts-expect-error: wrong createWithInput
  server.client.game.getOrCreate(["game-2"], { createWithInput: { gameMode: 1, maxPlayers: 2 } });

  // An actor without createState takes no input.
  await server.client.noEvents.create("c1");
  await server.client.noEvents.create(["c2"], {});
  // @ts-expect-error: keys are strings or string arrays
  server.client.noEvents.get(1);
  // @ts-expect-error: keys are strings or string arrays
  server.client.noEvents.get(["a", 1]);
  await server.close();
});

test("vars, privateState and c.client are typed", async () => {
  const server = createServer(registry, { logger: false });
  expectTypeOf(server.client.withVars.getOrCreate().hit).returns.resolves.toEqualTypeOf<number>();
  expectTypeOf(server.client.withCreateVars.getOrCreate().started).returns.resolves.toEqualTypeOf<number>();
  expectTypeOf(server.client.caller.getOrCreate().callOthers).returns.resolves.toEqualTypeOf<number>();
  expectTypeOf(server.client).toEqualTypeOf<InlineClient<typeof registry>>();
  await server.close();
});

test("schedule and lifecycle hooks see the typed context", () => {
  actor({
    state: { ticks: 0 },
    vars: { started: false },
    onCreate: (c) => {
      expectTypeOf(c.state).toEqualTypeOf<{ ticks: number }>();
      c.schedule.after(10, "tick");
    },
    onStart: (c) => {
      expectTypeOf(c.vars).toEqualTypeOf<{ started: boolean }>();
    },
    onConnect: (c, conn) => {
      expectTypeOf(conn.id).toEqualTypeOf<string>();
      expectTypeOf(c.conns.size).toEqualTypeOf<number>();
    },
    actions: {
      tick: (c) => {
        c.state.ticks++;
        expectTypeOf(c.schedule.after(5, "tick")).toEqualTypeOf<string>();
        expectTypeOf(c.schedule.at(Date.now() + 5, "tick")).toEqualTypeOf<string>();
        // @ts-expect-error: ms must be a number
        c.schedule.after("5", "tick");
      },
    },
  });
});

test("schemas: Standard Schema validators of an action's argument list", () => {
  const nameAndAge = {} as StandardSchemaV1<unknown, [string, number]>;
  const wrong = {} as StandardSchemaV1<unknown, [number]>;

  const validated = actor({
    state: { people: [] as { name: string; age: number }[] },
    actions: {
      register: (c, name: string, age: number) => {
        c.state.people.push({ name, age });
        return name;
      },
    },
    schemas: { register: nameAndAge },
  });
  void validated;

  actor({
    state: { n: 0 },
    actions: {
      register: (c, name: string, age: number) => c.state.n + name.length + age,
    },
    // @ts-expect-error: a schema whose output is not the argument list is refused
    schemas: { register: wrong },
  });

  // Without `schemas`, the same actor infers fine.
  const plain = actor({
    state: { n: 0 },
    actions: { register: (c, name: string, age: number) => c.state.n + name.length + age },
  });
  expectTypeOf<typeof plain>().not.toBeNever();
});

test("conn.setParams takes the actor's params (issue 12: a token refresh on a live connection)", () => {
  const client = createClient<typeof registry>("http://127.0.0.1:1");
  const conn = client.chatRoom.getOrCreate("lobby", { params: { token: "t" } }).connect();
  expectTypeOf(conn.setParams).returns.toEqualTypeOf<Promise<void>>();
  void conn.setParams({ token: "refreshed" });
  // @ts-expect-error: params values are strings
  void conn.setParams({ token: 1 });
  client.dispose();
});

test("issue 15: an actor written inline in setup({ use }) is typed from its own literal, as one in a variable", () => {
  const inline = setup({
    use: {
      room: actor({
        state: { messages: [] as Message[] },
        onAuth: async ({ params }) => ({ userId: params.token ?? "anon" }),
        events: { newMessage: event<Message>() },
        onConnect: (c, conn) => {
          expectTypeOf(c.state.messages).toEqualTypeOf<Message[]>();
          expectTypeOf(conn.auth).toEqualTypeOf<{ userId: string }>();
        },
        actions: {
          send: (c, text: string) => {
            expectTypeOf(c.state.messages).toEqualTypeOf<Message[]>();
            expectTypeOf(c.conn.auth).toEqualTypeOf<{ userId: string }>();
            // @ts-expect-error: not in the state (an untyped `c` would accept it)
            void c.state.nope;
            const message = { id: "1", userId: c.conn.auth.userId, text };
            c.broadcast("newMessage", message);
            return message;
          },
          count: (c) => c.state.messages.length,
        },
      }),
      counter: actor({ state: { n: 0 }, actions: { inc: (c, by: number) => (c.state.n += by) } }),
    },
  });
  const client = createClient<typeof inline>("http://127.0.0.1:1");
  expectTypeOf(client.room.getOrCreate("k").send).parameters.toEqualTypeOf<[text: string]>();
  expectTypeOf(client.room.getOrCreate("k").send).returns.toEqualTypeOf<Promise<Message>>();
  expectTypeOf(client.counter.getOrCreate("k").inc).returns.toEqualTypeOf<Promise<number>>();
  const server = createServer(inline);
  expectTypeOf(server.client.room.getOrCreate("k").count).returns.toEqualTypeOf<Promise<number>>();
});
