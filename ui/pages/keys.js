/** API keys: create one (its secret is shown once, with Copy), list them, revoke. */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { html, Badge, Confirm, CopyField, ErrorBox, PageHead, Time, toast, useAction, useLoad, useNow } from "../ui.js";

/** The one-time display of a new secret. Shared with the Users page. */
export const SecretOnce = ({ secret, who, testid = "new-secret" }) =>
  html`<div class="secret" role="status" data-testid=${testid}>
    <strong>${who ? t("keys.once.for", { who }) : t("keys.once")}</strong>
    <p class="small">${t("keys.once.use")} <code>Authorization: Bearer …</code></p>
    <${CopyField} value=${secret} label=${t("keys.once.label")} testid="secret-value" />
  </div>`;

/** A table of keys with Revoke; shared with the Users page (a user's keys). */
export function KeyTable({ keys, now, onRevoke, testid = "keys" }) {
  const sorted = [...keys].sort((a, b) => !!a.revokedAt - !!b.revokedAt || (b.lastUsedAt ?? b.createdAt).localeCompare(a.lastUsedAt ?? a.createdAt));
  return html`<table class="rows" data-testid=${testid}>
    <thead><tr><th>${t("keys.col.name")}</th><th>${t("keys.col.prefix")}</th><th>${t("keys.col.scopes")}</th><th>${t("keys.col.created")}</th><th>${t("keys.col.lastUsed")}</th><th><span class="sr">${t("common.actions")}</span></th></tr></thead>
    <tbody>${sorted.map(
      (k) => html`<tr key=${k.id} data-testid="key-row">
        <td data-label=${t("keys.col.name")}>${k.name} ${k.revokedAt && html`<${Badge} kind="bad">${t("keys.revoked")}<//>`}</td>
        <td data-label=${t("keys.col.prefix")}><code>${k.prefix}…</code></td>
        <td data-label=${t("keys.col.scopes")}>${(k.scopes ?? []).join(", ")}</td>
        <td data-label=${t("keys.col.created")}><${Time} iso=${k.createdAt} tick=${now} past /></td>
        <td data-label=${t("keys.col.lastUsed")}><${Time} iso=${k.lastUsedAt} tick=${now} past /></td>
        <td class="act">${!k.revokedAt && html`<button type="button" class="danger" onClick=${() => onRevoke(k)} aria-label=${t("keys.revokeWhat", { name: k.name })} data-testid="key-revoke">${t("keys.revoke")}</button>`}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

/** "Revoke this key?" — shared with the Users page. */
export const RevokeConfirm = ({ k, onClose, onDone }) =>
  html`<${Confirm} title=${t("keys.revoke.title", { name: k.name })} action=${t("keys.revoke.action")} onClose=${onClose} onConfirm=${async () => (await api(`/api-keys/${k.id}/revoke`, { method: "POST" }), toast(t("keys.toast.revoked", { name: k.name })), await onDone())}>
    <p>${t("keys.revoke.body", { prefix: `${k.prefix}…` })}</p>
  <//>`;

export default function KeysPage() {
  const list = useLoad(() => api("/api-keys"), []);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState(null);
  const [revoking, setRevoking] = useState(null);
  const [run, busy, error] = useAction();
  const now = useNow(60000);
  const create = (e) => {
    e.preventDefault();
    setSecret(null);
    run("create", async () => {
      const r = await api("/api-keys", { method: "POST", body: { name: name.trim() } });
      setSecret(r.apiKey);
      setName("");
      toast(t("keys.toast.created", { name: name.trim() }));
      await list.reload();
    });
  };
  const keys = list.data?.apiKeys ?? [];
  return html`
    <${PageHead} title=${t("nav.apiKeys")} />
    <section class="card" aria-labelledby="newkey-h">
      <h2 id="newkey-h">${t("keys.new")}</h2>
      <form class="inline" onSubmit=${create}>
        <label for="key-name">${t("keys.name")}</label>
        <input id="key-name" required maxlength="64" placeholder=${t("keys.name.placeholder")} value=${name} onInput=${(e) => setName(e.target.value)} data-testid="key-name" />
        <button class="primary" disabled=${busy || !name.trim()} data-testid="key-create">${busy ? t("common.creating") : t("keys.create")}</button>
      </form>
      <${ErrorBox} error=${error} testid="key-error" />
      ${secret && html`<${SecretOnce} secret=${secret} />`}
    </section>
    <section class="card" aria-labelledby="keys-h">
      <h2 id="keys-h">${t("keys.yours")}</h2>
      <${ErrorBox} error=${list.error} />
      ${list.data && !keys.length && html`<p class="muted">${t("keys.none")}</p>`}
      ${keys.length > 0 && html`<${KeyTable} keys=${keys} now=${now} onRevoke=${(k) => (setSecret(null), setRevoking(k))} />`}
    </section>
    ${revoking && html`<${RevokeConfirm} k=${revoking} onClose=${() => setRevoking(null)} onDone=${list.reload} />`}`;
}
