/** The shared client façade over a recording transport: what each member of the façade asks of it. */
import { describe, expect, test } from "vitest";
import { type ClientTransport, type HandleLookup, handleOptions, makeClientFacade, makeConnectionFacade } from "./client-facade.ts";

interface Target {
  readonly name: string;
  readonly lookup: HandleLookup | { kind: "created"; key: unknown };
}

function recording() {
  const calls: unknown[][] = [];
  const transport: ClientTransport<Target> = {
    target: (name, lookup, options) => {
      handleOptions(options);
      return { name, lookup };
    },
    create: async (name, key) => ({ name, lookup: { kind: "created", key } }),
    resolve: async (target) => `id of ${target.name}`,
    call: async (target, action, args) => {
      calls.push([target, action, args]);
      return action;
    },
    connect: (target) => ({ connectedTo: target }),
  };
  return { transport, calls };
}

type AnyClient = Record<string, Record<string, (...args: unknown[]) => Record<string, (...args: unknown[]) => unknown>>>;

describe("client façade", () => {
  test("accessors per name, handles call the transport, own members read on each access, never thenable", async () => {
    const { transport, calls } = recording();
    let ready = 1;
    const client = makeClientFacade<AnyClient, Target>(transport, { ready: () => ready });
    expect(client.board).toBe(client.board);
    expect((client as unknown as { then?: unknown }).then).toBeUndefined();
    expect(client.ready).toBe(1);
    ready = 2;
    expect(client.ready).toBe(2);
    const handle = client.board!.getOrCreate!(["a"]);
    await expect(handle.inc!(1, 2)).resolves.toBe("inc");
    expect(calls).toEqual([[{ name: "board", lookup: { kind: "getOrCreate", key: ["a"] } }, "inc", [1, 2]]]);
    await expect(handle.resolve!()).resolves.toBe("id of board");
    expect(handle.connect!()).toEqual({ connectedTo: { name: "board", lookup: { kind: "getOrCreate", key: ["a"] } } });
    expect((handle as { then?: unknown }).then).toBeUndefined();
    const created = await (client.board!.create!("k") as unknown as Promise<Record<string, (...args: unknown[]) => Promise<unknown>>>);
    await created.ping!();
    expect(calls.at(-1)).toEqual([{ name: "board", lookup: { kind: "created", key: "k" } }, "ping", []]);
    expect(() => client.board!.get!("k", 5)).toThrow(expect.objectContaining({ code: "invalid_arguments" }));
  });

  test("connection façade: getters on each access, own members, one function per action name", async () => {
    let state = 1;
    const made: string[] = [];
    const conn = makeConnectionFacade({ dispose: () => "disposed" }, (name) => {
      made.push(name);
      return async (...args) => [name, ...args];
    }, { state: () => state }) as Record<string, unknown> & { inc(n: number): Promise<unknown>; dispose(): string };
    expect(conn.state).toBe(1);
    state = 2;
    expect(conn.state).toBe(2);
    expect(conn.dispose()).toBe("disposed");
    expect(conn.inc).toBe(conn.inc);
    await expect(conn.inc(3)).resolves.toEqual(["inc", 3]);
    expect(made).toEqual(["inc"]);
    expect(conn.then).toBeUndefined();
  });
});
