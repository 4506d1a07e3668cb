/**
 * Users (admin): create one (the first API key is shown once), change a role, disable or enable,
 * delete (their mailboxes and messages go too), and a user's keys: list, revoke, issue a new one.
 * A one-time key disappears as soon as the next action starts, so it never sits under a later error.
 */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { html, Badge, Confirm, Dialog, ErrorBox, PageHead, Time, toast, useAction, useLoad, useNow } from "../ui.js";
import { KeyTable, RevokeConfirm, SecretOnce } from "./keys.js";

/** A user's keys in a dialog: list, revoke, issue a new one (POST /api/users/:id/api-keys). */
function UserKeys({ u, onClose }) {
  const list = useLoad(() => api(`/users/${u.id}/api-keys`), [u.id]);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState(null);
  const [revoking, setRevoking] = useState(null);
  const [run, busy, error] = useAction();
  const now = useNow(60000);
  const issue = (e) => {
    e.preventDefault();
    setSecret(null);
    run("issue", async () => {
      const r = await api(`/users/${u.id}/api-keys`, { method: "POST", body: { name: name.trim() } });
      setSecret(r.apiKey);
      setName("");
      toast(t("users.toast.keyIssued", { email: u.email }));
      await list.reload();
    });
  };
  const keys = list.data?.apiKeys ?? [];
  return html`<${Dialog} title=${t("users.keys.title", { email: u.email })} onClose=${onClose} testid="user-keys">
    <${ErrorBox} error=${list.error} />
    ${list.data && !keys.length && html`<p class="muted">${t("keys.none")}</p>`}
    ${keys.length > 0 && html`<div class="keys-list"><${KeyTable} keys=${keys} now=${now} onRevoke=${(k) => (setSecret(null), setRevoking(k))} testid="user-key-table" /></div>`}
    <form class="inline" onSubmit=${issue}>
      <label for="uk-name">${t("users.keys.newName")}</label>
      <input id="uk-name" required maxlength="64" value=${name} onInput=${(e) => setName(e.target.value)} data-testid="user-key-name" />
      <button class="primary" disabled=${busy || !name.trim()} data-testid="user-key-issue">${busy ? t("common.creating") : t("users.keys.issue")}</button>
    </form>
    <${ErrorBox} error=${error} testid="user-key-error" />
    ${secret && html`<${SecretOnce} secret=${secret} who=${u.email} testid="user-key-secret" />`}
    ${revoking && html`<${RevokeConfirm} k=${revoking} onClose=${() => setRevoking(null)} onDone=${list.reload} />`}
  <//>`;
}

function UserRow({ u, me, now, busy, act, onKeys, onDelete, onDisable }) {
  const self = u.id === me?.id;
  return html`<tr key=${u.id} data-testid="user-row" data-email=${u.email}>
    <td data-label=${t("users.col.name")}>${u.name}${self ? html` <span class="small muted">${t("users.you")}</span>` : ""}</td>
    <td data-label=${t("users.col.email")}>${u.email}</td>
    <td data-label=${t("users.col.role")}>
      <select value=${u.role} disabled=${!!busy || self} aria-label=${t("users.roleOf", { email: u.email })} onChange=${(e) => act(`role${u.id}`, { role: e.target.value }, t("users.toast.role", { email: u.email, role: t(`role.${e.target.value}`) }))} data-testid="user-role-select">
        <option value="member">${t("role.member")}</option><option value="admin">${t("role.admin")}</option>
      </select>
    </td>
    <td data-label=${t("users.col.status")}><${Badge} kind=${u.disabled ? "bad" : "ok"} testid="user-status">${t(u.disabled ? "users.disabled" : "users.active")}<//></td>
    <td data-label=${t("users.col.created")}><${Time} iso=${u.createdAt} tick=${now} past /></td>
    <td class="act"><div class="actions">
      <button type="button" onClick=${onKeys} aria-label=${t("users.keysOf", { email: u.email })} data-testid="user-keys-open">${t("users.keys")}</button>
      ${!self &&
      (u.disabled
        ? html`<button type="button" disabled=${!!busy} onClick=${() => act(`en${u.id}`, { disabled: false }, t("users.toast.enabled", { email: u.email }))} aria-label=${t("users.enableWho", { email: u.email })} data-testid="user-enable">${t("users.enable")}</button>`
        : html`<button type="button" disabled=${!!busy} onClick=${onDisable} aria-label=${t("users.disableWho", { email: u.email })} data-testid="user-disable">${t("users.disable")}</button>`)}
      ${!self && html`<button type="button" class="danger" onClick=${onDelete} aria-label=${t("users.deleteWho", { email: u.email })} data-testid="user-delete">${t("common.delete")}</button>`}
    </div></td>
  </tr>`;
}

export default function UsersPage({ user: me }) {
  const list = useLoad(() => api("/users"), []);
  const [f, setF] = useState({ email: "", name: "", role: "member" });
  const [made, setMade] = useState(null);
  const [keysOf, setKeysOf] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [disabling, setDisabling] = useState(null);
  const [run, busy, error] = useAction();
  const [runRow, rowBusy, rowError] = useAction();
  const now = useNow(60000);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  /** Every action starts by clearing a one-time key still on screen. */
  const start = () => setMade(null);
  const create = (e) => {
    e.preventDefault();
    start();
    run("create", async () => {
      const r = await api("/users", { method: "POST", body: { email: f.email.trim(), name: f.name.trim(), role: f.role } });
      setMade(r);
      setF({ email: "", name: "", role: "member" });
      toast(t("users.toast.created", { email: r.user.email }));
      await list.reload();
    });
  };
  const patch = (u) => (label, body, done) => {
    start();
    return runRow(label, async () => {
      await api(`/users/${u.id}`, { method: "PATCH", body });
      toast(done);
      await list.reload();
    });
  };
  const users = list.data?.users ?? [];
  return html`
    <${PageHead} title=${t("nav.users")} />
    <section class="card" aria-labelledby="newuser-h">
      <h2 id="newuser-h">${t("users.new")}</h2>
      <form class="grid" onSubmit=${create} data-testid="user-form">
        <div><label for="u-email">${t("users.col.email")}</label><input id="u-email" type="email" required value=${f.email} onInput=${set("email")} data-testid="user-email" /></div>
        <div><label for="u-name">${t("users.col.name")}</label><input id="u-name" required value=${f.name} onInput=${set("name")} data-testid="user-name" /></div>
        <div><label for="u-role">${t("users.col.role")}</label><select id="u-role" value=${f.role} onChange=${set("role")} data-testid="user-role"><option value="member">${t("role.member")}</option><option value="admin">${t("role.admin")}</option></select></div>
        <div><button class="primary" disabled=${busy} data-testid="user-create">${busy ? t("common.creating") : t("users.create")}</button></div>
      </form>
      <${ErrorBox} error=${error} testid="user-error" />
      ${made?.initialKey && html`<${SecretOnce} secret=${made.initialKey.apiKey} who=${made.user.email} testid="user-secret" />`}
    </section>
    <section class="card" aria-labelledby="users-h">
      <h2 id="users-h">${t("nav.users")}</h2>
      <${ErrorBox} error=${list.error} />
      <${ErrorBox} error=${rowError} testid="user-row-error" />
      ${users.length > 0 &&
      html`<table class="rows" data-testid="users">
        <thead><tr><th>${t("users.col.name")}</th><th>${t("users.col.email")}</th><th>${t("users.col.role")}</th><th>${t("users.col.status")}</th><th>${t("users.col.created")}</th><th><span class="sr">${t("common.actions")}</span></th></tr></thead>
        <tbody>${users.map(
          (u) => html`<${UserRow} key=${u.id} u=${u} me=${me} now=${now} busy=${rowBusy} act=${patch(u)}
            onKeys=${() => (start(), setKeysOf(u))} onDelete=${() => (start(), setDeleting(u))} onDisable=${() => (start(), setDisabling(u))} />`,
        )}</tbody>
      </table>`}
    </section>
    ${keysOf && html`<${UserKeys} u=${keysOf} onClose=${() => setKeysOf(null)} />`}
    ${disabling &&
    html`<${Confirm} title=${t("users.disable.title", { email: disabling.email })} action=${t("users.disable")} onClose=${() => setDisabling(null)} onConfirm=${async () => (await api(`/users/${disabling.id}`, { method: "PATCH", body: { disabled: true } }), toast(t("users.toast.disabled", { email: disabling.email })), await list.reload())} testid="confirm-disable-user">
      <p>${t("users.disable.body")}</p>
    <//>`}
    ${deleting &&
    html`<${Confirm} title=${t("users.delete.title", { email: deleting.email })} action=${t("users.delete.action")} onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/users/${deleting.id}`, { method: "DELETE" }), toast(t("users.toast.deleted", { email: deleting.email })), await list.reload())} testid="confirm-delete-user">
      <p>${t("users.delete.body")}</p>
    <//>`}`;
}
