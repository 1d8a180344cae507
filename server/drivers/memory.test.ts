import { driverConformance } from "../../tests/support/driver-conformance.ts";
import { memoryDriver } from "./memory.ts";

// The memory driver keeps its data in the driver object: "reopening" is using it again.
driverConformance("memory", async () => {
  const driver = memoryDriver();
  return { driver, reopen: async () => driver, cleanup: async () => {} };
});
