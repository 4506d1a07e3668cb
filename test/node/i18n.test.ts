/**
 * The page's language catalogues (ui/i18n/en.js, ui/i18n/zh.js) against each other and against
 * the code: the same keys in both, the same {placeholders} per key, every `t("literal")` in ui/
 * present in both, and no hard-coded English left in the page's html`` templates. The scanner is
 * proved on a sample first, so a scanner that finds nothing cannot pass silently.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const uiDir = join(root, "ui");

type Catalogue = Record<string, string>;
/** The catalogue files of a language: its core file, then its sections (ui/i18n/<lang>/*.js). */
const files = (lang: string) => [join(uiDir, "i18n", `${lang}.js`), ...readdirSync(join(uiDir, "i18n", lang)).filter((f) => f.endsWith(".js")).sort().map((f) => join(uiDir, "i18n", lang, f))];
const loadFile = async (f: string): Promise<Catalogue> => (await import(f)).default as Catalogue;
/** Everything a language says (core and every section), with a key defined twice reported. */
const twice: string[] = [];
async function load(lang: string): Promise<Catalogue> {
  const all: Catalogue = {};
  for (const f of files(lang))
    for (const [k, v] of Object.entries(await loadFile(f))) {
      if (k in all) twice.push(`${lang}: ${k}`);
      all[k] = v;
    }
  return all;
}

/** Every .js file of the page, catalogues and vendored modules left out. */
function uiFiles(dir = uiDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "vendor" || e.name === "i18n" ? [] : uiFiles(p);
    return e.name.endsWith(".js") ? [p] : [];
  });
}

const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

// ── The hard-coded text scanner ──

/** Words that are the same in every language: the brand, formats and protocol names. */
const ALLOWED = /KaisouMail|OpenAPI|application\/json|Cloudflare|https?:\/\/\S+|\/api\/[\w./-]*|\bkm_…|[\w.+-]*@[\w.-]+|\b[\w-]+\.(com|org|net|dev|example)\b/g;
/** Attributes a person reads or hears. */
const READ_ATTRS = new Set(["title", "placeholder", "aria-label", "alt", "label", "action"]);
/** Language in a string: two letters in a row, after the allowed words are taken out. */
const hasWords = (s: string) => /[A-Za-z]{2,}/.test(s.replace(ALLOWED, ""));
/** Prose rather than a class name or a value: a capital letter, or a space between words. */
const prose = (s: string) => hasWords(s) && (/[A-Z]/.test(s.replace(ALLOWED, "")) || /[A-Za-z]\s+[A-Za-z]/.test(s.replace(ALLOWED, "")));

/**
 * Hard-coded text in html`` templates: letters between tags, literal readable attributes, and
 * prose string literals or untagged templates placed into a template. `t("…")` calls, `<code>`
 * content (commands, headers, event names) and the allowed words are fine.
 */
export function findHardCoded(source: string, file = "sample.js"): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found: string[] = [];
  const where = (n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const isT = (n: ts.Node) => ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "t";
  /** String literals that end up as text: the branches of ?:, ||, ??, && inside a template slot. */
  const checkExpr = (e: ts.Expression): void => {
    if (isT(e)) return;
    if (ts.isParenthesizedExpression(e)) return checkExpr(e.expression);
    if (ts.isConditionalExpression(e)) return (checkExpr(e.whenTrue), checkExpr(e.whenFalse));
    if (ts.isBinaryExpression(e) && [ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.AmpersandAmpersandToken].includes(e.operatorToken.kind))
      return (checkExpr(e.left), checkExpr(e.right));
    if ((ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) && prose(e.text)) found.push(`${where(e)} "${e.text}"`);
    if (ts.isTemplateExpression(e)) {
      const text = [e.head.text, ...e.templateSpans.map((s) => s.literal.text)].join(" ");
      if (prose(text)) found.push(`${where(e)} \`${text}\``);
    }
  };
  const visit = (n: ts.Node): void => {
    if (ts.isTaggedTemplateExpression(n) && ts.isIdentifier(n.tag) && n.tag.text === "html") {
      const tpl = n.template;
      const quasis = ts.isNoSubstitutionTemplateLiteral(tpl) ? [tpl.text] : [tpl.head.text, ...tpl.templateSpans.map((s) => s.literal.text)];
      // A slot that is the value of an attribute nobody reads (class, lang, data-*) may hold anything.
      if (!ts.isNoSubstitutionTemplateLiteral(tpl))
        tpl.templateSpans.forEach((span, i) => {
          const attr = /([\w-]+)=$/.exec(quasis[i]!)?.[1];
          if (!attr || READ_ATTRS.has(attr)) checkExpr(span.expression);
        });
      // Slots become \u0000, so text on either side of a slot stays apart.
      const joined = quasis.join("\u0000");
      for (const m of joined.matchAll(/([\w-]+)="([^"]*)"/g)) if (READ_ATTRS.has(m[1]!) && prose(m[2]!)) found.push(`${where(n)} ${m[1]}="${m[2]}"`);
      const text = joined
        .replace(/<code>[^<]*<\/code>/g, " ")
        .replace(/<[^>]*>/g, " ")
        .split("\u0000")
        .map((s) => s.trim())
        .filter(hasWords);
      for (const s of text) found.push(`${where(n)} ${JSON.stringify(s)}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** The literal keys of every `t("…")` call (comments and other strings are not calls). */
function tKeys(source: string): string[] {
  const sf = ts.createSourceFile("x.js", source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const keys: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "t" && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) keys.push(n.arguments[0].text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return keys;
}

describe("ui/i18n catalogues", () => {
  it("have the same files, and the same keys file by file, in English and Chinese, each key once", async () => {
    const rel = (lang: string) => files(lang).map((f) => relative(join(uiDir, "i18n"), f).replace(/^(en|zh)/, "<lang>"));
    expect(rel("zh")).toEqual(rel("en"));
    for (const [fe, fz] of files("en").map((f, i) => [f, files("zh")[i]!])) {
      const [a, b] = [await loadFile(fe!), await loadFile(fz)];
      expect(Object.keys(a).filter((k) => !(k in b)), `in ${relative(root, fe!)}, missing from ${relative(root, fz)}`).toEqual([]);
      expect(Object.keys(b).filter((k) => !(k in a)), `in ${relative(root, fz)}, missing from ${relative(root, fe!)}`).toEqual([]);
    }
    const [en, zh] = [await load("en"), await load("zh")];
    expect(twice).toEqual([]);
    expect(Object.keys(en).filter((k) => !(k in zh)), "in en.js, missing from zh.js").toEqual([]);
    expect(Object.keys(zh).filter((k) => !(k in en)), "in zh.js, missing from en.js").toEqual([]);
    expect(Object.keys(en).length).toBeGreaterThan(100);
  });

  it("have the same {placeholders} for every key in both languages, and no empty string", async () => {
    const [en, zh] = [await load("en"), await load("zh")];
    const differ = Object.keys(en)
      .filter((k) => k in zh && placeholders(en[k]!).join() !== placeholders(zh[k]!).join())
      .map((k) => `${k}: en {${placeholders(en[k]!)}} zh {${placeholders(zh[k]!)}}`);
    expect(differ).toEqual([]);
    const empty = Object.entries({ ...en, ...zh }).filter(([, v]) => typeof v !== "string" || !v.trim());
    expect(empty).toEqual([]);
  });

  it("have every t(\"literal\") used in ui/ in both languages", async () => {
    const [en, zh] = [await load("en"), await load("zh")];
    const missing: string[] = [];
    let used = 0;
    for (const f of uiFiles()) {
      for (const key of tKeys(readFileSync(f, "utf8"))) {
        used++;
        for (const [lang, cat] of [["en", en], ["zh", zh]] as const) if (!(key in cat)) missing.push(`${relative(root, f)}: ${key} (${lang})`);
      }
    }
    expect(missing).toEqual([]);
    expect(used).toBeGreaterThan(200);
  });

  it("leave the Chinese catalogue in Chinese: most values contain Han characters", async () => {
    const zh = await load("zh");
    const values = Object.values(zh);
    const han = values.filter((v) => /\p{Script=Han}/u.test(v)).length;
    expect(han / values.length).toBeGreaterThan(0.9);
  });
});

describe("hard-coded text in the page's templates", () => {
  it("is found by the scanner in a sample written the old way (the scanner proves itself)", () => {
    const sample = [
      'const a = html`<h2>New mailbox</h2><p class="muted">${t("ok.key")}</p>`;',
      'const b = html`<button aria-label="Close dialog">✕</button>`;',
      'const c = html`<button>${busy ? "Creating…" : "Create key"}</button>`;',
      "const d = html`<${Dialog} title=${`Extend ${m.address}`} />`;",
      'const e = html`<${Badge}>catch-all<//>`;',
      'const ok = html`<h1 class="brand">KaisouMail</h1><p><code>npm start</code> ${t("x")} <span class=${kind === "ok" ? "ok" : "bad"}>—</span></p>`;',
    ].join("\n");
    const found = findHardCoded(sample);
    expect(found.join("\n")).toContain('"New mailbox"');
    expect(found.join("\n")).toContain('aria-label="Close dialog"');
    expect(found.join("\n")).toContain('"Creating…"');
    expect(found.join("\n")).toContain('"Create key"');
    expect(found.join("\n")).toContain("`Extend ");
    expect(found.join("\n")).toContain('"catch-all"');
    expect(found.filter((f) => f.startsWith("sample.js:6"))).toEqual([]);
  });

  it("is absent from every file of ui/ (all text comes from the catalogues)", () => {
    const found = uiFiles().flatMap((f) => findHardCoded(readFileSync(f, "utf8"), relative(root, f)));
    expect(found).toEqual([]);
  });
});
