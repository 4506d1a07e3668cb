/**
 * Ajv validators for the simulator's success bodies, compiled from the official OpenAPI files in
 * test/fixtures/cloudflare-api/: the 2024-08-06 components (envelopes and results), the 2026
 * common.yaml (`result_info.total_pages`) and the hand-written 2026 overlay for fields and shapes
 * added since (zone `status`/`type`/`paused`, settings `support_subaddress`/`subdomains`, rule
 * `source`, matcher `type:"all"`, actions without `value`). OpenAPI 3.0 `nullable: true` is
 * rewritten to JSON-Schema type unions at load time. Objects keep additionalProperties allowed,
 * so 2026-only fields pass the 2024 schemas.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { parse as parseYaml } from "yaml";

type Json = Record<string, unknown>;

const dir = fileURLToPath(new URL("../fixtures/cloudflare-api/", import.meta.url));
const read = (name: string) => readFileSync(`${dir}${name}`, "utf8");

const OFFICIAL_2024 = "https://kaisoumail.test/cf-openapi-2024-08-06.json";
const COMMON_2026 = "https://kaisoumail.test/cf-common-2026-03-13.json";
const OVERLAY_2026 = "https://kaisoumail.test/cf-overlay-2026-08.json";

/**
 * Deep copy with OpenAPI 3.0 `nullable: true` turned into JSON Schema: `type: X` → `[X, "null"]`
 * (and `null` added to an `enum`); a nullable node without `type` becomes `anyOf [null, node]`.
 */
export function convertNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (typeof node !== "object" || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = convertNullable(v);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else if (out.type === undefined) {
      return { anyOf: [{ type: "null" }, out] };
    }
  } else if (out.nullable === false) {
    delete out.nullable;
  }
  return out;
}

const official = JSON.parse(read("openapi-zones-email-routing-2024-08-06.json")) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, Json> };
};
const common = parseYaml(read("common-2026-03-13.yaml")) as { components: { schemas: Record<string, Json> } };
const overlay = parseYaml(read("openapi-overlay-2026-08.yaml")) as { components: { schemas: Record<string, Json> } };

const schemas = official.components.schemas;

// Path-level response schemas (inline in the 2024 file) become named components so they can be
// referenced by a plain JSON pointer.
const responseSchema = (path: string, method: string) => {
  const s = official.paths[path]?.[method]?.responses["200"]?.content?.["application/json"]?.schema;
  if (!s) throw new Error(`no 200 schema for ${method.toUpperCase()} ${path}`);
  return s as Json;
};
schemas.__zones_list_200 = responseSchema("/zones", "get");
schemas.__zones_create_200 = responseSchema("/zones", "post");
schemas.__zone_get_200 = responseSchema("/zones/{zone_id}", "get");
schemas.__zone_delete_200 = responseSchema("/zones/{zone_id}", "delete");

// 2026 overlay deltas applied to 2024 components (documented in the overlay file):
// matcher type gains "all" (field/value only required for literal); actions' value is optional
// (drop has none).
schemas.email_rule_matcher = {
  ...schemas.email_rule_matcher,
  properties: {
    ...(schemas.email_rule_matcher?.properties as Json),
    type: { type: "string", enum: ["literal", "all"] },
  },
  required: ["type"],
  if: { properties: { type: { const: "literal" } } },
  then: { required: ["type", "field", "value"] },
};
schemas.email_rule_action = { ...schemas.email_rule_action, required: ["type"] };

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(convertNullable({ $id: OFFICIAL_2024, components: official.components }) as Json);
ajv.addSchema(convertNullable({ $id: COMMON_2026, components: common.components }) as Json);
ajv.addSchema(convertNullable({ $id: OVERLAY_2026, components: overlay.components }) as Json);

const o24 = (name: string) => ({ $ref: `${OFFICIAL_2024}#/components/schemas/${name}` });
const c26 = (name: string) => ({ $ref: `${COMMON_2026}#/components/schemas/${name}` });
const ov = (name: string) => ({ $ref: `${OVERLAY_2026}#/components/schemas/${name}` });

/** result_info must carry all five fields (2026 common.yaml adds total_pages). */
const fullResultInfo = {
  properties: {
    result_info: { type: "object", required: ["page", "per_page", "count", "total_count", "total_pages"] },
  },
  required: ["result", "result_info"],
};
const single = (result: Json) => ({ properties: { result }, required: ["result"] });
const list = (item: Json) => ({ properties: { result: { type: "array", items: item } } });

const definitions = {
  /** GET /user/tokens/verify */
  tokenVerify: { allOf: [o24("iam_response_single_segment"), c26("api-response-single"), single(ov("TokenVerify"))] },
  /** GET /zones */
  zoneList: {
    allOf: [o24("__zones_list_200"), c26("api-response-collection"), list(ov("Zone")), fullResultInfo],
  },
  /** POST /zones */
  zoneCreate: { allOf: [o24("__zones_create_200"), c26("api-response-single"), single(ov("Zone"))] },
  /** GET /zones/:id */
  zone: { allOf: [o24("__zone_get_200"), c26("api-response-single"), single(ov("Zone"))] },
  /** DELETE /zones/:id */
  zoneDelete: { allOf: [o24("__zone_delete_200"), c26("api-response-single-id")] },
  /** GET /email/routing, POST enable/disable, POST/DELETE dns */
  settings: {
    allOf: [o24("email_email_settings_response_single"), single(ov("EmailRoutingSettings"))],
  },
  /** GET /email/routing/dns */
  dnsRecords: { allOf: [o24("email_dns_settings_response_collection"), list(ov("EmailDNSRecord"))] },
  /** POST/GET/PUT/DELETE /email/routing/rules[/:id] */
  rule: { allOf: [o24("email_rule_response_single"), single(ov("EmailRule"))] },
  /** GET /email/routing/rules */
  ruleList: {
    allOf: [o24("email_rules_response_collection"), c26("api-response-collection"), list(ov("EmailRule")), fullResultInfo],
  },
  /** GET/PUT /email/routing/rules/catch_all */
  catchAll: { allOf: [o24("email_catch_all_rule_response_single"), single(ov("EmailCatchAllRule"))] },
} as const;

/** Names of the compiled response validators. */
export type SchemaName = keyof typeof definitions;

const compiled = new Map<SchemaName, ValidateFunction>();

/** Validate a success body; returns Ajv's error text or null when valid. */
export function schemaErrors(name: SchemaName, body: unknown): string | null {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile(definitions[name]);
    compiled.set(name, validate);
  }
  if (validate(body)) return null;
  return ajv.errorsText(validate.errors, { dataVar: name });
}

/** The catalogue, for asserting codes/messages against the official source. */
export const errorCatalogue = JSON.parse(read("error-catalogue.json")) as Record<
  string,
  Array<{ code: number | null; http: number | null; message: string; error_chain?: Array<{ code: number; message: string }> }>
>;
