/**
 * `__proto__` keys in values that did not come through `readValue` (which refuses them): JSON
 * parsed from an HTTP header keeps `"__proto__"` as an own key, which code that copies with
 * `Object.assign` or `obj[key] = …` turns into a prototype. Checked without recursion.
 */
export function holdsProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== "object" || current === null || ArrayBuffer.isView(current)) continue;
    if (!Array.isArray(current) && Object.hasOwn(current, "__proto__")) return true;
    for (const member of Object.values(current)) stack.push(member);
  }
  return false;
}
