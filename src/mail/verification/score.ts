/**
 * Scoring: keyword hits in a source, the points of every candidate, and the decision.
 *
 * | Condition                                                              | Points                |
 * |------------------------------------------------------------------------|-----------------------|
 * | base: digits / alphanumeric                                            | 100 / 80              |
 * | 6 / 5 / 8 digits                                                       | +20 / +5 / −10        |
 * | alnum: 6 chars; no lower-case letters                                  | +10; +10              |
 * | alnum word+number (SAVE20, iPhone15, Win11, 20OFF), not grouped        | −60                   |
 * | keyword before, joined by linker words only ("is", ":", "是", "lautet", |                       |
 * |   "adalah"…), a "for/to/für/untuk … :/is" clause, or "(valid 10 min):" | +170·w                |
 * | keyword before, same sentence, the clause ends with ":"/"is"/"lautet"/ |                       |
 * |   "là"/"هو"/"คือ" right before the token (≤ 200 chars)                  | +140·w                |
 * | keyword before, other gap ≤ 20 chars in the same sentence              | +max(60, 120 − 3·gap)·w |
 * | keyword before, gap ≤ 200 chars                                        | +60·w                 |
 * | keyword announcing it ("below", "以下", "ниже"), ≤ 300 chars            | ≥ +150·w              |
 * | keyword after, same sentence: linker or "is/as …" / ≤ 40 / ≤ 80        | +150·w / +100·w / +50·w |
 * | another plausible candidate between keyword and token                  | that bonus × 0.4      |
 * | (only the best keyword bonus counts; w: strong 1, medium 0.75, generic 0.6 with a verification |
 * |  context in the message else 0.35, verb 0.6 when directly attached)    |                       |
 * | token alone on its line / emphasised in the HTML (bold, ≥ 18px, h1–h3) | +40 / +30             |
 * | verification context in the message; body token also in the subject   | +20; +20              |
 * | after the footer rule ("--", "____", "====" line)                      | −80                   |
 * | year 19xx/20xx: keyword directly attached / otherwise                  | −40 / −160            |
 * | yyyymmdd / ddmmyyyy 8 digits; 12-05-25 grouped like a date             | −80; −120             |
 * | reference/phone label attached and closer than any keyword (order no., |                       |
 * |   invoice, ref, ending in, tel, 尾号, 注文番号, заказ, رقم الطلب…)        | −200                  |
 * | promo words within ±50 chars (% off, discount, 优惠, クーポン, скидк…);  |                       |
 * |   only on the token's own line when a strong keyword ties it          | −150                  |
 * | within 500 chars after "backup/recovery codes"                         | −250                  |
 *
 * A source decides when its best code has ≥ 230 points and leads the best *different* code that
 * does not overlap it by ≥ 40; otherwise it is ambiguous or empty. The subject additionally
 * needs a verification context in the message, or a strong keyword directly attached.
 */
import { assess, findCandidates, MAX_CANDIDATES, type Candidate } from "./candidates";
import {
  CASED_RE,
  CODE_WORD_END_RE,
  CONFIRM_WORD_RE,
  COPULA_START_RE,
  FORWARD,
  GENERIC,
  INTRODUCER_END_RE,
  LINKERS,
  LISTS,
  MEDIUM,
  MEETING_WORD_RE,
  PIN_RE,
  POSSESSIVE,
  POSSESSIVE_START_RE,
  PREPOSITION_START_RE,
  PROMO,
  QUALIFIER_AFTER_RE,
  QUALIFIER_BEFORE_RE,
  REFERENCES,
  SIGNIN_WORD_RE,
  STRONG,
  VERBS,
  lowerForMatching,
  type Matcher,
} from "./keywords";

export const THRESHOLD = 230;
export const MARGIN = 40;
const MAX_HITS = 300;

/** Message-level facts, computed on first use (most messages never need them all). */
export interface Context {
  verification(): boolean;
  booking(): boolean;
  meeting(): boolean;
  /** Is this code written in bold / large type in the HTML part? */
  emphasised(raw: string): boolean;
}

interface Hit {
  start: number;
  end: number;
  tier: "strong" | "medium" | "generic" | "verb";
  /** lazily computed flags: -1 unknown, 0 no, 1 yes */
  fwd: number;
  ok: number;
}

interface Span {
  start: number;
  end: number;
}

export interface Outcome {
  kind: "match" | "ambiguous" | "none";
  code?: string;
  score?: number;
  /** points ahead of the best different code (Infinity when there is none) */
  lead?: number;
  /** all valid-shape codes seen in this source */
  codes: Set<string>;
}

export interface AnalyseOptions {
  ctx: Context;
  isSubject: boolean;
  subjectCodes?: Set<string>;
  /** the source is the HTML part: emphasis can be checked */
  html?: boolean;
  /** debugging: receives every scored candidate */
  trace?: (code: string, score: number, detail: string) => void;
}

interface Scored {
  score: number;
  cand: Candidate;
  strongDirect: boolean;
}

/** Stretches of the text worth reading: around the candidates, merged, in order. */
export type Windows = ReadonlyArray<readonly [number, number]>;

/**
 * Calls `fn(start, end, match)` for every match of the global regex `re` in `text`, or only in
 * the `windows` of it (bounded by MAX_HITS). A window is searched with one character of context
 * before it, so look-behinds at its start see what precedes it.
 */
export function collect(re: RegExp, text: string, fn: (start: number, end: number, match: string) => void, windows?: Windows): void {
  let n = 0;
  const run = (from: number, to: number) => {
    const ctx = from > 0 ? 1 : 0;
    const sub = from === 0 && to >= text.length ? text : text.slice(from - ctx, to);
    // (global regexes; lastIndex is reset so that shared instances are safe to reuse)
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(sub)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      if (m.index < ctx) continue;
      const start = from - ctx + m.index;
      fn(start, start + m[0].length, m[0]);
      if (++n >= MAX_HITS) return false;
    }
    return true;
  };
  if (!windows) {
    run(0, text.length);
    return;
  }
  for (const [a, b] of windows) if (!run(a, b)) return;
}

function isWordChar(code: number, digits: boolean): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (digits && code >= 48 && code <= 57);
  const ch = String.fromCharCode(code);
  return digits ? /[\p{L}\p{N}]/u.test(ch) : /\p{L}/u.test(ch);
}

/** Is there a word character (per `m.leftBoundary`) right before `at` in `s`? */
function wordBefore(s: string, at: number, m: Matcher): boolean {
  if (at === 0) return false;
  let code = s.charCodeAt(at - 1);
  if (code >= 0xdc00 && code <= 0xdfff && at >= 2) code = s.codePointAt(at - 2) ?? code;
  if (code > 0xffff) return /[\p{L}\p{N}]/u.test(String.fromCodePoint(code));
  return isWordChar(code, m.leftBoundary === "alnum");
}

/**
 * `collect` for a keyword matcher: the fast form on `lower` (the lower-cased text, or null to
 * use the slow form), the whole-word check done here instead of in a look-behind.
 */
export function scan(m: Matcher, text: string, lower: string | null, fn: (start: number, end: number, match: string) => void, windows?: Windows): void {
  if (lower === null) {
    collect(m.slow, text, fn, windows);
    return;
  }
  let n = 0;
  const re = m.fast;
  const run = (from: number, to: number) => {
    const ctx = from > 0 ? 1 : 0;
    const base = from - ctx;
    const sub = base === 0 && to >= lower.length ? lower : lower.slice(base, to);
    re.lastIndex = 0;
    let r: RegExpExecArray | null;
    while ((r = re.exec(sub)) !== null) {
      if (r[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      if (r.index < ctx) {
        re.lastIndex = r.index + 1;
        continue;
      }
      if (r[1] !== undefined && wordBefore(sub, r.index, m)) {
        re.lastIndex = r.index + 1; // not a whole word here; a shorter match may start later
        continue;
      }
      const start = base + r.index;
      fn(start, start + r[0].length, text.slice(start, start + r[0].length));
      if (++n >= MAX_HITS) return false;
    }
    return true;
  };
  if (!windows) {
    run(0, lower.length);
    return;
  }
  for (const [a, b] of windows) if (!run(a, b)) return;
}

/** Does the matcher match anywhere in the text? */
export function matchesAny(m: Matcher, text: string, lower: string | null = lowerForMatching(text)): boolean {
  let found = false;
  scan(m, text, lower, () => (found = true));
  return found;
}

/** Start/end positions of every match (bounded by MAX_HITS). */
function positions(m: Matcher, text: string, lower: string | null, windows?: Windows): Span[] {
  const out: Span[] = [];
  scan(m, text, lower, (start, end) => out.push({ start, end }), windows);
  return out;
}

/** Windows around candidates: 520 characters before each (keywords, "below", backup lists), 140 after. */
function candidateWindows(cands: Candidate[], length: number): Windows {
  const out: Array<[number, number]> = [];
  for (const c of cands) {
    const a = Math.max(0, c.start - 520);
    const b = Math.min(length, c.end + 140);
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** First index in `arr` (sorted by start) whose start is ≥ x. */
function lowerBound(arr: ReadonlyArray<{ start: number }>, x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]!.start < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Does any span in `spans` (sorted) intersect [a, b)? */
function anyWithin(spans: Span[], a: number, b: number): boolean {
  const i = lowerBound(spans, a);
  const prev = spans[i - 1];
  if (prev !== undefined && prev.end > a) return true;
  const next = spans[i];
  return next !== undefined && next.start < b;
}

const GAP_SPLIT_RE = /[\s\p{P}\p{S}]+/u;
/** A keyword followed by a colon labels what comes after it. */
const LABEL_COLON_RE = /^\s?[:：]/;
/** Title separators: a spaced dash, a bar, a middle dot. */
const SEPARATOR_RE = /\s[-–—]\s|[|·•]/;
/** A sentence ends inside the gap ("… Node 20. See run 8291034"). */
const SENTENCE_END_RE = /[.!?](?=\s)|[。！？]/;
const BLANK_LINE_RE = /\n\s*\n/;
/** "… code (valid for 10 minutes): " */
const PAREN_CLAUSE_RE = /^\s*[(（][^()（）]{0,40}[)）]\s*[:：]?\s*$/u;
/** The token starts a line ("\n  482910", "\n* 482910") / ends one. */
const LINE_START_RE = /\n[ \t*"'`(\[【「<>:：=-]*$/;
const TEXT_START_RE = /(?:^|\n)[ \t*"'`(\[【「<>:：=-]*$/;
const LINE_END_RE = /^[ \t*"'`)\]】」<>.。]*(?:\n|$)/;
/** A footer rule: a line of dashes, underscores, equals signs or box-drawing lines, or "-- ". */
const FOOTER_RULE_RE = /\n(?:--|[-_=—─━·*]{4,})[ \t]*\n/g;

/** Does the clause end with ":" or an introducer? (Only its tail is read.) */
function endsWithIntroducer(clause: string): boolean {
  if (clause.length <= 32) return INTRODUCER_END_RE.test(clause);
  // One character more than the tail, so that a word boundary at the tail's start is visible.
  const m = INTRODUCER_END_RE.exec(clause.slice(-33));
  return m !== null && m.index > 0;
}

/**
 * Does the gap between a keyword and a token tie them together? Never across a sentence end;
 * then any of:
 * - only linker words and punctuation ("is", ":", "是", "は", "lautet", …), ≤ 40 chars;
 * - keyword before: a "(…):" aside, or a clause that starts with a preposition and ends with a
 *   colon or introducer ("code to sign in to Linear: ", "code de Uber es ");
 * - keyword after: the gap starts with a copula ("4821 as Microsoft account … code").
 */
function isLinkerGap(gap: string, keywordBefore: boolean): boolean {
  if (gap.length === 0) return true;
  if (gap.length > 60 || SENTENCE_END_RE.test(gap)) return false;
  if (keywordBefore && (PAREN_CLAUSE_RE.test(gap) || (PREPOSITION_START_RE.test(gap) && INTRODUCER_END_RE.test(gap)))) {
    return true;
  }
  if (!keywordBefore && gap.length <= 30 && COPULA_START_RE.test(gap)) return true;
  if (gap.length > 40) return false;
  for (const w of gap.toLowerCase().split(GAP_SPLIT_RE)) {
    if (w !== "" && !LINKERS.has(w)) return false;
  }
  return true;
}

/** Is position `at` inside a URL ("…/verify?token=…")? A keyword there says nothing. */
function insideUrl(text: string, at: number): boolean {
  let l = at;
  const min = Math.max(0, at - 200);
  while (l > min) {
    const c = text.charCodeAt(l - 1);
    if (c <= 32 || c === 0x3000 || c === 60 /* < */ || c === 34 /* " */) break;
    l--;
  }
  const run = text.slice(l, at);
  return run.includes("://") || run.startsWith("www.");
}

/**
 * Positive keyword hits. Checks that need a window of text (qualifiers, "below") run lazily, only
 * for hits that end up next to a candidate.
 */
function findHits(text: string, lower: string | null, ctx: Context, windows: Windows): { hits: Hit[]; demoted: Span[] } {
  const hits: Hit[] = [];
  // Keywords demoted to reference numbers (booking "confirmation code", meeting "passcode").
  const demoted: Span[] = [];
  const insideDemoted = (s: number, e: number) => {
    const i = lowerBound(demoted, e);
    const d = demoted[i - 1];
    return d !== undefined && s < d.end && e > d.start;
  };
  const addStrongish = (s: number, e: number, word: string, weight: number) => {
    if (insideUrl(text, s)) return;
    if ((CONFIRM_WORD_RE.test(word) && ctx.booking()) || (MEETING_WORD_RE.test(word) && ctx.meeting())) {
      demoted.push({ start: s, end: e });
      return;
    }
    let tier: Hit["tier"] = weight >= 1 ? "strong" : "medium";
    const possessive = POSSESSIVE_START_RE.exec(word);
    if (possessive) {
      // "your <x> code": dropped when an inner word is a qualifier (gift, promo…); only brand
      // names ("your Instagram code") and sign-in words keep it strong — "your survey code" is
      // just a code.
      const inner = word.slice(possessive[0].length).replace(CODE_WORD_END_RE, "");
      if (inner.trim() !== "" && QUALIFIER_BEFORE_RE.test(inner.trimEnd() + " ")) return;
      if (QUALIFIER_AFTER_RE.test(text.slice(e, e + 40))) return;
      for (const w of inner.split(/[\s-]+/)) {
        if (w !== "" && !/^[\p{Lu}\d]/u.test(w) && !SIGNIN_WORD_RE.test(w)) tier = "generic";
      }
    }
    hits.push({ start: s, end: e, tier, fwd: -1, ok: 1 });
  };

  scan(STRONG, text, lower, (s, e, w) => addStrongish(s, e, w, 1), windows);
  collect(CASED_RE, text, (s, e, w) => addStrongish(s, e, w, 1), windows);
  scan(POSSESSIVE, text, lower, (s, e, w) => addStrongish(s, e, w, 1), windows);
  scan(MEDIUM, text, lower, (s, e, w) => addStrongish(s, e, w, 0.75), windows);
  collect(PIN_RE, text, (s, e, w) => addStrongish(s, e, w, 0.75), windows);
  demoted.sort((a, b) => a.start - b.start);
  const plain = (tier: "generic" | "verb") => (s: number, e: number) => {
    if (!insideDemoted(s, e) && !insideUrl(text, s)) hits.push({ start: s, end: e, tier, fwd: tier === "verb" ? 0 : -1, ok: tier === "verb" ? 1 : -1 });
  };
  scan(GENERIC, text, lower, plain("generic"), windows);
  scan(VERBS, text, lower, plain("verb"), windows);
  hits.sort((a, b) => a.start - b.start);
  return { hits, demoted };
}

/** Lazily: is a generic "code" hit really about a code (not "promo code", "código postal")? */
function hitOk(text: string, h: Hit): boolean {
  if (h.ok === -1) {
    const q =
      QUALIFIER_BEFORE_RE.test(text.slice(Math.max(0, h.start - 30), h.start)) ||
      QUALIFIER_AFTER_RE.test(text.slice(h.end, h.end + 40));
    h.ok = q ? 0 : 1;
  }
  return h.ok === 1;
}

function hitWeight(h: Hit, ctx: Context): number {
  switch (h.tier) {
    case "strong":
      return 1;
    case "medium":
      return 0.75;
    case "generic":
      return ctx.verification() ? 0.6 : 0.35;
    case "verb":
      return 0.6;
  }
}

/**
 * Distance from the nearest reference/phone label attached to the token ("Order number: 12345",
 * "ending in 4821", "尾号1234", "رقم الطلب: 2025"), or Infinity.
 */
function attachedReferenceGap(text: string, lower: string | null, start: number): number {
  const from = Math.max(0, start - 40);
  let gap = Infinity;
  scan(
    REFERENCES,
    text,
    lower,
    (_s, end) => {
      const g = start - end;
      const between = text.slice(end, start);
      // "Pixelforge Account - 832527" (a spaced dash or bar separates title parts) and
      // "Dear Customer,\n051943" (a new line without a colon) do not attach the label.
      if (SEPARATOR_RE.test(between) || (between.includes("\n") && !/[:：]/.test(between))) return;
      if (g <= 30 && isLinkerGap(between, true)) gap = Math.min(gap, g);
    },
    [[from, start]],
  );
  return gap;
}

export function analyse(text: string, opts: AnalyseOptions): Outcome {
  const { ctx } = opts;
  const cands = findCandidates(text);
  const codes = new Set(cands.map((c) => c.code));
  if (cands.length === 0) return { kind: "none", codes };
  if (cands.length >= MAX_CANDIDATES) {
    // Candidate budget reached: look no further than just past the last one.
    text = text.slice(0, Math.min(text.length, cands[cands.length - 1]!.end + 300));
  }
  const windows = candidateWindows(cands, text.length);
  const lower = lowerForMatching(text);
  const { hits, demoted } = findHits(text, lower, ctx, windows);
  if (hits.length === 0) return { kind: "none", codes };

  let listHits: Span[] | undefined;
  const backupListBefore = (pos: number) => {
    listHits ??= positions(LISTS, text, lower, windows);
    const h = listHits[lowerBound(listHits, pos) - 1];
    return h !== undefined && h.end <= pos && pos - h.end <= 500;
  };
  let forwardSpans: Span[] | undefined;
  const hitForward = (h: Hit) => {
    if (h.fwd === -1) {
      forwardSpans ??= positions(FORWARD, text, lower, windows);
      h.fwd = anyWithin(forwardSpans, h.start - 24, h.end + 40) ? 1 : 0;
    }
    return h.fwd === 1;
  };
  let promoSpans: Span[] | undefined;
  /** Promo words within ±50 characters: on the token's line, or anywhere there when `wide`. */
  const promoNear = (c: Candidate, wide: boolean) => {
    promoSpans ??= positions(PROMO, text, lower, windows);
    let a = c.start - 50;
    let b = c.end + 50;
    if (!wide) {
      a = Math.max(a, text.lastIndexOf("\n", c.start) + 1);
      const nl = text.indexOf("\n", c.end);
      if (nl !== -1) b = Math.min(b, nl);
    }
    return anyWithin(promoSpans, a, b);
  };
  let footerAt: number | undefined;
  /** After the last rule line (a setext heading underline near the top is not a footer). */
  const afterFooter = (c: Candidate) => {
    if (footerAt === undefined) {
      footerAt = Infinity;
      collect(FOOTER_RULE_RE, text, (start) => (footerAt = start));
    }
    return c.start > footerAt;
  };

  // Reference labels attached to a candidate, cached (used for blockers and for the penalty).
  const refGap = new Map<Candidate, number>();
  const referenceGap = (c: Candidate) => {
    let g = refGap.get(c);
    if (g === undefined) refGap.set(c, (g = attachedReferenceGap(text, lower, c.start)));
    return g;
  };

  cands.sort((a, b) => a.start - b.start || b.end - a.end);
  const ensure = (c: Candidate) => {
    if (!c.assessed) assess(text, c);
    return c;
  };
  /** A plausible other code: not rejected, not a year, not labelled as a reference. */
  const isBlocker = (c: Candidate) => {
    ensure(c);
    return !c.rejected && !c.year && c.penalty > -100 && referenceGap(c) === Infinity;
  };
  /** Is there a plausible other candidate strictly between a and b (not overlapping self)? */
  const blocked = (a: number, b: number, self: Candidate) => {
    for (let i = lowerBound(cands, a); i < cands.length; i++) {
      const o = cands[i]!;
      if (o.start >= b) break;
      if (o.end > b || o === self) continue;
      if (o.end > self.start && o.start < self.end) continue; // overlaps self
      if (isBlocker(o)) return true;
    }
    return false;
  };

  const best = new Map<string, Scored>();
  for (const c of cands) {
    // Keyword bonus: the nearest hits on each side (bounded), best one wins.
    const idx = lowerBound(hits, c.end);
    let bonus = 0;
    let direct = false;
    let strongDirect = false;
    /** gap of the keyword clause that links the winning keyword before the token */
    let clauseGap = -1;
    let posGapBefore = Infinity;
    let how = "";
    let strongKeyword = false;
    for (let i = idx - 1, seen = 0; i >= 0 && seen < 8 && bonus < 170; i--) {
      const h = hits[i]!;
      if (h.end > c.start) continue; // overlaps the token
      const gap = c.start - h.end;
      if (gap > 300) break;
      if (!hitOk(text, h)) continue;
      seen++;
      const gapText = gap <= 200 ? text.slice(h.end, c.start) : "";
      const linker = gap <= 60 && isLinkerGap(gapText, true);
      // A longer clause in the same sentence that ends by introducing the code (blank lines
      // may follow the introducer: "… to sign in to Belanjain:\n\n571735").
      const clauseText = gapText.trimEnd();
      const clause =
        !linker && h.tier !== "verb" && gap <= 200 && !SENTENCE_END_RE.test(clauseText) &&
        !BLANK_LINE_RE.test(clauseText) && endsWithIntroducer(clauseText);
      let b = 0;
      if (linker) b = 170;
      else if (h.tier === "verb") b = 0;
      else if (clause) b = 140;
      else if (gap <= 20 && !SENTENCE_END_RE.test(gapText)) b = Math.max(60, 120 - 3 * gap);
      else if (gap <= 200) b = 60;
      if (h.tier !== "verb" && !linker && hitForward(h)) b = Math.max(b, 150);
      if (b === 0) continue;
      posGapBefore = Math.min(posGapBefore, gap);
      const w = hitWeight(h, ctx);
      b *= w;
      if (b <= bonus) continue;
      if (gap > 0 && blocked(h.end, c.start, c)) b *= 0.4;
      if (b > bonus) {
        bonus = b;
        direct = linker;
        strongDirect = linker && w >= 1;
        clauseGap = linker || clause ? gap : -1;
        strongKeyword = w >= 1;
        how = `${linker ? "linker" : clause ? "clause" : "before"}:${h.tier}:${text.slice(h.start, h.end)}`;
      }
    }
    for (let i = idx, seen = 0; i < hits.length && seen < 6; i++) {
      const h = hits[i]!;
      const gap = h.start - c.end;
      if (gap > 80) break;
      if (gap < 0) continue;
      if (!hitOk(text, h)) continue;
      seen++;
      const gapText = text.slice(c.end, h.start);
      // A keyword after the token only refers back to it within the same sentence, and not when
      // it labels a value of its own ("… 56215600\n校验码: 83613 …").
      if (SENTENCE_END_RE.test(gapText) || BLANK_LINE_RE.test(gapText)) continue;
      if (LABEL_COLON_RE.test(text.slice(h.end, h.end + 4))) continue;
      const linker = isLinkerGap(gapText, false);
      let b = linker ? 150 : h.tier === "verb" ? 0 : gap <= 40 ? 100 : 50;
      if (b === 0) continue;
      const w = hitWeight(h, ctx);
      b *= w;
      if (b <= bonus) continue;
      if (gap > 0 && blocked(c.end, h.start, c)) b *= 0.4;
      if (b > bonus) {
        bonus = b;
        direct = linker;
        strongDirect = linker && w >= 1;
        clauseGap = -1;
        strongKeyword = w >= 1;
        how = `${linker ? "linker" : "after"}:${h.tier}:${text.slice(h.start, h.end)}`;
      }
    }
    if (bonus <= 0) continue;
    ensure(c);
    if (c.rejected) continue;

    let score = c.digits ? 100 : 80;
    const len = c.code.length;
    if (c.digits) score += len === 6 ? 20 : len === 5 ? 5 : len === 8 ? -10 : 0;
    else {
      if (len === 6) score += 10;
      if (!/[a-z]/.test(c.code)) score += 10;
    }
    const notes: string[] | undefined = opts.trace ? [`base ${score}`, `kw +${bonus.toFixed(0)}`] : undefined;
    const add = (pts: number, why: string) => {
      score += pts;
      notes?.push(`${why} ${pts > 0 ? "+" : ""}${pts}`);
    };
    score += bonus;
    if (c.penalty) add(c.penalty, "shape");
    if (c.year) add(direct ? -40 : -160, "year");
    // A strong keyword's code is only a coupon when the promotion is on its own line.
    if (promoNear(c, !strongKeyword)) add(-150, "promo");

    // Reference / phone label attached and closer than any keyword; demoted keywords (booking
    // "confirmation code", meeting "passcode"); backup-code lists.
    const negGap = referenceGap(c);
    const d = demoted[lowerBound(demoted, c.start) - 1];
    const dGap = d && d.end <= c.start ? c.start - d.end : Infinity;
    const nearestNeg = Math.min(negGap, dGap <= 30 && isLinkerGap(text.slice(d!.end, c.start), true) ? dGap : Infinity);
    // A label inside the keyword's own clause ("code for your Nintendo Account: 4829") belongs
    // to the keyword, not to the number.
    const insideClause = clauseGap >= 0 && nearestNeg < clauseGap;
    if (nearestNeg < posGapBefore && !insideClause) add(-200, "reference");
    if (backupListBefore(c.start)) add(-250, "backup-list");

    if (!opts.isSubject) {
      const lineStartOk =
        c.start <= 12 ? TEXT_START_RE.test(text.slice(0, c.start)) : LINE_START_RE.test(text.slice(c.start - 12, c.start));
      if (lineStartOk && LINE_END_RE.test(text.slice(c.end, c.end + 12))) add(40, "own-line");
      if (opts.subjectCodes?.has(c.code)) add(20, "in-subject");
      // (Looked up only where it can matter: the HTML search is the costly part.)
      if (score >= THRESHOLD - 100 && ctx.emphasised(text.slice(c.start, c.end))) add(30, "emphasis");
      if (afterFooter(c)) add(-80, "footer");
    }
    if (ctx.verification()) add(20, "context");
    opts.trace?.(c.code, score, `${how} [${notes!.join(", ")}]`);

    const prev = best.get(c.code);
    if (!prev || score > prev.score) best.set(c.code, { score, cand: c, strongDirect });
  }

  let top: Scored | undefined;
  for (const v of best.values()) if (!top || v.score > top.score) top = v;
  if (!top || top.score < THRESHOLD) return { kind: "none", codes };
  let second = -Infinity;
  for (const [code, v] of best) {
    if (code === top.cand.code) continue;
    if (v.cand.start < top.cand.end && v.cand.end > top.cand.start) continue; // a part of it
    if (v.score > second) second = v.score;
  }
  const lead = top.score - second;
  if (lead < MARGIN) return { kind: "ambiguous", codes };
  // A subject needs a verification context in the message, or a strong keyword right next to
  // the code ("Your code: 482910" alone is not enough; "Slack confirmation code: 482-913" is).
  if (opts.isSubject && !ctx.verification() && !top.strongDirect) return { kind: "none", codes };
  return { kind: "match", code: top.cand.code, score: top.score, lead, codes };
}

/**
 * 0..1, two decimals: how far the winner is above the threshold and ahead of the runner-up. A
 * returned code is at least 0.5; a linker-attached strong keyword with nothing else around is
 * about 0.9.
 */
export function codeConfidence(score: number, lead: number): number {
  const above = Math.min(1, Math.max(0, (score - THRESHOLD) / 160));
  const ahead = Math.min(1, Math.max(0, (lead - MARGIN) / 160));
  return Math.round((0.5 + 0.3 * above + 0.19 * ahead) * 100) / 100;
}
