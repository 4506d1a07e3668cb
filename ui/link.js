/**
 * The link check (issue 15): links in mail open here, in a new tab, before they go anywhere. The
 * destination comes in the fragment (`#u=<url>&t=<text the mail showed>`), which never reaches a
 * server. The page shows the real host large and the full address, warns when the text the mail
 * showed is a different address, and offers Open (same tab, no referrer) and Close. Only http(s)
 * and mailto: destinations are offered. Plain DOM, no framework: it loads only the language file.
 */
import { loadLang, need, t } from "./i18n.js";

const el = (tag, { dataset, ...props } = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  Object.assign(e.dataset, dataset);
  for (const c of children) if (c != null) e.append(c);
  return e;
};

function render() {
  const box = document.getElementById("check");
  const q = new URLSearchParams(location.hash.slice(1));
  const raw = (q.get("u") ?? "").trim();
  const shown = (q.get("t") ?? "").trim();
  let url = null;
  try {
    url = new URL(raw);
  } catch {
    /* not a URL: refused below */
  }
  document.title = `${t("inbox.check.title")} · KaisouMail`;
  box.replaceChildren();
  box.append(el("h1", { className: "brand" }, "KaisouMail"));
  if (!url || !/^(https?|mailto):$/.test(url.protocol)) {
    box.append(el("div", { className: "alert err", role: "alert" }, t("inbox.check.invalid")));
    box.dataset.ready = "invalid";
    return;
  }
  const mail = url.protocol === "mailto:";
  const host = mail ? url.pathname : url.hostname;
  box.append(
    el("p", { className: "muted" }, mail ? t("inbox.check.mailIntro") : t("inbox.check.intro")),
    el("p", { className: "check-host" }, el("strong", { textContent: host, dataset: { testid: "check-host" } })),
    el("p", { className: "check-url" }, el("code", { textContent: url.href, dataset: { testid: "check-url" } })),
  );
  if (url.protocol === "http:") box.append(el("p", { className: "alert warn" }, t("inbox.check.insecure")));
  // The mail showed another address than the one the link goes to: the classic phishing shape.
  const looksLikeUrl = /^(https?:\/\/)?[a-z0-9-]+(\.[a-z0-9-]+)+([/?#]\S*)?$/i.test(shown);
  if (shown && looksLikeUrl) {
    let shownHost = "";
    try {
      shownHost = new URL(/^https?:/i.test(shown) ? shown : `https://${shown}`).hostname;
    } catch {
      /* not comparable */
    }
    if (shownHost && shownHost !== url.hostname) {
      box.append(el("p", { className: "alert err", dataset: { testid: "check-mismatch" } }, t("inbox.check.mismatch", { shown, host })));
    }
  } else if (shown) {
    box.append(el("p", { className: "small" }, t("inbox.check.shown", { shown })));
  }
  const open = el("a", { className: "btn primary", href: url.href, rel: "noopener noreferrer", textContent: t("inbox.check.open"), dataset: { testid: "check-open" } });
  const close = el("button", { type: "button", textContent: t("inbox.check.close"), dataset: { testid: "check-close" } });
  close.addEventListener("click", () => {
    window.close();
    // A tab the browser will not let a script close: say so instead.
    setTimeout(() => close.replaceWith(el("span", { className: "small" }, t("inbox.check.closeTab"))), 300);
  });
  box.append(el("div", { className: "actions" }, open, close));
  box.dataset.ready = "ok";
  open.focus();
}

const start = () => (render(), addEventListener("hashchange", render));
loadLang()
  .then(() => need("inbox"))
  .then(start, start);
