/**
 * Action argument validation with any Standard Schema v1 validator (zod, valibot, arktype…).
 * The schema checks the whole argument list (a tuple schema); its output replaces the
 * arguments, so transforms and defaults apply.
 */
import type { StandardSchemaV1 } from "../../shared/actor.ts";
import { InvalidArguments } from "../../shared/errors.ts";

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return typeof value === "object" && value !== null && typeof (value as StandardSchemaV1)["~standard"]?.validate === "function";
}

export async function validateArgs(schema: unknown, args: unknown[]): Promise<unknown[]> {
  if (!isStandardSchema(schema)) throw new InvalidArguments("The action's schema is not a Standard Schema validator");
  const result = await schema["~standard"].validate(args);
  if (result.issues !== undefined) {
    const issues = result.issues.map((issue) => ({
      message: issue.message,
      path: (issue.path ?? []).map((part) => (typeof part === "object" && part !== null ? String(part.key) : String(part))),
    }));
    const first = issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join(".")}` : "";
    throw new InvalidArguments(`Invalid arguments${where}: ${first?.message ?? "rejected by the schema"}`, { metadata: { issues } });
  }
  if (!Array.isArray(result.value)) throw new InvalidArguments("The action's schema must produce an argument list");
  return result.value;
}
