/**
 * What crosses from an actor to its callers and its storage outside the document (results,
 * schedule arguments): JSON-like values and Uint8Array, so every driver and every transport
 * gives back exactly what was put in. `privateState` is stored as JSON: no byte arrays there
 * (`bytes` false).
 */
export function checkPlainData(value: unknown, where: string, depth: number, bytes = true): void {
  if (value === null || value === undefined || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`The ${where} holds ${value}; numbers must be finite`);
    return;
  }
  if (depth > 64) throw new Error(`The ${where} nests deeper than 64`);
  if (value instanceof Uint8Array && bytes) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkPlainData(item, `${where}[${i}]`, depth + 1, bytes));
    return;
  }
  const proto = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [key, item] of Object.entries(value as object)) checkPlainData(item, `${where}.${key}`, depth + 1, bytes);
    return;
  }
  const what = typeof value === "object" ? `a ${(value as object).constructor?.name ?? "class instance"}` : `a ${typeof value}`;
  throw new Error(`The ${where} holds ${what}; ${bytes ? "return JSON-like values and Uint8Array only" : "it holds JSON-like values only"}`);
}
