/**
 * The WebSocket origin check (cross-site WebSocket hijacking): by default only same-origin
 * pages and non-browser clients (no Origin header) may upgrade; `allowedOrigins` widens it.
 */
import * as http from "node:http";
import { describe, expect, test } from "vitest";
import { actor, setup } from "tandem";
import type { AllowedOrigins } from "tandem/server";
import { useNetwork, upgradeStatus } from "./support/raw-socket.ts";

const hooks = { connects: 0 };

const counter = actor({
  state: { n: 0 },
  onConnect: () => {
    hooks.connects++;
  },
  actions: { inc: (c) => ++c.state.n },
});

const registry = setup({ use: { counter } });
type R = typeof registry;

const net = useNetwork();

function originServer(allowedOrigins?: AllowedOrigins) {
  return net.server(registry, { allowedOrigins });
}

/** A hand-made upgrade request: the refusal's status and JSON body, or "upgraded". */
function upgradeRequest(baseUrl: string, origin: string): Promise<{ status: number; body: unknown } | "upgraded"> {
  const url = new URL(`${baseUrl}/connect`);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      agent: false,
      headers: { Origin: origin, Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
    });
    request.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve("upgraded");
    });
    request.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    request.on("error", reject);
    request.end();
  });
}

describe("default: same origin only", () => {
  test("a foreign Origin is refused with 403 and opens nothing", async () => {
    const server = await originServer();
    hooks.connects = 0;
    expect(await upgradeStatus(server.url, { Origin: "http://evil.example" })).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: "null" })).toBe(403);
    // A look-alike host is another origin.
    expect(await upgradeStatus(server.url, { Origin: `${server.url}.evil.example` })).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: server.url.replace("http:", "https:").replace(/:\d+$/, ":1") })).toBe(403);
    expect(await upgradeRequest(server.url, "http://evil.example")).toEqual({ status: 403, body: { error: { code: "forbidden", message: expect.any(String), group: "auth" } } });
    expect(await upgradeRequest(server.url, server.url)).toBe("upgraded");
    expect(hooks.connects).toBe(0);
  });

  test("the same origin and no Origin pass, and the connection works", async () => {
    const server = await originServer();
    expect(await upgradeStatus(server.url, { Origin: server.url })).toBe(101);
    expect(await upgradeStatus(server.url, {})).toBe(101);
    // The library client in Node sends no Origin.
    const client = net.client<R>(server.url);
    const conn = client.counter.getOrCreate("k").connect();
    await conn.whenSynced();
    expect(await conn.inc()).toBe(1);
  });
});

describe("allowedOrigins", () => {
  test("a list lets exactly those origins in", async () => {
    const server = await originServer(["http://good.example"]);
    expect(await upgradeStatus(server.url, { Origin: "http://good.example" })).toBe(101);
    expect(await upgradeStatus(server.url, { Origin: "http://evil.example" })).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: "http://good.example.evil.example" })).toBe(403);
    expect(await upgradeStatus(server.url, {})).toBe(101);
  });

  test('"*" lets every origin in; a function decides per origin', async () => {
    const open = await originServer("*");
    expect(await upgradeStatus(open.url, { Origin: "http://evil.example" })).toBe(101);
    const picky = await originServer((origin) => origin.endsWith(".trusted.example"));
    expect(await upgradeStatus(picky.url, { Origin: "https://app.trusted.example" })).toBe(101);
    expect(await upgradeStatus(picky.url, { Origin: "https://trusted.example.evil" })).toBe(403);
  });
});
