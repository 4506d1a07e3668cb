/**
 * The primary action link of a message: sign in (magic link), confirm / verify an address,
 * activate an account, reset a password, approve a sign-in. Unsubscribe, tracking pixels, social
 * icons, logos, help, privacy, "view in browser", "not me" and the like are never returned.
 *
 * Links come from the HTML part (`<a href>` with its text, whether it is styled as a button or
 * only wraps an image, and the text just before it) and from the text part (bare URLs with the
 * words on their line and the lines before). Each distinct URL is scored:
 *
 * | Evidence                                                                        | Points |
 * |---------------------------------------------------------------------------------|--------|
 * | the link's own text names the action ("Confirm email", "Reset password", "验证") | +100   |
 * | the text just before it does ("click the button below to verify your email")   | +50    |
 * | its path or query does (/verify, /confirm, reset, magic, token=, /regist/…)     | +50    |
 * | a long opaque token in it (≥ 20 characters)                                    | +30    |
 * | the text before it points at it ("the link below", "copy this URL", "下記URL")  | +30    |
 * | styled as a button                                                              | +20    |
 * | it appears more than once (a button, then the same URL to copy)                 | +20    |
 * | its text, or the label before a bare URL, is an avoid word (unsubscribe, help…) | never  |
 * | an image-only link (logo, social icon), mailto:, tel:, an image URL             | never  |
 * | its path is unsubscribe / privacy / help / … or a social network                | never  |
 * | "forgot password" page                                                          | −100   |
 * | nothing unique in it (no query value ≥ 6 characters, no path id ≥ 12)          | −80    |
 *
 * The best URL needs ≥ 130 points and a lead of ≥ 40 over the next different URL; otherwise
 * there is no link. All scanning is linear and bounded (256 KiB of HTML, 200 links).
 */
import { decodeEntities } from "../html-to-text";
import { LINK_ACTION_RE, LINK_AVOID_RE, LINK_POINTER_RE } from "./keywords";

export const LINK_THRESHOLD = 130;
export const LINK_MARGIN = 40;
const MAX_LINKS = 200;
const MAX_HTML = 256 * 1024;
const MAX_TEXT = 64 * 1024;

export interface LinkResult {
  url: string;
  /** the part its best occurrence is in */
  from: "html" | "text";
  score: number;
  lead: number;
  confidence: number;
}

interface Occurrence {
  url: string;
  /** the link's own words: anchor text, or the words before a bare URL on its line */
  label: string;
  /** up to 200 characters of text before it */
  before: string;
  button: boolean;
  image: boolean;
  from: "html" | "text";
}

const A_OPEN_RE = /<a(?=[\s>])[^>]*>/gi;
const HREF_RE = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;
const TAG_RE = /<[^>]*>?/g;
const BUTTON_STYLE_RE = /padding|background|inline-block|display:\s*block|border-radius|class\s*=\s*["'][^"']*(?:btn|button)/i;
const CELL_BG_RE = /<td[^>]*(?:bgcolor|background)[^>]*>\s*(?:<[^a>][^>]*>\s*)*$/i;
const WS_RE = /\s+/g;

const HIDDEN_END_RE = /<\/(?:style|head|title|script)\s*>/gi;

/** Visible text of a piece of HTML (tags dropped, entities decoded, whitespace collapsed). */
function visible(html: string): string {
  // A window that starts inside <style>/<head> keeps only what follows its end.
  let from = 0;
  HIDDEN_END_RE.lastIndex = 0;
  for (let m; (m = HIDDEN_END_RE.exec(html)) !== null; ) from = m.index + m[0].length;
  return decodeEntities(html.slice(from).replace(TAG_RE, " ")).replace(WS_RE, " ").trim();
}

function htmlOccurrences(html: string, out: Occurrence[]): void {
  const src = html.length > MAX_HTML ? html.slice(0, MAX_HTML) : html;
  const lower = src.toLowerCase();
  let closeAt = -2; // -2: not searched yet, -1: none left
  A_OPEN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = A_OPEN_RE.exec(src)) !== null && out.length < MAX_LINKS) {
    const tag = m[0];
    const h = HREF_RE.exec(tag);
    const open = m.index;
    const innerStart = open + tag.length;
    // (Searched forward only; once there is no "</a" left, it is not searched again.)
    if (closeAt !== -1 && closeAt < innerStart) closeAt = lower.indexOf("</a", innerStart);
    const innerEnd = closeAt === -1 ? Math.min(src.length, innerStart + 2000) : Math.min(closeAt, innerStart + 2000);
    if (!h) continue;
    const url = decodeEntities((h[1] ?? h[2] ?? h[3] ?? "").trim());
    const inner = src.slice(innerStart, innerEnd);
    const label = visible(inner);
    const before = visible(src.slice(Math.max(0, open - 800), open)).slice(-200);
    out.push({
      url,
      label,
      before,
      button: BUTTON_STYLE_RE.test(tag) || CELL_BG_RE.test(src.slice(Math.max(0, open - 300), open)),
      image: label === "" && /<img\b/i.test(inner),
      from: "html",
    });
  }
}

const TEXT_URL_RE = /https?:\/\/[^\s<>"'`{}|\\^\[\]]+/gi;

function textOccurrences(text: string, out: Occurrence[]): void {
  const src = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  TEXT_URL_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TEXT_URL_RE.exec(src)) !== null && out.length < MAX_LINKS) {
    let url = m[0];
    // Sentence punctuation and closing brackets after a URL are not part of it.
    while (/[.,;:!?)>\]}'"»」】）]$/.test(url)) url = url.slice(0, -1);
    const lineStart = src.lastIndexOf("\n", m.index - 1) + 1;
    let label = src
      .slice(lineStart, m.index)
      .replace(/[\s<(\[:：\-–—>»→]+$/u, "")
      .trim();
    let labelEnd = lineStart;
    if (label === "") {
      // A URL alone on its line: a short line just above it is its label ("Reset password\nhttps://…").
      const prevEnd = lineStart - 1;
      const prevStart = src.lastIndexOf("\n", prevEnd - 1) + 1;
      const prev = src.slice(prevStart, Math.max(prevStart, prevEnd)).trim();
      if (prev.length > 0 && prev.length <= 60 && !/^https?:/i.test(prev)) {
        label = prev.replace(/[\s:：\-–—>»→]+$/u, "");
        labelEnd = prevStart;
      }
    }
    const before = src.slice(Math.max(0, labelEnd - 200), labelEnd).replace(WS_RE, " ").trim();
    out.push({ url, label, before, button: false, image: false, from: "text" });
  }
}

/** Path or query words of a primary action (a click-tracking redirect names none). */
const URL_ACTION_RE =
  /verif|confirm|activat|validat|reset|recover|restore|magic|log-?in|sign-?in|signup|auth|callback|token|opt-?in|regist|complete|approve|dogrula|bestaetig|bestätig|xac-nhan|verifikasi|conferma|confirmar|verificar|restablecer|redefinir|passwor|passwort|senha|contrase|ativ|aktiv|attiv|lien-magique/i;
/** Path words of links never to return. */
const URL_AVOID_RE =
  /unsub|opt-?out|optout|preference|privacy|privacidad|privacidade|datenschutz|confidential|legal|terms|\/tos\b|impressum|\/help\b|\/hc\/|support|faq|contact|view-?in-?browser|webversion|web-version|\/view\/|\/social\/|\/o\/|pixel|beacon|open\.gif|\/track\/open|manage|settings|invoice|download|track(?:ing)?\/?(?:\?|$)/i;
const SOCIAL_HOST_RE =
  /(?:^|\.)(?:facebook|fb|twitter|x|instagram|linkedin|youtube|youtu|tiktok|pinterest|t|telegram|whatsapp|wa|line|weibo|weixin|vk|ok|discord|reddit|threads|snapchat|medium|github|apps\.apple|play\.google)\.(?:com|me|be|ru|cn|net)$/i;
const IMAGE_URL_RE = /\.(?:png|gif|jpe?g|svg|webp|ico|bmp)(?:[?#]|$)/i;
const FORGOT_RE = /forgot|vergessen|oubli|olvid|esquec|dimentic/i;
const LONG_TOKEN_RE = /[A-Za-z0-9_%-]{20,}/;
/** A query value of ≥ 6 characters, or a path segment of ≥ 12 with a digit. */
const TOKEN_RE = /[?&][^=&#]+=[^&#]{6,}|\/(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{12,}/;

/** Longer URLs are not stored or offered (real sign-in links are a few hundred characters). */
const MAX_URL = 4096;

function scoreOccurrence(o: Occurrence): number {
  if (o.url.length > MAX_URL) return -Infinity;
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return -Infinity;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return -Infinity;
  if (o.image) return -Infinity;
  const pathQuery = url.pathname + url.search;
  if (SOCIAL_HOST_RE.test(url.hostname) || IMAGE_URL_RE.test(url.pathname)) return -Infinity;
  if (URL_AVOID_RE.test(pathQuery)) return -Infinity;
  // A link whose text is a URL (a bare link in HTML) has no words of its own.
  const label = /^https?:\/\//i.test(o.label) ? "" : o.label.slice(-120);
  if (label !== "" && LINK_AVOID_RE.test(label)) return -Infinity;

  let score = 0;
  if (label !== "" && LINK_ACTION_RE.test(label)) score += 100;
  if (LINK_ACTION_RE.test(o.before.slice(-200))) score += 50;
  if (LINK_POINTER_RE.test(o.before.slice(-120))) score += 30;
  if (URL_ACTION_RE.test(pathQuery)) score += 50;
  if (LONG_TOKEN_RE.test(pathQuery)) score += 30;
  if (o.button) score += 20;
  if (FORGOT_RE.test(pathQuery) && !LONG_TOKEN_RE.test(url.search)) score -= 100;
  // A sign-in / confirm / reset link carries something unique; a bare page ("/login") does not.
  if (!TOKEN_RE.test(pathQuery)) score -= 80;
  return score;
}

export interface LinkInput {
  text?: string | null;
  html?: string | null;
  trace?: (url: string, score: number, o: Occurrence) => void;
}

export function extractLink(input: LinkInput): LinkResult | null {
  const occ: Occurrence[] = [];
  if (input.html) htmlOccurrences(input.html, occ);
  if (input.text) textOccurrences(input.text, occ);
  if (occ.length === 0) return null;
  // A URL is never returned if any of its occurrences says it must not be (an unsubscribe
  // link repeated as a bare URL); otherwise its best occurrence counts.
  const best = new Map<string, number>();
  const where = new Map<string, Occurrence["from"]>();
  for (const o of occ) {
    const s = scoreOccurrence(o);
    input.trace?.(o.url, s, o);
    const prev = best.get(o.url);
    if (prev === undefined || (s > prev && prev !== -Infinity)) where.set(o.url, o.from);
    if (prev === undefined) best.set(o.url, s);
    else if (s === -Infinity || prev === -Infinity) best.set(o.url, -Infinity);
    else if (s > prev) best.set(o.url, s);
  }
  // The primary link is often repeated (a button, then "copy this URL into your browser").
  const count = new Map<string, number>();
  for (const o of occ) count.set(o.url, (count.get(o.url) ?? 0) + 1);
  for (const [u, s] of best) if (s > 0 && count.get(u)! > 1) best.set(u, s + 20);
  let top: string | undefined;
  let topScore = -Infinity;
  for (const [u, s] of best) {
    if (s > topScore) {
      top = u;
      topScore = s;
    }
  }
  if (top === undefined || topScore < LINK_THRESHOLD) return null;
  let second = -Infinity;
  for (const [u, s] of best) if (u !== top && s > second) second = s;
  const lead = topScore - second;
  if (lead < LINK_MARGIN) return null;
  const above = Math.min(1, (topScore - LINK_THRESHOLD) / 120);
  const ahead = Math.min(1, (lead - LINK_MARGIN) / 150);
  return { url: top, from: where.get(top)!, score: topScore, lead, confidence: Math.round((0.5 + 0.3 * above + 0.19 * ahead) * 100) / 100 };
}
