/**
 * Inbox, the centre of the temp-mail flow: one click makes a new random address (shown large with
 * Copy and a countdown to expiry), its mail arrives by itself (pushed by the event stream; polling
 * only while the stream is down), unread mail is bold until opened (opening marks it seen on the
 * server), and the unread count shows in the tab title and the favicon. Search (subject, sender,
 * code) runs on the server. Admins filter by owner and mailbox. Keyboard: j/k move, Enter opens,
 * # or Delete deletes, / searches, ? lists the shortcuts. The reader is ./reader.js; on a phone it
 * fills the screen with a Back button.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiAll } from "../api.js";
import { t } from "../i18n.js";
import { liveLabel, useMailStream } from "../live.js";
import { html, Badge, CopyButton, Dialog, ErrorBox, Link, PageHead, Time, navigate, useLoad, useNow } from "../ui.js";

/** The reader (./reader.js) loads with the first message opened, not with the list. */
let readerModule = null;
function useReaderModule(needed) {
  const [mod, setMod] = useState(readerModule);
  useEffect(() => {
    if (needed && !mod) import("./reader.js").then((m) => setMod((readerModule = m)));
  }, [needed]);
  return mod;
}

const go = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const qs = q.toString();
  navigate(`/inbox${qs ? `?${qs}` : ""}`, true);
};
const byNewest = (a, b) => (a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0);
/** The server's `q` rule, for messages pushed by the stream while a search is on. */
const matches = (m, q) => {
  if (!q) return true;
  const needle = q.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
  return [m.subject, m.fromAddress, m.fromName, m.verification?.code].some((x) => (x ?? "").replace(/[A-Z]/g, (c) => c.toLowerCase()).includes(needle));
};

/**
 * Messages of one mailbox (or all), kept current by the event stream (../live.js); polling for
 * anything newer than the newest one shown is only the fallback while the stream is down.
 */
function useMessages({ mailboxId, owner, q }, user) {
  const [s, set] = useState({ items: null, next: null, error: null });
  const ref = useRef(s);
  ref.current = s;
  const query = (extra) => ({ ...(mailboxId ? { mailboxId } : {}), ...(owner ? { owner } : {}), ...(q ? { q } : {}), limit: 50, ...extra });
  /** Adds messages not shown yet, newest first. */
  const merge = (fresh) =>
    set((p) => {
      const known = new Set((p.items ?? []).map((m) => m.id));
      const add = fresh.filter((m) => !known.has(m.id));
      return add.length ? { ...p, error: null, items: [...add, ...(p.items ?? [])].sort(byNewest) } : p;
    });
  const first = () =>
    api("/messages", { query: query() }).then(
      (r) => (ref.current.items ? merge(r.messages) : set({ items: r.messages, next: r.nextCursor, error: null })),
      (error) => set((p) => ({ ...p, error })),
    );
  const poll = async () => {
    const newest = ref.current.items?.[0]?.receivedAt;
    if (!newest) return first();
    try {
      // `after` is a strict lower bound: ask from 1 ms earlier so a message received in the same
      // millisecond as the newest one is not missed; merge drops the ones already shown.
      const r = await api("/messages", { query: query({ after: new Date(Date.parse(newest) - 1).toISOString() }) });
      merge(r.messages);
    } catch (error) {
      set((p) => ({ ...p, error }));
    }
  };
  const key = `${mailboxId}|${owner}|${q}`;
  useEffect(() => set({ items: null, next: null, error: null }), [key]);
  // An admin's all-mailbox view spans other users' mailboxes, which no one stream covers: it polls.
  const stream = Boolean(mailboxId) || user?.role !== "admin";
  const status = useMailStream(
    {
      query: mailboxId ? { mailboxId } : {},
      stream,
      // The list is (re)loaded once the stream is open, so nothing committed in between is missed.
      onOpen: first,
      onMessage: (m) => (!mailboxId || m.mailboxId === mailboxId) && matches(m, q) && merge([m]),
      poll,
    },
    [key, stream],
  );
  // Show the list at once; the stream's open merges anything that arrived before it connected.
  useEffect(() => void first(), [key]);
  const more = async () => {
    try {
      const r = await api("/messages", { query: query({ cursor: s.next }) });
      set((p) => ({ ...p, items: [...p.items, ...r.messages.filter((m) => !p.items.some((x) => x.id === m.id))], next: r.nextCursor }));
    } catch (error) {
      set((p) => ({ ...p, error }));
    }
  };
  const remove = (id) => set((p) => ({ ...p, items: (p.items ?? []).filter((m) => m.id !== id) }));
  const patch = (id, change) => set((p) => ({ ...p, items: (p.items ?? []).map((m) => (m.id === id ? { ...m, ...change } : m)) }));
  return { ...s, status, more, remove, patch };
}

/** "12:04:09" or "2 d 03:04:05" until `iso`; "expired" after it. */
function Countdown({ iso }) {
  const now = useNow(1000);
  if (!iso) return html`<span data-testid="address-expiry" data-expires="">${t("inbox.noExpiry")}</span>`;
  const left = Math.floor((Date.parse(iso) - now) / 1000);
  if (left <= 0) return html`<span data-testid="address-expiry" data-expires=${iso}>${t("inbox.expired")}</span>`;
  const pad = (n) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor((left % 86400) / 3600))}:${pad(Math.floor((left % 3600) / 60))}:${pad(left % 60)}`;
  const d = Math.floor(left / 86400);
  return html`<span data-testid="address-expiry" data-expires=${iso}>${t("inbox.expiresIn", { time: d ? t("inbox.days", { d, hms }) : hms })}</span>`;
}

/** Draws the unread count as a badge into the favicon (a data: URL; the page allows data: images). */
function setFavicon(n) {
  const link = document.querySelector('link[rel="icon"]');
  if (!link) return;
  if (!n) return void (link.href = "data:,");
  const c = document.createElement("canvas");
  c.width = c.height = 32;
  const g = c.getContext("2d");
  if (!g) return;
  g.fillStyle = "#3b5bdb";
  g.fillRect(1, 6, 26, 20);
  g.strokeStyle = "#fff";
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(3, 8);
  g.lineTo(14, 17);
  g.lineTo(25, 8);
  g.stroke();
  g.fillStyle = "#d92d20";
  g.beginPath();
  g.arc(22, 10, 10, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = "#fff";
  g.font = "bold 13px sans-serif";
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillText(n > 99 ? "99+" : String(n), 22, 11);
  link.href = c.toDataURL("image/png");
}

const SHORTCUTS = [
  ["j / k", "inbox.keys.move"],
  ["Enter", "inbox.keys.open"],
  ["# / Delete", "inbox.keys.delete"],
  ["/", "inbox.keys.search"],
  ["?", "inbox.keys.help"],
  ["Esc", "inbox.keys.close"],
];
const typing = (el) => el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

export default function InboxPage({ user, meta, query, lang }) {
  const mailboxId = query.get("mailbox") ?? "";
  const messageId = query.get("message");
  const admin = user.role === "admin";
  const owner = admin ? (query.get("owner") ?? "") : "";
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [help, setHelp] = useState(false);
  const [cursor, setCursor] = useState(null);
  const [deleteAsk, setDeleteAsk] = useState({ id: null, n: 0 });
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState(null);
  const boxes = useLoad(() => apiAll("/mailboxes", "mailboxes", { status: ["active", "expired"], owner }), [owner]);
  const users = useLoad(() => (admin ? api("/users") : Promise.resolve({ users: [] })), [admin]);
  const list = useMessages({ mailboxId, owner, q }, user);
  const now = useNow(15000);
  const searchRef = useRef();
  const Reader = useReaderModule(Boolean(messageId))?.Reader;
  const readerRef = useRef();
  const mbs = boxes.data?.mailboxes ?? [];
  const items = list.items ?? [];
  const selected = mbs.find((b) => b.id === mailboxId);
  const unread = items.filter((m) => !m.seen).length;
  const nav = (change) => go({ mailbox: mailboxId, owner, message: messageId, ...change });

  // A shortcut's delete request belongs to the message it was made for, not to one opened later.
  useEffect(() => void (deleteAsk.id && deleteAsk.id !== messageId && setDeleteAsk({ id: null, n: 0 })), [messageId]);
  useEffect(() => {
    const id = setTimeout(() => setQ(search.trim()), 300);
    return () => clearTimeout(id);
  }, [search]);

  // Opening a message marks it seen (the list item stops being bold at once; the server is told).
  const marked = useRef(new Set());
  useEffect(() => {
    const m = messageId && items.find((x) => x.id === messageId);
    if (!m || m.seen || marked.current.has(m.id)) return;
    marked.current.add(m.id);
    list.patch(m.id, { seen: true });
    api(`/messages/${m.id}`, { method: "PATCH", body: { seen: true } }).catch(() => (marked.current.delete(m.id), list.patch(m.id, { seen: false })));
  }, [messageId, items]);

  // The unread count in the tab title and the favicon (after the shell sets its own title).
  useEffect(() => {
    const id = setTimeout(() => {
      document.title = `${unread ? `(${unread}) ` : ""}${t("nav.inbox")} · KaisouMail`;
      setFavicon(unread);
    });
    return () => clearTimeout(id);
  }, [unread, lang]);
  useEffect(() => () => setFavicon(0), []);

  const open = (id) => {
    setCursor(id);
    nav({ message: id });
    if (matchMedia("(max-width: 860px) and (min-width: 641px)").matches) setTimeout(() => readerRef.current?.scrollIntoView({ behavior: "smooth" }));
  };
  const back = () => {
    nav({ message: null });
    if (messageId) setTimeout(() => document.querySelector(`[data-testid="message-item"][data-id="${messageId}"]`)?.focus());
  };

  const newAddress = async () => {
    setCreating(true);
    setCreateError(null);
    try {
      const mb = await api("/mailboxes", { method: "POST", body: meta?.domains?.[0] ? { mailDomain: meta.domains[0] } : {} });
      boxes.setData({ mailboxes: [mb, ...mbs], nextCursor: null });
      go({ mailbox: mb.id, owner: owner && owner !== mb.userId ? "" : owner });
    } catch (e) {
      setCreateError(e);
    } finally {
      setCreating(false);
    }
  };

  // Keyboard shortcuts; never while typing in a field or while a dialog is open.
  const keys = useRef();
  keys.current = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector("dialog[open]")) return;
    const ids = items.map((m) => m.id);
    const at = ids.indexOf(cursor ?? messageId);
    const focus = (id) => {
      setCursor(id);
      document.querySelector(`[data-testid="message-item"][data-id="${id}"]`)?.focus();
    };
    if (e.key === "j" || e.key === "k") {
      if (!ids.length) return;
      const next = at < 0 ? 0 : Math.max(0, Math.min(ids.length - 1, at + (e.key === "j" ? 1 : -1)));
      focus(ids[next]);
    } else if (e.key === "Enter") {
      if (e.target instanceof HTMLElement && e.target.closest("button, a")) return;
      if (at >= 0) open(ids[at]);
    } else if (e.key === "#" || e.key === "Delete") {
      const id = messageId ?? (at >= 0 ? ids[at] : null);
      if (!id) return;
      if (id !== messageId) open(id);
      setDeleteAsk((d) => ({ id, n: d.n + 1 }));
    } else if (e.key === "/") {
      searchRef.current?.focus();
    } else if (e.key === "?") {
      setHelp(true);
    } else if (e.key === "Escape" && messageId) {
      back();
    } else return;
    e.preventDefault();
  };
  useEffect(() => {
    const h = (e) => keys.current(e);
    addEventListener("keydown", h);
    return () => removeEventListener("keydown", h);
  }, []);

  const noDomain = meta && meta.domains.length === 0;
  const owners = (users.data?.users ?? []).filter((u) => !u.deletedAt);
  return html`
    <${PageHead} title=${t("nav.inbox")}>
      <div class="inbox-tools">
        <button type="button" class="primary" onClick=${newAddress} disabled=${creating || noDomain} data-testid="new-address">${creating ? t("inbox.creating") : t("inbox.newAddress")}</button>
        <button type="button" class="ghost" onClick=${() => setHelp(true)} aria-label=${t("inbox.keys.title")} title=${t("inbox.keys.title")} data-testid="shortcuts-open">?</button>
      </div>
    <//>
    <${ErrorBox} error=${createError} testid="new-address-error" />
    ${selected &&
    html`<div class="card address-card" data-testid="address-card">
      <div class="address-line"><span class="address" data-testid="current-address">${selected.address}</span>
        <${CopyButton} text=${selected.address} label=${t("inbox.copyAddress")} testid="copy-address" primary /></div>
      <div class="small">${selected.status === "active" ? html`<${Countdown} iso=${selected.expiresAt} />` : t(`inbox.status.${selected.status}`)}
        ${admin && selected.owner && html` · ${selected.owner.email}`}</div>
    </div>`}
    <div class="filters inbox-filters">
      <label class="sr" for="inbox-search">${t("inbox.search")}</label>
      <input id="inbox-search" type="search" ref=${searchRef} placeholder=${t("inbox.searchPlaceholder")} value=${search} maxlength="200"
        onInput=${(e) => setSearch(e.target.value)} onKeyDown=${(e) => e.key === "Escape" && (setSearch(""), e.target.blur())} data-testid="search" />
      ${admin &&
      html`<label class="sr" for="owner-pick">${t("inbox.owner")}</label>
        <select id="owner-pick" value=${owner} onChange=${(e) => go({ owner: e.target.value })} data-testid="owner-pick">
          <option value="">${t("inbox.allOwners")}</option>
          ${owners.map((u) => html`<option value=${u.id}>${u.email}</option>`)}
        </select>`}
      <label class="sr" for="mailbox-pick">${t("inbox.mailbox")}</label>
      <select id="mailbox-pick" value=${mailboxId} onChange=${(e) => go({ mailbox: e.target.value, owner })} data-testid="mailbox-pick">
        <option value="">${t("inbox.allMailboxes")}</option>
        ${mbs.map((b) => html`<option value=${b.id}>${b.address}${b.status === "active" ? "" : ` (${t(`inbox.status.${b.status}`)})`}</option>`)}
        ${mailboxId && boxes.data && !selected && html`<option value=${mailboxId}>${t("inbox.selectedMailbox")}</option>`}
      </select>
    </div>
    <${ErrorBox} error=${boxes.error} testid="mailboxes-error" />
    ${noDomain &&
    (admin
      ? html`<div class="card guide" data-testid="guide-domains"><h2>${t("inbox.guide.title")}</h2><p>${t("inbox.guide.body")}</p>
          <${Link} class="btn primary" href="/domains">${t("inbox.guide.action")}</${Link}></div>`
      : html`<p class="alert" role="status" data-testid="guide-member">${t("inbox.guide.member")}</p>`)}
    ${!noDomain && boxes.data && !mbs.length && !owner && html`<p class="alert" role="status" data-testid="no-mailboxes">${t("inbox.noMailboxes")}</p>`}
    <div class=${`inbox${messageId ? " reading" : ""}`}>
      <section class="card" aria-labelledby="list-h">
        <div class="card-head"><h2 id="list-h">${t("inbox.messages")}${unread ? html` <span class="badge" data-testid="unread-count">${unread}</span>` : ""}</h2>
          <span class="small" aria-live="polite" data-testid="live-status" data-status=${list.status}>${list.items ? `${items.length}${list.next ? "+" : ""} · ` : ""}${liveLabel(list.status)}</span></div>
        <${ErrorBox} error=${list.error} testid="messages-error" />
        ${!list.items && !list.error && html`<p class="muted">${t("inbox.loading")}</p>`}
        ${list.items?.length === 0 && html`<p class="muted" data-testid="messages-empty">${q ? t("inbox.noMatches") : t("inbox.empty")}</p>`}
        <ul class="msglist" data-testid="messages">
          ${items.map(
            (m) => html`<li key=${m.id}><button type="button" class=${m.seen ? "" : "unread"} aria-current=${String(m.id === messageId)} onClick=${() => open(m.id)}
              onFocus=${() => setCursor(m.id)} data-testid="message-item" data-id=${m.id} data-seen=${String(Boolean(m.seen))}>
              <div class="row1"><span class="from">${!m.seen && html`<span class="sr">${t("inbox.unread")} </span>`}${m.fromName || m.fromAddress || t("inbox.unknownSender")}</span><span class="small"><${Time} iso=${m.receivedAt} tick=${now} past /></span></div>
              <div class="subj">${m.subject || t("inbox.noSubject")}</div>
              <div class="prev">${m.verification ? html`<${Badge} kind="ok">${m.verification.code ? t("inbox.codeBadge", { code: m.verification.code }) : t("inbox.linkBadge")}<//> ` : ""}${mailboxId ? "" : `${m.mailboxAddress} · `}${m.previewText}</div>
            </button></li>`,
          )}
        </ul>
        ${list.next && html`<button type="button" onClick=${list.more} style="margin-top:.5rem">${t("inbox.older")}</button>`}
      </section>
      <section class="card reader-pane" ref=${readerRef} aria-label=${t("inbox.message")}>
        ${messageId && !Reader && html`<p class="muted" aria-busy="true">${t("inbox.loadingMessage")}</p>`}
        ${messageId && Reader
          ? html`<${Reader} key=${messageId} id=${messageId} onBack=${back} askDelete=${deleteAsk.id === messageId ? deleteAsk.n : 0}
              onDeleted=${(id) => (list.remove(id), nav({ message: null }))} />`
          : !messageId && html`<p class="muted" data-testid="reader-empty">${t("inbox.selectMessage")}</p>`}
      </section>
    </div>
    ${help &&
    html`<${Dialog} title=${t("inbox.keys.title")} onClose=${() => setHelp(false)} testid="shortcuts">
      <table class="keys"><tbody>${SHORTCUTS.map(([k, d]) => html`<tr><td><kbd>${k}</kbd></td><td>${t(d)}</td></tr>`)}</tbody></table>
    <//>`}`;
}
