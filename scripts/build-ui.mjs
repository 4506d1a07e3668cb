#!/usr/bin/env node
// Builds the page's static assets: ui/ → dist/ui/, what the Worker serves (wrangler.toml [assets]).
// Every module is minified on its own with esbuild (comments, whitespace, local names; the htm
// templates lose their indentation), so the module graph, file names, the import map and the
// lazily loaded pages and catalogues stay exactly as in ui/ — no bundling. CSS is minified too;
// everything else (HTML, _headers, the already minified vendor files) is copied as it is.
//
// wrangler runs this before `wrangler dev` and `wrangler deploy` ([build] in wrangler.toml) and on
// every change under ui/; `npm test` runs it first (pretest). UI_MINIFY=0 copies without minifying
// (readable code in the browser's developer tools).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "ui");
const OUT = join(ROOT, "dist", "ui");
const minify = process.env.UI_MINIFY !== "0";

/**
 * Collapses the indentation inside html`…` templates: after a newline, htm drops whitespace-only
 * text and trims text next to it, so "\n      " reads exactly as "\n". Other template literals
 * (code snippets shown on the page, where indentation matters) are left alone. A small scanner,
 * aware of strings, comments, `${…}` nesting and nested templates.
 */
export function collapseHtmTemplates(src) {
  let out = "";
  let i = 0;
  const n = src.length;
  function template(tagged) {
    // at src[i] === "`"
    out += src[i++];
    while (i < n) {
      const c = src[i];
      if (c === "\\") {
        out += src.slice(i, i + 2);
        i += 2;
      } else if (c === "`") {
        out += c;
        i++;
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        out += "${";
        i += 2;
        code(1);
      } else if (tagged && c === "\n") {
        out += "\n";
        i++;
        while (i < n && (src[i] === " " || src[i] === "\t")) i++;
      } else {
        out += c;
        i++;
      }
    }
  }
  /** JavaScript until the `}` that closes `depth` open braces (depth 0: to the end). */
  function code(depth) {
    while (i < n) {
      const c = src[i];
      if (c === "/" && src[i + 1] === "/") {
        const e = src.indexOf("\n", i);
        const end = e < 0 ? n : e;
        out += src.slice(i, end);
        i = end;
      } else if (c === "/" && src[i + 1] === "*") {
        const e = src.indexOf("*/", i + 2);
        const end = e < 0 ? n : e + 2;
        out += src.slice(i, end);
        i = end;
      } else if (c === '"' || c === "'") {
        let j = i + 1;
        while (j < n && src[j] !== c) j += src[j] === "\\" ? 2 : 1;
        out += src.slice(i, j + 1);
        i = j + 1;
      } else if (c === "`") {
        template(/\bhtml\s*$/.test(out.slice(-12)));
      } else if (c === "{") {
        if (depth) depth++;
        out += c;
        i++;
      } else if (c === "}") {
        out += c;
        i++;
        if (depth && --depth === 0) return;
      } else {
        out += c;
        i++;
      }
    }
  }
  code(0);
  return out;
}

/**
 * Writes one output file through a temporary name and a rename, so a server reading dist/ui never
 * sees half a file, and several builds at once (parallel `wrangler dev` in the tests) never clash.
 */
function build(file) {
  const rel = relative(SRC, file);
  const dest = join(OUT, rel);
  mkdirSync(dirname(dest), { recursive: true });
  let bytes = readFileSync(file);
  if (minify && !rel.startsWith("vendor") && /\.(js|css)$/.test(file)) {
    const src = bytes.toString("utf8");
    const loader = file.endsWith(".css") ? "css" : "js";
    bytes = transformSync(loader === "js" ? collapseHtmTemplates(src) : src, { loader, minify: true, target: "es2022", ...(loader === "js" ? { format: "esm" } : {}) }).code;
  }
  const tmp = `${dest}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, dest);
  return rel;
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(build(p));
  }
  return out;
}

/** Files in dist/ui with no source any more (renamed or deleted in ui/). */
function prune(dir, keep) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) prune(p, keep);
    else if (!keep.has(relative(OUT, p)) && !p.endsWith(".tmp")) rmSync(p, { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = new Set(walk(SRC));
  prune(OUT, built);
  console.log(`ui → ${relative(ROOT, OUT)}${minify ? " (minified)" : ""}`);
}
