/**
 * Type tests of state versioning (type-checked by tsc, never run): `migrate` sees the stored
 * state loosely (the old shape is not the declared one), `stateVersionsOf` is keyed by the
 * registry's actor kinds, and the client's `stateVersions` takes only those kinds.
 */
import { expectTypeOf, test } from "vitest";
import { actor, setup, stateVersionsOf } from "tandem";
import { createClient } from "tandem/client";

interface Item {
  text: string;
  done: boolean;
}

test("migrate: the declared fields are optional, any other field is unknown; fromVersion is a number", () => {
  actor({
    version: 2,
    state: { items: [] as Item[] },
    migrate: (c, fromVersion) => {
      expectTypeOf(fromVersion).toEqualTypeOf<number>();
      expectTypeOf(c.state.items).toEqualTypeOf<Item[] | undefined>();
      expectTypeOf(c.state.todos).toEqualTypeOf<unknown>();
      c.state.items = [{ text: "a", done: false }];
      // @ts-expect-error the new shape is still checked where it is declared
      c.state.items = [{ text: 1 }];
      expectTypeOf(c.name).toEqualTypeOf<string>();
    },
    actions: {},
  });
});

test("stateVersionsOf and the client's stateVersions are keyed by the registry", () => {
  const board = actor({ version: 3, state: { n: 0 }, actions: {} });
  const notes = actor({ state: { text: "" }, actions: {} });
  const registry = setup({ use: { board, notes } });
  const versions = stateVersionsOf(registry);
  expectTypeOf(versions).toEqualTypeOf<{ readonly board: number; readonly notes: number }>();
  createClient<typeof registry>("http://localhost", { stateVersions: versions });
  createClient<typeof registry>("http://localhost", { stateVersions: { board: 3 } });
  // @ts-expect-error no such actor kind
  createClient<typeof registry>("http://localhost", { stateVersions: { nope: 1 } });
});
