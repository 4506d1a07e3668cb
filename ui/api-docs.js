/**
 * The API reference page (/api/docs): renders /api/openapi.json with the page's vendored Preact +
 * htm. It works offline and is not part of the app's first load. Its own labels follow the page's
 * language (ui/i18n.js); the API's summaries are the server's, in English.
 */
import { h, render } from "/vendor/preact.module.js";
import htm from "/vendor/htm.module.js";
import { loadLang, need, t } from "/i18n.js";

const html = htm.bind(h);
const METHOD_CLASS = { get: "ok", post: "warn", patch: "warn", put: "warn", delete: "bad" };

function Schema({ schema }) {
  if (!schema) return null;
  return html`<pre class="schema">${JSON.stringify(schema, null, 2).replace(/"#\/components\/schemas\/([A-Za-z0-9]+)"/g, '"→ $1"')}</pre>`;
}

function Operation({ method, path, op }) {
  const id = op.operationId;
  return html`<section class="card" id=${id} style="margin-bottom:1rem">
    <h3 style="margin-top:0"><span class=${`badge ${METHOD_CLASS[method] ?? ""}`}>${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${op.summary}</p>
    ${op.description && html`<p class="muted">${op.description}</p>`}
    <p class="small">${t("docs.access")} <b>${op["x-kaisoumail-access"]}</b>${op["x-kaisoumail-scope"] !== "any" ? html` · ${t("docs.scope")} <code>${op["x-kaisoumail-scope"]}</code>` : ""}</p>
    ${op.parameters?.length > 0 &&
    html`<h4>${t("docs.params")}</h4><table><thead><tr><th>${t("docs.name")}</th><th>${t("docs.in")}</th><th>${t("docs.required")}</th><th>${t("docs.schema")}</th></tr></thead><tbody>
      ${op.parameters.map((p) => html`<tr><td><code>${p.name}</code>${p.description ? html`<div class="small">${p.description}</div>` : ""}</td><td>${p.in}</td><td>${p.required ? t("common.yes") : t("common.no")}</td><td><code>${JSON.stringify(p.schema)}</code></td></tr>`)}
    </tbody></table>`}
    ${op.requestBody && html`<h4>${t("docs.body")} (application/json)</h4><${Schema} schema=${op.requestBody.content["application/json"].schema} />`}
    <h4>${t("docs.responses")}</h4>
    <ul>
      ${Object.entries(op.responses).map(([status, r]) => {
        const [type, content] = Object.entries(r.content ?? {})[0] ?? [];
        return html`<li><b>${status}</b> ${r.description}${type ? html` <span class="small">(${type})</span>` : ""}
          ${content?.schema && status < 400 ? html`<details><summary>${t("docs.schema")}</summary><${Schema} schema=${content.schema} /></details>` : ""}</li>`;
      })}
    </ul>
  </section>`;
}

function Reference({ doc }) {
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? "other"))];
  return html`<main style="max-width:980px;margin:0 auto;padding:1rem">
    <h1>${doc.info.title} <span class="small">v${doc.info.version}</span></h1>
    <p>${doc.info.description}</p>
    <p class="small">${t("docs.machine")} <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${doc.openapi}). ${t("docs.auth")} <code>Authorization: Bearer km_…</code></p>
    <nav class="card" style="margin-bottom:1rem">${tags.map((t) => html`<div><b>${t}</b>: ${ops.filter((o) => (o.op.tags?.[0] ?? "other") === t).map((o) => html`<a href=${`#${o.op.operationId}`} style="margin-right:.6rem">${o.method.toUpperCase()} ${o.path}</a>`)}</div>`)}</nav>
    ${ops.map((o) => html`<${Operation} ...${o} />`)}
    <h2>${t("docs.schemas")}</h2>
    ${Object.entries(doc.components.schemas).map(([name, s]) => html`<section class="card" id=${`schema-${name}`} style="margin-bottom:1rem"><h3 style="margin-top:0">${name}</h3><${Schema} schema=${s} /></section>`)}
  </main>`;
}

Promise.all([loadLang().then(() => need("docs")).catch(() => "en"), fetch("/api/openapi.json").then((r) => r.json())])
  .then(([, doc]) => render(html`<${Reference} doc=${doc} />`, document.getElementById("app")))
  .catch((e) => render(html`<p class="alert">${t("docs.failed")} ${String(e)}</p>`, document.getElementById("app")));
