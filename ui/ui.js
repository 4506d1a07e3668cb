/**
 * Shared building blocks of the page: the `html` tag (htm over Preact), navigation, formatting,
 * and the few components every page uses (error box, dialog, copy button, TTL select). Pages import
 * from here; this file imports no page.
 */
import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { LANGS, lang, locale, need, ready, setLang, t } from "./i18n.js";

export const html = htm.bind(h);

// ── Navigation (history API; the Worker answers unknown paths with index.html) ──

/** Goes to `to` (a path with optional query) without reloading. */
export function navigate(to, replace = false) {
  if (to === location.pathname + location.search) return;
  history[replace ? "replaceState" : "pushState"](null, "", to);
  dispatchEvent(new Event("km:navigate"));
}

/** An ordinary link that navigates in-page on a plain left click. */
export function Link({ href, children, ...rest }) {
  const click = (e) => {
    if (e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${click} ...${rest}>${children}</a>`;
}

// ── Formatting (Intl, in the current language) ──

const UNITS = [
  [60, "second", 1],
  [3600, "minute", 60],
  [172800, "hour", 3600],
  [Infinity, "day", 86400],
];
const unitOf = (s) => UNITS.find(([lim]) => s < lim);

/** A short duration in the current language: "45 sec", "12 min", "5 hr", "3 days" / "45秒", "12分钟"… */
export function dur(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const [, unit, size] = unitOf(s);
  return new Intl.NumberFormat(locale(), { style: "unit", unit, unitDisplay: "short" }).format(Math.round(s / size));
}

/** "in 5 minutes" / "3 hours ago" / "now" (Intl.RelativeTimeFormat), relative to `now`. */
export const rel = (iso, now = Date.now()) => {
  if (iso == null) return "—";
  const d = (typeof iso === "number" ? iso : Date.parse(iso)) - now;
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (Math.abs(d) < 1500) return rtf.format(0, "second");
  const s = Math.round(Math.abs(d) / 1000);
  const [, unit, size] = unitOf(s);
  return rtf.format(Math.sign(d) * Math.round(s / size), unit);
};

/** A local date and time in the current language, e.g. "25 Nov 2026, 20:54" / "2026年11月25日 20:54". */
export const when = (iso) => (iso ? new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "—");

/** A number in the current language's grouping. */
export const num = (n) => new Intl.NumberFormat(locale()).format(n);

/**
 * A `<time>` showing the relative time, with the exact time on hover. `past` marks a moment that
 * has happened (a few seconds of clock skew then read "now", not "in 3 s"). Pass the parent's
 * `useNow()` value as `tick` to keep it current.
 */
export const Time = ({ iso, past }) => {
  if (!iso) return "—";
  const now = Date.now();
  return html`<time datetime=${iso} title=${when(iso)}>${rel(past ? Math.min(Date.parse(iso), now) : iso, now)}</time>`;
};

export const bytes = (n) => {
  const [v, unit] = n < 1024 ? [n, "byte"] : n < 1048576 ? [n / 1024, "kilobyte"] : [n / 1048576, "megabyte"];
  return new Intl.NumberFormat(locale(), { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: n < 1024 ? 0 : 1 }).format(v);
};

/** Re-renders every `ms` so relative times and countdowns stay current. */
export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

// ── Data ──

/** Loads `fn()` when `deps` change: {data, error, loading, reload, setData}. Stale answers are dropped. */
export function useLoad(fn, deps = []) {
  const [s, set] = useState({ loading: true, data: null, error: null });
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const n = ++seq.current;
    try {
      const data = await fn();
      if (n === seq.current) set({ loading: false, data, error: null });
      return data;
    } catch (error) {
      if (n === seq.current) set((p) => ({ ...p, loading: false, error }));
    }
  }, deps);
  useEffect(() => {
    set((p) => ({ ...p, loading: true }));
    reload();
  }, [reload]);
  return { ...s, reload, setData: (data) => set((p) => ({ ...p, data })) };
}

/** Runs an async action with a busy flag and keeps its error for display: [run, busy, error, setError]. */
export function useAction() {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const run = async (label, fn) => {
    setBusy(label);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return [run, busy, error, setError];
}

// ── Components ──

/** Server messages that come without a code, by the catalogue key that says them in the page's language. */
const MESSAGES = {
  "Invalid API key": "invalid_api_key",
  "Invalid request": "invalid_request",
  Forbidden: "forbidden",
  "Authentication required": "auth_required",
  "Admin access required": "admin_required",
  "User already exists": "user_exists",
  "User not found": "user_not_found",
  "API key not found": "key_not_found",
  "Could not reach the KaisouMail server": "network",
};

/** True when the catalogue has `key` (t() answers the key itself when it is missing). */
export const has = (key) => t(key) !== key;

/**
 * The server's error where the action was taken. The server's `message` is English; a known
 * `details.code` is shown in the page's language (`err.code.<code>`), a known hint likewise
 * (`err.hint.<code>`), anything else as the server wrote it. The code itself, and zod's field
 * wording, stay behind "Details".
 */
export function ErrorBox({ error, testid = "error" }) {
  // The error texts are a catalogue section of their own, fetched with the first error shown.
  const [, loaded] = useState(0);
  useEffect(() => {
    if (error && !ready("errors")) need("errors").then(() => loaded((n) => n + 1), () => {});
  }, [error]);
  if (!error) return null;
  const d = error.details ?? {};
  const wait = d.retryAfterSeconds ? dur(d.retryAfterSeconds * 1000) : null;
  const msgKey = !error.local && MESSAGES[error.message] ? `err.msg.${MESSAGES[error.message]}` : null;
  const title = d.code && has(`err.code.${d.code}`) ? t(`err.code.${d.code}`, { wait }) : msgKey ? t(msgKey) : error.message;
  const hint = d.code && has(`err.hint.${d.code}`) ? t(`err.hint.${d.code}`, { wait }) : d.hint;
  const lines = [...(d.formErrors ?? []), ...Object.entries(d.fieldErrors ?? {}).map(([k, v]) => `${k}: ${[].concat(v).join("; ")}`)];
  // The wait is said once: in the hint when it already gives it, otherwise on its own line.
  const waitLine = wait && !(hint && (hint.includes(String(d.retryAfterSeconds)) || hint.includes(wait)));
  const shown = title !== error.message;
  return html`<div class="alert err" role="alert" data-testid=${testid}>
    <strong>${title}</strong>
    ${hint && html`<div data-testid="error-hint">${hint}</div>`}
    ${waitLine ? html`<div>${t("err.retryIn", { wait })}</div>` : ""}
    ${(d.code || lines.length > 0 || shown) &&
    html`<details class="more"><summary>${t("common.details")}</summary>
      ${shown && html`<div>${error.message}</div>`}
      ${d.code && html`<code data-testid="error-code">${d.code}</code>`}
      ${lines.map((l) => html`<div>${l}</div>`)}
    </details>`}
  </div>`;
}

/** A page-made error (validation before a request), shown by ErrorBox as it is. */
export const localError = (message) => Object.assign(new Error(message), { local: true, details: null });

export const Badge = ({ kind = "", children, testid, title }) => html`<span class=${`badge ${kind}`} title=${title} data-testid=${testid}>${children}</span>`;

/** Copies text to the clipboard; the fallback works inside modal dialogs too. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "offscreen";
    (document.querySelector("dialog[open]") ?? document.body).append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
}

export function CopyButton({ text, label, testid, primary }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    await copyText(text);
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return html`<button type="button" class=${primary ? "primary" : ""} onClick=${copy} disabled=${!text} aria-label=${done ? t("common.copied") : label ?? t("common.copy")} data-testid=${testid}>${done ? t("common.copiedMark") : t("common.copy")}</button>`;
}

/** A read-only value with a Copy button, e.g. a nameserver or a new API key. */
export const CopyField = ({ value, label, testid }) =>
  html`<div class="copyrow"><input readonly value=${value} aria-label=${label} data-testid=${testid} onFocus=${(e) => e.target.select()} /><${CopyButton} text=${value} label=${t("common.copyWhat", { what: label })} /></div>`;

let dialogSeq = 0;
/** A modal dialog (native <dialog>): focus moves in, Escape and the backdrop close it, focus returns. */
export function Dialog({ title, onClose, children, testid }) {
  const ref = useRef();
  const id = useRef(`dlg${++dialogSeq}`).current;
  useEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement;
    dialog.showModal();
    return () => {
      // Close before focusing back: while the modal is open the rest of the page is inert.
      if (dialog.open) dialog.close();
      if (before?.isConnected) before.focus();
    };
  }, []);
  const cancel = (e) => {
    e.preventDefault();
    onClose();
  };
  return html`<dialog ref=${ref} aria-labelledby=${id} data-testid=${testid} onCancel=${cancel} onClick=${(e) => e.target === ref.current && onClose()}>
    <div class="dlg-head"><h2 id=${id}>${title}</h2><button type="button" class="ghost" aria-label=${t("common.close")} onClick=${onClose}>✕</button></div>
    ${children}
  </dialog>`;
}

/** "Are you sure?" with the action's error shown inside the dialog. */
export function Confirm({ title, children, action, danger = true, onConfirm, onClose, testid = "confirm" }) {
  const [run, busy, error] = useAction();
  const go = () => run("go", async () => (await onConfirm(), onClose()));
  return html`<${Dialog} title=${title} onClose=${onClose} testid=${testid}>
    ${children}
    <${ErrorBox} error=${error} testid="confirm-error" />
    <div class="actions end">
      <button type="button" onClick=${onClose}>${t("common.cancel")}</button>
      <button type="button" class=${danger ? "danger" : "primary"} disabled=${busy} onClick=${go} data-testid="confirm-ok">${busy ? t("common.working") : action}</button>
    </div>
  <//>`;
}

// ── Toasts: "example.org enabled", announced politely, gone after a few seconds ──

const toastSubs = new Set();
let toastSeq = 0;
/** Shows a short confirmation of a finished action. */
export function toast(text) {
  const item = { id: ++toastSeq, text };
  for (const fn of toastSubs) fn(item);
}

/** The one live region for toasts; mounted once by the shell. */
export function Toasts() {
  const [items, setItems] = useState([]);
  useEffect(() => {
    const add = (item) => {
      setItems((xs) => [...xs.slice(-2), item]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== item.id)), 5000);
    };
    toastSubs.add(add);
    return () => toastSubs.delete(add);
  }, []);
  return html`<div class="toasts" role="status" aria-live="polite" data-testid="toasts">
    ${items.map((x) => html`<div class="toast" key=${x.id} data-testid="toast">${x.text}</div>`)}
  </div>`;
}

// ── Language and theme switches ──

/** The language select (header and sign-in page). */
export const LangSelect = () =>
  html`<label class="switch"><span class="sr">${t("shell.language")}</span>
    <select value=${lang()} onChange=${(e) => setLang(e.target.value)} data-testid="lang-select" aria-label=${t("shell.language")}>
      ${Object.entries(LANGS).map(([v, name]) => html`<option value=${v} lang=${v === "zh" ? "zh-CN" : "en"}>${name}</option>`)}
    </select></label>`;

const THEME_KEY = "km.theme";
/** The remembered theme choice: "system" (follow prefers-color-scheme), "light" or "dark". */
export function themeChoice() {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}
/** Applies and remembers a theme choice (theme.js applies it before the first paint next time). */
export function setTheme(v) {
  try {
    if (v === "system") localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, v);
  } catch {
    /* private mode: this page only */
  }
  if (v === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = v;
}

export function ThemeSelect() {
  const [v, setV] = useState(themeChoice);
  return html`<label class="switch"><span class="sr">${t("shell.theme")}</span>
    <select value=${v} onChange=${(e) => (setTheme(e.target.value), setV(e.target.value))} data-testid="theme-select" aria-label=${t("shell.theme")}>
      ${["system", "light", "dark"].map((x) => html`<option value=${x}>${t(`shell.theme.${x}`)}</option>`)}
    </select></label>`;
}

/** TTL choices in minutes; null is unlimited. */
export const TTLS = [60, 360, 1440, 10080, 43200, 525600, null].map((v) => [v]);
const TTL_KEYS = { 60: "ttl.1h", 360: "ttl.6h", 1440: "ttl.1d", 10080: "ttl.7d", 43200: "ttl.30d", 525600: "ttl.1y" };
export const ttlLabel = (m) => (m == null ? t("ttl.unlimited") : TTL_KEYS[m] ? t(TTL_KEYS[m]) : dur(m * 60000));

/** `max` (minutes) leaves out longer presets and "Unlimited": a member's cap from /api/meta. */
export const TtlSelect = ({ id, value, onChange, testid = "ttl", max = null }) =>
  html`<select id=${id} value=${String(value)} onChange=${(e) => onChange(e.target.value === "null" ? null : Number(e.target.value))} data-testid=${testid}>
    ${TTLS.filter(([v]) => max == null || (v != null && v <= max)).map(([v]) => html`<option value=${String(v)}>${ttlLabel(v)}</option>`)}
  </select>`;

/** Page heading that takes focus after navigation, so keyboard and screen-reader users land on it. */
export const PageHead = ({ title, children }) =>
  html`<div class="page-head"><h1 tabindex="-1" id="page-title">${title}</h1>${children}</div>`;
