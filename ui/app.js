/**
 * The shell: loads /api/meta and the session, shows the sign-in form or the header, navigation
 * and the current page. Pages are separate modules loaded on first visit, so the first load of any
 * page carries only that page's code. A language switch re-renders the tree in place (no remount):
 * the signed-in user, the page's data and any open form survive it.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, onUnauthorized } from "./api.js";
import { html, navigate, Link, ErrorBox, useAction, PageHead, Toasts, LangSelect, ThemeSelect, localError } from "./ui.js";
import { lang, loadLang, need, t } from "./i18n.js";

/** A page's module together with its catalogue sections (ui/i18n/<lang>/<section>.js). */
const withText = (load, ...names) => () => Promise.all([load(), need(...names)]).then(([m]) => m);
/** A page's own stylesheet, added once; resolves when it applies (or failed: the page still works). */
const sheet = (href) =>
  document.querySelector(`link[href="${href}"]`)
    ? Promise.resolve()
    : new Promise((done) => document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href, onload: done, onerror: done })));
/** path → [label key, loader, admin only] */
const PAGES = {
  "/inbox": ["nav.inbox", withText(() => Promise.all([import("./pages/inbox.js"), sheet("/inbox.css")]).then(([m]) => m), "inbox"), false],
  "/mailboxes": ["nav.mailboxes", withText(() => import("./pages/mailboxes.js"), "mailboxes"), false],
  "/domains": ["nav.domains", withText(() => import("./pages/domains.js"), "domains"), true],
  "/users": ["nav.users", withText(() => import("./pages/users.js"), "users", "keys"), true],
  "/webhooks": ["nav.webhooks", withText(() => import("./pages/webhooks.js"), "webhooks"), false],
  "/api-keys": ["nav.apiKeys", withText(() => import("./pages/keys.js"), "keys"), false],
};
/** The shortest key the server accepts (POST /api/auth/session); shorter ones are refused here. */
const MIN_KEY = 16;
const loaded = {};
let firstPage = true;

const here = () => ({ path: location.pathname.replace(/\/+$/, "") || "/", query: new URLSearchParams(location.search) });

function SignIn({ onSignedIn }) {
  const [key, setKey] = useState("");
  const [run, busy, error, setError] = useAction();
  const submit = (e) => {
    e.preventDefault();
    if (key.trim().length < MIN_KEY) return setError(localError(t("signin.tooShort")));
    run("in", async () => onSignedIn((await api("/auth/session", { method: "POST", body: { apiKey: key.trim() } })).user));
  };
  return html`<main class="signin" id="main">
    <form class="card" onSubmit=${submit} data-testid="signin-form">
      <h1 class="brand">KaisouMail</h1>
      <p class="muted">${t("signin.intro")}</p>
      <label for="apikey">${t("signin.key")}</label>
      <input id="apikey" type="password" autocomplete="off" spellcheck="false" required placeholder="km_…" value=${key} onInput=${(e) => setKey(e.target.value)} data-testid="signin-key" />
      <${ErrorBox} error=${error} testid="signin-error" />
      <button class="primary" disabled=${busy || !key.trim()} data-testid="signin-submit">${busy ? t("signin.busy") : t("signin.submit")}</button>
      <p class="small" data-testid="signin-where">${t("signin.where1")} <code>npm start</code> ${t("signin.where2")}</p>
    </form>
    <div class="prefs"><${LangSelect} /><${ThemeSelect} /></div>
  </main>`;
}

function Page({ route, user, meta, reloadMeta }) {
  const entry = PAGES[route.path];
  const [mod, setMod] = useState(() => loaded[route.path]);
  const [error, setError] = useState(null);
  const denied = entry?.[2] && user.role !== "admin";
  const label = entry ? t(entry[0]) : t("shell.notFound");
  useEffect(() => {
    document.title = `${label} · KaisouMail`;
  }, [route.path, lang()]);
  useEffect(() => {
    setError(null);
    if (!entry || denied) return;
    if (loaded[route.path]) return setMod(() => loaded[route.path]);
    setMod(null);
    entry[1]().then(
      (m) => setMod(() => (loaded[route.path] = m.default)),
      (e) => setError(new ApiError(0, "This page could not be loaded", { code: "page_load_failed", cause: e.message })),
    );
  }, [route.path]);
  useEffect(() => {
    // After in-page navigation, move focus to the new page's heading (not on the first load).
    if (mod && !firstPage) document.getElementById("page-title")?.focus({ preventScroll: true });
    if (mod || denied || !entry) firstPage = false;
  }, [mod]);
  if (!entry) return html`<${PageHead} title=${t("shell.notFound")} /><p><${Link} href="/inbox">${t("shell.toInbox")}</${Link}></p>`;
  if (denied)
    return html`<${PageHead} title=${label} /><div class="alert err" role="alert" data-testid="admin-required"><strong>${t("shell.adminRequired")}</strong><div>${t("shell.adminOnly", { page: label })}</div></div>`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!mod || mod !== loaded[route.path]) return html`<p class="muted" aria-busy="true">${t("common.loading")}</p>`;
  const Mod = mod;
  return html`<${Mod} user=${user} meta=${meta} reloadMeta=${reloadMeta} query=${route.query} lang=${lang()} />`;
}

function App() {
  const [route, setRoute] = useState(here);
  const [user, setUser] = useState(undefined);
  const [meta, setMeta] = useState(null);
  const [bootError, setBootError] = useState(null);
  const [, setLangTick] = useState(0);
  const reloadMeta = () => api("/meta").then(setMeta, () => {});
  const [runOut, outBusy, outError] = useAction();

  useEffect(() => {
    const sync = () => setRoute(here());
    // A language switch re-renders in place: state (user, page data, forms) is kept.
    const relang = () => setLangTick((x) => x + 1);
    addEventListener("popstate", sync);
    addEventListener("km:navigate", sync);
    addEventListener("km:lang", relang);
    onUnauthorized(() => setUser(null));
    Promise.all([api("/meta"), api("/auth/session").catch((e) => (e.status === 401 ? null : Promise.reject(e)))]).then(
      ([m, s]) => (setMeta(m), setUser(s ? s.user : null)),
      setBootError,
    );
  }, []);
  useEffect(() => {
    if (user && route.path === "/") navigate("/inbox", true);
  }, [route.path, user]);

  const toasts = html`<${Toasts} />`;
  if (bootError) return html`<main class="signin"><div class="card"><h1 class="brand">KaisouMail</h1><${ErrorBox} error=${bootError} /></div></main>`;
  if (user === undefined) return html`<p class="boot">${t("app.loading")}</p>`;
  if (!user) return html`<${SignIn} onSignedIn=${(u) => (setUser(u), reloadMeta())} />${toasts}`;

  const signOut = () => runOut("out", async () => (await api("/auth/session", { method: "DELETE" }), setUser(null)));
  const nav = Object.entries(PAGES).filter(([, p]) => !p[2] || user.role === "admin");
  return html`<a class="skip" href="#main">${t("shell.skip")}</a>
    <header class="top">
      <div class="bar">
        <${Link} class="brand" href="/inbox">KaisouMail</${Link}>
        <div class="who" data-testid="whoami">
          <span title=${user.email}>${user.name || user.email}</span>
          <span class="badge">${t(`role.${user.role}`)}</span>
          <${LangSelect} />
          <${ThemeSelect} />
          <button type="button" class="ghost" onClick=${signOut} disabled=${outBusy} data-testid="signout">${t("shell.signOut")}</button>
        </div>
      </div>
      <nav aria-label=${t("shell.mainNav")} data-testid="nav">
        ${nav.map(([path, [label]]) => html`<${Link} href=${path} aria-current=${route.path === path ? "page" : undefined} data-testid=${`nav-${path.slice(1)}`}>${t(label)}</${Link}>`)}
      </nav>
      <${ErrorBox} error=${outError} />
    </header>
    <main id="main" class=${`page page-${route.path.slice(1) || "home"}`}>
      <${Page} key=${route.path} route=${route} user=${user} meta=${meta} reloadMeta=${reloadMeta} />
    </main>
    ${toasts}`;
}

const start = () => render(html`<${App} />`, document.getElementById("app"));
loadLang().then(start, start);
