/**
 * Errors that reach the process's top level while a test runs (`uncaughtException`): a test
 * that callbacks never throw out of the event loop expects the returned list to stay empty.
 * Call once at the top of a test file; the list is emptied before each test.
 */
import { afterEach, beforeEach } from "vitest";

export function recordUncaught(): unknown[] {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  beforeEach(() => {
    uncaught.length = 0;
    process.on("uncaughtException", record);
  });
  afterEach(() => {
    process.off("uncaughtException", record);
  });
  return uncaught;
}
