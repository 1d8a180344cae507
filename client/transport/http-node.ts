/**
 * How a client makes stateless calls when the options give no `fetch`: in Node, `node:http`
 * (or `node:https`) over a keep-alive agent with Nagle off; elsewhere (browsers, Deno, Bun)
 * the platform's fetch. Node's global fetch (undici) spends two to three times the client CPU
 * of a plain request per call (Request/Response/Headers objects, WHATWG streams, abort
 * signals), and one caller awaiting each call pays that CPU as latency. `node:http` is
 * loaded lazily so that browser bundles never include it.
 */
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import type { FetchLike } from "../http.ts";

/** A free keep-alive socket is closed after this long, or sooner if the server's `Keep-Alive: timeout` hint says so (as undici does). */
const IDLE_MS = 4000;

type RequestFn = (url: URL, options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;
interface HttpModule {
  request: RequestFn;
  Agent: new (options: Record<string, unknown>) => Agent;
}

function isNode(): boolean {
  const scope = globalThis as { process?: { versions?: { node?: string } }; Bun?: unknown; Deno?: unknown };
  return typeof scope.process?.versions?.node === "string" && scope.Bun === undefined && scope.Deno === undefined;
}

/**
 * The default fetcher: `node:http` in Node, else the global fetch. Always called as
 * `globalThis.fetch(...)`: a browser's fetch called with any other receiver (stored in a
 * field and called as `this.fetcher(...)`) throws "Illegal invocation".
 */
export function defaultFetcher(): FetchLike {
  const platform: FetchLike = (url, init) => (globalThis.fetch as unknown as FetchLike)(url, init);
  if (!isNode()) return platform;
  let node: FetchLike | null = null;
  let loading: Promise<FetchLike> | null = null;
  return (url, init) => {
    if (node !== null) return node(url, init);
    loading ??= nodeFetcher().then(
      (fetcher) => (node = fetcher),
      () => (node = platform), // a runtime that looks like Node but has no node:http
    );
    return loading.then((fetcher) => fetcher(url, init));
  };
}

async function load(name: string): Promise<HttpModule> {
  return (await import(/* @vite-ignore */ name)) as HttpModule;
}

/** One keep-alive agent per protocol, per client: calls in sequence reuse one socket. */
async function nodeFetcher(): Promise<FetchLike> {
  const [http, https] = await Promise.all([load("node:http"), load("node:https")]);
  const options = { keepAlive: true, timeout: IDLE_MS, noDelay: true, scheduling: "lifo" };
  const plain = { module: http, agent: new http.Agent(options) };
  let secure: { module: HttpModule; agent: Agent } | null = null;
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const via = target.protocol === "https:" ? (secure ??= { module: https, agent: new https.Agent(options) }) : plain;
      const body = init.body;
      const headers: Record<string, string | number> = { ...init.headers, "content-length": Buffer.byteLength(body) };
      const request = via.module.request(target, { method: init.method, headers, agent: via.agent }, (response) => {
        response.setEncoding("utf8");
        let text = "";
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: async () => JSON.parse(text) as unknown }));
        response.on("error", reject);
      });
      request.on("error", reject);
      request.end(body); // headers and body in one write
    });
}
