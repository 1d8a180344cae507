/**
 * Issue 12, item 10: a browser's fetch throws "Illegal invocation" when called with any
 * receiver but the global object (or none). Stateless calls must call it unbound — the
 * default fetcher outside Node, and a platform fetch passed as the `fetch` option.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { actor, setup } from "tandem";
import { useNetwork } from "./support/raw-socket.ts";

const counter = actor({
  state: { n: 0 },
  actions: { inc: (c, by: number) => (c.state.n += by) },
});
const registry = setup({ use: { counter } });
type R = typeof registry;

const net = useNetwork();

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Node's fetch with a browser's receiver check: any `this` but the global (or none) throws. */
function browserLikeFetch(): typeof fetch {
  const real = globalThis.fetch;
  return function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    if (this !== undefined && this !== globalThis) throw new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation");
    return real(input, init);
  } as typeof fetch;
}

describe("stateless calls with a browser's fetch", () => {
  test("the default fetcher outside Node (the platform's fetch) calls it unbound", async () => {
    const server = await net.server(registry);
    vi.stubGlobal("fetch", browserLikeFetch());
    vi.stubGlobal("Deno", {}); // not Node: the default fetcher is the platform's fetch
    const client = net.client<R>(server.url);
    expect(await client.counter.getOrCreate("a").inc(2)).toBe(2);
    expect(typeof (await client.counter.get("a").resolve())).toBe("string");
  });

  test("a platform fetch passed as the fetch option is called unbound", async () => {
    const server = await net.server(registry);
    const client = net.client<R>(server.url, { fetch: browserLikeFetch() as never });
    expect(await client.counter.getOrCreate("b").inc(3)).toBe(3);
  });
});
