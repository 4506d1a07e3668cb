/**
 * Rule-based verification extraction (SPEC §6.1, `method: "rules"`): the one-time code and the
 * primary sign-in / confirm / reset link of a message.
 *
 * Pure and dependency-free; it runs on every inbound message inside the Worker, so all work is
 * bounded: the subject is read up to 2 KB, each body part up to 64 KB of text (HTML conversion
 * reads at most 256 KB of markup), at most 200 candidates per part are considered, every
 * per-candidate check looks at a fixed-size window, and no regex has nested unbounded
 * quantifiers.
 *
 * Structure (one concern per file):
 * - `keywords.ts`   one keyword table per language (18 of them), compiled into merged regexes;
 * - `candidates.ts` normalisation, candidate generation (every token shaped like a code) and
 *                   the keyword-independent distractor checks;
 * - `score.ts`      keyword hits, the points of each candidate, the per-source decision and
 *                   the confidence;
 * - `links.ts`      the primary action link;
 * - `index.ts`      this file: sources in order and the public API.
 *
 * Sources, in order: subject → text body → HTML converted to text (only when there is no text
 * part, or the text found nothing and the HTML says something the text does not). The first
 * source with a confident winner decides; `source` is "subject" only when the subject itself
 * decided. Nothing is returned rather than a weak guess.
 */
import { htmlToText } from "../html-to-text";
import { normalise } from "./candidates";
import { BOOKING, CONTEXT, MEETING, type Matcher } from "./keywords";
import { extractLink } from "./links";
import { analyse, codeConfidence, matchesAny, type Context, type Outcome } from "./score";

/** Where the code (or, without a code, the link) was found. */
export type VerificationSource = "subject" | "text" | "html";

export interface Verification {
  /** the code as it is typed (separators removed, case kept), or null for a link-only message */
  code: string | null;
  /** the primary sign-in / confirm / verify / magic / reset URL, or null */
  link: string | null;
  source: VerificationSource;
  method: "rules";
  /** 0..1, two decimals: of the code when there is one, else of the link */
  confidence: number;
}

export interface VerificationInput {
  subject?: string | null;
  text?: string | null;
  html?: string | null;
}

export interface ExtractOptions {
  /** debugging: every scored code candidate per source */
  trace?: (source: string, code: string, score: number, detail: string) => void;
  /** debugging: every link occurrence */
  traceLink?: (url: string, score: number, detail: unknown) => void;
}

const MAX_SUBJECT = 2 * 1024;
const MAX_TEXT = 64 * 1024;
const MAX_HTML = 256 * 1024;
/** Distinct tokens whose emphasis in the HTML is looked up, per message. */
const MAX_EMPHASIS_LOOKUPS = 24;

const EMPHASIS_RE =
  /<(?:b|strong|h[1-3])[\s>]|font-weight\s*:\s*(?:bold|[6-9]00)|font-size\s*:\s*(?:(?:1[89]|[2-9]\d)(?:\.\d+)?px|(?:1[4-9]|[2-9]\d)(?:\.\d+)?pt|(?:1\.[2-9]|[2-9](?:\.\d+)?)r?em|x+-large)|letter-spacing\s*:\s*[1-9]/i;

function isAlnumCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Is `raw` written in bold or large type (the element that holds it, not an earlier one)? */
function emphasisIn(html: string, raw: string): boolean {
  let from = 0;
  for (let k = 0; k < 3; k++) {
    const i = html.indexOf(raw, from);
    if (i < 0) return false;
    from = i + raw.length;
    if (isAlnumCode(html.charCodeAt(i - 1)) || isAlnumCode(html.charCodeAt(i + raw.length))) continue;
    const win = html.slice(Math.max(0, i - 400), i);
    if (win.lastIndexOf(">") < win.lastIndexOf("<")) continue; // inside a tag (an attribute)
    const open = win.slice(win.lastIndexOf("</") + 1);
    if (EMPHASIS_RE.test(open)) return true;
  }
  return false;
}

function lazy<T>(fn: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = fn();
      done = true;
    }
    return v;
  };
}

function compact(s: string): string {
  return s.replace(/[^\p{L}\p{N}]+/gu, "").toLowerCase();
}

/** True when the HTML adds nothing over the text part (text usually also carries URLs). */
function sameContent(text: string, htmlText: string): boolean {
  const a = compact(text);
  const b = compact(htmlText);
  return a === b || a.includes(b);
}

/**
 * The verification code and link of a message, or null when it has neither. Never throws for
 * any input (callers still guard it: extraction is best effort).
 */
export function extractVerification(input: VerificationInput, options: ExtractOptions = {}): Verification | null {
  const subject = normalise(input.subject ?? "", MAX_SUBJECT);
  const text = normalise(input.text ?? "", MAX_TEXT);
  const rawHtml = (input.html ?? "").slice(0, MAX_HTML);
  const getHtmlText = lazy(() =>
    rawHtml.trim() === "" ? "" : normalise(htmlToText(rawHtml, { maxLength: MAX_TEXT }), MAX_TEXT),
  );
  const body = () => (text !== "" ? text : getHtmlText());
  const emphasis = new Map<string, boolean>();
  const inMessage = (m: Matcher) => lazy(() => matchesAny(m, subject) || matchesAny(m, body()));
  const ctx: Context = {
    verification: inMessage(CONTEXT),
    booking: inMessage(BOOKING),
    meeting: inMessage(MEETING),
    emphasised: (raw) => {
      if (rawHtml === "") return false;
      let v = emphasis.get(raw);
      if (v === undefined) {
        v = emphasis.size < MAX_EMPHASIS_LOOKUPS && emphasisIn(rawHtml, raw);
        emphasis.set(raw, v);
      }
      return v;
    },
  };
  const trace = (source: string) => (options.trace ? (c: string, s: number, d: string) => options.trace!(source, c, s, d) : undefined);

  let found: Outcome | undefined;
  let source: VerificationSource = "text";
  const subj = analyse(subject, { ctx, isSubject: true, trace: trace("subject") });
  if (subj.kind === "match") {
    found = subj;
    source = "subject";
  } else {
    const subjectCodes = subj.codes;
    if (text !== "") {
      const r = analyse(text, { ctx, isSubject: false, subjectCodes, trace: trace("text") });
      if (r.kind === "match") found = r;
    }
    if (!found) {
      source = "html";
      const h = getHtmlText();
      if (h !== "" && (text === "" || !sameContent(text, h))) {
        const r = analyse(h, { ctx, isSubject: false, subjectCodes, html: true, trace: trace("html") });
        if (r.kind === "match") found = r;
      }
    }
  }

  const link = extractLink({ text: input.text, html: rawHtml, trace: options.traceLink });
  if (!found?.code && !link) return null;
  return {
    code: found?.code ?? null,
    link: link?.url ?? null,
    source: found?.code ? source : link!.from,
    method: "rules",
    confidence: found?.code ? codeConfidence(found.score ?? 0, found.lead ?? Infinity) : link!.confidence,
  };
}

/** The former name, kept so existing imports keep working. */
export const extractVerificationCode = extractVerification;
