/**
 * The contract check: every response the worker tests receive (through helpers.api and the fuzz
 * test's fetch) is checked against the generated OpenAPI document. The status must be listed for
 * the route, and a JSON body must validate against the documented schema (objects are strict, so
 * an undocumented field fails). An independent validator (@cfworker/json-schema, draft 2020-12)
 * reads the document itself, not the zod schemas it came from.
 */
import { Validator } from "@cfworker/json-schema";
import { buildOpenApi, openApiPath } from "../../src/api/openapi";
import { routeTable } from "../../src/router";

type Json = Record<string, any>;
const doc = buildOpenApi(routeTable) as Json;
const defs = doc.components.schemas as Json;

/** The route itty-router would pick: the first one in table order whose method and path match. */
const matchers = routeTable.map((def) => ({
  def,
  re: new RegExp(`^${def.path.replace(/:[A-Za-z]+/g, "[^/]+")}/?$`),
  op: doc.paths[openApiPath(def.path)][def.method.toLowerCase()] as Json,
}));

const validators = new Map<object, Validator>();
function validatorFor(schema: Json): Validator {
  let v = validators.get(schema);
  if (!v) {
    const rooted = JSON.parse(JSON.stringify(schema).replace(/"#\/components\/schemas\//g, '"#/$defs/'));
    v = new Validator({ ...rooted, $defs: JSON.parse(JSON.stringify(defs).replace(/"#\/components\/schemas\//g, '"#/$defs/')) }, "2020-12", false);
    validators.set(schema, v);
  }
  return v;
}

export const contractStats = { checked: 0, routes: new Set<string>() };

/** Why a response breaks the contract, or null when it keeps it. */
export function contractViolation(method: string, url: string, status: number, contentType: string | null, bodyText: string | null): string | null {
  const u = new URL(url, "http://kaisoumail.test");
  if (!u.pathname.startsWith("/api/") && u.pathname !== "/health") return null; // static assets
  let pathname: string;
  try {
    pathname = decodeURI(u.pathname);
  } catch {
    pathname = u.pathname;
  }
  const found = matchers.find((m) => m.def.method === method && (m.re.test(u.pathname) || m.re.test(pathname)));
  const label = `${method} ${u.pathname} → ${status}`;
  if (!found) {
    // Not a route: the router's 404 envelope (or 413 for an oversized body it refused first).
    if (![404, 413, 401, 429].includes(status)) return `${label}: no documented route answers this request`;
    return null;
  }
  contractStats.checked++;
  contractStats.routes.add(`${found.def.method} ${found.def.path}`);
  const response = found.op.responses[String(status)] as Json | undefined;
  if (!response) return `${label}: status ${status} is not documented for ${found.def.method} ${found.def.path} (documented: ${Object.keys(found.op.responses).join(", ")})`;
  const content = response.content as Json | undefined;
  if (!content) return bodyText ? `${label}: documented without a body, but the response has one` : null;
  const [type, media] = Object.entries(content)[0]!;
  if (type !== "application/json") return contentType?.startsWith(type) || type === "application/octet-stream" ? null : `${label}: content type ${contentType} is not the documented ${type}`;
  if (!contentType?.startsWith("application/json")) return `${label}: content type ${contentType} is not JSON`;
  if (bodyText === null) return null;
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return `${label}: body is not JSON`;
  }
  const result = validatorFor((media as Json).schema).validate(body);
  if (!result.valid) {
    const errors = result.errors.filter((e) => e.keyword !== "properties" && e.keyword !== "$ref" && e.keyword !== "items" && e.keyword !== "anyOf" && e.keyword !== "allOf").slice(0, 4);
    return `${label}: body does not match the document: ${(errors.length ? errors : result.errors.slice(0, 4)).map((e) => `${e.instanceLocation} ${e.error}`).join("; ")}`;
  }
  return null;
}
