/**
 * Webhooks: create one (its signing secret is shown once, with Copy), list them with why a hook
 * was disabled, send a test event, enable / disable, rotate the secret, delete, and look at the
 * latest deliveries of a hook (attempts, status codes, next retry) with Retry.
 */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html, Badge, Confirm, CopyField, ErrorBox, PageHead, Time, useAction, useLoad, useNow } from "../ui.js";

const SecretOnce = ({ secret }) =>
  html`<div class="secret" role="status" data-testid="webhook-secret">
    <strong>Copy this signing secret now: it is shown only once.</strong>
    <p class="small">Verify each delivery's <code>webhook-signature</code> with it (Standard Webhooks; see the README).</p>
    <${CopyField} value=${secret} label="webhook signing secret" testid="webhook-secret-value" />
  </div>`;

const filterText = (f) =>
  [f.hasCode === true && "has a code", f.hasCode === false && "no code", f.fromContains && `from ~ “${f.fromContains}”`, f.subjectContains && `subject ~ “${f.subjectContains}”`]
    .filter(Boolean)
    .join(", ") || "every message";

function Deliveries({ hook, now }) {
  const list = useLoad(() => api(`/webhooks/${hook.id}/deliveries`, { query: { limit: 20 } }), [hook.id]);
  const [run, busy, error] = useAction();
  const retry = (d) => run(d.id, async () => (await api(`/webhooks/${hook.id}/deliveries/${d.id}/retry`, { method: "POST" }), await list.reload()));
  const rows = list.data?.deliveries ?? [];
  return html`<div class="deliveries" data-testid="webhook-deliveries">
    <${ErrorBox} error=${list.error || error} />
    ${list.data && !rows.length && html`<p class="muted">No deliveries yet.</p>`}
    ${rows.length > 0 &&
    html`<table class="rows">
      <thead><tr><th>Event</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Next retry</th><th><span class="sr">Actions</span></th></tr></thead>
      <tbody>${rows.map((d) => {
        const last = d.attempts[d.attempts.length - 1];
        return html`<tr key=${d.id} data-testid="delivery-row">
          <td data-label="Event"><code>${d.eventType}</code> <span class="small muted"><${Time} iso=${d.createdAt} tick=${now} past /></span></td>
          <td data-label="Status"><${Badge} kind=${d.status === "succeeded" ? "ok" : d.status === "failed" ? "bad" : "wait"}>${d.status}<//></td>
          <td data-label="Attempts">${d.attemptCount}</td>
          <td data-label="Last answer">${last ? `${last.statusCode ?? "—"} · ${last.durationMs} ms${last.error ? ` · ${last.error}` : ""}` : "—"}</td>
          <td data-label="Next retry">${d.nextAttemptAt ? html`<${Time} iso=${d.nextAttemptAt} tick=${now} />` : "—"}</td>
          <td class="act">${d.status !== "pending" && html`<button type="button" disabled=${busy || !hook.enabled} onClick=${() => retry(d)} data-testid="delivery-retry">Retry</button>`}</td>
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
      setForm({ ...form, url: "", description: "", mailbox: "" });
      await list.reload();
    });
  };
  const act = (key, fn) => run(key, async () => (await fn(), await list.reload()));
  const hooks = list.data?.webhooks ?? [];
  return html`
    <${PageHead} title="Webhooks" />
    <section class="card" aria-labelledby="newhook-h">
      <h2 id="newhook-h">New webhook</h2>
      <p class="small muted">KaisouMail POSTs <code>message.received</code>, <code>mailbox.created</code> and <code>mailbox.expired</code> events to your HTTPS endpoint, signed with a secret shown once.</p>
      <form class="stack" onSubmit=${create}>
        <label for="hook-url">Endpoint URL</label>
        <input id="hook-url" type="url" required maxlength="2000" placeholder="https://example.com/hooks/kaisou" value=${form.url} onInput=${set("url")} data-testid="webhook-url" />
        <label for="hook-desc">Description</label>
        <input id="hook-desc" maxlength="500" value=${form.description} onInput=${set("description")} data-testid="webhook-description" />
        <label for="hook-mailbox">Only this mailbox (optional)</label>
        <input id="hook-mailbox" placeholder="name@sub.example.com" value=${form.mailbox} onInput=${set("mailbox")} data-testid="webhook-mailbox" />
        <label for="hook-code">Verification code</label>
        <select id="hook-code" value=${form.hasCode} onChange=${set("hasCode")} data-testid="webhook-hascode">
          <option value="">Any message</option><option value="yes">Only with a code or link</option><option value="no">Only without</option>
        </select>
        <label for="hook-from">Sender contains</label>
        <input id="hook-from" maxlength="200" value=${form.fromContains} onInput=${set("fromContains")} />
        <label for="hook-subject">Subject contains</label>
        <input id="hook-subject" maxlength="200" value=${form.subjectContains} onInput=${set("subjectContains")} />
        ${user?.role === "admin" &&
        html`<label><input type="checkbox" checked=${form.deployment} onChange=${set("deployment")} data-testid="webhook-deployment" /> Every mailbox of every user (deployment-wide)</label>`}
        <button class="primary" disabled=${busy || !form.url.trim()} data-testid="webhook-create">${busy ? "Creating…" : "Create webhook"}</button>
      </form>
      <${ErrorBox} error=${error} testid="webhook-error" />
      ${secret && html`<${SecretOnce} secret=${secret} />`}
    </section>
    <section class="card" aria-labelledby="hooks-h">
      <h2 id="hooks-h">Your webhooks</h2>
      <${ErrorBox} error=${list.error} />
      ${list.data && !hooks.length && html`<p class="muted">No webhooks.</p>`}
      ${hooks.map(
        (h) => html`<article key=${h.id} class="hook" data-testid="webhook-row">
          <p>
            <code>${h.url}</code> ${h.scope === "deployment" && html`<${Badge}>deployment<//>`}
            ${h.enabled ? html`<${Badge} kind="ok">enabled<//>` : html`<${Badge} kind="bad">disabled<//>`}
          </p>
          ${h.description && html`<p class="small">${h.description}</p>`}
          <p class="small muted">${h.mailbox ?? "All mailboxes"} · ${filterText(h.filter)} · created <${Time} iso=${h.createdAt} tick=${now} past /></p>
          ${!h.enabled && h.disabledReason && html`<p class="small" data-testid="webhook-disabled-reason">${h.disabledReason}</p>`}
          <div class="inline">
            <button type="button" disabled=${busy || !h.enabled} onClick=${() => act(`t${h.id}`, () => api(`/webhooks/${h.id}/test`, { method: "POST" }))} data-testid="webhook-test">Send test</button>
            <button type="button" disabled=${busy} onClick=${() => act(`e${h.id}`, () => api(`/webhooks/${h.id}`, { method: "PATCH", body: { enabled: !h.enabled } }))} data-testid="webhook-toggle">${h.enabled ? "Disable" : "Enable"}</button>
            <button type="button" disabled=${busy} onClick=${() => run(`r${h.id}`, async () => setSecret((await api(`/webhooks/${h.id}/rotate-secret`, { method: "POST" })).secret))} data-testid="webhook-rotate">Rotate secret</button>
            <button type="button" onClick=${() => setOpen(open === h.id ? null : h.id)} aria-expanded=${open === h.id} data-testid="webhook-deliveries-toggle">Deliveries</button>
            <button type="button" class="danger" onClick=${() => setDeleting(h)} data-testid="webhook-delete">Delete</button>
          </div>
          ${open === h.id && html`<${Deliveries} hook=${h} now=${now} />`}
        </article>`,
      )}
    </section>
    ${deleting &&
    html`<${Confirm} title="Delete this webhook?" action="Delete webhook" onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/webhooks/${deleting.id}`, { method: "DELETE" }), await list.reload())}>
      <p><code>${deleting.url}</code> receives nothing more, and its delivery history is deleted.</p>
    <//>`}`;
}
