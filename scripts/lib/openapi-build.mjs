// Builds the OpenAPI document in Node from the same source the Worker serves it from
// (src/api/openapi.ts over the route table). esbuild bundles the route table for Node; the
// Workers-only module `cloudflare:workers` is replaced by a stub (only class shapes are needed:
// nothing runs a Durable Object here).
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export async function buildOpenApiDocument() {
  const dir = mkdtempSync(join(tmpdir(), "kaisou-openapi-"));
  try {
    const entry = join(dir, "entry.ts");
    writeFileSync(
      entry,
      `import { buildOpenApi } from ${JSON.stringify(join(ROOT, "src/api/openapi.ts"))};\n` +
        `import { routeTable as routes } from ${JSON.stringify(join(ROOT, "src/router.ts"))};\n` +
        "export const document = buildOpenApi(routes);\n",
    );
    const out = join(dir, "out.mjs");
    await build({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      format: "esm",
      platform: "node",
      logLevel: "silent",
      plugins: [
        {
          name: "workers-stub",
          setup(b) {
            b.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: "stub" }));
            b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
              contents: "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }\nexport class WorkerEntrypoint {}\nexport const env = {};\n",
              loader: "js",
            }));
          },
        },
      ],
    });
    const mod = await import(pathToFileURL(out).href);
    return mod.document;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
