#!/usr/bin/env node
// npm run ui:vendor: copies the ES-module builds of Preact, its hooks and htm from node_modules
// into ui/vendor/, where the page's import map points. No CDN and no bundler: the page loads these
// files as they are. The copies are checked in, so the Worker can serve ui/ without an install;
// run this again after upgrading preact or htm and commit the result.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "ui", "vendor");

/** [package, file inside the package, name in ui/vendor] */
const files = [
  ["preact", "dist/preact.module.js", "preact.module.js"],
  ["preact", "hooks/dist/hooks.module.js", "hooks.module.js"],
  ["htm", "dist/htm.module.js", "htm.module.js"],
];

mkdirSync(out, { recursive: true });
for (const [pkg, file, name] of files) {
  const pkgDir = join(root, "node_modules", pkg);
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  // The source map is not vendored, so drop the comment that points at it.
  const code = readFileSync(join(pkgDir, file), "utf8").replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
  writeFileSync(join(out, name), `/* ${pkg}@${version} ${file} (vendored by scripts/vendor-ui.mjs) */\n${code}`);
  console.log(`ui/vendor/${name}  ←  ${pkg}@${version}/${file}`);
}
