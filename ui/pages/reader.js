/**
 * The message reader: verification code and link on top, HTML / Text / Headers views, image
 * thumbnails, attachments and the raw .eml (named after subject and date).
 *
 * Message HTML is untrusted. It is parsed inertly (DOMParser: no scripts run, nothing loads), cleaned
 * (scripts, <base>, meta refresh and every other http-equiv, inline handlers and non-web links
 * removed) and shown in an iframe sandboxed with only `allow-popups allow-popups-to-escape-sandbox`:
 * no scripts, no same-origin access, no forms, no top navigation. Its first element is a content
 * security policy that forbids every load except inline styles and data: images, and also remote
 * images once the reader clicks "Load images" for that message.
 *
 * Links: a sandboxed frame without scripts cannot be watched from the page, so every web link is
 * rewritten to open the link check (/link.html#…) in a new tab (target=_blank, rel=noopener
 * noreferrer). The check shows the real destination, host first, and the text the mail showed when
 * it differs, with Open and Close. Clicking a link therefore never navigates the frame: the reader
 * stays as it was. Web addresses in the text view become the same kind of link.
 *
 * Height: the frame is as tall as its content, without an inner scroll bar. The shown frame cannot
 * be measured (no same-origin access), so the same document is first laid out in a hidden,
 * throw-away frame sandboxed with `allow-same-origin` only (still no scripts, no popups, no forms;
 * same CSP), its height is read, and the frame is removed; again on a width change.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { t } from "../i18n.js";
import { html, Confirm, CopyButton, ErrorBox, bytes, useLoad, when } from "../ui.js";

const cspMeta = (images) =>
  `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:${images ? " https: http:" : ""}; style-src 'unsafe-inline'">`;
export const HTML_CSP = cspMeta(false);
/** Links open in a new tab, never in the frame; the frame's own margins stay small. */
const FRAME_HEAD = `<base target="_blank"><style>html{margin:0;padding:0}body{margin:0;padding:8px;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>`;
export const SANDBOX = "allow-popups allow-popups-to-escape-sandbox";

/** Only web and mail links are offered (the extractor returns no other kind; this is a second guard). */
export const webLink = (url) => typeof url === "string" && /^https?:\/\//i.test(url);
const openable = (url) => typeof url === "string" && /^(https?:\/\/|mailto:)/i.test(url.trim());

/** The link check page for `url` (and the text the mail showed for it). The fragment never reaches the server. */
export function checkHref(url, text) {
  const q = new URLSearchParams({ u: url.trim() });
  const shown = (text ?? "").replace(/\s+/g, " ").trim().slice(0, 300);
  if (shown && shown !== url.trim()) q.set("t", shown);
  return `/link.html#${q.toString()}`;
}

const REMOTE = /url\(\s*['"]?\s*(https?:)?\/\//i;

/**
 * The cleaned HTML document for the frame, and whether the message asks for remote images. Exported
 * for the tests' sake; pure apart from DOMParser.
 */
export function frameDocument(source, { images = false } = {}) {
  const doc = new DOMParser().parseFromString(source ?? "", "text/html");
  for (const el of doc.querySelectorAll("script, noscript, base, meta[http-equiv], iframe, frame, frameset, object, embed, applet, portal")) el.remove();
  let remote = false;
  for (const el of doc.querySelectorAll("*")) {
    for (const a of [...el.attributes]) {
      const name = a.name.toLowerCase();
      if (name.startsWith("on") || name === "formaction" || name === "ping") el.removeAttribute(a.name);
      else if ((name === "src" || name === "srcset" || name === "background" || name === "poster") && /(^|[\s,])(https?:)?\/\//i.test(a.value)) remote = true;
      else if (name === "style" && REMOTE.test(a.value)) remote = true;
    }
  }
  for (const s of doc.querySelectorAll("style")) if (REMOTE.test(s.textContent)) remote = true;
  for (const a of doc.querySelectorAll("a, area")) {
    const href = a.getAttribute("href");
    a.removeAttribute("target");
    if (href == null) continue;
    if (href.startsWith("#")) {
      a.setAttribute("target", "_self");
    } else if (openable(href)) {
      a.setAttribute("href", `${location.origin}${checkHref(href, a.textContent)}`);
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
      a.setAttribute("title", href.trim());
    } else {
      a.removeAttribute("href");
    }
  }
  const head = doc.head.innerHTML;
  const body = doc.body.outerHTML;
  return { srcdoc: `${cspMeta(images)}${FRAME_HEAD}${head}${body}`, remote };
}

/** Lays `srcdoc` out at `width` in a hidden same-origin, script-less frame and reports its height. */
function measure(host, srcdoc, width) {
  return new Promise((resolve) => {
    const f = document.createElement("iframe");
    f.setAttribute("sandbox", "allow-same-origin");
    f.setAttribute("aria-hidden", "true");
    f.tabIndex = -1;
    f.className = "measure";
    f.style.width = `${width}px`;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      let h = 0;
      try {
        const d = f.contentDocument;
        h = Math.max(d.documentElement.scrollHeight, d.body?.scrollHeight ?? 0);
      } catch {
        /* not measurable: the caller keeps its fallback height */
      }
      f.remove();
      resolve(h);
    };
    f.addEventListener("load", finish);
    setTimeout(finish, 8000);
    f.srcdoc = srcdoc;
    host.append(f);
  });
}

/** The HTML view: the sandboxed frame, as tall as its content. */
function HtmlFrame({ srcdoc, title }) {
  const box = useRef();
  const [height, setHeight] = useState(null);
  useLayoutEffect(() => {
    const host = box.current;
    if (!host) return;
    let width = 0;
    let seq = 0;
    const run = async () => {
      const w = Math.round(host.clientWidth);
      if (!w || w === width) return;
      width = w;
      const n = ++seq;
      const h = await measure(host, srcdoc, w - 2);
      if (n === seq && h > 0) setHeight(h + 2);
    };
    run();
    const ro = new ResizeObserver(() => run());
    ro.observe(host);
    return () => (ro.disconnect(), seq++);
  }, [srcdoc]);
  return html`<div class="frame-box" ref=${box}>
    <iframe class="html" sandbox=${SANDBOX} referrerpolicy="no-referrer" title=${title} srcdoc=${srcdoc}
      style=${height ? `height:${height}px` : ""} data-height=${height ?? ""} data-testid="reader-html"></iframe>
  </div>`;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Plain text with its web addresses as links through the check (trailing punctuation left out). */
export function Linkified({ text }) {
  const parts = [];
  let last = 0;
  for (const m of (text ?? "").matchAll(URL_RE)) {
    let url = m[0];
    const trail = url.match(/[.,;:!?)\]}>»”’]+$/);
    if (trail && !(trail[0].startsWith(")") && url.includes("("))) url = url.slice(0, -trail[0].length);
    parts.push(text.slice(last, m.index));
    parts.push(html`<a href=${checkHref(url)} target="_blank" rel="noopener noreferrer" title=${url} data-testid="text-link">${url}</a>`);
    last = m.index + url.length;
  }
  parts.push((text ?? "").slice(last));
  return parts;
}

const sender = (m) => (m.fromName ? `${m.fromName} <${m.fromAddress ?? "?"}>` : m.fromAddress ?? t("inbox.unknownSender"));
const people = (list) => (list ?? []).map((p) => (p.name ? `${p.name} <${p.address}>` : p.address)).join(", ");
/** The raw download's name, as the server names it: subject and received date (UTC). */
export const rawName = (m) => {
  const subject = Array.from((m.subject ?? "").replace(/\s+/g, " ").trim()).slice(0, 80).join("").trim() || "message";
  const date = (m.receivedAt ?? "").slice(0, 16).replace("T", " ").replace(":", "-");
  return `${subject} ${date}.eml`.replace(/[\\/"\u0000-\u001f]/g, "_");
};

/** `askDelete` > 0 opens the delete confirmation (the `#` / Delete shortcut). */
export function Reader({ id, onDeleted, onBack, askDelete = 0 }) {
  const msg = useLoad(() => api(`/messages/${id}`), [id]);
  const [view, setView] = useState(null);
  const [deleting, setDeleting] = useState(false);
  const [images, setImages] = useState(false);
  useEffect(() => void (askDelete > 0 && setDeleting(true)), [askDelete]);
  const m = msg.data?.message;
  const back = onBack && html`<button type="button" class="back" onClick=${onBack} data-testid="reader-back">← ${t("inbox.back")}</button>`;
  if (msg.error) return html`${back}<${ErrorBox} error=${msg.error} testid="reader-error" />`;
  if (!m) return html`${back}<p class="muted" aria-busy="true">${t("inbox.loadingMessage")}</p>`;
  const views = [m.html != null && "html", m.text != null && "text", "headers"].filter(Boolean);
  const v = views.includes(view) ? view : views[0];
  const r = m.recipients ?? {};
  const framed = v === "html" ? frameDocument(m.html, { images }) : null;
  const thumbs = (m.attachments ?? []).filter((a) => /^image\/(png|jpe?g|gif|webp|avif|bmp)$/i.test(a.contentType) && a.sizeBytes <= 8 * 1048576);
  const vf = m.verification;
  return html`<article data-testid="reader" aria-labelledby="msg-subject">
    ${back}
    <div class="card-head">
      <h2 id="msg-subject" data-testid="reader-subject">${m.subject || t("inbox.noSubject")}</h2>
      <div class="actions">
        <a class="btn" href=${m.rawDownloadPath} download=${rawName(m)} data-testid="raw-download">${t("inbox.downloadEml")}</a>
        <button type="button" class="danger" onClick=${() => setDeleting(true)} data-testid="message-delete">${t("inbox.delete")}</button>
      </div>
    </div>
    ${vf &&
    html`<div class="code" data-testid="verification">
      ${vf.code &&
      html`<span class="small">${t("inbox.code")}</span>
        <strong data-testid="verification-code">${vf.code}</strong>
        <${CopyButton} text=${vf.code} label=${t("inbox.copyCode")} testid="copy-code" primary />`}
      ${webLink(vf.link) &&
      html`<span class="vlink-row"><span class="small">${t("inbox.link")}</span>
        <span class="vlink" data-testid="verification-link" title=${vf.link}>${vf.link}</span>
        <a class="btn" href=${vf.link} target="_blank" rel="noopener noreferrer" data-testid="open-link">${t("inbox.open")}</a>
        <${CopyButton} text=${vf.link} label=${t("inbox.copyLink")} testid="copy-link" primary=${!vf.code} /></span>`}
      ${vf.source && html`<span class="small">${t("inbox.foundIn", { source: t(`inbox.source.${vf.source}`) === `inbox.source.${vf.source}` ? vf.source : t(`inbox.source.${vf.source}`) })}</span>`}
    </div>`}
    <dl class="meta-grid">
      <dt>${t("inbox.from")}</dt><dd data-testid="reader-from">${sender(m)}</dd>
      <dt>${t("inbox.to")}</dt><dd>${people(r.to) || m.envelopeTo || m.mailboxAddress}</dd>
      ${r.cc?.length > 0 && html`<dt>${t("inbox.cc")}</dt><dd>${people(r.cc)}</dd>`}
      <dt>${t("inbox.received")}</dt><dd>${when(m.receivedAt)} · ${bytes(m.sizeBytes)}</dd>
    </dl>
    ${m.parseStatus && m.parseStatus !== "parsed" && html`<p class="alert warn">${t("inbox.partlyParsed", { status: m.parseStatus })}</p>`}
    <div class="tabs" role="tablist" aria-label=${t("inbox.viewLabel")}>
      ${views.map((x) => html`<button type="button" role="tab" aria-selected=${String(x === v)} onClick=${() => setView(x)} data-testid=${`view-${x}`}>${t(`inbox.view.${x}`)}</button>`)}
    </div>
    <div role="tabpanel" aria-label=${t(`inbox.view.${v}`)}>
      ${v === "text" && html`<pre class="body" data-testid="reader-text"><${Linkified} text=${m.text} /></pre>`}
      ${v === "html" &&
      html`${framed.remote &&
        html`<p class="images-bar small" data-testid="images-bar">${images ? t("inbox.imagesShown") : t("inbox.imagesBlocked")}
          ${!images && html` <button type="button" onClick=${() => setImages(true)} data-testid="load-images">${t("inbox.loadImages")}</button>`}</p>`}
        <${HtmlFrame} key=${String(images)} srcdoc=${framed.srcdoc} title=${t("inbox.frameTitle")} />
        <p class="small">${t("inbox.frameNote")}</p>`}
      ${v === "headers" &&
      html`<table class="hdrs" data-testid="reader-headers"><tbody>
        ${[
          [t("inbox.hdr.envelopeFrom"), m.envelopeFrom],
          [t("inbox.hdr.envelopeTo"), m.envelopeTo],
          ["Message-ID", m.messageId],
          [t("inbox.hdr.date"), m.dateHeader],
          ["Reply-To", people(r.replyTo)],
          ["Bcc", people(r.bcc)],
        ]
          .filter(([, x]) => x)
          .map(([k, x]) => html`<tr><td>${k}</td><td>${x}</td></tr>`)}
        ${(m.headers ?? []).map((h) => html`<tr><td>${h.key}</td><td>${h.value}</td></tr>`)}
      </tbody></table>`}
    </div>
    ${m.attachments?.length > 0 &&
    html`<h3>${t("inbox.attachments")}</h3>
      ${thumbs.length > 0 &&
      html`<div class="thumbs" data-testid="thumbs">
        ${thumbs.map((a) => html`<a href=${a.downloadPath} download=${a.filename ?? ""} title=${a.filename ?? ""}><img src=${a.downloadPath} alt=${a.filename ?? t("inbox.image")} loading="lazy" data-testid="thumb" /></a>`)}
      </div>`}
      <ul data-testid="attachments">
        ${m.attachments.map((a) => html`<li><a href=${a.downloadPath} download=${a.filename ?? ""}>${a.filename ?? t("inbox.unnamed")}</a> <span class="small">${a.contentType} · ${bytes(a.sizeBytes)}</span></li>`)}
      </ul>`}
    ${deleting &&
    html`<${Confirm} title=${t("inbox.deleteTitle")} action=${t("inbox.deleteAction")} onClose=${() => setDeleting(false)} onConfirm=${async () => (await api(`/messages/${m.id}`, { method: "DELETE" }), onDeleted(m.id))}>
      <p>${t("inbox.deleteBody", { subject: m.subject || t("inbox.noSubject") })}</p>
    <//>`}
  </article>`;
}
