/**
 * Cross-origin use in a real browser (issue 15): a page served from another port (another
 * origin) calls an action over HTTP — a preflighted request, since it sends JSON and the
 * params header — and opens the WebSocket. With `cors` listing the page's origin, Chromium
 * lets the page read the answer; a page from an origin not listed can neither read an
 * answer nor open the socket, and its call runs nothing.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { actor, setup } from "tandem";
import { createServer, type TandemServer } from "tandem/server";

const counter = actor({
  state: { n: 0 },
  actions: { inc: (c) => ++c.state.n, read: (c) => c.state.n },
});
const registry = setup({ use: { counter } });

/** A page server: one blank page, on its own port (its own origin). */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createHttpServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>another origin</title>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

let allowed: { server: Server; origin: string };
let refused: { server: Server; origin: string };
let tandem: TandemServer<typeof registry>;
let tandemUrl = "";

test.beforeAll(async () => {
  allowed = await pageServer();
  refused = await pageServer();
  tandem = createServer(registry, { logger: false, cors: [allowed.origin] });
  tandemUrl = await tandem.listen({ port: 0 });
});

test.afterAll(async () => {
  await tandem.close();
  for (const page of [allowed, refused]) await new Promise<void>((resolve) => page.server.close(() => resolve()));
});

/** Runs in the page: an HTTP action and a WebSocket open, each as what the page could see. */
async function tryFromPage(base: string): Promise<{ action: unknown; socket: string }> {
  const action = await fetch(`${base}/actors/counter/actions/inc`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tandem-params": "{}" },
    body: JSON.stringify({ key: ["k"], mode: "getOrCreate", args: [] }),
  }).then(
    async (response) => ((await response.json()) as { result: unknown }).result,
    (error: Error) => `blocked: ${error.name}`,
  );
  const socket = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/connect`);
    ws.onopen = () => {
      ws.close();
      resolve("open");
    };
    ws.onerror = () => resolve("refused");
  });
  return { action, socket };
}

test("a page on an allowed origin calls actions and opens the WebSocket; one on another origin can do neither", async ({ page }) => {
  await page.goto(allowed.origin);
  expect(await page.evaluate(tryFromPage, tandemUrl)).toEqual({ action: 1, socket: "open" });

  await page.goto(refused.origin);
  expect(await page.evaluate(tryFromPage, tandemUrl)).toEqual({ action: "blocked: TypeError", socket: "refused" });
  // The refused page's call was stopped at its preflight: nothing ran.
  expect(await tandem.client.counter.getOrCreate("k").read()).toBe(1);
});
