/**
 * The status machine: its transitions, the terminal states, what connections hear, and
 * whenSynced.
 */
import { describe, expect, test } from "vitest";
import { ActorStopped, Forbidden, InternalError } from "../shared/errors.ts";
import { type ConnectionStatus, StatusMachine, type SubscriptionState, TRANSITIONS } from "./connection-status.ts";

function machine() {
  const heard: ConnectionStatus[] = [];
  const status = new StatusMachine((next) => void heard.push(next), () => new ActorStopped("The connection is disposed"));
  return { status, heard };
}

describe("status machine", () => {
  test("starts connecting; every live state reaches every other; failed only reaches disposed; disposed nothing", () => {
    const live: SubscriptionState[] = ["connecting", "syncing", "synced", "offline"];
    for (const from of live) for (const to of [...live, "failed", "disposed"] as const) expect(TRANSITIONS[from]).toContain(to);
    expect(TRANSITIONS.failed).toEqual(["disposed"]);
    expect(TRANSITIONS.disposed).toEqual([]);
    expect(machine().status.state).toBe("connecting");
  });

  test("listeners hear each change of the shown status once, never a repeat", () => {
    const { status, heard } = machine();
    expect(status.to("syncing")).toBe(true);
    expect(status.to("syncing")).toBe(false);
    status.to("synced");
    status.to("offline");
    expect(heard).toEqual(["syncing", "synced", "offline"]);
  });

  test("failed shows as offline, is terminal, and rejects whenSynced with the failure", async () => {
    const { status, heard } = machine();
    status.to("offline");
    const waiting = status.whenSynced();
    const error = new Forbidden("no");
    expect(status.fail(error)).toBe(true);
    await expect(waiting).rejects.toBe(error);
    expect(heard).toEqual(["offline"]); // offline → failed shows no change
    expect(status.status).toBe("offline");
    expect(status.to("synced")).toBe(false); // a late frame changes nothing
    expect(status.fail(new InternalError("again"))).toBe(false);
    expect(status.error).toBe(error);
    await expect(status.whenSynced()).rejects.toBe(error);
  });

  test("whenSynced resolves at once when synced, else on the move to synced; disposed rejects it", async () => {
    const { status } = machine();
    const later = status.whenSynced();
    status.to("synced");
    await expect(later).resolves.toBeUndefined();
    await expect(status.whenSynced()).resolves.toBeUndefined();
    status.to("syncing");
    const pending = status.whenSynced();
    status.dispose();
    await expect(pending).rejects.toBeInstanceOf(ActorStopped);
    expect(status.to("synced")).toBe(false);
    expect(status.isLive).toBe(false);
  });
});
