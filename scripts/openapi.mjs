#!/usr/bin/env node
// npm run openapi            writes docs/openapi.json from the route table (a test fails when it is stale)
// npm run openapi -- --release   also records it as docs/openapi.released.json, the contract that
//                                 later documents may only extend until the major version changes
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOpenApiDocument, ROOT } from "./lib/openapi-build.mjs";

const doc = await buildOpenApiDocument();
const text = `${JSON.stringify(doc, null, 2)}\n`;
writeFileSync(join(ROOT, "docs", "openapi.json"), text);
console.log(`docs/openapi.json: ${Object.keys(doc.paths).length} paths, version ${doc.info.version}`);
if (process.argv.includes("--release")) {
  writeFileSync(join(ROOT, "docs", "openapi.released.json"), text);
  console.log("docs/openapi.released.json: recorded as the released contract");
}
