/** The resubscribe backoff of a channel the server keeps closing (server-upstream.ts). */
import { expect, test } from "vitest";
import { resubscribeDelay } from "./server-upstream.ts";

test("first retry at once-ish, then doubling with half of it jittered, never above 2 s", () => {
  for (let i = 0; i < 200; i++) {
    const first = resubscribeDelay(0);
    expect(first).toBeGreaterThanOrEqual(50);
    expect(first).toBeLessThan(250);
    expect(resubscribeDelay(1)).toBeGreaterThanOrEqual(100);
    expect(resubscribeDelay(1)).toBeLessThanOrEqual(200);
    expect(resubscribeDelay(3)).toBeGreaterThanOrEqual(400);
    expect(resubscribeDelay(3)).toBeLessThanOrEqual(800);
    expect(resubscribeDelay(50)).toBeGreaterThanOrEqual(1000);
    expect(resubscribeDelay(50)).toBeLessThanOrEqual(2000);
  }
});
