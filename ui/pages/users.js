/** Users (admin): list, and create one; the new user's first API key is shown once. */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { html, Badge, ErrorBox, PageHead, Time, useAction, useLoad, useNow } from "../ui.js";
import { SecretOnce } from "./keys.js";

export default function UsersPage() {
  const list = useLoad(() => api("/users"), []);
  const [f, setF] = useState({ email: "", name: "", role: "member" });
  const [made, setMade] = useState(null);
  const [run, busy, error] = useAction();
  const now = useNow(60000);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const create = (e) => {
    e.preventDefault();
    run("create", async () => {
      const r = await api("/users", { method: "POST", body: { email: f.email.trim(), name: f.name.trim(), role: f.role } });
      setMade(r);
      setF({ email: "", name: "", role: "member" });
      await list.reload();
    });
  };
  const users = list.data?.users ?? [];
  return html`
    <${PageHead} title="Users" />
    <section class="card" aria-labelledby="newuser-h">
      <h2 id="newuser-h">New user</h2>
      <form class="grid" onSubmit=${create} data-testid="user-form">
        <div><label for="u-email">Email</label><input id="u-email" type="email" required value=${f.email} onInput=${set("email")} data-testid="user-email" /></div>
        <div><label for="u-name">Name</label><input id="u-name" required value=${f.name} onInput=${set("name")} data-testid="user-name" /></div>
        <div><label for="u-role">Role</label><select id="u-role" value=${f.role} onChange=${set("role")} data-testid="user-role"><option value="member">Member</option><option value="admin">Admin</option></select></div>
        <div><button class="primary" disabled=${busy} data-testid="user-create">${busy ? "Creating…" : "Create user"}</button></div>
      </form>
      <${ErrorBox} error=${error} testid="user-error" />
      ${made?.initialKey && html`<${SecretOnce} secret=${made.initialKey.apiKey} who=${made.user.email} testid="user-secret" />`}
    </section>
    <section class="card" aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <${ErrorBox} error=${list.error} />
      ${users.length > 0 &&
      html`<table class="rows" data-testid="users">
        <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Created</th></tr></thead>
        <tbody>${users.map(
          (u) => html`<tr key=${u.id}>
            <td data-label="Name">${u.name}</td><td data-label="Email">${u.email}</td>
            <td data-label="Role"><${Badge} kind=${u.role === "admin" ? "ok" : ""}>${u.role}<//></td>
            <td data-label="Created"><${Time} iso=${u.createdAt} tick=${now} past /></td>
          </tr>`,
        )}</tbody>
      </table>`}
    </section>`;
}
