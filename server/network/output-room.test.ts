import { describe, expect, test } from "vitest";
import { OUTPUT_RECHECK_MS, OutputRoom, READ_PAUSE_BYTES } from "./output-room.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("OutputRoom (read backpressure)", () => {
  test("room is there at once while the peer keeps up", async () => {
    const room = new OutputRoom(() => READ_PAUSE_BYTES - 1);
    expect(room.full).toBe(false);
    await room.room();
  });

  test("waiters go one at a time, in order, as the peer drains; each one's send counts before the next goes", async () => {
    let queued = READ_PAUSE_BYTES;
    const room = new OutputRoom(() => queued);
    expect(room.full).toBe(true);
    const went: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      room.room().then(() => {
        went.push(n);
        queued += READ_PAUSE_BYTES; // its answer: a whole document
      }),
    );
    await tick(OUTPUT_RECHECK_MS * 3);
    expect(went).toEqual([]);
    queued = 0; // the peer took everything
    await tick(OUTPUT_RECHECK_MS * 3);
    expect(went).toEqual([1]); // the first one's document filled the queue again
    queued = 0;
    await tick(OUTPUT_RECHECK_MS * 3);
    queued = 0;
    await Promise.all(waits);
    expect(went).toEqual([1, 2, 3]);
  });

  test("a newcomer waits behind earlier waiters even when there is room", async () => {
    let queued = READ_PAUSE_BYTES;
    const room = new OutputRoom(() => queued);
    const went: string[] = [];
    const first = room.room().then(() => went.push("first"));
    queued = 0;
    const second = room.room().then(() => went.push("second"));
    await Promise.all([first, second]);
    expect(went).toEqual(["first", "second"]);
  });

  test("close releases every waiter (the socket is gone) and later calls resolve at once", async () => {
    const room = new OutputRoom(() => READ_PAUSE_BYTES * 10);
    const waits = [room.room(), room.room()];
    room.close();
    await Promise.all(waits);
    await room.room();
  });
});
