/**
 * Errors as a caller sees them: UserError intact, internal errors hidden (and logged),
 * auth errors keep their codes, unknown actions, invalid state values refused with nothing
 * changed, and argument validation with a Standard Schema validator.
 */
import { expect, test } from "vitest";
import { actor, Forbidden, setup, type StandardSchemaV1, TandemError, Unauthorized, UserError } from "tandem";
import type { ServerLogger } from "tandem/server";
import { rejection, useServers } from "./seed-helpers.ts";

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const thrower = actor({
  state: { value: "initial", nested: { list: [1, 2, 3] as number[], label: "n" } as Record<string, unknown> },
  actions: {
    userError: () => {
      throw new UserError("Out of credits", { code: "out_of_credits", metadata: { balance: 3, needed: 10, tags: ["a", "b"] } });
    },
    plainUserError: () => {
      throw new UserError("Just no");
    },
    internal: (c) => {
      c.state.value = "written before the throw";
      throw new Error("secret db password hunter2");
    },
    asyncInternal: async () => {
      await Promise.resolve();
      throw new TypeError("secret: cannot read properties of undefined");
    },
    throwString: () => {
      throw "secret string";
    },
    unauthorized: () => {
      throw new Unauthorized("Log in first");
    },
    forbidden: () => {
      throw new Forbidden();
    },
    setValue: (c, value: unknown) => {
      c.state.value = value as string;
    },
    setNested: (c, key: string, value: unknown) => {
      c.state.nested[key] = value;
    },
    pushToList: (c, value: unknown) => {
      (c.state.nested.list as unknown[]).push(1000, value);
    },
    replaceState: (c, value: unknown) => {
      c.state = value as typeof c.state;
    },
    storeFunction: (c) => {
      c.state.value = "changed";
      c.state.nested.fn = () => 1;
    },
    storeDate: (c) => {
      c.state.value = "changed";
      c.state.nested.when = new Date(0);
    },
    storeInstance: (c) => {
      c.state.value = "changed";
      c.state.nested.point = new Point(1, 2);
    },
    storeNaN: (c) => {
      c.state.value = "changed";
      c.state.nested.n = Number.NaN;
    },
    storeInfinity: (c) => {
      c.state.nested.n = Number.POSITIVE_INFINITY;
    },
    storeProtoKey: (c) => {
      c.state.value = "changed";
      c.state.nested.obj = JSON.parse('{"ok": 1, "__proto__": {"polluted": true}}') as unknown;
    },
    storeProtoDirect: (c) => {
      c.state.value = "changed";
      (c.state.nested as Record<string, unknown>)["__proto__"] = { polluted: true };
    },
    storeMap: (c) => {
      c.state.nested.map = new Map([["a", 1]]);
    },
    storeUndefinedInArray: (c) => {
      (c.state.nested.list as unknown[]).push(undefined);
    },
    snapshot: (c) => JSON.parse(JSON.stringify(c.state)) as unknown,
  },
});

const tupleOfNameAndAge: StandardSchemaV1<unknown, [string, number]> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate(value) {
      if (!Array.isArray(value)) return { issues: [{ message: "Expected an argument list" }] };
      const issues: { message: string; path: (string | number | { key: PropertyKey })[] }[] = [];
      const [name, age] = value as unknown[];
      if (typeof name !== "string") issues.push({ message: "Expected a string", path: [0] });
      else if (name.trim().length === 0) issues.push({ message: "Name must not be empty", path: [0] });
      if (typeof age !== "number" || !Number.isInteger(age) || age < 0) issues.push({ message: "Expected a non-negative integer", path: [{ key: 1 }] });
      if (value.length > 2) issues.push({ message: "Too many arguments", path: [2] });
      if (issues.length > 0) return { issues };
      // The output replaces the arguments: transforms apply.
      return { value: [(name as string).trim(), age as number] };
    },
  },
};

const asyncSchema: StandardSchemaV1<unknown, [{ email: string }]> = {
  "~standard": {
    version: 1,
    vendor: "test",
    async validate(value) {
      await Promise.resolve();
      const [arg] = value as [unknown];
      if (typeof arg === "object" && arg !== null && typeof (arg as { email?: unknown }).email === "string" && (arg as { email: string }).email.includes("@")) {
        return { value: [{ email: (arg as { email: string }).email.toLowerCase() }] };
      }
      return { issues: [{ message: "Invalid email", path: [0, "email"] }] };
    },
  },
};

let registrations = 0;
const validated = actor({
  state: { people: [] as { name: string; age: number }[], emails: [] as string[] },
  actions: {
    register: (c, name: string, age: number) => {
      registrations++;
      c.state.people.push({ name, age });
      return { name, age };
    },
    subscribe: (c, input: { email: string }) => {
      c.state.emails.push(input.email);
      return input.email;
    },
    list: (c) => c.state.people,
  },
  schemas: {
    register: tupleOfNameAndAge,
    subscribe: asyncSchema,
  },
});

const registry = setup({ use: { thrower, validated } });
const start = useServers();

test("a UserError with code and metadata reaches the caller intact", async () => {
  const server = start(registry);
  const handle = server.client.thrower.getOrCreate("e");
  const error = await rejection(handle.userError());
  expect(error).toBeInstanceOf(UserError);
  expect(error).toBeInstanceOf(TandemError);
  expect(error).toBeInstanceOf(Error);
  expect(error.code).toBe("out_of_credits");
  expect(error.message).toBe("Out of credits");
  expect(error.metadata).toEqual({ balance: 3, needed: 10, tags: ["a", "b"] });
  const plain = await rejection(handle.plainUserError());
  expect(plain).toBeInstanceOf(UserError);
  expect(plain).toMatchObject({ code: "user_error", message: "Just no" });
  expect(plain.metadata).toBeUndefined();
  // Through a connection too.
  const conn = handle.connect();
  await expect(conn.userError()).rejects.toMatchObject({ code: "out_of_credits", metadata: { balance: 3, needed: 10, tags: ["a", "b"] } });
  await conn.dispose();
});

test("a plain Error reaches the caller as internal_error with no details, and its details are logged", async () => {
  const logged: unknown[] = [];
  // pino's shape (fastify checks for fatal and trace too).
  const capture: ServerLogger & Record<string, unknown> = {
    level: "debug",
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (obj: unknown) => void logged.push(obj),
    error: (obj: unknown) => void logged.push(obj),
    fatal: (obj: unknown) => void logged.push(obj),
    silent: () => {},
    child: () => capture,
  };
  const server = start(registry, { logger: capture });
  const handle = server.client.thrower.getOrCreate("e");
  for (const call of [() => handle.internal(), () => handle.asyncInternal(), () => handle.throwString()]) {
    const error = await rejection(call());
    expect(error).toBeInstanceOf(TandemError);
    expect(error).not.toBeInstanceOf(UserError);
    expect(error.code).toBe("internal_error");
    expect(String(error.message)).not.toMatch(/secret|hunter2/);
    expect(JSON.stringify(error.metadata ?? null)).not.toMatch(/secret|hunter2/);
    expect(String(error.stack)).not.toMatch(/secret|hunter2/);
    expect(error.cause).toBeUndefined();
  }
  // The write before the throw left no trace.
  expect(await handle.snapshot()).toMatchObject({ value: "initial" });
  // The server logged the details for its operators.
  const text = JSON.stringify(logged, (_k, v: unknown) => (v instanceof Error ? { message: v.message } : v));
  expect(text).toContain("secret db password hunter2");
});

test("Unauthorized and Forbidden thrown from actions keep their codes", async () => {
  const server = start(registry);
  const handle = server.client.thrower.getOrCreate("e");
  const unauthorized = await rejection(handle.unauthorized());
  expect(unauthorized).toBeInstanceOf(Unauthorized);
  expect(unauthorized).toMatchObject({ code: "unauthorized", message: "Log in first" });
  const forbidden = await rejection(handle.forbidden());
  expect(forbidden).toBeInstanceOf(Forbidden);
  expect(forbidden).toMatchObject({ code: "forbidden", message: "Forbidden" });
});

test("an unknown action name fails with action_not_found", async () => {
  const server = start(registry);
  const handle = server.client.thrower.getOrCreate("e") as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of ["nope", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"]) {
    await expect(handle[name]!(), name).rejects.toMatchObject({ code: "action_not_found" });
  }
  const conn = server.client.thrower.getOrCreate("e").connect() as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await expect(conn.nope!()).rejects.toMatchObject({ code: "action_not_found" });
  await (conn.dispose as () => Promise<void>)();
});

test("arguments that are not plain data fail with invalid_arguments", async () => {
  const server = start(registry);
  const handle = server.client.thrower.getOrCreate("e");
  await expect(handle.setValue(() => 1)).rejects.toMatchObject({ code: "invalid_arguments" });
  await expect(handle.setValue(Symbol("s"))).rejects.toMatchObject({ code: "invalid_arguments" });
  expect(await handle.snapshot()).toMatchObject({ value: "initial" });
});

const before = { value: "initial", nested: { list: [1, 2, 3], label: "n" } };

test.each([
  ["a function", "storeFunction", /function/],
  ["a Date", "storeDate", /Date/],
  ["a class instance", "storeInstance", /Point/],
  ["NaN", "storeNaN", /NaN|finite/],
  ["Infinity", "storeInfinity", /Infinity|finite/],
  ["a Map", "storeMap", /Map/],
  ["a __proto__ key in a nested object", "storeProtoKey", /__proto__/],
  ["a __proto__ key set directly", "storeProtoDirect", /__proto__|prototype/],
] as const)("an invalid state value (%s) is refused with a clear error and nothing changes", async (_what, action, message) => {
  const server = start(registry);
  const handle = server.client.thrower.getOrCreate("e");
  const error = await rejection(handle[action]());
  expect(error).toBeInstanceOf(TandemError);
  expect(error.code).toBe("invalid_state");
  expect(error.message).toMatch(message);
  expect(await handle.snapshot()).toEqual(before);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test("invalid values passed in as arguments are refused by state, and nothing changes", async () => {
  const server = start(registry);
  const handle = server.client.thrower.getOrCreate("e");
  // These survive the copy of arguments but cannot live in state.
  for (const value of [new Date(0), Number.NaN, new Map([["a", 1]]), 10n, JSON.parse('{"__proto__": {"polluted": true}}') as unknown]) {
    await expect(handle.setNested("x", value), String(value)).rejects.toMatchObject({ code: "invalid_state" });
    await expect(handle.pushToList(value), String(value)).rejects.toMatchObject({ code: "invalid_state" });
  }
  await expect(handle.setNested("__proto__", { polluted: true })).rejects.toMatchObject({ code: "invalid_state" });
  await expect(handle.replaceState({ value: "x", nested: { fn: new Date(0) } })).rejects.toMatchObject({ code: "invalid_state" });
  await expect(handle.replaceState(Number.NaN)).rejects.toHaveProperty("code");
  await expect(handle.storeUndefinedInArray()).rejects.toHaveProperty("code");
  expect(await handle.snapshot()).toEqual(before);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  // Valid values still work afterwards.
  await handle.setNested("x", { ok: [1, "two", null, true] });
  expect(await handle.snapshot()).toEqual({ ...before, nested: { ...before.nested, x: { ok: [1, "two", null, true] } } });
});

test("a Standard Schema validator checks the arguments: invalid_arguments with issues in metadata", async () => {
  const server = start(registry);
  const handle = server.client.validated.getOrCreate("v");
  const before = registrations;
  const error = await rejection((handle.register as (...args: unknown[]) => Promise<unknown>)(42, -1));
  expect(error).toBeInstanceOf(TandemError);
  expect(error.code).toBe("invalid_arguments");
  expect(error.message).toMatch(/Expected a string/);
  expect(error.metadata).toEqual({
    issues: [
      { message: "Expected a string", path: ["0"] },
      { message: "Expected a non-negative integer", path: ["1"] },
    ],
  });
  await expect(handle.register("  ", 3)).rejects.toMatchObject({ code: "invalid_arguments", metadata: { issues: [{ message: "Name must not be empty" }] } });
  await expect((handle.register as (...args: unknown[]) => Promise<unknown>)("ann", 3, "extra")).rejects.toMatchObject({ code: "invalid_arguments" });
  // The action never ran and nothing changed.
  expect(registrations).toBe(before);
  expect(await handle.list()).toEqual([]);
  // Valid arguments pass, with the schema's output (trimmed) replacing them.
  expect(await handle.register("  ann  ", 30)).toEqual({ name: "ann", age: 30 });
  expect(await handle.list()).toEqual([{ name: "ann", age: 30 }]);
});

test("an async Standard Schema validator works too", async () => {
  const server = start(registry);
  const handle = server.client.validated.getOrCreate("v");
  expect(await handle.subscribe({ email: "ANN@Example.com" })).toBe("ann@example.com");
  const error = await rejection(handle.subscribe({ email: "nope" }));
  expect(error).toMatchObject({ code: "invalid_arguments", metadata: { issues: [{ message: "Invalid email", path: ["0", "email"] }] } });
  const conn = handle.connect();
  await expect(conn.subscribe({ email: "x" })).rejects.toMatchObject({ code: "invalid_arguments" });
  await conn.dispose();
});

test("errors in createState and onCreate reach the creator; internal ones hidden", async () => {
  const failing = actor({
    createState: (_c, input: { mode: "user" | "internal" | "ok" }) => {
      if (input.mode === "user") throw new UserError("Bad input", { code: "bad_input" });
      if (input.mode === "internal") throw new Error("secret config");
      return { ok: true };
    },
    actions: { ok: (c) => c.state.ok },
  });
  const server = start(setup({ use: { failing } }));
  await expect(server.client.failing.create("a", { input: { mode: "user" } })).rejects.toMatchObject({ code: "bad_input", message: "Bad input" });
  const internal = await rejection(server.client.failing.create("a", { input: { mode: "internal" } }));
  expect(internal.code).toBe("internal_error");
  expect(internal.message).not.toMatch(/secret/);
  await expect(server.client.failing.get("a").ok()).rejects.toMatchObject({ code: "actor_not_found" });
  expect(await (await server.client.failing.create("a", { input: { mode: "ok" } })).ok()).toBe(true);
});

test("an action that exceeds actionTimeoutMs fails with internal_error", async () => {
  const slow = actor({
    state: { n: 0 },
    options: { actionTimeoutMs: 30 },
    actions: {
      hang: async (c) => {
        c.state.n = 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
      },
      n: (c) => c.state.n,
    },
  });
  const server = start(setup({ use: { slow } }));
  const handle = server.client.slow.getOrCreate("s");
  await expect(handle.hang()).rejects.toMatchObject({ code: "internal_error" });
  expect(await handle.n()).toBe(0);
});

const badResult = actor({
  state: { n: 0 },
  actions: {
    returnFunction: (c) => {
      c.state.n++;
      return (() => 1) as unknown as number;
    },
    returnSymbol: (c) => {
      c.state.n++;
      return { s: Symbol("x") as unknown as string };
    },
    n: (c) => c.state.n,
  },
});

test("an action whose result is not plain data fails as internal_error, not as the caller's invalid_arguments", async () => {
  const server = start(setup({ use: { badResult } }));
  const handle = server.client.badResult.getOrCreate("r");
  for (const call of [() => handle.returnFunction(), () => handle.returnSymbol()]) {
    const error = await rejection(call());
    expect(error).toBeInstanceOf(TandemError);
    expect(error.code).toBe("internal_error");
  }
});

test("an action whose result is not plain data leaves no trace (its call failed)", async () => {
  const server = start(setup({ use: { badResult } }));
  const handle = server.client.badResult.getOrCreate("r");
  await expect(handle.returnFunction()).rejects.toBeInstanceOf(TandemError);
  await expect(handle.returnSymbol()).rejects.toBeInstanceOf(TandemError);
  expect(await handle.n()).toBe(0);
});

test("hooks throwing plain errors reach connections as internal_error with no details", async () => {
  const hooked = actor({
    state: {},
    onBeforeConnect: (_c, opts) => {
      if (opts.params.mode === "before") throw new Error("secret before");
    },
    onConnect: (_c, conn) => {
      if (conn.params.mode === "connect") throw new Error("secret connect");
    },
    actions: { ok: () => true },
  });
  const server = start(setup({ use: { hooked } }));
  for (const mode of ["before", "connect"]) {
    const conn = server.client.hooked.getOrCreate("h", { params: { mode } }).connect();
    const error = await rejection(conn.whenSynced());
    expect(error.code).toBe("internal_error");
    expect(error.message).not.toMatch(/secret/);
    await expect(conn.ok()).rejects.toMatchObject({ code: "internal_error" });
    await conn.dispose();
  }
});

test("createServer accepts any logger of the ServerLogger type it declares", async () => {
  const logged: unknown[] = [];
  // Exactly the declared interface: no pino extras (fatal, trace, level).
  const minimal: ServerLogger = {
    debug: () => {},
    info: () => {},
    warn: (obj) => void logged.push(obj),
    error: (obj) => void logged.push(obj),
    child: () => minimal,
  };
  const server = start(registry, { logger: minimal });
  await expect(server.client.thrower.getOrCreate("e").internal()).rejects.toMatchObject({ code: "internal_error" });
  expect(JSON.stringify(logged, (_k, v: unknown) => (v instanceof Error ? { message: v.message } : v))).toContain("secret db password");
});
