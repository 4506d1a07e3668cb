/**
 * Text normalisation and candidate generation: every token that has the shape of a code, and the
 * keyword-independent checks that reject or penalise it (URLs, amounts, phone numbers, dates,
 * times, IPs, versions, units, zip codes, street numbers…). Only fixed-size windows around a
 * token are ever read, so the work is linear in the text.
 */

export const MAX_CANDIDATES = 200;

export interface Candidate {
  /** the code as it would be typed: separators removed, letter case kept */
  code: string;
  start: number;
  end: number;
  digits: boolean;
  /** written as groups or spaced characters ("ABC-123", "18-86-25", "4 8 2 9") */
  grouped: boolean;
  /** computed lazily by `assess` */
  assessed: boolean;
  rejected: boolean;
  penalty: number;
  year: boolean;
}

// Full-width digits/letters and the few full-width signs that matter for the number checks
// (： － ＃ ＋ ％ ＝). CJK punctuation such as ，。（） stays: "482019，30分钟" is not 482,019.
const WIDE_RE = /[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF1A\uFF0D\uFF03\uFF0B\uFF05\uFF1D\u3000\u00A0\u2000-\u200A\u202F\u205F]/g;
// (U+0640 is the Arabic tatweel, a stretching stroke: "بـ 2462" is "ب 2462")
const INVISIBLE_RE = /[\u200B-\u200D\u2060\uFEFF\u00AD\u034F\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069\u0640]/g;

/**
 * Full-width characters become ASCII (１２３４ → 1234), Unicode spaces become spaces, invisible
 * and bidi-control characters are dropped, runs of spaces and blank lines collapse.
 */
export function normalise(s: string, max: number): string {
  return s
    .slice(0, max)
    .replace(WIDE_RE, (ch) => {
      const c = ch.charCodeAt(0);
      return c >= 0xff01 && c <= 0xff5e ? String.fromCharCode(c - 0xfee0) : " ";
    })
    .replace(INVISIBLE_RE, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t\f\v]{2,}|[\t\f\v]/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
export function isAlnum(c: number): boolean {
  return isDigit(c) || isUpper(c) || (c >= 97 && c <= 122);
}

/** 4–8 ASCII alphanumerics with at least one digit (all digits, or letters + digits). */
function isValidShape(s: string): boolean {
  if (s.length < 4 || s.length > 8) return false;
  let digit = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c)) return false;
    if (isDigit(c)) digit = true;
  }
  return digit;
}

function allDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/**
 * Valid-shape candidates in text order, at most MAX_CANDIDATES (a code sits near the top of a
 * message; a body with hundreds of numbers before it is not verification mail):
 * - 4–8 ASCII digits, or 4–8 ASCII alphanumerics with ≥ 1 letter and ≥ 1 digit;
 * - 2–4 groups of equal length (2–4 characters) joined by one hyphen, or for digits only by one
 *   space, 4–8 characters in all ("482-913", "18-86-25", "MHEP-5NKJ", "123 456") — only the
 *   whole chain: "864-050-352" (9) or an IBAN is no candidate, and no part of it is;
 * - 4–8 single digits or capitals separated by single spaces ("4 8 2 9 1 3", "D M 9 U N F":
 *   HTML digit boxes), with ≥ 1 digit.
 */
export function findCandidates(text: string): Candidate[] {
  // Maximal ASCII alphanumeric runs, as parallel arrays (no per-token objects).
  const maxTokens = MAX_CANDIDATES * 16;
  const ts: number[] = [];
  const te: number[] = [];
  const n = text.length;
  for (let i = 0; i < n && ts.length < maxTokens; ) {
    if (!isAlnum(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const s0 = i;
    while (i < n && isAlnum(text.charCodeAt(i))) i++;
    ts.push(s0);
    te.push(i);
  }

  const out: Candidate[] = [];
  const push = (code: string, start: number, end: number) => {
    out.push({
      code, start, end, digits: allDigits(code, 0, code.length), grouped: end - start !== code.length,
      assessed: false, rejected: false, penalty: 0, year: false,
    });
  };
  const tokCount = ts.length;
  /** Does token j follow token j-1 with exactly one separator `sep`? */
  const joined = (j: number, sep: number) => ts[j]! === te[j - 1]! + 1 && text.charCodeAt(te[j - 1]!) === sep;
  for (let i = 0; i < tokCount && out.length < MAX_CANDIDATES; i++) {
    const s0 = ts[i]!;
    const e0 = te[i]!;
    const len = e0 - s0;
    if (len >= 4 && len <= 8) {
      const word = text.slice(s0, e0);
      if (isValidShape(word)) push(word, s0, e0);
    }

    // Groups of equal length joined by one hyphen (any) or one space (digits only).
    if (len >= 2 && len <= 4 && i + 1 < tokCount) {
      for (const sep of [45 /* - */, 32 /* space */]) {
        if (i > 0 && joined(i, sep) && te[i - 1]! - ts[i - 1]! === len) continue; // not the chain's start
        let j = i;
        while (j + 1 < tokCount && joined(j + 1, sep) && te[j + 1]! - ts[j + 1]! === len && j - i < 4) j++;
        const groups = j - i + 1;
        if (groups < 2 || groups * len > 8 || groups * len < 4) continue;
        // The chain must end here: "12-34-56-78-90" is not a code, nor any part of it.
        if (j + 1 < tokCount && joined(j + 1, sep) && isAlnum(text.charCodeAt(ts[j + 1]!))) continue;
        let code = "";
        let digitsOnly = true;
        for (let k = i; k <= j; k++) {
          code += text.slice(ts[k]!, te[k]!);
          if (!allDigits(text, ts[k]!, te[k]!)) digitsOnly = false;
        }
        if (sep === 32 && !digitsOnly) continue;
        if (isValidShape(code)) push(code, s0, te[j]!);
      }
    }

    // 4–8 single digits or capitals separated by single spaces, maximal runs only.
    const c0 = text.charCodeAt(s0);
    if (len === 1 && (isDigit(c0) || isUpper(c0))) {
      const single = (j: number) => te[j]! - ts[j]! === 1 && (isDigit(text.charCodeAt(ts[j]!)) || isUpper(text.charCodeAt(ts[j]!)));
      const continuesPrev = i > 0 && single(i - 1) && joined(i, 32);
      if (!continuesPrev) {
        let j = i;
        let count = 1;
        while (j + 1 < tokCount && count <= 8 && single(j + 1) && joined(j + 1, 32)) {
          count++;
          j++;
        }
        if (count >= 4 && count <= 8) {
          let code = "";
          for (let k = i; k <= j; k++) code += text[ts[k]!];
          if (isValidShape(code)) push(code, s0, te[j]!);
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Keyword-independent checks (fixed-size windows only).
// ---------------------------------------------------------------------------------------------

/** ASCII characters that can appear inside a URL or e-mail address. */
const URL_CHAR = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%") {
  URL_CHAR[ch.charCodeAt(0)] = 1;
}
function isUrlChar(c: number): boolean {
  return c < 128 && URL_CHAR[c] === 1;
}
const URL_MARK_RE = /:\/\/|www\.|@|\/|\?|=|&|tel:|mailto:/i;
/** "OTP=651870", "code=4821": a label and an equals sign, not a URL. */
const KEY_EQUALS_RE = /^[A-Za-z]{2,12}=$/;
const CURRENCY_BEFORE_RE =
  /(?:[$€£¥₩₹₽¢₺₫฿₱₦₪]|(?<![A-Za-z])(?:usd|eur|cny|rmb|jpy|krw|gbp|chf|inr|rs\.?|brl|r\$|rub|aud|cad|hkd|twd|nt\$|sgd|mxn|aed|sar|idr|rp\.?|vnd|thb|try|tl|pln|zł|myr|php|egp)\s?)\s?$/i;
const AFTER_UNIT_RE =
  /^\s?(?:[$€£¥₩₹₽¢₺₫฿%元円원件人个個次天日年月号號秒時时点點位名歳岁명개회년월일]|(?:px|pt|em|rem|kb|mb|gb|tb|ms|am|pm|a\.m|p\.m|km|kg|lbs?|mi|miles|hrs?|hours?|mins?|minutes?|secs?|seconds?|days?|weeks?|months?|years?|users?|people|members|items|points|pts|views|visits|steps|calories|kcal|usd|eur|cny|rmb|jpy|krw|gbp|chf|inr|brl|rub|aud|cad|hkd|twd|sgd|mxn|aed|sar|idr|vnd|thb|try|tl|pln|zł|zl|yuan|dollars?|euros?|uhr|руб\p{L}*|р\.|шт|ГБ|МБ|分|초|시간|บาท|ริงกิต|درهم|ريال|ر\.س|جنيه|₫|đ|vnđ|đồng|рублей|lei|kč)(?![A-Za-z\p{L}]))/iu;
const COPYRIGHT_RE = /(?:©|\(c\)|copyright|&copy;)\s*(?:\d{4}\s*[-–]\s*)?$/i;
const US_STATE_RE = /,\s*[A-Z]{2}\s$/;
const STREET_AFTER_RE =
  /^\s+(?:[A-Z][a-z]+\s+){0,2}(?:street|st\.?|avenue|ave\.?|road|rd\.?|blvd|boulevard|lane|ln\.?|drive|dr\.?|way|place|pl\.?|court|ct\.?|straße|strasse|rue|calle|avenida|rua)(?![A-Za-z])/i;
const ORDINAL_UNIT_ALNUM_RE =
  /^\d+(?:st|nd|rd|th|px|pt|em|rem|vh|vw|kb|mb|gb|tb|ms|am|pm|km|kg|mm|cm|hz|khz|mhz|ghz|fps|mph|kmh|dpi|mp|k|m|g|x|p|h|hrs?|mins?|s|secs?|d|w|y|yrs?)$/i;
const DIMENSION_RE = /^\d+x\d+$/i;
/**
 * A word glued to a small number: SAVE20, iPhone15, Win11, 20OFF (not ABC123, not a random
 * mix such as 69zmCZcF): the letters are one word, lower, upper or capitalised.
 */
const WORD_DIGITS_RE = /^(?:(?:[A-Z]?[a-z]{3,}|[A-Z]{4,})\d{1,3}|(?:[A-Z]?[a-z]{2}|[A-Z]{3})\d{1,2}|\d{1,3}(?:[A-Z]?[a-z]{2,}|[A-Z]{3,}))$/;
/** …and the letters have a vowel, like a word (SAVE, iPhone, Win, OFF; not TFF, QWRT). */
const VOWEL_RE = /[aeiouyAEIOUY]/;
const YEAR_RE = /^(?:19|20)\d\d$/;
const YMD_RE = /^(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/;
const DMY8_RE = /^(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d\d$/;
/** Masked digits before the token: "XXXX XXXX 2229", "**** 4821", "xxx-x-x2774". */
const MASK_BEFORE_RE = /(?:[xX*•]{2,}[\s-]?){1,4}$|[xX*•]$/;

/** Keyword-independent checks; fills rejected / penalty / year. */
export function assess(text: string, c: Candidate): void {
  c.assessed = true;
  const { start, end, code } = c;
  const before = text.slice(Math.max(0, start - 40), start);
  const after = text.slice(end, end + 40);
  const p1 = text.charCodeAt(start - 1);
  const p2 = text.charCodeAt(start - 2);
  const n1 = text.charCodeAt(end);
  const n2 = text.charCodeAt(end + 1);
  const reject = () => {
    c.rejected = true;
  };

  // '#' / '№' prefix: order #123, ticket #4821, #ff5733, заказ № 4821.
  if (p1 === 35 || p1 === 0x2116 || (p1 === 32 && (p2 === 0x2116 || p2 === 35))) return reject();
  // Part of a longer number or identifier: 1,234 · 12.50 · 2024-05-12 · 10:30 · 192.0.2.8 · a_b.
  const joiner = (ch: number) => ch === 45 || ch === 47 || ch === 46 || ch === 44 || ch === 58 || ch === 95;
  if (joiner(p1) && (isDigit(p2) || (!c.digits && isAlnum(p2)) || (p1 === 95 && isAlnum(p2)))) return reject();
  if (joiner(n1) && (isDigit(n2) || (!c.digits && isAlnum(n2)) || (n1 === 95 && isAlnum(n2)))) return reject();
  // Masked card / id digits: "XX3003", "XXXX XXXX 2229", "**** 4821".
  if (MASK_BEFORE_RE.test(before.slice(-12)) || /^[xX*]{2,}/.test(code)) return reject();
  // URL / e-mail / query string around the token.
  let l = start;
  const lmin = Math.max(0, start - 200);
  while (l > lmin && isUrlChar(text.charCodeAt(l - 1))) l--;
  let r = end;
  const rmax = Math.min(text.length, end + 200);
  while (r < rmax && isUrlChar(text.charCodeAt(r))) r++;
  // Only markers count, so sentence punctuation around "482910." or "(482910)" is fine.
  const left = text.slice(l, start);
  if ((URL_MARK_RE.test(left) && !KEY_EQUALS_RE.test(left)) || URL_MARK_RE.test(text.slice(end, r))) return reject();
  // Money and units.
  if (CURRENCY_BEFORE_RE.test(before.slice(-6))) return reject();
  if (AFTER_UNIT_RE.test(after)) return reject();
  // Phone shapes: +86 …, (555) 123-4567, runs of three or more digit groups.
  if (/\+\d{0,4}[ \-.()]{0,2}$/.test(before.slice(-8))) return reject();
  if (/\d\d[ \-./)]$|\d\) ?$/.test(before.slice(-4)) || /^[ \-/]\d\d/.test(after)) return reject();
  if (/\d[ ]$/.test(before.slice(-2)) && /^ \d/.test(after)) return reject();
  if (text.charCodeAt(start - 1) === 0x3012 /* 〒 */) return reject();
  // Copyright years, US zip after "City, ST", street numbers.
  if (COPYRIGHT_RE.test(before)) return reject();
  if (code.length === 5 && c.digits && US_STATE_RE.test(before)) return reject();
  if (c.digits && STREET_AFTER_RE.test(after)) return reject();
  if (!c.digits) {
    if (ORDINAL_UNIT_ALNUM_RE.test(code) || DIMENSION_RE.test(code)) return reject();
  }

  let pen = 0;
  if (c.digits) {
    if (YEAR_RE.test(code)) c.year = true;
    if (code.length === 8 && (YMD_RE.test(code) || DMY8_RE.test(code))) pen -= 80;
    if (c.grouped && code.length === 6 && isDateLike(text.slice(start, end))) pen -= 120;
  } else if (!c.grouped && WORD_DIGITS_RE.test(code) && VOWEL_RE.test(code)) {
    pen -= 60;
  }
  c.penalty = pen;
}

/** "12-05-25", "25 05 12": three groups of two digits that read as a date. */
function isDateLike(raw: string): boolean {
  const g = raw.split(/[\s-]/).map(Number);
  if (g.length !== 3) return false;
  const [a, b, d] = g as [number, number, number];
  const dm = (x: number, y: number) => x >= 1 && x <= 31 && y >= 1 && y <= 12;
  return dm(a, b) || dm(b, a) || dm(d, b);
}
