/**
 * Domains (admin): bind an apex domain to Cloudflare, watch the catalog (every zone the token sees
 * merged with the project's records), act on rows, and read a zone's nameservers in the row and in
 * the details dialog. While a domain waits for nameserver delegation the page re-reads the
 * project's own records every 3 s (no Cloudflare call) and reloads the full catalog when a status
 * changes, so a person sees the domain turn active without reloading. Pending is a normal state;
 * a rate-limited Cloudflare leaves rows "not synced", never "missing"; each message appears once.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { need, ready, t } from "../i18n.js";
import { html, Badge, Confirm, CopyField, Dialog, ErrorBox, PageHead, Time, has, localError, num, rel, toast, useAction, useNow, when } from "../ui.js";

const DOMAIN = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
const POLL_MS = 3000;

const STATUS_KIND = { active: "ok", pending: "wait", provisioning_error: "bad", disabled: "", not_enabled: "" };
const CF_KIND = { active: "ok", pending: "wait" };
/** Failures KaisouMail retries by itself without anyone fixing anything. */
const TRANSIENT = new Set(["rate_limited", "cloudflare_unavailable"]);

const source = (d) => t(d.bindingSource === "project_bind" ? "dom.source.bind" : d.bindingSource === "catalog" ? "dom.source.catalog" : "dom.source.cfOnly");
const statusLabel = (s) => (has(`dom.status.${s}`) ? t(`dom.status.${s}`) : s);
const cfLabel = (s) => (s && has(`dom.cf.${s}`) ? t(`dom.cf.${s}`) : s ?? t("dom.cf.unknown"));
const transient = (d) => d.projectStatus === "provisioning_error" && d.nextRetryAt && TRANSIENT.has(d.lastProvisionErrorCode);

/** A countdown that keeps itself current: "in 4 seconds", then "checking now…". */
function Countdown({ iso }) {
  const now = useNow(1000);
  const left = Date.parse(iso) - now;
  return html`<span data-testid="next-check">${left > 1000 ? rel(iso, now) : left > -30000 ? t("dom.checkingNow") : t("dom.overdue", { ago: rel(iso, now) })}</span>`;
}

const mb = (n) => (n >= 1e9 ? `${num(Math.round(n / 1e7) / 100)} GB` : `${num(Math.round(n / 1e5) / 10)} MB`);

/** Storage (GET /api/admin/capacity): how full D1 is; red at the limit, amber from 80 %. */
function StorageCard() {
  const [c, setC] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api("/admin/capacity").then(setC, setError);
  }, []);
  if (error) return html`<${ErrorBox} error=${error} testid="storage-error" />`;
  if (!c) return null;
  const pct = c.d1.usedRatio === null ? null : Math.round(c.d1.usedRatio * 1000) / 10;
  const kind = c.stage === "full" || (pct ?? 0) >= 95 ? "err" : c.stage === "r2_bodies" ? "warn" : "";
  const vars = { used: c.d1.bytes === null ? "?" : mb(c.d1.bytes), cap: mb(c.d1.capacityBytes), pct: pct === null ? "?" : `${pct} %`, days: c.daysUntilFull };
  return html`<section class="card" aria-labelledby="storage-h" data-testid="storage-card" data-stage=${c.stage}>
    <div class="card-head"><h2 id="storage-h">${t("dom.storage")}</h2><span class="muted small">${t("dom.storage.summary", { messages: num(c.messages), r2: mb(c.r2.bytes), objects: num(c.r2.objects) })}</span></div>
    <p data-testid="storage-used">${pct === null ? t("dom.storage.unknown", vars) : t("dom.storage.used", vars)}${c.daysUntilFull !== null ? ` ${t("dom.storage.days", vars)}` : ""}</p>
    ${kind && html`<p class=${`alert ${kind}`} role="status">${t(c.stage === "full" ? "dom.storage.full" : "dom.storage.filling")}</p>`}
  </section>`;
}

/** A domain that is still being worked on by its automatic re-check. */
const waiting = (d) => d.projectStatus === "pending" || (d.projectStatus === "provisioning_error" && d.nextRetryAt);

/** Local DomainDTO fields laid over a catalog row (same meaning, fresher). */
const overlay = (item, dto) => ({
  ...item,
  ...Object.fromEntries(
    ["cloudflareStatus", "catchAllEnabled", "lastProvisionError", "lastProvisionErrorCode", "lastProvisionErrorHint", "nextRetryAt", "lastProvisionedAt", "disabledAt", "updatedAt", "zoneId"].map((k) => [k, dto[k] ?? item[k] ?? null]),
  ),
  id: dto.id,
  bindingSource: dto.bindingSource ?? item.bindingSource,
  nameServers: dto.nameServers?.length ? dto.nameServers : item.nameServers ?? [],
  projectStatus: dto.status,
  cloudflareAvailability: item.cloudflareAvailability ?? "available",
});

/** The nameservers to set at the registrar, each with Copy. */
const Nameservers = ({ d, testid = "row-nameserver" }) =>
  d.nameServers?.length
    ? html`<div class="ns" data-testid="row-nameservers">${d.nameServers.map((n, i) => html`<${CopyField} value=${n} label=${t("dom.nsN", { n: i + 1 })} testid=${testid} />`)}</div>`
    : html`<div class="small">${t("dom.nsNone")}</div>`;

/** The internal code and Cloudflare's own wording, behind "Details". */
const More = ({ d }) =>
  (d.lastProvisionError || d.lastProvisionErrorCode) &&
  html`<details class="more"><summary>${t("common.details")}</summary>
    ${d.lastProvisionError && html`<div data-testid="row-cf-message">${d.lastProvisionError}</div>`}
    ${d.lastProvisionErrorCode && html`<code>${d.lastProvisionErrorCode}</code>`}
  </details>`;

function StatusCell({ d }) {
  const s = d.projectStatus;
  const retrying = transient(d);
  return html`<div data-testid="project-status" data-status=${s}>
    <${Badge} kind=${retrying ? "wait" : STATUS_KIND[s] ?? ""}>${retrying ? t("dom.status.retrying") : statusLabel(s)}<//>
    ${s === "pending" &&
    html`<div class="small">${t("dom.pending.wait")} ${d.nextRetryAt ? html`<${Countdown} iso=${d.nextRetryAt} />` : t("dom.soon")}</div>
      <${Nameservers} d=${d} />`}
    ${retrying && html`<div class="small" data-testid="row-retrying">${t("dom.retrying")} <${Countdown} iso=${d.nextRetryAt} /></div><${More} d=${d} />`}
    ${s === "provisioning_error" && !retrying && d.nextRetryAt && html`<div class="small">${t("dom.autoRetry")} <${Countdown} iso=${d.nextRetryAt} /></div>`}
  </div>`;
}

/** The problem of a failed domain (not of a pending or self-retrying one: those say it in the status). */
function ProblemCell({ d }) {
  if (d.projectStatus !== "provisioning_error" || transient(d) || !d.lastProvisionError) return "—";
  const code = d.lastProvisionErrorCode;
  const text = code && has(`err.code.${code}`) ? t(`err.code.${code}`) : d.lastProvisionError;
  const hint = code && has(`err.hint.${code}`) ? t(`err.hint.${code}`) : d.lastProvisionErrorHint;
  return html`<div><div data-testid="row-problem">${text}</div>${hint && html`<div class="small fix"><span class="fix-label">${t("dom.fix")}</span> ${hint}</div>`}<${More} d=${d} /></div>`;
}

function NextSteps({ d }) {
  const ns = d.nameServers ?? [];
  if (d.projectStatus === "active")
    return html`<p>${t("dom.next.active", { domain: d.mailDomain, example: `user@mail.${d.mailDomain}` })} ${t(d.catchAllEnabled ? "dom.next.catchAllOn" : "dom.next.catchAllOff")}</p>`;
  const delegation = d.cloudflareStatus === "pending" || d.projectStatus === "pending";
  return html`
    ${delegation &&
    html`<ol class="steps">
      <li>${t("dom.next.step1", { root: d.rootDomain })}</li>
      <li>${t(ns.length ? "dom.next.step2" : "dom.next.step2none", { n: ns.length })}</li>
      <li>${t("dom.next.step3")} ${d.projectStatus === "pending"
        ? html`${t("dom.next.step3auto")}${d.nextRetryAt ? html` (${t("dom.nextCheck")} <${Countdown} iso=${d.nextRetryAt} />)` : ""}`
        : t("dom.next.step3manual")}</li>
    </ol>`}
    ${d.projectStatus === "provisioning_error" &&
    (transient(d) ? html`<p>${t("dom.retrying")} ${rel(d.nextRetryAt)}.</p>` : html`<${ProblemCell} d=${d} /><p>${t("dom.next.fixThenRetry")}</p>`)}
    ${d.projectStatus === "not_enabled" && html`<p>${t("dom.next.notEnabled")}</p>`}
    ${d.projectStatus === "disabled" && html`<p>${t("dom.next.disabled")}</p>`}`;
}

function Details({ d, unsynced, onClose }) {
  const s = d.projectStatus;
  return html`<${Dialog} title=${t("dom.details.title", { domain: d.mailDomain })} onClose=${onClose} testid="domain-details">
    <div class="badges">
      <${Badge}>${source(d)}<//>
      ${unsynced
        ? html`<${Badge}>${t("dom.cf.notSynced")}<//>`
        : html`<${Badge} kind=${d.cloudflareAvailability === "missing" ? "bad" : ""}>${t(d.cloudflareAvailability === "missing" ? "dom.cf.missingLong" : "dom.cf.visible")}<//>
            <${Badge} kind=${CF_KIND[d.cloudflareStatus] ?? ""}>${t("dom.cf.prefix")} ${cfLabel(d.cloudflareStatus)}<//>`}
      <${Badge} kind=${STATUS_KIND[s] ?? ""} testid="details-status">${t("dom.project.prefix")} ${statusLabel(s)}<//>
    </div>
    <h3>${t("dom.zoneId")}</h3>
    ${d.zoneId ? html`<${CopyField} value=${d.zoneId} label=${t("dom.zoneIdLabel")} testid="zone-id" />` : html`<p class="muted">${t("dom.zoneIdNone")}</p>`}
    <h3>${t("dom.nameservers")}</h3>
    ${d.nameServers?.length
      ? d.nameServers.map((n, i) => html`<${CopyField} value=${n} label=${t("dom.nsN", { n: i + 1 })} testid="nameserver" />`)
      : html`<p class="muted">${t("dom.nsNone")}</p>`}
    <h3>${t("dom.next")}</h3>
    <${NextSteps} d=${d} />
    <div class="actions end"><button type="button" class="primary" onClick=${onClose} data-testid="details-close">${t("dom.gotIt")}</button></div>
  <//>`;
}

function BindCard({ meta, onBound }) {
  const [value, setValue] = useState("");
  const [run, busy, error, setError] = useAction();
  const submit = (e) => {
    e.preventDefault();
    const mailDomain = value.trim().toLowerCase().replace(/\.$/, "");
    if (!DOMAIN.test(mailDomain)) return setError(localError(t("dom.bind.invalid")));
    run("bind", async () => {
      onBound(await api("/domains/bind", { method: "POST", body: { mailDomain } }));
      setValue("");
    });
  };
  const sub = error?.details?.code === "subdomain_direct_bind_not_supported" ? error.details : null;
  if (!meta?.cloudflareDomainBindingEnabled)
    return html`<section class="card" data-testid="bind-card"><h2>${t("dom.bind.title")}</h2><p class="muted">${t("dom.bind.off")}</p></section>`;
  return html`<section class="card" aria-labelledby="bind-h" data-testid="bind-card">
    <h2 id="bind-h">${t("dom.bind.title")}</h2>
    <p class="muted">${t("dom.bind.intro")}</p>
    <form class="inline" onSubmit=${submit} noValidate>
      <label for="bind-domain">${t("dom.bind.label")}</label>
      <input id="bind-domain" placeholder="example.com" autocomplete="off" spellcheck="false" value=${value} onInput=${(e) => setValue(e.target.value)} data-testid="bind-input" />
      <button class="primary" disabled=${busy} data-testid="bind-submit">${busy ? t("dom.bind.busy") : t("dom.bind.submit")}</button>
    </form>
    ${sub
      ? html`<div class="alert warn" role="alert" data-testid="bind-subdomain">
          <strong>${t("err.code.subdomain_direct_bind_not_supported")}</strong>
          <div>${t("dom.bind.sub1")} <strong data-testid="recommended-apex">${sub.recommendedApex}</strong> ${t("dom.bind.sub2")} <strong data-testid="recommended-subdomain">${sub.recommendedMailboxSubdomain}</strong> ${t("dom.bind.sub3", { example: `user@${sub.mailDomain}` })}</div>
          <button type="button" onClick=${() => (setValue(sub.recommendedApex), setError(null))}>${t("dom.bind.use", { domain: sub.recommendedApex })}</button>
          <details class="more"><summary>${t("common.details")}</summary><div>${error.message}</div><code>${sub.code}</code></details>
        </div>`
      : html`<${ErrorBox} error=${error} testid="bind-error" />`}
  </section>`;
}

/** What a confirmed action changes, said before it is done. */
const CONFIRMS = {
  catchOn: ["dom.confirm.catchOn.title", "dom.confirm.catchOn.body", "dom.act.catchOn", false],
  catchOff: ["dom.confirm.catchOff.title", "dom.confirm.catchOff.body", "dom.act.catchOff", false],
  disable: ["dom.confirm.disable.title", "dom.confirm.disable.body", "dom.act.disable", true],
};

function RowActions({ d, meta, unsynced, sync, refresh, onDetails, onDelete }) {
  const [run, busy, error] = useAction();
  const [asking, setAsking] = useState(null);
  const domain = d.mailDomain;
  const call = async (path, body) => {
    const dto = await api(path, { method: "POST", body });
    await refresh();
    return dto;
  };
  const post = (label, path, body, done) => () => run(label, async () => toast(done(await call(path, body))));
  const s = d.projectStatus;
  const mgmt = meta?.cloudflareCatchAllManagementEnabled;
  const b = (label, testid, onClick, cls = "") =>
    html`<button type="button" class=${cls} disabled=${!!busy} onClick=${onClick} aria-label=${`${label} ${domain}`} data-testid=${testid}>${busy === label ? `${label}…` : label}</button>`;
  // Inside the normal wait of a pending zone, Retry is secondary: the re-check runs by itself.
  const inWait = s === "pending" || transient(d);
  const retried = (dto) => t(dto?.status === "active" ? "dom.toast.active" : dto?.status === "pending" ? "dom.toast.stillPending" : "dom.toast.retried", { domain });
  const enable = s === "disabled" ? t("dom.act.reenable") : t("dom.act.enable");
  const paths = { catchOn: `/domains/${d.id}/catch-all/enable`, catchOff: `/domains/${d.id}/catch-all/disable`, disable: `/domains/${d.id}/disable` };
  const toasts = { catchOn: "dom.toast.catchOn", catchOff: "dom.toast.catchOff", disable: "dom.toast.disabled" };
  return html`<div class="actions">
      ${b(t("dom.act.details"), "domain-details-open", onDetails)}
      ${(d.cloudflareAvailability === "available" || unsynced || unseen(d, sync)) && d.zoneId && (s === "not_enabled" || s === "disabled") &&
      b(enable, "domain-enable", post(enable, "/domains", { mailDomain: domain, zoneId: d.zoneId }, () => t("dom.toast.enabled", { domain })), "primary")}
      ${d.id && (s === "pending" || s === "provisioning_error") && b(t("dom.act.retry"), "domain-retry", post(t("dom.act.retry"), `/domains/${d.id}/retry`, undefined, retried), inWait ? "ghost" : "primary")}
      ${d.id && s === "active" && mgmt && !d.catchAllEnabled && meta.cloudflareCatchAllEnablementEnabled && b(t("dom.act.catchOn"), "catchall-enable", () => setAsking("catchOn"))}
      ${d.id && s === "active" && mgmt && d.catchAllEnabled && b(t("dom.act.catchOff"), "catchall-disable", () => setAsking("catchOff"))}
      ${d.id && (s === "active" || s === "pending" || s === "provisioning_error") && b(t("dom.act.disable"), "domain-disable", () => setAsking("disable"))}
      ${d.id && d.bindingSource === "project_bind" && meta?.cloudflareDomainLifecycleEnabled && b(t("dom.act.delete"), "domain-delete", onDelete, "danger")}
    </div>
    <${ErrorBox} error=${error} testid="row-error" />
    ${asking &&
    html`<${Confirm} title=${t(CONFIRMS[asking][0], { domain })} action=${t(CONFIRMS[asking][2])} danger=${CONFIRMS[asking][3]} onClose=${() => setAsking(null)} onConfirm=${async () => (await call(paths[asking]), toast(t(toasts[asking], { domain })))} testid=${`confirm-${asking}`}>
      <p>${t(CONFIRMS[asking][1], { domain })}</p>
    <//>`}`;
}

function CatchAll({ d, meta }) {
  const hint =
    d.projectStatus !== "active" ? t("dom.catch.activeOnly") : !meta?.cloudflareCatchAllManagementEnabled ? t("dom.catch.mgmtOff") : !meta.cloudflareCatchAllEnablementEnabled && !d.catchAllEnabled ? t("dom.catch.noWorker") : d.catchAllEnabled ? t("dom.catch.offRestores") : "";
  return html`<div><span data-testid="catchall" data-on=${String(!!d.catchAllEnabled)}><${Badge} kind=${d.catchAllEnabled ? "ok" : ""}>${t(d.catchAllEnabled ? "common.on" : "common.off")}<//></span>${hint && html`<div class="small">${hint}</div>`}</div>`;
}

/** A row the cached zone list cannot know yet: added here after Cloudflare's zones were last read. */
const unseen = (d, sync) => d.cloudflareAvailability === "missing" && d.id && d.createdAt && sync?.syncedAt && Date.parse(d.createdAt) > Date.parse(sync.syncedAt);

function CloudflareCell({ d, unsynced, sync }) {
  if (unseen(d, sync)) return html`<${Badge} testid="cf-not-synced" title=${t("dom.cf.newerTitle")}>${t("dom.cf.notSynced")}<//>`;
  if (unsynced)
    return html`<${Badge} testid="cf-not-synced" title=${t("dom.cf.notSyncedTitle", { when: when(sync.retryAfter) })}>${t("dom.cf.notSynced")}<//>${sync?.retryAfter && html`<div class="small">${t("dom.cf.syncsAt", { when: rel(sync.retryAfter) })}</div>`}`;
  if (d.cloudflareAvailability === "missing") return html`<${Badge} kind="bad">${t("dom.cf.missing")}<//>`;
  return html`<${Badge} kind=${CF_KIND[d.cloudflareStatus] ?? ""}>${cfLabel(d.cloudflareStatus)}<//>`;
}

export default function DomainsPage({ meta, reloadMeta }) {
  const [cat, setCat] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [detail, setDetail] = useState(null);
  const [deleting, setDeleting] = useState(null);
  useNow(1000);

  // `force`: the Refresh button lists Cloudflare's zones now; otherwise the server's cached list
  // (at most a minute old, refreshed in the background) answers. Every page is followed.
  const load = useCallback(async (force = false) => {
    try {
      let c = await api("/domains/catalog", { query: { refresh: force ? "true" : undefined } });
      for (let next = c.nextCursor; next; ) {
        const more = await api("/domains/catalog", { query: { cursor: next } });
        c = { ...c, domains: [...c.domains, ...more.domains] };
        next = more.nextCursor;
      }
      setCat(c);
      setLoadError(null);
    } catch (e) {
      setLoadError(e);
    }
  }, []);
  const refresh = async () => (await load(), reloadMeta());
  useEffect(() => void load(), []);

  const catRef = useRef();
  catRef.current = cat;
  const items = cat?.domains ?? [];
  // Problems are said in the page's language from the error texts, fetched only when a row has one.
  const [, textsLoaded] = useState(0);
  const anyProblem = items.some((d) => d.projectStatus === "provisioning_error" && !transient(d) && d.lastProvisionErrorCode);
  useEffect(() => {
    if (anyProblem && !ready("errors")) need("errors").then(() => textsLoaded((n) => n + 1), () => {});
  }, [anyProblem]);
  const anyWaiting = items.some(waiting);
  useEffect(() => {
    if (!anyWaiting) return;
    const timer = setInterval(async () => {
      if (document.hidden) return;
      try {
        const { domains } = await api("/domains");
        const c = catRef.current;
        let changed = false;
        const next = c.domains.map((it) => {
          const dto = it.id && domains.find((x) => x.id === it.id);
          if (!dto) return it;
          if (dto.status !== it.projectStatus) changed = true;
          return overlay(it, dto);
        });
        setCat({ ...c, domains: next });
        setLoadError(null);
        if (changed) refresh();
      } catch (e) {
        setLoadError(e);
      }
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [anyWaiting]);

  // While Cloudflare is cooling down, read the catalog again once the cooldown is over. Keyed on
  // the retry time itself: the 3 s poll of pending rows replaces `cat` and must not push it back.
  const cooldown = cat?.cloudflareSync?.status === "rate_limited" ? cat.cloudflareSync.retryAfterSeconds ?? 60 : 0;
  const retryAt = cooldown ? cat.cloudflareSync.retryAfter ?? null : null;
  useEffect(() => {
    if (!cooldown) return;
    const due = retryAt ? Date.parse(retryAt) - Date.now() : cooldown * 1000;
    const timer = setTimeout(() => load(true), Math.max(0, due) + 500);
    return () => clearTimeout(timer);
  }, [retryAt, cooldown]);

  const onBound = (dto) => {
    setCat((c) => (c && !c.domains.some((x) => x.mailDomain === dto.mailDomain) ? { ...c, domains: [overlay({ mailDomain: dto.mailDomain, rootDomain: dto.rootDomain }, dto), ...c.domains] } : c));
    setDetail(dto.mailDomain);
    toast(t(dto.status === "active" ? "dom.toast.boundActive" : "dom.toast.bound", { domain: dto.mailDomain }));
    refresh();
  };

  const sync = cat?.cloudflareSync;
  const unsynced = sync?.status === "rate_limited";
  const current = detail && items.find((x) => x.mailDomain === detail);
  const counts = {
    cf: num(items.filter((d) => d.cloudflareAvailability === "available").length),
    project: num(items.filter((d) => d.id && d.projectStatus !== "not_enabled").length),
    bound: num(items.filter((d) => d.bindingSource === "project_bind").length),
  };
  return html`
    <${PageHead} title=${t("nav.domains")} />
    <${StorageCard} />
    <${BindCard} meta=${meta} onBound=${onBound} />
    ${unsynced &&
    html`<div class="alert warn" role="status" data-testid="rate-limited">
      <strong>${t("dom.rl.title")}</strong> ${t("dom.rl.body", { when: sync.retryAfter ? rel(sync.retryAfter) : rel(Date.now() + cooldown * 1000) })}
      <button type="button" onClick=${load}>${t("dom.rl.retry")}</button>
    </div>`}
    ${sync?.status === "disabled" && html`<div class="alert" role="status">${t("dom.mgmtOff")}</div>`}
    <section class="card" aria-labelledby="cat-h">
      <div class="card-head">
        <h2 id="cat-h">${t("dom.catalog")}</h2>
        <span class="muted small" data-testid="catalog-counts">${unsynced ? t("dom.counts.unsynced", counts) : t("dom.counts", counts)}</span>
        <button type="button" class="ghost" onClick=${() => load(true)} data-testid="catalog-refresh">${t("common.refresh")}</button>
      </div>
      <${ErrorBox} error=${loadError} testid="catalog-error" />
      ${!cat && !loadError && html`<p class="muted">${t("dom.catalogLoading")}</p>`}
      ${cat && !items.length && html`<p class="muted" data-testid="catalog-empty">${t("dom.empty")}</p>`}
      ${items.length > 0 &&
      html`<table class="rows" data-testid="catalog">
        <thead><tr><th>${t("dom.col.domain")}</th><th>${t("dom.col.source")}</th><th>${t("dom.col.cloudflare")}</th><th>${t("dom.col.status")}</th><th>${t("dom.col.catchAll")}</th><th>${t("dom.col.provisioned")}</th><th>${t("dom.col.problem")}</th><th><span class="sr">${t("common.actions")}</span></th></tr></thead>
        <tbody>
          ${items.map(
            (d) => html`<tr key=${d.mailDomain} data-testid="domain-row" data-domain=${d.mailDomain}>
              <td data-label=${t("dom.col.domain")}><strong>${d.mailDomain}</strong></td>
              <td data-label=${t("dom.col.source")}><${Badge}>${source(d)}<//></td>
              <td data-label=${t("dom.col.cloudflare")}><${CloudflareCell} d=${d} unsynced=${unsynced} sync=${sync} /></td>
              <td data-label=${t("dom.col.status")}><${StatusCell} d=${d} /></td>
              <td data-label=${t("dom.col.catchAll")}><${CatchAll} d=${d} meta=${meta} /></td>
              <td data-label=${t("dom.col.provisioned")}><${Time} iso=${d.lastProvisionedAt} past /></td>
              <td data-label=${t("dom.col.problem")} class="errcell"><${ProblemCell} d=${d} /></td>
              <td class="act"><${RowActions} d=${d} meta=${meta} unsynced=${unsynced} sync=${sync} refresh=${refresh} onDetails=${() => setDetail(d.mailDomain)} onDelete=${() => setDeleting(d)} /></td>
            </tr>`,
          )}
        </tbody>
      </table>`}
    </section>
    ${current && html`<${Details} d=${current} unsynced=${unsynced || unseen(current, sync)} onClose=${() => setDetail(null)} />`}
    ${deleting &&
    html`<${Confirm} title=${t("dom.confirm.delete.title", { domain: deleting.mailDomain })} action=${t("dom.confirm.delete.action")} onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/domains/${deleting.id}/delete`, { method: "POST" }), toast(t("dom.toast.deleted", { domain: deleting.mailDomain })), await refresh())} testid="delete-domain">
      <p>${t("dom.confirm.delete.body", { domain: deleting.mailDomain })}</p>
    <//>`}`;
}
