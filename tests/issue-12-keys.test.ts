/**
 * Issue 12, item 8: a key part with a lone surrogate has no UTF-8 form, so once stored it came
 * back as U+FFFD — another key, another actor id: the actor could not be found again, nor
 * woken by its alarm. Such keys are refused with invalid_arguments on every path (inline
 * client, HTTP body and header, the network client before it sends); well-formed keys
 * (astral characters included) keep working across a restart.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { fileDriver } from "tandem/server";
import { rejection } from "./seed-helpers.ts";
import { useNetwork } from "./support/raw-socket.ts";

const counter = actor({
  state: { n: 0 },
  actions: {
    add: (c) => ++c.state.n,
    read: (c) => c.state.n,
  },
});

const registry = setup({ use: { counter } });
type R = typeof registry;

const net = useNetwork();

const BAD_KEYS = ["a\ud800", "\udc00z", ["ok", "x\ud83d"], ["\ude00\ud83d"]];

test("keys that are not well-formed UTF-16 are refused with invalid_arguments on every path", async () => {
  const server = await net.server(registry);
  for (const key of BAD_KEYS) {
    const what = JSON.stringify(key);
    // Inline client.
    expect((await rejection(server.client.counter.getOrCreate(key).add())).code, what).toBe("invalid_arguments");
    // HTTP: in the body, and in the x-tandem-key header (JSON escapes keep the lone surrogate).
    for (const [body, headers] of [
      [JSON.stringify({ key, mode: "getOrCreate" }), {}],
      [JSON.stringify({ mode: "getOrCreate" }), { "x-tandem-key": JSON.stringify(key) }],
    ] as const) {
      const response = await fetch(`${server.url}/actors/counter/actions/add`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
      const answer = (await response.json()) as { error?: { code: string } };
      expect({ what, status: response.status, code: answer.error?.code }).toEqual({ what, status: 400, code: "invalid_arguments" });
    }
    // The network client refuses before anything is sent.
    const client = net.client<R>(server.url);
    let code: string | undefined;
    try {
      client.counter.getOrCreate(key as string);
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code, what).toBe("invalid_arguments");
  }
  expect(server.runtime.loaded.size).toBe(0);
});

test("well-formed keys with astral characters are the same actor after a restart", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tandem-keys-"));
  try {
    const key = ["😀", "e\u0301", "\uffff"];
    const server = await net.server(registry, { driver: fileDriver({ dir }) });
    expect(await server.client.counter.getOrCreate(key).add()).toBe(1);
    await net.closeServer(server);
    const again = await net.server(registry, { driver: fileDriver({ dir }) });
    expect(await again.client.counter.get(key).add()).toBe(2);
    await net.closeServer(again);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
