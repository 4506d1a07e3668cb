/**
 * Domains (admin): bind an apex domain to Cloudflare, watch the catalog (every zone the token sees
 * merged with the project's records), act on rows, and read a zone's nameservers in the details
 * dialog. While a domain waits for nameserver delegation the page re-reads the project's own
 * records every 3 s (no Cloudflare call) and reloads the full catalog when a status changes, so
 * a person sees the domain turn active without reloading.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { html, Badge, Confirm, CopyField, Dialog, ErrorBox, PageHead, Time, dur, useAction, useNow, when } from "../ui.js";

const DOMAIN = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
const POLL_MS = 3000;

const SOURCE = { project_bind: "Project bind", catalog: "Catalog" };
const STATUS = {
  active: ["ok", "Active"],
  pending: ["wait", "Pending"],
  provisioning_error: ["bad", "Provisioning error"],
  disabled: ["", "Disabled"],
  not_enabled: ["", "Not enabled"],
};
const CF_KIND = { active: "ok", pending: "wait" };

/** A countdown that keeps itself current: "in 4 s", then "now". */
function Countdown({ iso }) {
  const now = useNow(1000);
  const left = Date.parse(iso) - now;
  return html`<span data-testid="next-check">${left > 1000 ? `in ${dur(left)}` : left > -30000 ? "now…" : `overdue (was due ${dur(-left)} ago)`}</span>`;
}

const mb = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);

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
  return html`<section class="card" aria-labelledby="storage-h" data-testid="storage-card" data-stage=${c.stage}>
    <div class="card-head"><h2 id="storage-h">Storage</h2><span class="muted small">${c.messages} messages · R2 ${mb(c.r2.bytes)} in ${c.r2.objects} objects</span></div>
    <p data-testid="storage-used">D1 ${pct === null ? "size unknown" : html`<strong>${pct} %</strong> full`} (${c.d1.bytes === null ? "?" : mb(c.d1.bytes)} of ${mb(c.d1.capacityBytes)})${c.daysUntilFull !== null ? ` · full in about ${c.daysUntilFull} days at the current rate` : ""}.</p>
    ${kind &&
    html`<p class=${`alert ${kind}`} role="status">${c.stage === "full"
      ? "The database is full: incoming mail is refused (senders retry later). Lower MESSAGE_RETENTION_DAYS or MAX_MESSAGES_PER_MAILBOX, destroy large mailboxes, or raise D1_CAPACITY_BYTES on a paid plan."
      : "The database is filling up: new message bodies go to R2 only and the cron moves old ones out."}</p>`}
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

function StatusCell({ d }) {
  const [kind, label] = STATUS[d.projectStatus] ?? ["", d.projectStatus];
  return html`<div data-testid="project-status" data-status=${d.projectStatus}>
    <${Badge} kind=${kind}>${label}<//>
    ${d.projectStatus === "pending" && html`<div class="small">Waiting for nameservers — next automatic check ${d.nextRetryAt ? html`<${Countdown} iso=${d.nextRetryAt} />` : "soon"}</div>`}
    ${d.projectStatus === "provisioning_error" && d.nextRetryAt && html`<div class="small">Automatic retry <${Countdown} iso=${d.nextRetryAt} /></div>`}
  </div>`;
}

function NextSteps({ d }) {
  const ns = d.nameServers ?? [];
  if (d.projectStatus === "active")
    return html`<p>Domain connected. New mailboxes can use <strong>${d.mailDomain}</strong>, e.g. <code>user@mail.${d.mailDomain}</code>. Catch-all is ${d.catchAllEnabled ? "on: mail to unknown addresses lands in long-lived catch-all mailboxes" : "off"}.</p>`;
  const delegation = d.cloudflareStatus === "pending" || d.projectStatus === "pending";
  return html`
    ${delegation &&
    html`<ol class="steps">
      <li>Sign in at the registrar where <strong>${d.rootDomain}</strong> is registered.</li>
      <li>Replace its nameservers with ${ns.length ? `the ${ns.length === 2 ? "two" : ns.length} above` : "the ones Cloudflare assigns"}, exactly as shown, and remove any others. KaisouMail never changes registrar records for you.</li>
      <li>Wait for delegation (usually minutes, at most 24 hours). ${d.projectStatus === "pending"
        ? html`KaisouMail re-checks automatically${d.nextRetryAt ? html` (next check <${Countdown} iso=${d.nextRetryAt} />)` : ""} and enables Email Routing as soon as Cloudflare reports the zone active; there is no need to click Retry.`
        : "Then enable the domain (or click Retry) on this page."}</li>
    </ol>`}
    ${d.projectStatus === "provisioning_error" && html`<p><strong>${d.lastProvisionError}</strong>${d.lastProvisionErrorHint ? html` — ${d.lastProvisionErrorHint}` : ""} Fix the cause, then click Retry.</p>`}
    ${d.projectStatus === "not_enabled" && html`<p>This zone exists in Cloudflare but KaisouMail does not use it yet. Click <strong>Enable</strong> in its row to turn on Email Routing for it.</p>`}
    ${d.projectStatus === "disabled" && html`<p>Disabled: no new mailboxes are created here; existing mailboxes keep receiving mail. Click <strong>Enable</strong> to provision it again.</p>`}`;
}

function Details({ d, onClose }) {
  const [kind, label] = STATUS[d.projectStatus] ?? ["", d.projectStatus];
  return html`<${Dialog} title=${`Domain details — ${d.mailDomain}`} onClose=${onClose} testid="domain-details">
    <div class="badges">
      <${Badge}>${SOURCE[d.bindingSource] ?? "Cloudflare only"}<//>
      <${Badge} kind=${d.cloudflareAvailability === "missing" ? "bad" : ""}>${d.cloudflareAvailability === "missing" ? "Not visible in Cloudflare" : "Visible in Cloudflare"}<//>
      <${Badge} kind=${CF_KIND[d.cloudflareStatus] ?? ""}>Cloudflare: ${d.cloudflareStatus ?? "unknown"}<//>
      <${Badge} kind=${kind} testid="details-status">Project: ${label}<//>
    </div>
    <h3>Zone ID</h3>
    ${d.zoneId ? html`<${CopyField} value=${d.zoneId} label="zone ID" testid="zone-id" />` : html`<p class="muted">Not visible to the current Cloudflare token.</p>`}
    <h3>Nameservers</h3>
    ${d.nameServers?.length
      ? d.nameServers.map((n, i) => html`<${CopyField} value=${n} label=${`nameserver ${i + 1}`} testid="nameserver" />`)
      : html`<p class="muted">Cloudflare has not reported nameservers for this zone yet.</p>`}
    <h3>What to do next</h3>
    <${NextSteps} d=${d} />
    <div class="actions end"><button type="button" class="primary" onClick=${onClose} data-testid="details-close">Got it</button></div>
  <//>`;
}

function BindCard({ meta, onBound }) {
  const [value, setValue] = useState("");
  const [run, busy, error, setError] = useAction();
  const submit = (e) => {
    e.preventDefault();
    const mailDomain = value.trim().toLowerCase().replace(/\.$/, "");
    if (!DOMAIN.test(mailDomain)) return setError({ message: "Enter a valid domain, e.g. example.com", details: null });
    run("bind", async () => {
      onBound(await api("/domains/bind", { method: "POST", body: { mailDomain } }));
      setValue("");
    });
  };
  const sub = error?.details?.code === "subdomain_direct_bind_not_supported" ? error.details : null;
  if (!meta?.cloudflareDomainBindingEnabled)
    return html`<section class="card" data-testid="bind-card"><h2>Bind a new domain</h2><p class="muted">Direct binding is off: it needs Cloudflare management (<code>EMAIL_ROUTING_MANAGEMENT_ENABLED=true</code> and a runtime token) and <code>CLOUDFLARE_ACCOUNT_ID</code> in the Worker's settings. Zones already in Cloudflare can still be enabled from the catalog below.</p></section>`;
  return html`<section class="card" aria-labelledby="bind-h" data-testid="bind-card">
    <h2 id="bind-h">Bind a new domain</h2>
    <p class="muted">KaisouMail creates the Cloudflare zone and enables Email Routing once the zone is active. Binding is <strong>apex-only</strong>: enter the registered domain (<code>example.com</code>), not a subdomain. For addresses like <code>user@mail.example.com</code>, bind <code>example.com</code> and use subdomain <code>mail</code> when creating mailboxes.</p>
    <form class="inline" onSubmit=${submit} noValidate>
      <label for="bind-domain">Apex domain</label>
      <input id="bind-domain" placeholder="example.com" autocomplete="off" spellcheck="false" value=${value} onInput=${(e) => setValue(e.target.value)} data-testid="bind-input" />
      <button class="primary" disabled=${busy} data-testid="bind-submit">${busy ? "Binding…" : "Bind to Cloudflare"}</button>
    </form>
    ${sub
      ? html`<div class="alert warn" role="alert" data-testid="bind-subdomain">
          <strong>${error.message}</strong> <code>${sub.code}</code>
          <div>Bind <strong data-testid="recommended-apex">${sub.recommendedApex}</strong> instead, then create mailboxes with subdomain <strong data-testid="recommended-subdomain">${sub.recommendedMailboxSubdomain}</strong> to receive mail at <code>user@${sub.mailDomain}</code>.</div>
          <button type="button" onClick=${() => (setValue(sub.recommendedApex), setError(null))}>Use ${sub.recommendedApex}</button>
        </div>`
      : html`<${ErrorBox} error=${error} testid="bind-error" />`}
  </section>`;
}

function RowActions({ d, meta, refresh, onDetails, onDelete }) {
  const [run, busy, error] = useAction();
  const post = (label, path, body) => () => run(label, async () => (await api(path, { method: "POST", body }), await refresh()));
  const s = d.projectStatus;
  const mgmt = meta?.cloudflareCatchAllManagementEnabled;
  const b = (label, testid, onClick, cls = "") =>
    html`<button type="button" class=${cls} disabled=${!!busy} onClick=${onClick} aria-label=${`${label} ${d.mailDomain}`} data-testid=${testid}>${busy === label ? `${label}…` : label}</button>`;
  return html`<div class="actions">
      ${b("Details", "domain-details-open", onDetails)}
      ${d.cloudflareAvailability === "available" && d.zoneId && (s === "not_enabled" || s === "disabled") &&
      b(s === "disabled" ? "Re-enable" : "Enable", "domain-enable", post(s === "disabled" ? "Re-enable" : "Enable", "/domains", { mailDomain: d.mailDomain, zoneId: d.zoneId }), "primary")}
      ${d.id && (s === "pending" || s === "provisioning_error") && b("Retry", "domain-retry", post("Retry", `/domains/${d.id}/retry`))}
      ${d.id && s === "active" && mgmt && !d.catchAllEnabled && meta.cloudflareCatchAllEnablementEnabled && b("Catch-all on", "catchall-enable", post("Catch-all on", `/domains/${d.id}/catch-all/enable`))}
      ${d.id && s === "active" && mgmt && d.catchAllEnabled && b("Catch-all off", "catchall-disable", post("Catch-all off", `/domains/${d.id}/catch-all/disable`))}
      ${d.id && (s === "active" || s === "pending" || s === "provisioning_error") && b("Disable", "domain-disable", post("Disable", `/domains/${d.id}/disable`))}
      ${d.id && d.bindingSource === "project_bind" && meta?.cloudflareDomainLifecycleEnabled && b("Delete", "domain-delete", onDelete, "danger")}
    </div>
    <${ErrorBox} error=${error} testid="row-error" />`;
}

function CatchAll({ d, meta }) {
  const hint =
    d.projectStatus !== "active" ? "Active domains only" : !meta?.cloudflareCatchAllManagementEnabled ? "Cloudflare management is off" : !meta.cloudflareCatchAllEnablementEnabled && !d.catchAllEnabled ? "EMAIL_WORKER_NAME is not set" : d.catchAllEnabled ? "Off restores the earlier rule" : "";
  return html`<div><span data-testid="catchall" data-on=${String(!!d.catchAllEnabled)}><${Badge} kind=${d.catchAllEnabled ? "ok" : ""}>${d.catchAllEnabled ? "On" : "Off"}<//></span>${hint && html`<div class="small">${hint}</div>`}</div>`;
}

export default function DomainsPage({ meta, reloadMeta }) {
  const [cat, setCat] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [detail, setDetail] = useState(null);
  const [deleting, setDeleting] = useState(null);

  const load = useCallback(async () => {
    try {
      const c = await api("/domains/catalog");
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
  const anyWaiting = items.some(waiting);
  useEffect(() => {
    if (!anyWaiting) return;
    const t = setInterval(async () => {
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
    return () => clearInterval(t);
  }, [anyWaiting]);

  // While Cloudflare is cooling down, read the catalog again once the cooldown is over.
  const cooldown = cat?.cloudflareSync?.status === "rate_limited" ? cat.cloudflareSync.retryAfterSeconds ?? 60 : 0;
  useEffect(() => {
    if (!cooldown) return;
    const t = setTimeout(load, cooldown * 1000 + 500);
    return () => clearTimeout(t);
  }, [cat]);

  const onBound = (dto) => {
    setCat((c) => (c && !c.domains.some((x) => x.mailDomain === dto.mailDomain) ? { ...c, domains: [overlay({ mailDomain: dto.mailDomain, rootDomain: dto.rootDomain }, dto), ...c.domains] } : c));
    setDetail(dto.mailDomain);
    refresh();
  };

  const sync = cat?.cloudflareSync;
  const current = detail && items.find((x) => x.mailDomain === detail);
  const pendingCount = items.filter((d) => d.projectStatus === "pending").length;
  return html`
    <${PageHead} title="Domains" />
    <${StorageCard} />
    <${BindCard} meta=${meta} onBound=${onBound} />
    ${sync?.status === "rate_limited" &&
    html`<div class="alert warn" role="status" data-testid="rate-limited">
      <strong>Cloudflare API is rate limited.</strong> The catalog shows the project's own records; it syncs with Cloudflare again by itself ${sync.retryAfter ? html`at ${when(sync.retryAfter)}` : `in ${dur(cooldown * 1000)}`}.
      <button type="button" onClick=${load}>Retry now</button>
    </div>`}
    ${sync?.status === "disabled" && html`<div class="alert" role="status">Cloudflare management is off, so only the project's own records are listed.</div>`}
    <section class="card" aria-labelledby="cat-h">
      <div class="card-head">
        <h2 id="cat-h">Cloudflare domain catalog</h2>
        <span class="muted small" data-testid="catalog-counts">${items.filter((d) => d.cloudflareAvailability === "available").length} in Cloudflare · ${items.filter((d) => d.id && d.projectStatus !== "not_enabled").length} in the project · ${items.filter((d) => d.bindingSource === "project_bind").length} bound by the project</span>
        <button type="button" class="ghost" onClick=${load}>Refresh</button>
      </div>
      ${pendingCount > 0 && html`<p class="alert wait" role="status">${pendingCount} domain${pendingCount > 1 ? "s are" : " is"} waiting for nameserver delegation. Open <strong>Details</strong> for the nameservers to set at the registrar; this table updates by itself.</p>`}
      <${ErrorBox} error=${loadError} testid="catalog-error" />
      ${!cat && !loadError && html`<p class="muted">Loading the catalog…</p>`}
      ${cat && !items.length && html`<p class="muted" data-testid="catalog-empty">No domains yet. Bind one above, or add a zone in Cloudflare and refresh.</p>`}
      ${items.length > 0 &&
      html`<table class="rows" data-testid="catalog">
        <thead><tr><th>Domain</th><th>Source</th><th>Cloudflare</th><th>Project status</th><th>Catch-all</th><th>Last provisioned</th><th>Error</th><th><span class="sr">Actions</span></th></tr></thead>
        <tbody>
          ${items.map(
            (d) => html`<tr key=${d.mailDomain} data-testid="domain-row" data-domain=${d.mailDomain}>
              <td data-label="Domain"><strong>${d.mailDomain}</strong></td>
              <td data-label="Source"><${Badge}>${SOURCE[d.bindingSource] ?? "Cloudflare only"}<//></td>
              <td data-label="Cloudflare">${d.cloudflareAvailability === "missing" ? html`<${Badge} kind="bad">Not visible<//>` : html`<${Badge} kind=${CF_KIND[d.cloudflareStatus] ?? ""}>${d.cloudflareStatus ?? "unknown"}<//>`}</td>
              <td data-label="Project"><${StatusCell} d=${d} /></td>
              <td data-label="Catch-all"><${CatchAll} d=${d} meta=${meta} /></td>
              <td data-label="Provisioned"><${Time} iso=${d.lastProvisionedAt} past /></td>
              <td data-label="Error" class="errcell">${d.lastProvisionError
                ? html`<div><div data-testid="row-problem">${d.lastProvisionError}${d.lastProvisionErrorCode && html` <code>${d.lastProvisionErrorCode}</code>`}</div>${d.lastProvisionErrorHint && html`<div class="small fix">${d.lastProvisionErrorHint}</div>`}</div>`
                : "—"}</td>
              <td class="act"><${RowActions} d=${d} meta=${meta} refresh=${refresh} onDetails=${() => setDetail(d.mailDomain)} onDelete=${() => setDeleting(d)} /></td>
            </tr>`,
          )}
        </tbody>
      </table>`}
    </section>
    ${current && html`<${Details} d=${current} onClose=${() => setDetail(null)} />`}
    ${deleting &&
    html`<${Confirm} title=${`Delete ${deleting.mailDomain}?`} action="Delete domain" onClose=${() => setDeleting(null)} onConfirm=${async () => (await api(`/domains/${deleting.id}/delete`, { method: "POST" }), await refresh())} testid="delete-domain">
      <p>KaisouMail deletes the zone <strong>${deleting.mailDomain}</strong> from Cloudflare and soft-deletes its record. Mailboxes on this domain that are not destroyed block the deletion; delete them first.</p>
    <//>`}`;
}
