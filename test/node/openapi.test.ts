/**
 * The OpenAPI document (issue 19): valid by an independent validator, current (the committed
 * docs/openapi.json is what the route table generates), versioned with package.json, and backwards
 * compatible with the released contract (docs/openapi.released.json) until the major version
 * changes. The contract test in test/worker/contract.ts checks live responses against it.
 */
import { validate } from "@readme/openapi-parser";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- a plain .mjs helper shared with `npm run openapi`
import { buildOpenApiDocument, ROOT } from "../../scripts/lib/openapi-build.mjs";

type Json = Record<string, any>;
let doc: Json;
const readJson = (name: string) => JSON.parse(readFileSync(join(ROOT, name), "utf8")) as Json;
const major = (v: string) => Number(v.split(".")[0]);

/** Every (path, method, status) and every documented property, as strings: what clients rely on. */
function contractFacts(d: Json): Set<string> {
  const facts = new Set<string>();
  const walk = (prefix: string, s: unknown) => {
    if (!s || typeof s !== "object") return;
    const o = s as Json;
    for (const [k, v] of Object.entries((o.properties ?? {}) as Json)) {
      facts.add(`${prefix}.${k}`);
      walk(`${prefix}.${k}`, v);
    }
    if (o.items) walk(`${prefix}[]`, o.items);
    for (const alt of [...(o.anyOf ?? []), ...(o.oneOf ?? [])]) walk(prefix, alt);
  };
  for (const [path, methods] of Object.entries(d.paths as Json)) {
    for (const [method, op] of Object.entries(methods as Json)) {
      facts.add(`${method.toUpperCase()} ${path}`);
      for (const [status, r] of Object.entries((op as Json).responses as Json)) {
        facts.add(`${method.toUpperCase()} ${path} ${status}`);
        walk(`${method.toUpperCase()} ${path} ${status}`, (r as Json).content?.["application/json"]?.schema);
      }
    }
  }
  for (const [name, schema] of Object.entries(d.components.schemas as Json)) walk(`#${name}`, schema);
  return facts;
}

beforeAll(async () => {
  doc = await buildOpenApiDocument();
}, 60_000);

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document by an independent validator", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc));
    expect(result.valid, JSON.stringify(result.errors ?? result, null, 1)?.slice(0, 2000)).toBe(true);
  });

  it("documents every operation with a summary, security and its error envelope", () => {
    for (const [path, methods] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(methods as Json)) {
        const name = `${method.toUpperCase()} ${path}`;
        expect(op.summary, name).toMatch(/\S/);
        expect(Array.isArray(op.security), name).toBe(true);
        expect(op["x-kaisoumail-scope"], name).toBeTruthy();
        for (const [status, r] of Object.entries(op.responses as Json)) {
          const schema = (r as Json).content?.["application/json"]?.schema;
          if (Number(status) >= 400) expect(schema.$ref ?? schema.anyOf?.[0]?.$ref, `${name} ${status}`).toBe("#/components/schemas/Error");
        }
      }
    }
    const error = doc.components.schemas.Error;
    expect(error.properties.details.anyOf[0].properties.code).toBeDefined();
  });

  it("carries package.json's version", () => {
    expect(doc.info.version).toBe(readJson("package.json").version);
  });

  it("is committed up to date (run `npm run openapi` after changing a route)", () => {
    expect(readJson("docs/openapi.json"), "docs/openapi.json is stale: run `npm run openapi`").toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("keeps everything the released contract promised, unless the major version changed", () => {
    const released = readJson("docs/openapi.released.json");
    if (major(doc.info.version) > major(released.info.version)) return;
    const now = contractFacts(doc);
    const missing = [...contractFacts(released)].filter((f) => !now.has(f));
    expect(missing, "removed or renamed without a major version bump").toEqual([]);
  });

  it("the compatibility check notices a removed field (a copy of the document with one field taken away)", () => {
    const broken = structuredClone(doc);
    delete broken.components.schemas.Mailbox.properties.expiresAt;
    const now = contractFacts(broken);
    expect([...contractFacts(doc)].filter((f) => !now.has(f))).toContain("#Mailbox.expiresAt");
  });
});
