/** Tandem mounted into an existing fastify app under a prefix, next to the app's own routes. */
import Fastify from "fastify";
import { expect, test } from "vitest";
import { actor, setup } from "tandem";
import { createClient } from "tandem/client";
import { createServer } from "tandem/server";

const counter = actor({ state: { n: 0 }, actions: { inc: (c, by: number) => (c.state.n += by), get: (c) => c.state.n } });
const registry = setup({ use: { counter } });

test("mounted with a prefix, the client works against the prefixed URL", async () => {
  const tandem = createServer(registry, { logger: false });
  const app = Fastify({ logger: false });
  app.get("/health", async () => ({ ok: true }));
  await app.register(tandem.plugin, { prefix: "/tandem" });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const client = createClient<typeof registry>(`${base}/tandem`);
  try {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ ok: true });
    const handle = client.counter.getOrCreate("k");
    expect(await handle.inc(2)).toBe(2);
    const conn = handle.connect();
    await conn.whenSynced();
    expect(conn.state?.n).toBe(2);
    expect(await conn.inc(3)).toBe(5);
    const doc = (await (await fetch(`${base}/tandem/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain("/tandem/actors/counter/actions/inc");
    conn.dispose();
  } finally {
    client.dispose();
    await tandem.close();
    await app.close();
  }
});
