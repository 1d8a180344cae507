/**
 * `tandem serve --inspector` (issue 16): the token from $TANDEM_INSPECTOR_TOKEN, else a random
 * one printed once as a link with the token in the fragment; without the flag, no /metrics.
 * Real `tandem serve` child processes on port 0.
 */
import { afterEach, expect, test } from "vitest";
import { ServeChild } from "./support/serve-child.ts";

const MODULE = "tests/support/serve-registry.ts";
const children: ServeChild[] = [];
const savedToken = process.env.TANDEM_INSPECTOR_TOKEN;

afterEach(async () => {
  for (const child of children.splice(0)) await child.terminate();
  if (savedToken === undefined) delete process.env.TANDEM_INSPECTOR_TOKEN;
  else process.env.TANDEM_INSPECTOR_TOKEN = savedToken;
});

function serve(extraArgs: string[]): ServeChild {
  const child = ServeChild.start(MODULE, null, { extraArgs: ["--memory", ...extraArgs] });
  children.push(child);
  return child;
}

const metrics = (url: string, token?: string) => fetch(`${url}/metrics`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }).then((r) => r.status);

test("--inspector without $TANDEM_INSPECTOR_TOKEN prints a random token once, in a link's fragment; it opens /metrics", async () => {
  delete process.env.TANDEM_INSPECTOR_TOKEN;
  const child = serve(["--inspector"]);
  const url = await child.ready();
  await expect.poll(() => child.stdout).toContain("/inspector#token=");
  const token = /\/inspector#token=([A-Za-z0-9_-]+)/.exec(child.stdout)![1]!;
  expect(token.length).toBeGreaterThanOrEqual(40);
  expect(child.stdout.split(token).length - 1).toBe(1);
  expect(await metrics(url, token)).toBe(200);
  expect(await metrics(url)).toBe(401);
  expect(await metrics(url, `${token}x`)).toBe(403);
});

test("--inspector takes $TANDEM_INSPECTOR_TOKEN and never prints it; without --inspector there is no /metrics", async () => {
  process.env.TANDEM_INSPECTOR_TOKEN = "cli-env-token-0123456789abcdef";
  const withFlag = serve(["--inspector"]);
  const without = serve([]);
  const [url, plainUrl] = await Promise.all([withFlag.ready(), without.ready()]);
  await expect.poll(() => withFlag.stdout).toContain("inspector at");
  expect(withFlag.stdout).not.toContain("cli-env-token-0123456789abcdef");
  expect(await metrics(url, "cli-env-token-0123456789abcdef")).toBe(200);
  expect(await metrics(plainUrl, "cli-env-token-0123456789abcdef")).toBe(404);
  expect((await fetch(`${plainUrl}/inspector`)).status).toBe(404);
});

test("--inspector with a weak $TANDEM_INSPECTOR_TOKEN refuses to start, saying why", async () => {
  process.env.TANDEM_INSPECTOR_TOKEN = "short";
  const child = serve(["--inspector"]);
  const exit = await child.exited;
  expect(exit.code).toBe(2);
  expect(child.stderr).toContain("inspector.token");
});
