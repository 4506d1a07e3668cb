/**
 * The shell: loads /api/meta and the session, shows the sign-in form or the header, navigation
 * and the current page. Pages are separate modules loaded on first visit, so the first load of any
 * page carries only that page's code.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, onUnauthorized } from "./api.js";
import { html, navigate, Link, ErrorBox, useAction, PageHead } from "./ui.js";
import { loadLang } from "./i18n.js";

/** path → [label, loader, admin only] */
const PAGES = {
  "/inbox": ["Inbox", () => import("./pages/inbox.js"), false],
  "/mailboxes": ["Mailboxes", () => import("./pages/mailboxes.js"), false],
  "/domains": ["Domains", () => import("./pages/domains.js"), true],
  "/users": ["Users", () => import("./pages/users.js"), true],
  "/webhooks": ["Webhooks", () => import("./pages/webhooks.js"), false],
  "/api-keys": ["API keys", () => import("./pages/keys.js"), false],
};
const loaded = {};
let firstPage = true;

const here = () => ({ path: location.pathname.replace(/\/+$/, "") || "/", query: new URLSearchParams(location.search) });

function SignIn({ onSignedIn }) {
  const [key, setKey] = useState("");
  const [run, busy, error] = useAction();
  const submit = (e) => {
    e.preventDefault();
    run("in", async () => onSignedIn((await api("/auth/session", { method: "POST", body: { apiKey: key.trim() } })).user));
  };
  return html`<main class="signin" id="main">
    <form class="card" onSubmit=${submit} data-testid="signin-form">
      <h1 class="brand">KaisouMail</h1>
      <p class="muted">Sign in with an API key. It is exchanged for a session cookie and not stored in this browser.</p>
      <label for="apikey">API key</label>
      <input id="apikey" type="password" autocomplete="off" spellcheck="false" required placeholder="km_…" value=${key} onInput=${(e) => setKey(e.target.value)} data-testid="signin-key" />
      <${ErrorBox} error=${error} testid="signin-error" />
      <button class="primary" disabled=${busy || !key.trim()} data-testid="signin-submit">${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}

function Page({ route, user, meta, reloadMeta }) {
  const entry = PAGES[route.path];
  const [mod, setMod] = useState(() => loaded[route.path]);
  const [error, setError] = useState(null);
  const denied = entry?.[2] && user.role !== "admin";
  useEffect(() => {
    document.title = `${entry?.[0] ?? "Not found"} · KaisouMail`;
    setError(null);
    if (!entry || denied) return;
    if (loaded[route.path]) return setMod(() => loaded[route.path]);
    setMod(null);
    entry[1]().then(
      (m) => setMod(() => (loaded[route.path] = m.default)),
      (e) => setError(new ApiError(0, "This page could not be loaded", { hint: `Reload the page (${e.message}).` })),
    );
  }, [route.path]);
  useEffect(() => {
    // After in-page navigation, move focus to the new page's heading (not on the first load).
    if (mod && !firstPage) document.getElementById("page-title")?.focus({ preventScroll: true });
    if (mod || denied || !entry) firstPage = false;
  }, [mod]);
  if (!entry) return html`<${PageHead} title="Page not found" /><p><${Link} href="/inbox">Go to the inbox</${Link}></p>`;
  if (denied)
    return html`<${PageHead} title=${entry[0]} /><div class="alert err" role="alert" data-testid="admin-required"><strong>Admin access required</strong><div>Only admins can manage ${entry[0].toLowerCase()}. Ask an admin if you need access.</div></div>`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!mod || mod !== loaded[route.path]) return html`<p class="muted" aria-busy="true">Loading…</p>`;
  const Mod = mod;
  return html`<${Mod} user=${user} meta=${meta} reloadMeta=${reloadMeta} query=${route.query} />`;
}

function App() {
  const [route, setRoute] = useState(here);
  const [user, setUser] = useState(undefined);
  const [meta, setMeta] = useState(null);
  const [bootError, setBootError] = useState(null);
  const reloadMeta = () => api("/meta").then(setMeta, () => {});
  const [runOut, outBusy, outError] = useAction();

  useEffect(() => {
    const sync = () => setRoute(here());
    addEventListener("popstate", sync);
    addEventListener("km:navigate", sync);
    onUnauthorized(() => setUser(null));
    Promise.all([api("/meta"), api("/auth/session").catch((e) => (e.status === 401 ? null : Promise.reject(e)))]).then(
      ([m, s]) => (setMeta(m), setUser(s ? s.user : null)),
      setBootError,
    );
  }, []);
  useEffect(() => {
    if (user && route.path === "/") navigate("/inbox", true);
  }, [route.path, user]);

  if (bootError) return html`<main class="signin"><div class="card"><h1 class="brand">KaisouMail</h1><${ErrorBox} error=${bootError} /></div></main>`;
  if (user === undefined) return html`<p class="boot">Loading KaisouMail…</p>`;
  if (!user) return html`<${SignIn} onSignedIn=${(u) => (setUser(u), reloadMeta())} />`;

  const signOut = () => runOut("out", async () => (await api("/auth/session", { method: "DELETE" }), setUser(null)));
  const nav = Object.entries(PAGES).filter(([, p]) => !p[2] || user.role === "admin");
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <div class="bar">
        <${Link} class="brand" href="/inbox">KaisouMail</${Link}>
        <div class="who" data-testid="whoami">
          <span title=${user.email}>${user.name || user.email}</span>
          <span class="badge">${user.role}</span>
          <button type="button" class="ghost" onClick=${signOut} disabled=${outBusy} data-testid="signout">Sign out</button>
        </div>
      </div>
      <nav aria-label="Main" data-testid="nav">
        ${nav.map(([path, [label]]) => html`<${Link} href=${path} aria-current=${route.path === path ? "page" : undefined} data-testid=${`nav-${path.slice(1)}`}>${label}</${Link}>`)}
      </nav>
      <${ErrorBox} error=${outError} />
    </header>
    <main id="main" class=${`page page-${route.path.slice(1) || "home"}`}>
      <${Page} key=${route.path} route=${route} user=${user} meta=${meta} reloadMeta=${reloadMeta} />
    </main>`;
}

/** Re-renders the whole page when the language changes (setLang in i18n.js). */
function Root() {
  const [n, setN] = useState(0);
  useEffect(() => {
    const bump = () => setN((x) => x + 1);
    addEventListener("km:lang", bump);
    return () => removeEventListener("km:lang", bump);
  }, []);
  return html`<${App} key=${n} />`;
}

loadLang().then(
  () => render(html`<${Root} />`, document.getElementById("app")),
  () => render(html`<${Root} />`, document.getElementById("app")),
);
