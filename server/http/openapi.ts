/**
 * The OpenAPI 3.1 document of a registry's HTTP API: one operation per actor action, plus
 * resolve. Argument schemas come from the action's Standard Schema validator when it can
 * describe itself as JSON Schema (the Standard JSON Schema interface: zod 4, arktype…).
 */
import type { AnyActorConfig } from "../../shared/actor.ts";
import { ERROR_GROUPS } from "../../shared/errors.ts";
import { HttpHeader } from "../../shared/protocol/http-headers.ts";
import type { AnyRegistry } from "../../shared/setup.ts";

type JsonSchema = Record<string, unknown>;

interface JsonSchemaCapable {
  "~standard": { jsonSchema?: { input?: (options: { target: string }) => JsonSchema } };
}

function argumentSchema(config: AnyActorConfig, action: string): JsonSchema {
  const schema = (config.schemas as Record<string, unknown> | undefined)?.[action] as JsonSchemaCapable | undefined;
  const describe = schema?.["~standard"]?.jsonSchema?.input;
  if (typeof describe === "function") {
    try {
      const { $schema: _ignored, ...rest } = describe({ target: "draft-2020-12" });
      return rest;
    } catch {
      // a validator that cannot describe this schema: fall back to "any array"
    }
  }
  return { type: "array", description: "The action's arguments, in order." };
}

const keySchema: JsonSchema = {
  description: "The actor's key: a string or an array of strings.",
  oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
};

const errorSchema: JsonSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "group"],
      properties: {
        code: { type: "string", description: "Stable error code, e.g. actor_not_found, or a UserError's own code." },
        message: { type: "string" },
        group: { type: "string", enum: [...ERROR_GROUPS] },
        metadata: {},
      },
    },
  },
};

const errorResponses = Object.fromEntries(
  [
    ["400", "Invalid arguments or a UserError"],
    ["401", "onAuth refused the caller"],
    ["403", "Forbidden"],
    ["404", "No such actor or action"],
    ["409", "The actor already exists"],
    ["413", "The request is too large"],
    ["429", "Rate limited"],
    ["500", "Internal error"],
  ].map(([status, description]) => [status, { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }]),
);

const paramsHeader = {
  name: HttpHeader.params,
  in: "header",
  required: false,
  description: "Connection params for onAuth, as JSON (alternative to the body's params).",
  schema: { type: "string" },
};

/** A POST operation taking a JSON object with these properties. */
function operation(operationId: string, summary: string, tag: string, properties: JsonSchema, ok: JsonSchema): Record<string, unknown> {
  return {
    post: {
      operationId,
      summary,
      tags: [tag],
      parameters: [paramsHeader],
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", properties } } } },
      responses: { "200": { description: "Success", content: { "application/json": { schema: ok } } }, ...errorResponses },
    },
  };
}

const params = { type: "object", description: "Connection params for onAuth." };

export function openApiDocument(registry: AnyRegistry, options: { title?: string; version?: string; prefix?: string } = {}): Record<string, unknown> {
  const prefix = options.prefix ?? "";
  const paths: Record<string, unknown> = {};
  for (const [name, definition] of Object.entries(registry.actors)) {
    const config = definition.config;
    paths[`${prefix}/actors/${name}/resolve`] = operation(
      `${name}.resolve`,
      `Find (or create) a ${name} actor and return its id`,
      name,
      {
        key: keySchema,
        mode: { type: "string", enum: ["get", "getOrCreate", "create"], default: "get" },
        input: { description: "Input for createState when the actor is created." },
        params,
      },
      { type: "object", required: ["id"], properties: { id: { type: "string" } } },
    );
    for (const action of Object.keys(config.actions as Record<string, unknown>)) {
      paths[`${prefix}/actors/${name}/actions/${action}`] = operation(
        `${name}.${action}`,
        `Call ${name}.${action}`,
        name,
        {
          key: keySchema,
          id: { type: "string", description: "The actor's id (instead of key)." },
          mode: { type: "string", enum: ["get", "getOrCreate"], default: "get" },
          input: { description: "Input for createState when mode is getOrCreate." },
          args: argumentSchema(config, action),
          params,
        },
        { type: "object", properties: { result: {} } },
      );
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: options.title ?? "Tandem actors", version: options.version ?? "1.0.0" },
    paths,
    components: { schemas: { Error: errorSchema } },
  };
}
