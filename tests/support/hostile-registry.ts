/**
 * The module `tandem serve` loads in tests/input-fuzz.test.ts and tests/hostile-soak.test.ts:
 * one actor kind, `target`, that any connection may edit directly (canEdit, no onEdit), with
 * actions that take arguments (a counter with a schema, a free-form `put`, an `echo`, a
 * result of a chosen size) and a count of its loads, so a restart is visible from outside.
 * Presence is on for every actor kind.
 */
import * as Y from "yjs";
import { z } from "zod";
import { actor, setup } from "tandem";

/** onStart calls per actor id, in this process: more than 1 means the actor was restarted. */
const starts = new Map<string, number>();

/** Largest result `big` builds (a little over the default frame limit, to be able to exceed it). */
const MAX_BIG_BYTES = 2 * 1024 * 1024;

export const target = actor({
  state: { count: 0, text: new Y.Text(""), notes: {} as Record<string, unknown>, values: {} as Record<string, unknown> },
  onStart: (c) => {
    starts.set(c.actorId, (starts.get(c.actorId) ?? 0) + 1);
  },
  canEdit: () => true,
  schemas: { bump: z.tuple([z.number().int()]) },
  actions: {
    /** Adds `by` to the counter; returns the new count. */
    bump: (c, by: number) => {
      c.state.count += by;
      return c.state.count;
    },
    count: (c) => c.state.count,
    /** Stores any value under `values[key]` (nested objects become nested maps). */
    put: (c, key: string, value: unknown) => {
      c.state.values[String(key)] = value;
      return true;
    },
    /** Returns its argument: arguments travel, nothing is stored. */
    echo: (_c, value: unknown) => value,
    /** A result of `bytes` characters (capped), to make recorded results large. */
    big: (_c, bytes: number) => "x".repeat(Math.max(0, Math.min(Number(bytes) || 0, MAX_BIG_BYTES))),
    /** Appends `bytes` characters to the text (to make the document itself large). */
    grow: (c, bytes: number) => {
      c.state.text.insert(c.state.text.length, "y".repeat(Math.max(0, Math.min(Number(bytes) || 0, MAX_BIG_BYTES))));
      return c.state.text.length;
    },
    /** The whole state read as plain data (its JSON length): fails if the state holds what the state model cannot read. */
    readAll: (c) => JSON.stringify(c.state).length,
    /** How many times this actor was loaded in this server process. */
    starts: (c) => starts.get(c.actorId) ?? 0,
    /** Whether Object.prototype got a `polluted` property in this server process. */
    polluted: () => (Object.prototype as Record<string, unknown>).polluted !== undefined,
  },
});

export const registry = setup({ use: { target } });
