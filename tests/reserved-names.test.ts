/**
 * An actor kind cannot take a name the client itself answers to (`client.dispose`,
 * `client.inspect()` …): the client's accessor would hide the actor, or the actor the client's
 * member. setup() refuses such names with invalid_arguments.
 */
import { expect, test } from "vitest";
import { actor, setup } from "tandem";

test("setup() refuses actor names the client uses, inspect() included", () => {
  const a = actor({ state: {}, actions: {} });
  for (const name of ["dispose", "clientId", "ready", "resetLocalData", "inspect", "then", "constructor"]) {
    expect(() => setup({ use: { [name]: a } }), name).toThrow(/reserved/);
  }
  expect(() => setup({ use: { inspector: a } })).not.toThrow();
});
