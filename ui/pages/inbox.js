/**
 * Inbox: pick a mailbox (or all), watch its messages arrive (pushed by the event stream; polling
 * only while the stream is down), and read one: verification code with Copy, verification link
 * with Open and Copy, text / HTML /
 * headers views, attachments and the raw .eml. Message HTML is untrusted: it is rendered only in
 * an iframe with an empty `sandbox` (no scripts, no same-origin) whose first element is a content
 * security policy that forbids every load except inline styles and data: images.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiAll } from "../api.js";
import { LIVE_LABEL, useMailStream } from "../live.js";
import { html, Badge, Confirm, CopyButton, ErrorBox, Link, PageHead, Time, bytes, navigate, useLoad, useNow, when } from "../ui.js";

export const HTML_CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`;

const go = (mailbox, message) => {
  const q = new URLSearchParams();
  if (mailbox) q.set("mailbox", mailbox);
  if (message) q.set("message", message);
  const qs = q.toString();
  navigate(`/inbox${qs ? `?${qs}` : ""}`, true);
};
/** Only http(s) links are offered to open (the extractor returns no other kind; this is a second guard). */
const webLink = (url) => typeof url === "string" && /^https?:\/\//i.test(url);
const sender = (m) => (m.fromName ? `${m.fromName} <${m.fromAddress ?? "?"}>` : m.fromAddress ?? "(unknown sender)");
const people = (list) => (list ?? []).map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(", ");

/**
 * Messages of one mailbox (or all), kept current by the event stream (./live.js); polling for
 * anything newer than the newest one shown is only the fallback while the stream is down.
 */
function useMessages(mailboxId, user) {
  const [s, set] = useState({ items: null, next: null, error: null });
  const ref = useRef(s);
  ref.current = s;
  const query = (extra) => ({ ...(mailboxId ? { mailboxId } : {}), limit: 50, ...extra });
  /** Adds messages not shown yet, newest first. */
  const merge = (fresh) =>
    set((p) => {
      const known = new Set((p.items ?? []).map((m) => m.id));
      const add = fresh.filter((m) => !known.has(m.id));
      return add.length ? { ...p, error: null, items: [...add, ...(p.items ?? [])].sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0)) } : p;
    });
  const first = () =>
    api("/messages", { query: query() }).then(
      (r) => (ref.current.items ? merge(r.messages) : set({ items: r.messages, next: r.nextCursor, error: null })),
      (error) => set((p) => ({ ...p, error })),
    );
  const poll = async () => {
    const cur = ref.current;
    const newest = cur.items?.[0]?.receivedAt;
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
  useEffect(() => set({ items: null, next: null, error: null }), [mailboxId]);
  // An admin's all-mailbox view spans other users' mailboxes, which no one stream covers: it polls.
  const stream = Boolean(mailboxId) || user?.role !== "admin";
  const status = useMailStream(
    {
      query: mailboxId ? { mailboxId } : {},
      stream,
      // The list is (re)loaded once the stream is open, so nothing committed in between is missed.
      onOpen: first,
      onMessage: (m) => (!mailboxId || m.mailboxId === mailboxId) && merge([m]),
      poll,
    },
    [mailboxId, stream],
  );
  // Show the list at once; the stream's open merges anything that arrived before it connected.
  useEffect(() => void first(), [mailboxId]);
  const more = async () => {
    try {
      const r = await api("/messages", { query: query({ cursor: s.next }) });
      set((p) => ({ ...p, items: [...p.items, ...r.messages.filter((m) => !p.items.some((x) => x.id === m.id))], next: r.nextCursor }));
    } catch (error) {
      set((p) => ({ ...p, error }));
    }
  };
  const remove = (id) => set((p) => ({ ...p, items: p.items.filter((m) => m.id !== id) }));
  return { ...s, status, more, remove };
}

function Reader({ id, onDeleted }) {
  const msg = useLoad(() => api(`/messages/${id}`), [id]);
  const [view, setView] = useState(null);
  const [deleting, setDeleting] = useState(false);
  const m = msg.data?.message;
  if (msg.error) return html`<${ErrorBox} error=${msg.error} testid="reader-error" />`;
  if (!m) return html`<p class="muted" aria-busy="true">Loading the message…</p>`;
  const views = [m.text != null && "Text", m.html != null && "HTML", "Headers"].filter(Boolean);
  const v = views.includes(view) ? view : views[0];
  const r = m.recipients ?? {};
  return html`<article data-testid="reader" aria-labelledby="msg-subject">
    <div class="card-head">
      <h2 id="msg-subject" data-testid="reader-subject">${m.subject || "(no subject)"}</h2>
      <div class="actions">
        <a class="btn" href=${m.rawDownloadPath} download=${`${m.id}.eml`} data-testid="raw-download">Download .eml</a>
        <button type="button" class="danger" onClick=${() => setDeleting(true)} data-testid="message-delete">Delete</button>
      </div>
    </div>
    <dl class="meta-grid">
      <dt>From</dt><dd data-testid="reader-from">${sender(m)}</dd>
      <dt>To</dt><dd>${people(r.to) || m.envelopeTo || m.mailboxAddress}</dd>
      ${r.cc?.length > 0 && html`<dt>Cc</dt><dd>${people(r.cc)}</dd>`}
      <dt>Received</dt><dd>${when(m.receivedAt)} · ${bytes(m.sizeBytes)}</dd>
    </dl>
    ${m.verification &&
    html`<div class="code" data-testid="verification">
      ${m.verification.code &&
      html`<span class="small">Verification code</span>
        <strong data-testid="verification-code">${m.verification.code}</strong>
        <${CopyButton} text=${m.verification.code} label="Copy verification code" testid="copy-code" primary />`}
      ${webLink(m.verification.link) &&
      html`<span class="vlink-row"><span class="small">Verification link</span>
        <span class="vlink" data-testid="verification-link" title=${m.verification.link}>${m.verification.link}</span>
        <a class="btn" href=${m.verification.link} target="_blank" rel="noopener noreferrer" data-testid="open-link">Open</a>
        <${CopyButton} text=${m.verification.link} label="Copy verification link" testid="copy-link" primary=${!m.verification.code} /></span>`}
      <span class="small">found in the ${m.verification.source}</span>
    </div>`}
    ${m.parseStatus && m.parseStatus !== "parsed" && html`<p class="alert warn">This message was only partly parsed (${m.parseStatus}); the raw .eml has everything.</p>`}
    <div class="tabs" role="tablist" aria-label="Message view">
      ${views.map((x) => html`<button type="button" role="tab" aria-selected=${String(x === v)} onClick=${() => setView(x)} data-testid=${`view-${x.toLowerCase()}`}>${x}</button>`)}
    </div>
    <div role="tabpanel" aria-label=${v}>
      ${v === "Text" && html`<pre class="body" data-testid="reader-text">${m.text}</pre>`}
      ${v === "HTML" &&
      html`<iframe class="html" sandbox="" referrerpolicy="no-referrer" title="Message HTML (scripts and remote content blocked)" srcdoc=${HTML_CSP + m.html} data-testid="reader-html"></iframe>
        <p class="small">Scripts and remote images are blocked in this view.</p>`}
      ${v === "Headers" &&
      html`<table class="hdrs" data-testid="reader-headers"><tbody>
        ${[["Envelope from", m.envelopeFrom], ["Envelope to", m.envelopeTo], ["Message-ID", m.messageId], ["Date", m.dateHeader], ["Reply-To", people(r.replyTo)], ["Bcc", people(r.bcc)]]
          .filter(([, x]) => x)
          .map(([k, x]) => html`<tr><td>${k}</td><td>${x}</td></tr>`)}
        ${(m.headers ?? []).map((h) => html`<tr><td>${h.key}</td><td>${h.value}</td></tr>`)}
      </tbody></table>`}
    </div>
    ${m.attachments?.length > 0 &&
    html`<h3>Attachments</h3><ul data-testid="attachments">
      ${m.attachments.map((a) => html`<li><a href=${a.downloadPath} download=${a.filename ?? ""}>${a.filename ?? "(unnamed)"}</a> <span class="small">${a.contentType} · ${bytes(a.sizeBytes)}</span></li>`)}
    </ul>`}
    ${deleting &&
    html`<${Confirm} title="Delete this message?" action="Delete message" onClose=${() => setDeleting(false)} onConfirm=${async () => (await api(`/messages/${m.id}`, { method: "DELETE" }), onDeleted(m.id))}>
      <p>“${m.subject}” and its raw copy are removed for good.</p>
    <//>`}
  </article>`;
}

export default function InboxPage({ user, query }) {
  const mailboxId = query.get("mailbox") ?? "";
  const messageId = query.get("message");
  const boxes = useLoad(() => apiAll("/mailboxes", "mailboxes", { status: ["active", "expired"] }), []);
  const list = useMessages(mailboxId, user);
  const now = useNow(15000);
  const readerRef = useRef();
  const open = (id) => {
    go(mailboxId, id);
    if (matchMedia("(max-width: 860px)").matches) setTimeout(() => readerRef.current?.scrollIntoView({ behavior: "smooth" }));
  };
  const mbs = boxes.data?.mailboxes ?? [];
  return html`
    <${PageHead} title="Inbox">
      <label class="sr" for="mailbox-pick">Mailbox</label>
      <select id="mailbox-pick" style="width:auto;max-width:100%" value=${mailboxId} onChange=${(e) => go(e.target.value, null)} data-testid="mailbox-pick">
        <option value="">All mailboxes</option>
        ${mbs.map((b) => html`<option value=${b.id}>${b.address}${b.status === "active" ? "" : ` (${b.status})`}</option>`)}
        ${mailboxId && boxes.data && !mbs.some((b) => b.id === mailboxId) && html`<option value=${mailboxId}>Selected mailbox</option>`}
      </select>
    <//>
    <${ErrorBox} error=${boxes.error} testid="mailboxes-error" />
    ${boxes.data && !mbs.length && html`<p class="alert" role="status">No mailboxes yet. <${Link} href="/mailboxes">Create one</${Link}> and send mail to it.</p>`}
    <div class="inbox">
      <section class="card" aria-labelledby="list-h">
        <div class="card-head"><h2 id="list-h">Messages</h2><span class="small" aria-live="polite" data-testid="live-status" data-status=${list.status}>${list.items ? `${list.items.length}${list.next ? "+" : ""} · ` : ""}${LIVE_LABEL[list.status]}</span></div>
        <${ErrorBox} error=${list.error} testid="messages-error" />
        ${!list.items && !list.error && html`<p class="muted">Loading…</p>`}
        ${list.items?.length === 0 && html`<p class="muted" data-testid="messages-empty">No messages yet. New mail appears here by itself.</p>`}
        <ul class="msglist" data-testid="messages">
          ${(list.items ?? []).map(
            (m) => html`<li key=${m.id}><button type="button" aria-current=${String(m.id === messageId)} onClick=${() => open(m.id)} data-testid="message-item" data-id=${m.id}>
              <div class="row1"><span class="from">${m.fromName || m.fromAddress || "(unknown sender)"}</span><span class="small"><${Time} iso=${m.receivedAt} tick=${now} past /></span></div>
              <div class="subj">${m.subject || "(no subject)"}</div>
              <div class="prev">${m.verification ? html`<${Badge} kind="ok">${m.verification.code ? `code ${m.verification.code}` : "link"}<//> ` : ""}${mailboxId ? "" : `${m.mailboxAddress} · `}${m.previewText}</div>
            </button></li>`,
          )}
        </ul>
        ${list.next && html`<button type="button" onClick=${list.more} style="margin-top:.5rem">Load older messages</button>`}
      </section>
      <section class="card" ref=${readerRef} aria-label="Message">
        ${messageId ? html`<${Reader} key=${messageId} id=${messageId} onDeleted=${(id) => (list.remove(id), go(mailboxId, null))} />` : html`<p class="muted" data-testid="reader-empty">Select a message to read it.</p>`}
      </section>
    </div>`;
}
