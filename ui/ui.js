/**
 * Shared building blocks of the page: the `html` tag (htm over Preact), navigation, formatting,
 * and the few components every page uses (error box, dialog, copy button, TTL select). Pages import
 * from here; this file imports no page.
 */
import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";

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

// ── Formatting ──

/** A short duration: "45 s", "12 min", "5 h", "3 d". */
export function dur(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "in 5 min" / "3 h ago", relative to `now`. */
export const rel = (iso, now = Date.now()) => {
  if (iso == null) return "—";
  const d = (typeof iso === "number" ? iso : Date.parse(iso)) - now;
  return Math.abs(d) < 1500 ? "now" : d > 0 ? `in ${dur(d)}` : `${dur(-d)} ago`;
};

/** A local date and time, e.g. "25 Nov 2026, 20:54". */
export const when = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "—");

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

export const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`);

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

/** The server's error where the action was taken: its text, details.code, details.hint, field errors. */
export function ErrorBox({ error, testid = "error" }) {
  if (!error) return null;
  const d = error.details ?? {};
  const lines = [...(d.formErrors ?? []), ...Object.entries(d.fieldErrors ?? {}).map(([k, v]) => `${k}: ${[].concat(v).join("; ")}`)];
  return html`<div class="alert err" role="alert" data-testid=${testid}>
    <strong>${error.message}</strong>${d.code ? html` <code>${d.code}</code>` : ""}
    ${d.hint && html`<div data-testid="error-hint">${d.hint}</div>`}
    ${lines.map((l) => html`<div>${l}</div>`)}
    ${d.retryAfterSeconds ? html`<div>Try again in ${dur(d.retryAfterSeconds * 1000)}.</div>` : ""}
  </div>`;
}

export const Badge = ({ kind = "", children, testid }) => html`<span class=${`badge ${kind}`} data-testid=${testid}>${children}</span>`;

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

export function CopyButton({ text, label = "Copy", testid, primary }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    await copyText(text);
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return html`<button type="button" class=${primary ? "primary" : ""} onClick=${copy} disabled=${!text} aria-label=${done ? "Copied" : label} data-testid=${testid}>${done ? "Copied ✓" : "Copy"}</button>`;
}

/** A read-only value with a Copy button, e.g. a nameserver or a new API key. */
export const CopyField = ({ value, label, testid }) =>
  html`<div class="copyrow"><input readonly value=${value} aria-label=${label} data-testid=${testid} onFocus=${(e) => e.target.select()} /><${CopyButton} text=${value} label=${`Copy ${label}`} /></div>`;

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
    <div class="dlg-head"><h2 id=${id}>${title}</h2><button type="button" class="ghost" aria-label="Close" onClick=${onClose}>✕</button></div>
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
      <button type="button" onClick=${onClose}>Cancel</button>
      <button type="button" class=${danger ? "danger" : "primary"} disabled=${busy} onClick=${go} data-testid="confirm-ok">${busy ? "Working…" : action}</button>
    </div>
  <//>`;
}

/** TTL choices in minutes; null is unlimited. */
export const TTLS = [
  [60, "1 hour"],
  [360, "6 hours"],
  [1440, "1 day"],
  [10080, "7 days"],
  [43200, "30 days"],
  [525600, "1 year"],
  [null, "Unlimited"],
];
export const ttlLabel = (m) => TTLS.find(([v]) => v === m)?.[1] ?? (m == null ? "Unlimited" : dur(m * 60000));

/** `max` (minutes) leaves out longer presets and "Unlimited": a member's cap from /api/meta. */
export const TtlSelect = ({ id, value, onChange, testid = "ttl", max = null }) =>
  html`<select id=${id} value=${String(value)} onChange=${(e) => onChange(e.target.value === "null" ? null : Number(e.target.value))} data-testid=${testid}>
    ${TTLS.filter(([v]) => max == null || (v != null && v <= max)).map(([v, l]) => html`<option value=${String(v)}>${l}</option>`)}
  </select>`;

/** Page heading that takes focus after navigation, so keyboard and screen-reader users land on it. */
export const PageHead = ({ title, children }) =>
  html`<div class="page-head"><h1 tabindex="-1" id="page-title">${title}</h1>${children}</div>`;
