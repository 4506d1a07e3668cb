/**
 * Mailboxes: create one (random, segmented local part + subdomain, or a full address; a chosen or
 * random active domain; a TTL up to unlimited), list them by status, extend a TTL (ensure) and
 * delete. Creating an address you already own offers the TTL extension instead.
 */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html, Badge, Confirm, CopyButton, Dialog, ErrorBox, Link, PageHead, Time, TtlSelect, TTLS, ttlLabel, useAction, useLoad, useNow, when } from "../ui.js";

const FILTERS = [
  ["active", "Active"],
  ["expired", "Expired"],
  ["destroyed", "Destroyed"],
  ["all", "All"],
];
const KIND = { active: "ok", expired: "wait", destroying: "bad", destroyed: "" };

/** Lower-cases ASCII only: `toLowerCase()` would turn a look-alike such as "\u212A" into "k". */
const lowerAscii = (text) => text.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/** "user@a.b.example.com" → parts under the longest matching active domain, or {error}. */
function parseAddress(text, domains) {
  if (/[^\x21-\x7e]/.test(text.trim())) return { error: "Addresses may contain only ASCII letters, digits and symbols." };
  const m = /^([^@\s]+)@([^@\s]+)$/.exec(lowerAscii(text.trim()));
  if (!m) return { error: "Enter a full address such as user@mail.example.com" };
  const host = m[2];
  const root = domains.filter((d) => host === d || host.endsWith(`.${d}`)).sort((a, b) => b.length - a.length)[0];
  if (!root) return { error: `${host} is not under an active domain (${domains.join(", ") || "none yet"}).` };
  if (host === root) return { error: `Addresses need a subdomain, e.g. ${m[1]}@mail.${root}.` };
  return { localPart: m[1], subdomain: host.slice(0, -root.length - 1), mailDomain: root };
}

const Expiry = ({ m, now }) =>
  m.expiresAt == null ? html`<span>Unlimited</span>` : html`<${Time} iso=${m.expiresAt} tick=${now} />`;

function CreateForm({ meta, maxTtl, onCreated, onExtend }) {
  const domains = meta?.domains ?? [];
  const [mode, setMode] = useState("random");
  const [f, setF] = useState({ localPart: "", subdomain: "", mailDomain: "", address: "" });
  const [ttl, setTtl] = useState(TTLS.some(([v]) => v === meta?.defaultMailboxTtlMinutes && (maxTtl == null || v <= maxTtl)) ? meta.defaultMailboxTtlMinutes : 60);
  const [created, setCreated] = useState(null);
  const [run, busy, error, setError] = useAction();
  const set = (k) => (e) => setF({ ...f, [k]: lowerAscii(e.target.value.trim()) });

  const submit = (e) => {
    e.preventDefault();
    setCreated(null);
    let body = { expiresInMinutes: ttl };
    if (mode === "full") {
      const p = parseAddress(f.address, domains);
      if (p.error) return setError({ message: p.error, details: null });
      body = { ...body, localPart: p.localPart, subdomain: p.subdomain, mailDomain: p.mailDomain };
    } else {
      if (f.mailDomain) body.mailDomain = f.mailDomain;
      if (mode === "segmented") {
        if (f.localPart) body.localPart = f.localPart;
        if (f.subdomain) body.subdomain = f.subdomain;
      }
    }
    run("create", async () => {
      const m = await api("/mailboxes", { method: "POST", body });
      setCreated(m);
      onCreated(m);
    });
  };
  const existing = error?.details?.code === "mailbox_exists" && error.details.mailbox;
  const domainSelect = html`<div><label for="mb-domain">Domain</label>
    <select id="mb-domain" value=${f.mailDomain} onChange=${set("mailDomain")} data-testid="mb-domain">
      <option value="">Random active domain</option>
      ${domains.map((d) => html`<option value=${d}>${d}</option>`)}
    </select></div>`;
  return html`<section class="card" aria-labelledby="create-h">
    <h2 id="create-h">New mailbox</h2>
    <form onSubmit=${submit} data-testid="mailbox-form">
      <fieldset>
        <legend>Address</legend>
        <div class="seg" data-testid="mb-mode">
          ${[["random", "Random"], ["segmented", "Parts"], ["full", "Full address"]].map(
            ([v, l]) => html`<label><input type="radio" name="mode" value=${v} checked=${mode === v} onChange=${() => setMode(v)} />${l}</label>`,
          )}
        </div>
      </fieldset>
      <div class="grid">
        ${mode === "segmented" &&
        html`<div><label for="mb-local">Local part</label><input id="mb-local" placeholder="random" value=${f.localPart} onInput=${set("localPart")} autocomplete="off" data-testid="mb-local" /></div>
          <div><label for="mb-sub">Subdomain</label><input id="mb-sub" placeholder="random" value=${f.subdomain} onInput=${set("subdomain")} autocomplete="off" data-testid="mb-sub" /></div>`}
        ${mode === "full" && html`<div style="grid-column:span 2"><label for="mb-address">Full address</label><input id="mb-address" type="email" placeholder=${`user@mail.${domains[0] ?? "example.com"}`} value=${f.address} onInput=${set("address")} autocomplete="off" data-testid="mb-address" /></div>`}
        ${mode !== "full" && domainSelect}
        <div><label for="mb-ttl">Lifetime</label><${TtlSelect} id="mb-ttl" value=${ttl} onChange=${setTtl} max=${maxTtl} /></div>
        <div><button class="primary" disabled=${busy} data-testid="mb-create">${busy ? "Creating…" : "Create mailbox"}</button></div>
      </div>
      ${mode === "segmented" && html`<p class="small">Addresses look like <code>${meta?.addressRules?.format ?? "localPart@subdomain.rootDomain"}</code>; leave a part empty for a random one.</p>`}
    </form>
    ${!domains.length && html`<p class="alert" role="status">No domain is active yet: an admin must bind one on the Domains page first.</p>`}
    ${existing
      ? html`<div class="alert warn" role="alert" data-testid="mailbox-exists">
          <strong>${error.message}</strong> <code>${error.details.code}</code>
          <div>You already own <strong>${existing.address}</strong> (${existing.status}, ${existing.expiresAt ? `expires ${when(existing.expiresAt)}` : "unlimited"}). Extend its lifetime to ${ttlLabel(ttl)} instead?</div>
          <button type="button" onClick=${() => (onExtend(existing, ttl), setError(null))} data-testid="mailbox-exists-extend">Extend TTL</button>
        </div>`
      : html`<${ErrorBox} error=${error} testid="mailbox-error" />`}
    ${created &&
    html`<div class="secret" role="status" data-testid="mailbox-created">
      Created <strong data-testid="created-address">${created.address}</strong> — ${created.expiresAt ? `expires ${when(created.expiresAt)}` : "never expires"}.
      <div class="actions" style="margin-top:.4rem"><${CopyButton} text=${created.address} label="Copy address" /> <${Link} class="btn" href=${`/inbox?mailbox=${created.id}`} data-testid="created-open">Open inbox →</${Link}></div>
    </div>`}
  </section>`;
}

function ExtendDialog({ m, initial, maxTtl, onClose, onDone }) {
  const [ttl, setTtl] = useState(initial ?? Math.min(1440, maxTtl ?? 1440));
  const [result, setResult] = useState(null);
  const [cur, setCur] = useState(m);
  const [run, busy, error] = useAction();
  const go = () =>
    run("extend", async () => {
      const next = await api("/mailboxes/ensure", { method: "POST", body: { address: cur.address, expiresInMinutes: ttl } });
      setResult(next.expiresAt === cur.expiresAt && next.status === cur.status ? "unchanged" : "updated");
      setCur(next);
      onDone(next);
    });
  return html`<${Dialog} title=${`Extend ${m.address}`} onClose=${onClose} testid="extend-dialog">
    <p>Current expiry: <strong data-testid="extend-current">${cur.expiresAt ? when(cur.expiresAt) : "unlimited"}</strong>. A lifetime only ever extends; a shorter one keeps the current expiry. An expired mailbox is revived.</p>
    <label for="ext-ttl">New lifetime from now</label>
    <${TtlSelect} id="ext-ttl" value=${ttl} onChange=${setTtl} testid="extend-ttl" max=${maxTtl} />
    <${ErrorBox} error=${error} testid="extend-error" />
    ${result && html`<p class="alert" role="status" data-testid="extend-result">${result === "updated" ? "Lifetime updated." : "Unchanged: the current expiry is already as late or later."}</p>`}
    <div class="actions end">
      <button type="button" onClick=${onClose}>${result ? "Done" : "Cancel"}</button>
      <button type="button" class="primary" disabled=${busy} onClick=${go} data-testid="extend-ok">${busy ? "Extending…" : "Extend"}</button>
    </div>
  <//>`;
}

export default function MailboxesPage({ user, meta, query }) {
  const [status, setStatus] = useState(query.get("status") || "active");
  const filter = status === "all" ? {} : { status };
  const list = useLoad(() => api("/mailboxes", { query: filter }), [status]);
  // The list comes in pages (GET /api/mailboxes answers nextCursor): "Load more" appends the next.
  const [runMore, loadingMore, moreError] = useAction();
  const loadMore = () =>
    runMore("more", async () => {
      const page = await api("/mailboxes", { query: { ...filter, cursor: list.data.nextCursor } });
      list.setData({ mailboxes: [...list.data.mailboxes, ...page.mailboxes], nextCursor: page.nextCursor });
    });
  // Members choose a lifetime up to their cap (admins: anything, unlimited included).
  const maxTtl = user?.role === "admin" ? null : (meta?.memberMaxMailboxTtlMinutes ?? null);
  const [extending, setExtending] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const now = useNow(30000);
  const rows = list.data?.mailboxes ?? [];
  return html`
    <${PageHead} title="Mailboxes" />
    <${CreateForm} meta=${meta} maxTtl=${maxTtl} onCreated=${list.reload} onExtend=${(m, ttl) => setExtending({ m, ttl })} />
    <section class="card" aria-labelledby="list-h">
      <div class="card-head">
        <h2 id="list-h">Your mailboxes</h2>
        <div class="seg" role="group" aria-label="Status filter" data-testid="status-filter">
          ${FILTERS.map(([v, l]) => html`<button type="button" aria-pressed=${String(status === v)} onClick=${() => setStatus(v)}>${l}</button>`)}
        </div>
      </div>
      <${ErrorBox} error=${list.error} testid="mailboxes-error" />
      ${list.loading && !list.data && html`<p class="muted">Loading…</p>`}
      ${list.data && !rows.length && html`<p class="muted" data-testid="mailboxes-empty">No ${status === "all" ? "" : status} mailboxes.</p>`}
      ${rows.length > 0 &&
      html`<table class="rows one-line" data-testid="mailboxes">
        <thead><tr><th>Address</th><th>Status</th><th>Expires</th><th>Last mail</th><th>Created</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          ${rows.map(
            (m) => html`<tr key=${m.id} data-testid="mailbox-row" data-address=${m.address}>
              <td data-label="Address"><code>${m.address}</code> ${m.source === "catch_all" && html`<${Badge}>catch-all<//>`}</td>
              <td data-label="Status"><${Badge} kind=${KIND[m.status]}>${m.status}<//></td>
              <td data-label="Expires"><${Expiry} m=${m} now=${now} /></td>
              <td data-label="Last mail"><${Time} iso=${m.lastReceivedAt} tick=${now} past /></td>
              <td data-label="Created"><${Time} iso=${m.createdAt} tick=${now} past /></td>
              <td class="act"><div class="actions">
                ${m.status !== "destroyed" && html`<${Link} class="btn" href=${`/inbox?mailbox=${m.id}`} aria-label=${`Inbox of ${m.address}`} data-testid="mailbox-open">Inbox</${Link}>`}
                <${CopyButton} text=${m.address} label=${`Copy ${m.address}`} />
                ${(m.status === "active" || m.status === "expired") && html`<button type="button" onClick=${() => setExtending({ m })} aria-label=${`Extend TTL of ${m.address}`} data-testid="mailbox-extend">Extend TTL</button>`}
                ${m.status !== "destroyed" && m.status !== "destroying" && html`<button type="button" class="danger" onClick=${() => setDeleting(m)} aria-label=${`Delete ${m.address}`} data-testid="mailbox-delete">Delete</button>`}
              </div></td>
            </tr>`,
          )}
        </tbody>
      </table>`}
      <${ErrorBox} error=${moreError} testid="mailboxes-more-error" />
      ${list.data?.nextCursor &&
      html`<button type="button" onClick=${loadMore} disabled=${Boolean(loadingMore)} style="margin-top:.5rem" data-testid="mailboxes-more">${loadingMore ? "Loading…" : "Load more"}</button>`}
    </section>
    ${extending && html`<${ExtendDialog} m=${extending.m} initial=${extending.ttl} maxTtl=${maxTtl} onClose=${() => setExtending(null)} onDone=${list.reload} />`}
    ${deleting &&
    html`<${Confirm} title=${`Delete ${deleting.address}?`} action="Delete mailbox" onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/mailboxes/${deleting.id}`, { method: "DELETE" }), await list.reload())} testid="delete-mailbox">
      <p>Its routing rule and every message in it are removed; mail to this address is refused afterwards. This cannot be undone.</p>
    <//>`}`;
}
