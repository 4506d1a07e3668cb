/** API keys: create one (its secret is shown once, with Copy), list them, revoke. */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html, Badge, Confirm, CopyField, ErrorBox, PageHead, Time, useAction, useLoad, useNow } from "../ui.js";

/** The one-time display of a new secret. Shared with the Users page. */
export const SecretOnce = ({ secret, who, testid = "new-secret" }) =>
  html`<div class="secret" role="status" data-testid=${testid}>
    <strong>Copy this key now${who ? ` for ${who}` : ""}: it is shown only once.</strong>
    <p class="small">It signs in on this page and authenticates API calls (<code>Authorization: Bearer …</code>).</p>
    <${CopyField} value=${secret} label="new API key" testid="secret-value" />
  </div>`;

export default function KeysPage() {
  const list = useLoad(() => api("/api-keys"), []);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState(null);
  const [revoking, setRevoking] = useState(null);
  const [run, busy, error] = useAction();
  const now = useNow(60000);
  const create = (e) => {
    e.preventDefault();
    run("create", async () => {
      const r = await api("/api-keys", { method: "POST", body: { name: name.trim() } });
      setSecret(r.apiKey);
      setName("");
      await list.reload();
    });
  };
  const keys = [...(list.data?.apiKeys ?? [])].sort((a, b) => !!a.revokedAt - !!b.revokedAt || (b.lastUsedAt ?? b.createdAt).localeCompare(a.lastUsedAt ?? a.createdAt));
  return html`
    <${PageHead} title="API keys" />
    <section class="card" aria-labelledby="newkey-h">
      <h2 id="newkey-h">New API key</h2>
      <form class="inline" onSubmit=${create}>
        <label for="key-name">Name</label>
        <input id="key-name" required maxlength="64" placeholder="e.g. CI sign-up tests" value=${name} onInput=${(e) => setName(e.target.value)} data-testid="key-name" />
        <button class="primary" disabled=${busy || !name.trim()} data-testid="key-create">${busy ? "Creating…" : "Create key"}</button>
      </form>
      <${ErrorBox} error=${error} testid="key-error" />
      ${secret && html`<${SecretOnce} secret=${secret} />`}
    </section>
    <section class="card" aria-labelledby="keys-h">
      <h2 id="keys-h">Your keys</h2>
      <${ErrorBox} error=${list.error} />
      ${list.data && !keys.length && html`<p class="muted">No keys.</p>`}
      ${keys.length > 0 &&
      html`<table class="rows" data-testid="keys">
        <thead><tr><th>Name</th><th>Prefix</th><th>Scopes</th><th>Created</th><th>Last used</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>${keys.map(
          (k) => html`<tr key=${k.id} data-testid="key-row">
            <td data-label="Name">${k.name} ${k.revokedAt && html`<${Badge} kind="bad">revoked<//>`}</td>
            <td data-label="Prefix"><code>${k.prefix}…</code></td>
            <td data-label="Scopes">${(k.scopes ?? []).join(", ")}</td>
            <td data-label="Created"><${Time} iso=${k.createdAt} tick=${now} past /></td>
            <td data-label="Last used"><${Time} iso=${k.lastUsedAt} tick=${now} past /></td>
            <td class="act">${!k.revokedAt && html`<button type="button" class="danger" onClick=${() => setRevoking(k)} aria-label=${`Revoke ${k.name}`} data-testid="key-revoke">Revoke</button>`}</td>
          </tr>`,
        )}</tbody>
      </table>`}
    </section>
    ${revoking &&
    html`<${Confirm} title=${`Revoke “${revoking.name}”?`} action="Revoke key" onClose=${() => setRevoking(null)} onConfirm=${async () => (await api(`/api-keys/${revoking.id}/revoke`, { method: "POST" }), await list.reload())}>
      <p>Anything using <code>${revoking.prefix}…</code> stops working at once. If it is your only key, you cannot sign in again without a new one from an admin.</p>
    <//>`}`;
}
