import { z } from "zod";
import { buildOpenApi, openApiJson } from "../api/openapi";
import { jsonText } from "../lib/http";
import { route } from "./define";
import { routes } from "./index";

/**
 * The API contract: `GET /api/openapi.json` (generated from the route table, src/api/openapi.ts)
 * and a readable reference at `/api/docs` (ui/api-docs.js renders the document with the page's
 * vendored Preact + htm: no CDN, and nothing of it is in the app's first load).
 */

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>KaisouMail API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/styles.css">
<script type="module" src="/api-docs.js"></script>
</head>
<body>
<div id="app"><p class="boot">Loading the API reference…</p></div>
<noscript><p class="boot">The reference needs JavaScript; the raw document is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></noscript>
</body>
</html>
`;

export const docsRoutes = [
  route({
    method: "GET",
    path: "/api/openapi.json",
    access: "public",
    scope: "any",
    doc: {
      summary: "This API's OpenAPI 3.1 document (generated from the route table)",
      responses: { 200: z.looseObject({ openapi: z.literal("3.1.0"), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) }) },
    },
    handler: () =>
      jsonText(openApiJson(routes), { headers: { "cache-control": "public, max-age=300", "access-control-allow-origin": "*" } }),
  }),
  route({
    method: "GET",
    path: "/api/docs",
    access: "public",
    scope: "any",
    doc: { summary: "A readable API reference page (works offline)", responses: { 200: "html" } },
    handler: () =>
      new Response(DOCS_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "public, max-age=300",
          "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        },
      }),
  }),
];

export { buildOpenApi };
