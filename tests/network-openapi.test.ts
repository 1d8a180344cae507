/**
 * GET /openapi.json: a structurally valid OpenAPI 3.1 document describing every action of
 * every actor (and resolve), with argument schemas from Standard Schema validators that
 * can describe themselves (zod 4: prefixItems for a tuple). No validator is installed:
 * the checks below cover the parts of the 3.1 schema this document uses.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { actor, setup } from "tandem";
import { openApiDocument } from "tandem/server";
import { useNetwork } from "./support/raw-socket.ts";

const todo = actor({
  state: { items: [] as { text: string; done: boolean }[] },
  schemas: {
    add: z.tuple([z.string().min(1).max(140), z.object({ done: z.boolean() }).optional()]),
    toggle: z.tuple([z.number().int().nonnegative()]),
  },
  actions: {
    add: (c, text: string, options?: { done: boolean }) => {
      c.state.items.push({ text, done: options?.done ?? false });
      return c.state.items.length;
    },
    toggle: (c, index: number) => {
      const item = c.state.items[index];
      if (item) item.done = !item.done;
      return item?.done ?? null;
    },
    list: (c) => c.state.items,
  },
});

const counter = actor({ state: { n: 0 }, actions: { inc: (c, by: number) => (c.state.n += by), get: (c) => c.state.n } });

const registry = setup({ use: { todo, counter } });

const net = useNetwork();

type Json = Record<string, any>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Every `$ref` in the document, with where it was found. */
function refs(node: unknown, path = "#", out: { ref: string; at: string }[] = []): { ref: string; at: string }[] {
  if (Array.isArray(node)) node.forEach((child, i) => refs(child, `${path}/${i}`, out));
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref") out.push({ ref: String(value), at: path });
      else refs(value, `${path}/${key}`, out);
    }
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((node, part) => (node !== null && typeof node === "object" ? (node as Json)[part] : undefined), doc);
}

/** The structural rules of OpenAPI 3.1 that apply to this document. */
function checkOpenApi31(doc: Json): string[] {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(what);
  if (doc.openapi !== "3.1.0") fail(`openapi is ${doc.openapi}`);
  if (typeof doc.info?.title !== "string" || typeof doc.info?.version !== "string") fail("info needs title and version strings");
  if (typeof doc.paths !== "object" || doc.paths === null) fail("paths must be an object");
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    if (!path.startsWith("/")) fail(`path ${path} must start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, operation] of Object.entries<Json>(item)) {
      if (method === "parameters" || method === "summary" || method === "description") continue;
      if (!METHODS.includes(method)) fail(`${path}: unknown method ${method}`);
      const where = `${method.toUpperCase()} ${path}`;
      if (operation.operationId !== undefined) {
        if (operationIds.has(operation.operationId)) fail(`${where}: duplicate operationId ${operation.operationId}`);
        operationIds.add(operation.operationId);
      }
      for (const parameter of operation.parameters ?? []) {
        if (typeof parameter.name !== "string" || !["query", "header", "path", "cookie"].includes(parameter.in)) fail(`${where}: bad parameter ${JSON.stringify(parameter)}`);
        if (parameter.in === "path" && parameter.required !== true) fail(`${where}: path parameter ${parameter.name} must be required`);
        if (parameter.schema === undefined && parameter.content === undefined) fail(`${where}: parameter ${parameter.name} needs a schema`);
      }
      for (const name of templated) {
        if (!(operation.parameters ?? []).some((p: Json) => p.in === "path" && p.name === name)) fail(`${where}: no path parameter for {${name}}`);
      }
      if (operation.requestBody !== undefined && typeof operation.requestBody.content !== "object") fail(`${where}: requestBody needs content`);
      if (typeof operation.responses !== "object" || Object.keys(operation.responses).length === 0) fail(`${where}: responses must not be empty`);
      for (const [status, response] of Object.entries<Json>(operation.responses ?? {})) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) fail(`${where}: bad status ${status}`);
        if (response.$ref === undefined && typeof response.description !== "string") fail(`${where} ${status}: a response needs a description`);
      }
    }
  }
  for (const { ref, at } of refs(doc)) {
    if (resolvePointer(doc, ref) === undefined) fail(`${at}: $ref ${ref} does not resolve`);
  }
  return problems;
}

describe("GET /openapi.json", () => {
  test("is a structurally valid OpenAPI 3.1 document", async () => {
    const server = await net.server(registry);
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const doc = (await response.json()) as Json;
    expect(checkOpenApi31(doc)).toEqual([]);
    expect(doc.openapi).toBe("3.1.0");
    // Served as the exported builder makes it.
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument(registry))));
  });

  test("validates against the OpenAPI 3.1 schema (a real validator)", async () => {
    const server = await net.server(registry);
    const doc = await (await fetch(`${server.url}/openapi.json`)).json();
    const validator = new Validator();
    const result = await validator.validate(doc as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  test("every action of every actor has a POST operation with a request body and responses", async () => {
    const server = await net.server(registry);
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    const expected = Object.entries(registry.actors).flatMap(([name, definition]) => Object.keys(definition.config.actions).map((action) => `/actors/${name}/actions/${action}`));
    expect(expected).toHaveLength(5);
    for (const path of expected) {
      const operation = doc.paths[path]?.post;
      expect(operation, path).toBeDefined();
      expect(operation.requestBody?.content?.["application/json"]?.schema, path).toBeDefined();
      const body = operation.requestBody.content["application/json"].schema;
      expect(body.type).toBe("object");
      expect(body.properties).toHaveProperty("args");
      expect(body.properties).toHaveProperty("key");
      expect(operation.responses["200"]).toBeDefined();
      expect(operation.responses["404"]).toBeDefined();
      // Params are documented as the header, never as a query parameter.
      expect(operation.parameters.some((p: Json) => p.in === "header" && p.name === "x-tandem-params")).toBe(true);
      expect(operation.parameters.some((p: Json) => p.in === "query")).toBe(false);
    }
    for (const name of Object.keys(registry.actors)) expect(doc.paths[`/actors/${name}/resolve`]?.post?.responses?.["200"]).toBeDefined();
    // Nothing else is described.
    expect(Object.keys(doc.paths).sort()).toEqual([...expected, "/actors/todo/resolve", "/actors/counter/resolve"].sort());
  });

  test("a zod-schema'd action documents its arguments as a tuple with prefixItems", async () => {
    const server = await net.server(registry);
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    const args = doc.paths["/actors/todo/actions/add"].post.requestBody.content["application/json"].schema.properties.args;
    expect(args.type).toBe("array");
    expect(args.prefixItems).toHaveLength(2);
    expect(args.prefixItems[0]).toMatchObject({ type: "string", minLength: 1, maxLength: 140 });
    expect(JSON.stringify(args.prefixItems[1])).toContain("boolean");
    expect(args.$schema).toBeUndefined(); // the dialect is the document's, not repeated inside
    const toggle = doc.paths["/actors/todo/actions/toggle"].post.requestBody.content["application/json"].schema.properties.args;
    expect(toggle.prefixItems[0]).toMatchObject({ type: "integer", minimum: 0 });
    // Without a schema: any array.
    const inc = doc.paths["/actors/counter/actions/inc"].post.requestBody.content["application/json"].schema.properties.args;
    expect(inc).toMatchObject({ type: "array" });
    expect(inc.prefixItems).toBeUndefined();
  });

  test("a request built from the document works", async () => {
    const server = await net.server(registry);
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    const path = "/actors/todo/actions/add";
    const header = doc.paths[path].post.parameters.find((p: Json) => p.in === "header").name as string;
    const call = async (args: unknown[]) => {
      const response = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", [header]: JSON.stringify({}) },
        body: JSON.stringify({ key: ["docs"], mode: "getOrCreate", args }),
      });
      return { status: response.status, body: await response.json() };
    };
    expect(await call(["write docs"])).toEqual({ status: 200, body: { result: 1 } });
    const bad = await call([""]);
    expect(bad.status).toBe(400);
    expect(Object.keys(doc.paths[path].post.responses)).toContain(String(bad.status));
    expect(bad.body.error.code).toBe("invalid_arguments");
  });
});
