/**
 * Webhooks: create one (its signing secret is shown once, with Copy), list them with why a hook
 * was disabled, send a test event, enable / disable, rotate the secret, delete, and look at the
 * latest deliveries of a hook (attempts, status codes, next retry) with Retry.
 */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { html, Badge, Confirm, CopyField, ErrorBox, PageHead, Time, toast, useAction, useLoad, useNow } from "../ui.js";

const SecretOnce = ({ secret }) =>
  html`<div class="secret" role="status" data-testid="webhook-secret">
    <strong>${t("hooks.once")}</strong>
    <p class="small">${t("hooks.once.verify1")} <code>webhook-signature</code> ${t("hooks.once.verify2")}</p>
    <${CopyField} value=${secret} label=${t("hooks.once.label")} testid="webhook-secret-value" />
  </div>`;

const filterText = (f) =>
  [f.hasCode === true && t("hooks.f.hasCode"), f.hasCode === false && t("hooks.f.noCode"), f.fromContains && t("hooks.f.from", { text: f.fromContains }), f.subjectContains && t("hooks.f.subject", { text: f.subjectContains })]
    .filter(Boolean)
    .join(", ") || t("hooks.f.every");

function Deliveries({ hook, now }) {
  const list = useLoad(() => api(`/webhooks/${hook.id}/deliveries`, { query: { limit: 20 } }), [hook.id]);
  const [run, busy, error] = useAction();
  const retry = (d) => run(d.id, async () => (await api(`/webhooks/${hook.id}/deliveries/${d.id}/retry`, { method: "POST" }), toast(t("hooks.toast.retried")), await list.reload()));
  const rows = list.data?.deliveries ?? [];
  return html`<div class="deliveries" data-testid="webhook-deliveries">
    <${ErrorBox} error=${list.error || error} />
    ${list.data && !rows.length && html`<p class="muted">${t("hooks.d.none")}</p>`}
    ${rows.length > 0 &&
    html`<table class="rows">
      <thead><tr><th>${t("hooks.d.event")}</th><th>${t("hooks.d.status")}</th><th>${t("hooks.d.attempts")}</th><th>${t("hooks.d.last")}</th><th>${t("hooks.d.next")}</th><th><span class="sr">${t("common.actions")}</span></th></tr></thead>
      <tbody>${rows.map((d) => {
        const last = d.attempts[d.attempts.length - 1];
        return html`<tr key=${d.id} data-testid="delivery-row">
          <td data-label=${t("hooks.d.event")}><code>${d.eventType}</code> <span class="small muted"><${Time} iso=${d.createdAt} tick=${now} past /></span></td>
          <td data-label=${t("hooks.d.status")}><${Badge} kind=${d.status === "succeeded" ? "ok" : d.status === "failed" ? "bad" : "wait"}>${t(`hooks.d.s.${d.status}`)}<//></td>
          <td data-label=${t("hooks.d.attempts")}>${d.attemptCount}</td>
          <td data-label=${t("hooks.d.last")}>${last ? `${last.statusCode ?? "—"} · ${t("hooks.d.ms", { ms: last.durationMs })}${last.error ? ` · ${last.error}` : ""}` : "—"}</td>
          <td data-label=${t("hooks.d.next")}>${d.nextAttemptAt ? html`<${Time} iso=${d.nextAttemptAt} tick=${now} />` : "—"}</td>
          <td class="act">${d.status !== "pending" && html`<button type="button" disabled=${busy || !hook.enabled} onClick=${() => retry(d)} data-testid="delivery-retry">${t("hooks.retry")}</button>`}</td>
        </tr>`;
      })}</tbody>
    </table>`}
  </div>`;
}

export default function WebhooksPage({ user }) {
  const list = useLoad(() => api("/webhooks"), []);
  const [form, setForm] = useState({ url: "", description: "", mailbox: "", hasCode: "", fromContains: "", subjectContains: "", deployment: false });
  const [secret, setSecret] = useState(null);
  const [open, setOpen] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [run, busy, error] = useAction();
  const now = useNow(60000);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const create = (e) => {
    e.preventDefault();
    setSecret(null);
    run("create", async () => {
      const filter = {};
      if (form.hasCode) filter.hasCode = form.hasCode === "yes";
      if (form.fromContains.trim()) filter.fromContains = form.fromContains.trim();
      if (form.subjectContains.trim()) filter.subjectContains = form.subjectContains.trim();
      const body = { url: form.url.trim(), description: form.description.trim(), filter };
      if (form.mailbox.trim()) body.mailbox = form.mailbox.trim();
      if (form.deployment) body.scope = "deployment";
      const r = await api("/webhooks", { method: "POST", body });
      setSecret(r.secret);
      toast(t("hooks.toast.created", { url: body.url }));
      setForm({ ...form, url: "", description: "", mailbox: "" });
      await list.reload();
    });
  };
  /** Every action clears a signing secret still on screen first, and ends with a toast. */
  const act = (key, fn, done) => (setSecret(null), run(key, async () => (await fn(), toast(done), await list.reload())));
  const hooks = list.data?.webhooks ?? [];
  return html`
    <${PageHead} title=${t("nav.webhooks")} />
    <section class="card" aria-labelledby="newhook-h">
      <h2 id="newhook-h">${t("hooks.new")}</h2>
      <p class="small muted">${t("hooks.intro")} <code>message.received</code>, <code>mailbox.created</code>, <code>mailbox.expired</code></p>
      <form class="stack" onSubmit=${create}>
        <label for="hook-url">${t("hooks.url")}</label>
        <input id="hook-url" type="url" required maxlength="2000" placeholder="https://example.com/hooks/kaisou" value=${form.url} onInput=${set("url")} data-testid="webhook-url" />
        <label for="hook-desc">${t("hooks.desc")}</label>
        <input id="hook-desc" maxlength="500" value=${form.description} onInput=${set("description")} data-testid="webhook-description" />
        <label for="hook-mailbox">${t("hooks.mailbox")}</label>
        <input id="hook-mailbox" placeholder="name@sub.example.com" value=${form.mailbox} onInput=${set("mailbox")} data-testid="webhook-mailbox" />
        <label for="hook-code">${t("hooks.code")}</label>
        <select id="hook-code" value=${form.hasCode} onChange=${set("hasCode")} data-testid="webhook-hascode">
          <option value="">${t("hooks.code.any")}</option><option value="yes">${t("hooks.code.yes")}</option><option value="no">${t("hooks.code.no")}</option>
        </select>
        <label for="hook-from">${t("hooks.from")}</label>
        <input id="hook-from" maxlength="200" value=${form.fromContains} onInput=${set("fromContains")} />
        <label for="hook-subject">${t("hooks.subject")}</label>
        <input id="hook-subject" maxlength="200" value=${form.subjectContains} onInput=${set("subjectContains")} />
        ${user?.role === "admin" &&
        html`<label><input type="checkbox" checked=${form.deployment} onChange=${set("deployment")} data-testid="webhook-deployment" /> ${t("hooks.deployment")}</label>`}
        <button class="primary" disabled=${busy || !form.url.trim()} data-testid="webhook-create">${busy ? t("common.creating") : t("hooks.create")}</button>
      </form>
      <${ErrorBox} error=${error} testid="webhook-error" />
      ${secret && html`<${SecretOnce} secret=${secret} />`}
    </section>
    <section class="card" aria-labelledby="hooks-h">
      <h2 id="hooks-h">${t("hooks.yours")}</h2>
      <${ErrorBox} error=${list.error} />
      ${list.data && !hooks.length && html`<p class="muted">${t("hooks.none")}</p>`}
      ${hooks.map(
        (h) => html`<article key=${h.id} class="hook" data-testid="webhook-row">
          <p>
            <code>${h.url}</code> ${h.scope === "deployment" && html`<${Badge}>${t("hooks.scope.deployment")}<//>`}
            ${h.enabled ? html`<${Badge} kind="ok">${t("hooks.enabled")}<//>` : html`<${Badge} kind="bad">${t("hooks.disabled")}<//>`}
          </p>
          ${h.description && html`<p class="small">${h.description}</p>`}
          <p class="small muted">${h.mailbox ?? t("hooks.allMailboxes")} · ${filterText(h.filter)} · ${t("hooks.created")} <${Time} iso=${h.createdAt} tick=${now} past /></p>
          ${!h.enabled && h.disabledReason && html`<p class="small" data-testid="webhook-disabled-reason">${h.disabledReason}</p>`}
          <div class="inline">
            <button type="button" disabled=${busy || !h.enabled} onClick=${() => act(`t${h.id}`, () => api(`/webhooks/${h.id}/test`, { method: "POST" }), t("hooks.toast.test"))} data-testid="webhook-test">${t("hooks.test")}</button>
            <button type="button" disabled=${busy} onClick=${() => act(`e${h.id}`, () => api(`/webhooks/${h.id}`, { method: "PATCH", body: { enabled: !h.enabled } }), t(h.enabled ? "hooks.toast.disabled" : "hooks.toast.enabled"))} data-testid="webhook-toggle">${h.enabled ? t("hooks.disable") : t("hooks.enable")}</button>
            <button type="button" disabled=${busy} onClick=${() => (setSecret(null), run(`r${h.id}`, async () => (setSecret((await api(`/webhooks/${h.id}/rotate-secret`, { method: "POST" })).secret), toast(t("hooks.toast.rotated")))))} data-testid="webhook-rotate">${t("hooks.rotate")}</button>
            <button type="button" onClick=${() => setOpen(open === h.id ? null : h.id)} aria-expanded=${open === h.id} data-testid="webhook-deliveries-toggle">${t("hooks.deliveries")}</button>
            <button type="button" class="danger" onClick=${() => (setSecret(null), setDeleting(h))} data-testid="webhook-delete">${t("common.delete")}</button>
          </div>
          ${open === h.id && html`<${Deliveries} hook=${h} now=${now} />`}
        </article>`,
      )}
    </section>
    ${deleting &&
    html`<${Confirm} title=${t("hooks.delete.title")} action=${t("hooks.delete.action")} onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/webhooks/${deleting.id}`, { method: "DELETE" }), toast(t("hooks.toast.deleted")), await list.reload())}>
      <p><code>${deleting.url}</code> ${t("hooks.delete.body")}</p>
    <//>`}`;
}
