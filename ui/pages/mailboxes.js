/**
 * Mailboxes: create one (random, segmented local part + subdomain, or a full address; a chosen or
 * random active domain; a TTL up to unlimited), list them by status, extend a TTL (ensure) and
 * delete. Creating an address you already own offers the TTL extension instead.
 */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { html, Badge, Confirm, CopyButton, Dialog, ErrorBox, Link, PageHead, Time, TtlSelect, TTLS, localError, toast, ttlLabel, useAction, useLoad, useNow, when } from "../ui.js";

const FILTERS = ["active", "expired", "destroyed", "all"];
const KIND = { active: "ok", expired: "wait", destroying: "bad", destroyed: "" };

/** Lower-cases ASCII only: `toLowerCase()` would turn a look-alike such as "\u212A" into "k". */
const lowerAscii = (text) => text.replace(/[A-Z]+/g, (c) => c.toLowerCase());

/** "user@a.b.example.com" → parts under the longest matching active domain, or {error}. */
function parseAddress(text, domains) {
  if (/[^\x21-\x7e]/.test(text.trim())) return { error: t("mb.err.ascii") };
  const m = /^([^@\s]+)@([^@\s]+)$/.exec(lowerAscii(text.trim()));
  if (!m) return { error: t("mb.err.full") };
  const host = m[2];
  const root = domains.filter((d) => host === d || host.endsWith(`.${d}`)).sort((a, b) => b.length - a.length)[0];
  if (!root) return { error: t("mb.err.notActive", { host, domains: domains.join(", ") || t("mb.err.noneYet") }) };
  if (host === root) return { error: t("mb.err.needSub", { example: `${m[1]}@mail.${root}` }) };
  return { localPart: m[1], subdomain: host.slice(0, -root.length - 1), mailDomain: root };
}

/** A destroyed mailbox has no expiry any more; one without expiresAt never expires. */
const Expiry = ({ m, now }) =>
  m.status === "destroyed" || m.status === "destroying" ? "—" : m.expiresAt == null ? html`<span>${t("ttl.unlimited")}</span>` : html`<${Time} iso=${m.expiresAt} tick=${now} />`;
const statusLabel = (s) => t(`mb.status.${s}`);

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
      if (p.error) return setError(localError(p.error));
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
      toast(t("mb.toast.created", { address: m.address }));
      onCreated(m);
    });
  };
  const existing = error?.details?.code === "mailbox_exists" && error.details.mailbox;
  const domainSelect = html`<div><label for="mb-domain">${t("mb.domain")}</label>
    <select id="mb-domain" value=${f.mailDomain} onChange=${set("mailDomain")} data-testid="mb-domain">
      <option value="">${t("mb.domain.random")}</option>
      ${domains.map((d) => html`<option value=${d}>${d}</option>`)}
    </select></div>`;
  return html`<section class="card" aria-labelledby="create-h">
    <h2 id="create-h">${t("mb.new")}</h2>
    <form onSubmit=${submit} data-testid="mailbox-form">
      <fieldset>
        <legend>${t("mb.address")}</legend>
        <div class="seg" data-testid="mb-mode">
          ${["random", "segmented", "full"].map(
            (v) => html`<label><input type="radio" name="mode" value=${v} checked=${mode === v} onChange=${() => setMode(v)} data-testid=${`mb-mode-${v}`} />${t(`mb.mode.${v}`)}</label>`,
          )}
        </div>
      </fieldset>
      <div class="grid">
        ${mode === "segmented" &&
        html`<div><label for="mb-local">${t("mb.local")}</label><input id="mb-local" placeholder=${t("mb.randomPh")} value=${f.localPart} onInput=${set("localPart")} autocomplete="off" data-testid="mb-local" /></div>
          <div><label for="mb-sub">${t("mb.sub")}</label><input id="mb-sub" placeholder=${t("mb.randomPh")} value=${f.subdomain} onInput=${set("subdomain")} autocomplete="off" data-testid="mb-sub" /></div>`}
        ${mode === "full" && html`<div style="grid-column:span 2"><label for="mb-address">${t("mb.mode.full")}</label><input id="mb-address" type="email" placeholder=${`user@mail.${domains[0] ?? "example.com"}`} value=${f.address} onInput=${set("address")} autocomplete="off" data-testid="mb-address" /></div>`}
        ${mode !== "full" && domainSelect}
        <div><label for="mb-ttl">${t("mb.lifetime")}</label><${TtlSelect} id="mb-ttl" value=${ttl} onChange=${setTtl} max=${maxTtl} /></div>
        <div><button class="primary" disabled=${busy} data-testid="mb-create">${busy ? t("common.creating") : t("mb.create")}</button></div>
      </div>
      ${mode === "segmented" && html`<p class="small">${t("mb.format1")} <code>${meta?.addressRules?.format ?? "localPart@subdomain.rootDomain"}</code>${t("mb.format2")}</p>`}
    </form>
    ${!domains.length && html`<p class="alert" role="status">${t("mb.noDomain")}</p>`}
    ${existing
      ? html`<div class="alert warn" role="alert" data-testid="mailbox-exists">
          <strong>${t("err.code.mailbox_exists")}</strong>
          <div>${t("mb.exists.own")} <strong>${existing.address}</strong> (${statusLabel(existing.status)}, ${existing.expiresAt ? t("mb.expires", { when: when(existing.expiresAt) }) : t("ttl.unlimited")}).${existing.expiresAt ? ` ${t("mb.exists.extend", { ttl: ttlLabel(ttl) })}` : ""}</div>
          ${existing.expiresAt && html`<button type="button" onClick=${() => (onExtend(existing, ttl), setError(null))} data-testid="mailbox-exists-extend">${t("mb.extend")}</button>`}
          <details class="more"><summary>${t("common.details")}</summary><div>${error.message}</div><code>${error.details.code}</code></details>
        </div>`
      : html`<${ErrorBox} error=${error} testid="mailbox-error" />`}
    ${created &&
    html`<div class="secret" role="status" data-testid="mailbox-created">
      ${t("mb.created")} <strong data-testid="created-address">${created.address}</strong> — ${created.expiresAt ? t("mb.expires", { when: when(created.expiresAt) }) : t("mb.never")}.
      <div class="actions" style="margin-top:.4rem"><${CopyButton} text=${created.address} label=${t("mb.copyAddress")} /> <${Link} class="btn" href=${`/inbox?mailbox=${created.id}`} data-testid="created-open">${t("mb.openInbox")}</${Link}></div>
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
      const changed = !(next.expiresAt === cur.expiresAt && next.status === cur.status);
      setResult(changed ? "updated" : "unchanged");
      if (changed) toast(t("mb.toast.extended", { address: next.address }));
      setCur(next);
      onDone(next);
    });
  return html`<${Dialog} title=${t("mb.extend.title", { address: m.address })} onClose=${onClose} testid="extend-dialog">
    <p>${t("mb.extend.current")} <strong data-testid="extend-current">${cur.expiresAt ? when(cur.expiresAt) : t("ttl.unlimited")}</strong>. ${t("mb.extend.rule")}</p>
    <label for="ext-ttl">${t("mb.extend.new")}</label>
    <${TtlSelect} id="ext-ttl" value=${ttl} onChange=${setTtl} testid="extend-ttl" max=${maxTtl} />
    <${ErrorBox} error=${error} testid="extend-error" />
    ${result && html`<p class="alert" role="status" data-testid="extend-result">${t(result === "updated" ? "mb.extend.updated" : "mb.extend.unchanged")}</p>`}
    <div class="actions end">
      <button type="button" onClick=${onClose}>${result ? t("common.done") : t("common.cancel")}</button>
      <button type="button" class="primary" disabled=${busy} onClick=${go} data-testid="extend-ok">${busy ? t("mb.extend.busy") : t("mb.extend.ok")}</button>
    </div>
  <//>`;
}

export default function MailboxesPage({ user, meta, query }) {
  const admin = user?.role === "admin";
  const [status, setStatus] = useState(query.get("status") || "active");
  const [owner, setOwner] = useState(query.get("owner") || "");
  const filter = { ...(status === "all" ? {} : { status }), ...(admin && owner ? { owner } : {}) };
  const list = useLoad(() => api("/mailboxes", { query: filter }), [status, owner]);
  // Admins filter by owner: the choices are the users (GET /api/users).
  const users = useLoad(() => (admin ? api("/users") : Promise.resolve({ users: [] })), [admin]);
  // The list comes in pages (GET /api/mailboxes answers nextCursor): "Load more" appends the next.
  const [runMore, loadingMore, moreError] = useAction();
  const loadMore = () =>
    runMore("more", async () => {
      const page = await api("/mailboxes", { query: { ...filter, cursor: list.data.nextCursor } });
      list.setData({ mailboxes: [...list.data.mailboxes, ...page.mailboxes], nextCursor: page.nextCursor });
    });
  // Members choose a lifetime up to their cap (admins: anything, unlimited included).
  const maxTtl = admin ? null : (meta?.memberMaxMailboxTtlMinutes ?? null);
  const [extending, setExtending] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const now = useNow(30000);
  const rows = list.data?.mailboxes ?? [];
  return html`
    <${PageHead} title=${t("nav.mailboxes")} />
    <${CreateForm} meta=${meta} maxTtl=${maxTtl} onCreated=${list.reload} onExtend=${(m, ttl) => setExtending({ m, ttl })} />
    <section class="card" aria-labelledby="list-h">
      <div class="card-head">
        <h2 id="list-h">${t(admin ? "mb.list.admin" : "mb.list")}</h2>
        <div class="filters">
          ${admin &&
          html`<label for="mb-owner" class="sr">${t("mb.owner.filter")}</label>
            <select id="mb-owner" value=${owner} onChange=${(e) => setOwner(e.target.value)} data-testid="owner-filter">
              <option value="">${t("mb.owner.all")}</option>
              ${(users.data?.users ?? []).map((u) => html`<option value=${u.id}>${u.email}</option>`)}
            </select>`}
          <div class="seg" role="group" aria-label=${t("mb.statusFilter")} data-testid="status-filter">
            ${FILTERS.map((v) => html`<button type="button" aria-pressed=${String(status === v)} onClick=${() => setStatus(v)}>${t(`mb.filter.${v}`)}</button>`)}
          </div>
        </div>
      </div>
      <${ErrorBox} error=${list.error} testid="mailboxes-error" />
      ${list.loading && !list.data && html`<p class="muted">${t("common.loading")}</p>`}
      ${list.data && !rows.length && html`<p class="muted" data-testid="mailboxes-empty">${t(`mb.empty.${status}`)}</p>`}
      ${rows.length > 0 &&
      html`<table class="rows one-line" data-testid="mailboxes">
        <thead><tr><th>${t("mb.col.address")}</th>${admin && html`<th>${t("mb.col.owner")}</th>`}<th>${t("mb.col.status")}</th><th>${t("mb.col.expires")}</th><th>${t("mb.col.lastMail")}</th><th>${t("mb.col.created")}</th><th><span class="sr">${t("common.actions")}</span></th></tr></thead>
        <tbody>
          ${rows.map(
            (m) => html`<tr key=${m.id} data-testid="mailbox-row" data-address=${m.address}>
              <td data-label=${t("mb.col.address")}><code>${m.address}</code> ${m.source === "catch_all" && html`<${Badge}>${t("mb.catchAll")}<//>`}</td>
              ${admin && html`<td data-label=${t("mb.col.owner")} data-testid="mailbox-owner">${m.owner?.email ?? "—"}</td>`}
              <td data-label=${t("mb.col.status")}><${Badge} kind=${KIND[m.status]}>${statusLabel(m.status)}<//></td>
              <td data-label=${t("mb.col.expires")}><${Expiry} m=${m} now=${now} /></td>
              <td data-label=${t("mb.col.lastMail")}><${Time} iso=${m.lastReceivedAt} tick=${now} past /></td>
              <td data-label=${t("mb.col.created")}><${Time} iso=${m.createdAt} tick=${now} past /></td>
              <td class="act"><div class="actions">
                ${m.status !== "destroyed" && html`<${Link} class="btn" href=${`/inbox?mailbox=${m.id}`} aria-label=${t("mb.inboxOf", { address: m.address })} data-testid="mailbox-open">${t("nav.inbox")}</${Link}>`}
                <${CopyButton} text=${m.address} label=${t("common.copyWhat", { what: m.address })} />
                ${(m.status === "active" || m.status === "expired") && m.expiresAt != null && html`<button type="button" onClick=${() => setExtending({ m })} aria-label=${t("mb.extendOf", { address: m.address })} data-testid="mailbox-extend">${t("mb.extend")}</button>`}
                ${m.status !== "destroyed" && m.status !== "destroying" && html`<button type="button" class="danger" onClick=${() => setDeleting(m)} aria-label=${t("mb.deleteOf", { address: m.address })} data-testid="mailbox-delete">${t("common.delete")}</button>`}
              </div></td>
            </tr>`,
          )}
        </tbody>
      </table>`}
      <${ErrorBox} error=${moreError} testid="mailboxes-more-error" />
      ${list.data?.nextCursor &&
      html`<button type="button" onClick=${loadMore} disabled=${Boolean(loadingMore)} style="margin-top:.5rem" data-testid="mailboxes-more">${loadingMore ? t("common.loading") : t("common.loadMore")}</button>`}
    </section>
    ${extending && html`<${ExtendDialog} m=${extending.m} initial=${extending.ttl} maxTtl=${maxTtl} onClose=${() => setExtending(null)} onDone=${list.reload} />`}
    ${deleting &&
    html`<${Confirm} title=${t("mb.delete.title", { address: deleting.address })} action=${t("mb.delete.action")} onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/mailboxes/${deleting.id}`, { method: "DELETE" }), toast(t("mb.toast.deleted", { address: deleting.address })), await list.reload())} testid="delete-mailbox">
      <p>${t("mb.delete.body")}</p>
    <//>`}`;
}
