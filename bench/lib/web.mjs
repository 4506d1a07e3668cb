// First-load weight of a web page: the HTML for the page's URL, then every asset it loads
// (stylesheets, module preloads, the import map's targets, module scripts and their static
// imports, and the page module the shell imports for that route), fetched with
// `accept-encoding: gzip` as a browser would on an empty cache. Bytes are counted as sent on the
// wire (wrangler dev gzips text assets); each file is also gzipped here at zlib level 9 for
// comparison. API responses the page requests after it renders are not counted.
import http from "node:http";
import { gzipSync, gunzipSync } from "node:zlib";

function get(base, path) {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { headers: { "accept-encoding": "gzip", accept: "*/*" } }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const wire = Buffer.concat(chunks);
          const encoding = res.headers["content-encoding"] ?? null;
          const body = encoding === "gzip" ? gunzipSync(wire) : wire;
          resolve({ status: res.statusCode, encoding, wireBytes: wire.length, body, type: res.headers["content-type"] ?? "" });
        });
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

const attr = (tag, name) => new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, "i").exec(tag)?.[1] ?? null;

/** Static import specifiers of an ES module, and dynamic ones with the text before them. */
function moduleImports(source) {
  const stat = new Set();
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  for (const m of code.matchAll(/(?:^|[;\n}])\s*(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/g)) stat.add(m[1]);
  const dynamic = [...code.matchAll(/import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => ({ spec: m[1], before: code.slice(Math.max(0, m.index - 120), m.index) }));
  return { static: [...stat], dynamic };
}

/**
 * @param {string} base  e.g. http://127.0.0.1:8787
 * @param {string} route e.g. /domains — the page's URL; the shell's dynamic import for this route
 *   (the `import("…")` whose entry names the route) is followed, no other.
 */
export async function firstLoad(base, route) {
  const files = [];
  const seen = new Set();
  let importMap = {};
  let followedPage = null;

  const fetchOne = async (path, kind) => {
    if (seen.has(path)) return null;
    seen.add(path);
    const r = await get(base, path);
    if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}`);
    files.push({ path, kind, status: r.status, encoding: r.encoding, wireBytes: r.wireBytes, rawBytes: r.body.length, gzip9Bytes: gzipSync(r.body, { level: 9 }).length });
    return r.body.toString("utf8");
  };

  const resolveSpec = (spec, from) => {
    if (importMap[spec]) return new URL(importMap[spec], `${base}/`).pathname;
    if (spec.startsWith("/") || spec.startsWith("./") || spec.startsWith("../")) return new URL(spec, `${base}${from}`).pathname;
    return null; // bare specifier without a mapping: the browser would fail; not counted
  };

  const visitModule = async (path) => {
    const src = await fetchOne(path, "module");
    if (src === null) return;
    const { static: stat, dynamic } = moduleImports(src);
    for (const spec of stat) {
      const p = resolveSpec(spec, path);
      if (p) await visitModule(p);
    }
    for (const d of dynamic) {
      // The route table entry this import belongs to: the last `"/route":` before it (one per
      // line in the source, all on one line once minified).
      const keys = [...d.before.matchAll(/["'](\/[\w-]*)["']\s*:/g)];
      if (keys.length && keys[keys.length - 1][1] === route) {
        const p = resolveSpec(d.spec, path);
        if (p) {
          followedPage = p;
          await visitModule(p);
          // What the entry loads with the page: its stylesheet and its catalogue sections.
          const at = src.search(new RegExp(`["']${route.replace(/[/.*+?^${}()|[\]\\]/g, "\\$&")}["']\\s*:`));
          const rest = src.slice(at + route.length + 3);
          const next = rest.search(/["']\/[\w-]*["']\s*:|\n\s*\}/);
          const entry = next < 0 ? rest : rest.slice(0, next);
          for (const [, lit] of entry.matchAll(/["']([^"']+)["']/g)) {
            if (/^\/[\w/-]+\.css$/.test(lit)) await visitCss(lit);
            else if (/^[a-z]+$/.test(lit)) sections.add(lit);
          }
        }
      }
    }
  };
  const sections = new Set();

  const visitCss = async (path) => {
    const css = await fetchOne(path, "css");
    if (css === null) return;
    for (const m of css.matchAll(/(?:@import\s+|url\(\s*)["']?([^"')\s;]+)["']?/g)) {
      if (m[1].startsWith("data:") || /^https?:/.test(m[1])) continue;
      const p = new URL(m[1], `${base}${path}`).pathname;
      if (m[0].startsWith("@import")) await visitCss(p);
      else await fetchOne(p, "css-asset");
    }
  };

  const html = await fetchOne(route, "html");
  const tags = html.match(/<(?:link|script)\b[^>]*>/gi) ?? [];
  const im = /<script\b[^>]*type\s*=\s*["']importmap["'][^>]*>([\s\S]*?)<\/script>/i.exec(html);
  if (im) importMap = JSON.parse(im[1]).imports ?? {};
  for (const tag of tags) {
    if (/^<link/i.test(tag)) {
      const rel = (attr(tag, "rel") ?? "").toLowerCase();
      const href = attr(tag, "href");
      if (!href || href.startsWith("data:") || /^https?:/.test(href)) continue;
      if (rel === "stylesheet") await visitCss(new URL(href, `${base}${route}`).pathname);
      else if (rel === "modulepreload") await visitModule(new URL(href, `${base}${route}`).pathname);
    } else {
      const src = attr(tag, "src");
      if (src && !/^https?:/.test(src)) {
        if ((attr(tag, "type") ?? "").toLowerCase() === "module") await visitModule(new URL(src, `${base}${route}`).pathname);
        else await fetchOne(new URL(src, `${base}${route}`).pathname, "script");
      }
    }
  }
  // The language the shell loads before its first render (English on a fresh browser here), and
  // the page's own catalogue sections (ui/i18n.js `need`).
  if (seen.has("/i18n.js")) {
    await visitModule("/i18n/en.js");
    for (const name of sections) await visitModule(`/i18n/en/${name}.js`);
  }
  const sum = (k) => files.reduce((a, f) => a + f[k], 0);
  return {
    route,
    files,
    followedPage,
    wireBytes: sum("wireBytes"),
    rawBytes: sum("rawBytes"),
    gzip9Bytes: sum("gzip9Bytes"),
    encodings: [...new Set(files.map((f) => f.encoding ?? "identity"))],
  };
}
