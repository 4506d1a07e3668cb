/**
 * HTML → plain text for mail bodies.
 *
 * Pure and dependency-free: runs inside the Worker for every inbound message, so it is a
 * single forward scan with no backtracking regexes and no DOM. Every index only moves
 * forward, and each closing search (`-->`, `</script`, `>`, a closing quote) consumes the
 * text it skips, so the whole conversion is linear in the input length.
 *
 * What it does:
 * - drops comments, `<!DOCTYPE>`/`<![CDATA[`/`<?xml?>` and the content of `<script>`,
 *   `<style>`, `<head>`, `<title>`, `<template>` and Outlook `<xml>` blocks;
 * - block elements (p, div, tr, li, h1–h6, table, …) become one line break (nested or
 *   consecutive blocks do not stack up), each `<br>` is a line break, table cells become
 *   a space, everything else (span, a, b, …) joins inline;
 * - decodes entities: common named ones (incl. accented Latin letters) and numeric ones;
 * - source whitespace collapses like a browser would; each output line is trimmed and
 *   blank lines are collapsed to at most one (only `<br><br>` produces a blank line);
 *   zero-width padding (ZWNJ, ZWSP, soft hyphen, the U+034F of marketing preheaders) is
 *   removed;
 * - `options.maxLength` stops the scan once that much text has been produced.
 *
 * Not a goal: CSS (`display:none` text stays), `<pre>` whitespace, image alt text.
 */

/** Elements whose content is never rendered as text. */
const SKIP_CONTENT = new Set(["script", "style", "head", "title", "template", "xml"]);

/** Elements that start a new line (both their opening and closing tags break). */
const BLOCK = new Set([
  "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
  "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
  "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "legend", "li", "main", "menu",
  "nav", "ol", "option", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
  "tr", "ul",
]);

/** Table cells separate their content with a space (rows break lines). */
const CELL = new Set(["td", "th"]);

const NAMED: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", ensp: " ", emsp: " ",
  thinsp: " ", zwnj: "", zwj: "", lrm: "", rlm: "", shy: "", copy: "©", reg: "®",
  trade: "™", hellip: "…", mdash: "—", ndash: "–", minus: "−", lsquo: "‘", rsquo: "’",
  sbquo: "‚", ldquo: "“", rdquo: "”", bdquo: "„", laquo: "«", raquo: "»", lsaquo: "‹",
  rsaquo: "›", bull: "•", middot: "·", deg: "°", plusmn: "±", times: "×", divide: "÷",
  euro: "€", pound: "£", yen: "¥", cent: "¢", curren: "¤", sect: "§", para: "¶",
  iexcl: "¡", iquest: "¿", frac12: "½", frac14: "¼", frac34: "¾", sup1: "¹", sup2: "²",
  sup3: "³", micro: "µ", larr: "←", rarr: "→", uarr: "↑", darr: "↓", harr: "↔",
  szlig: "ß", aelig: "æ", AElig: "Æ", oslash: "ø", Oslash: "Ø", aring: "å", Aring: "Å",
  ccedil: "ç", Ccedil: "Ç", eth: "ð", thorn: "þ", oelig: "œ", OElig: "Œ", ordm: "º",
  ordf: "ª", tab: "\t", newline: "\n", colon: ":", comma: ",", period: ".", excl: "!",
  quest: "?", num: "#", dollar: "$", percnt: "%", lpar: "(", rpar: ")", ast: "*",
  plus: "+", sol: "/", semi: ";", equals: "=", commat: "@", lowbar: "_", hyphen: "‐",
};
// Accented Latin letters (&eacute; &Uuml; &ntilde; …) are generated rather than listed.
{
  const marks: Record<string, string> = {
    acute: "\u0301", grave: "\u0300", circ: "\u0302", uml: "\u0308", tilde: "\u0303",
  };
  for (const base of "aeiouyAEIOUYnNcC") {
    for (const [name, mark] of Object.entries(marks)) {
      const composed = (base + mark).normalize("NFC");
      if (composed.length === 1) NAMED[base + name] = composed;
    }
  }
}
/** Entities browsers also accept without the trailing semicolon. */
const LEGACY_NO_SEMI = new Set(["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"]);

/** Windows-1252 numbers that mail often emits in numeric references (&#146; → ’). */
const CP1252: Record<number, string> = {
  0x80: "€", 0x82: "‚", 0x84: "„", 0x85: "…", 0x8b: "‹", 0x91: "‘", 0x92: "’", 0x93: "“",
  0x94: "”", 0x95: "•", 0x96: "–", 0x97: "—", 0x99: "™", 0x9b: "›",
};

const ENTITY_RE = /&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}))(;?)/g;

/** Decodes HTML character references (named, decimal, hex; Windows-1252 numbers as browsers do). */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") === -1) return s;
  return s.replace(ENTITY_RE, (whole, dec?: string, hex?: string, name?: string, semi?: string) => {
    if (name !== undefined) {
      const v = NAMED[name];
      if (v === undefined) return whole;
      if (semi === "" && !LEGACY_NO_SEMI.has(name)) return whole;
      return v;
    }
    const cp = dec !== undefined ? parseInt(dec, 10) : parseInt(hex ?? "", 16);
    if (CP1252[cp] !== undefined) return CP1252[cp];
    if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) return "\ufffd";
    return String.fromCodePoint(cp);
  });
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isTagNameChar(c: number): boolean {
  return isAsciiLetter(c) || (c >= 48 && c <= 57) || c === 45 /* - */ || c === 58 /* : */ || c === 95;
}
function isHtmlSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

const closeSources = new Map<string, RegExp>();
function closeRe(name: string): RegExp {
  let re = closeSources.get(name);
  if (!re) {
    re = new RegExp(`</${name}(?![A-Za-z0-9:_-])`, "gi");
    closeSources.set(name, re);
  }
  return re;
}
const BODY_OPEN_RE = /<body(?![A-Za-z0-9:_-])/gi;

/**
 * A forward-only search that remembers its last answer. Callers ask with non-decreasing
 * `from`, so a miss (or a hit further ahead) is reused instead of rescanning — this keeps
 * inputs like 100 000 unclosed `<head>` tags linear.
 */
function memoSearch(html: string, re: RegExp): (from: number) => number {
  let lastFrom = -1;
  let lastAt = -1;
  return (from) => {
    if (lastFrom !== -1 && from >= lastFrom && (lastAt === -1 || lastAt >= from)) return lastAt;
    re.lastIndex = from;
    const m = re.exec(html);
    lastFrom = from;
    lastAt = m ? m.index : -1;
    return lastAt;
  };
}

// Source whitespace (incl. newlines) collapses to one space, as in a browser.
const SOURCE_WS_RE = /[ \t\n\r\f]{2,}|[\t\n\r\f]/g; // a lone space stays as is (fast path)
// Whitespace-like characters on an output line: spaces, tabs, NBSP and the Unicode spaces.
const LINE_WS_RE =
  /[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;
// Invisible padding that carries no text.
const INVISIBLE_RE = /[\u200b-\u200d\u2060\ufeff\u00ad\u034f\u180e]/g;
const NON_SPACE_RE = /[^\s\u200b-\u200d\u2060\ufeff\u00ad\u034f\u180e]/;

export interface HtmlToTextOptions {
  /**
   * Stop converting once roughly this many characters of text have been produced (the
   * result may be slightly longer; it is not cut). Lets callers that only look at the
   * beginning of a message skip the rest of a huge HTML body.
   */
  maxLength?: number;
}

export function htmlToText(html: string, options: HtmlToTextOptions = {}): string {
  const n = html.length;
  let out = "";
  const maxLength = options.maxLength ?? Infinity;
  let produced = 0;
  // A quote only opens an attribute value if a matching quote exists later; knowing the
  // last position of each quote lets us fall back without rescanning (keeps it linear).
  const lastDq = html.lastIndexOf('"');
  const lastSq = html.lastIndexOf("'");
  const finders = new Map<string, (from: number) => number>();
  const findClose = (name: string, from: number) => {
    let f = finders.get(name);
    if (!f) {
      f = memoSearch(html, closeRe(name));
      finders.set(name, f);
    }
    return f(from);
  };
  const findBody = memoSearch(html, BODY_OPEN_RE);

  let i = 0; // start of pending text
  let searchFrom = 0; // where to look for the next '<'
  // Consecutive block boundaries produce one line break; <br> always breaks.
  let atLineStart = true;
  const blockBreak = () => {
    if (!atLineStart) out += "\n";
    atLineStart = true;
  };
  const flushText = (end: number) => {
    if (end <= i) return;
    const seg = decodeEntities(html.slice(i, end).replace(SOURCE_WS_RE, " "));
    out += seg;
    produced += seg.length;
    if (NON_SPACE_RE.test(seg)) atLineStart = seg.endsWith("\n");
  };

  while (i < n && produced < maxLength) {
    const lt = html.indexOf("<", searchFrom);
    if (lt === -1) {
      flushText(n);
      break;
    }
    const c1 = html.charCodeAt(lt + 1);
    const closing = c1 === 47; /* / */
    const nameStart = closing ? lt + 2 : lt + 1;
    if (c1 !== 33 && c1 !== 63 && !isAsciiLetter(html.charCodeAt(nameStart))) {
      searchFrom = lt + 1; // "a < b", "<3": a literal less-than sign stays in the text
      continue;
    }
    flushText(lt);
    searchFrom = lt; // reset below together with i

    if (c1 === 33 /* ! */ || c1 === 63 /* ? */) {
      if (html.startsWith("<!--", lt)) {
        const end = html.indexOf("-->", lt + 4);
        i = searchFrom = end === -1 ? n : end + 3;
      } else {
        const end = html.indexOf(">", lt + 2);
        i = searchFrom = end === -1 ? n : end + 1;
      }
      continue;
    }

    let j = nameStart;
    let upper = false;
    for (let c = html.charCodeAt(j); j < n && isTagNameChar(c); c = html.charCodeAt(++j)) {
      if (c >= 65 && c <= 90) upper = true;
    }
    // Every name we act on is ≤ 10 characters; longer ones (custom elements) are inline.
    let name = j - nameStart <= 10 ? html.slice(nameStart, j) : "";
    if (upper) name = name.toLowerCase();

    // Find the end of the tag, honouring quoted attribute values.
    let k = j;
    let tagEnd = -1;
    while (k < n) {
      const ch = html.charCodeAt(k);
      if (ch === 62 /* > */) {
        tagEnd = k;
        break;
      }
      if (ch === 61 /* = */) {
        k++;
        while (k < n && isHtmlSpace(html.charCodeAt(k))) k++;
        const q = html.charCodeAt(k);
        if (q === 34 || q === 39) {
          const last = q === 34 ? lastDq : lastSq;
          if (last > k) {
            k = html.indexOf(q === 34 ? '"' : "'", k + 1) + 1;
            continue;
          }
          tagEnd = html.indexOf(">", k); // unbalanced quote: first '>' wins
          break;
        }
        continue;
      }
      k++;
    }
    if (tagEnd === -1) break; // unterminated tag: nothing renders after it
    i = searchFrom = tagEnd + 1;

    if (!closing && SKIP_CONTENT.has(name)) {
      if (html.charCodeAt(tagEnd - 1) === 47 /* self-closing */) continue;
      let close = findClose(name, i);
      if (name === "head") {
        // A missing </head> ends at <body>; with neither we keep the content.
        const body = findBody(i);
        if (body !== -1 && (close === -1 || body < close)) close = body;
        if (close === -1) continue;
      }
      if (close === -1) {
        i = searchFrom = n; // unclosed <script>/<style> swallows the rest, as in a browser
        continue;
      }
      if (html.charCodeAt(close + 1) === 47) {
        const gt = html.indexOf(">", close);
        i = searchFrom = gt === -1 ? n : gt + 1;
      } else {
        i = searchFrom = close; // stopped at <body>: let the main loop handle it
      }
      continue;
    }

    if (name === "br") {
      out += "\n";
      atLineStart = true;
    } else if (name === "hr" || BLOCK.has(name)) blockBreak();
    else if (CELL.has(name)) out += " ";
  }

  return tidy(out);
}

/** Collapse whitespace per line, trim lines, keep at most one blank line in a row. */
function tidy(s: string): string {
  return s
    .replace(INVISIBLE_RE, "")
    .replace(/\r\n?/g, "\n")
    .replace(LINE_WS_RE, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
