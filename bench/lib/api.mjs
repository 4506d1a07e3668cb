// Small JSON helpers for setting up data through the real API and the simulator's control API.

export async function call(base, method, path, { key, body, headers = {} } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

export async function must(promise, what, ok = (s) => s >= 200 && s < 300) {
  const r = await promise;
  if (!ok(r.status)) throw new Error(`${what} failed: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
  return r.body;
}

/** Creates an active zone in the simulator ("added in the dashboard") and returns its id. */
export async function simZone(simUrl, name, status = "active") {
  return (await must(call(simUrl, "POST", "/__sim/zones", { body: { name, status } }), `sim zone ${name}`)).id;
}

/** Enables an existing active zone from the catalog; resolves to the domain record. */
export async function enableDomain(app, name) {
  const zoneId = await simZone(app.simUrl, name);
  return must(call(app.url, "POST", "/api/domains", { key: app.adminKey, body: { mailDomain: name, zoneId } }), `enable ${name}`);
}

export async function createMailbox(app, { localPart, subdomain, domain, expiresInMinutes = null }) {
  return must(
    call(app.url, "POST", "/api/mailboxes", { key: app.adminKey, body: { localPart, subdomain, mailDomain: domain, expiresInMinutes } }),
    `create mailbox ${localPart}@${subdomain}.${domain}`,
  );
}

export async function simRequests(simUrl) {
  const body = await must(call(simUrl, "GET", "/__sim/requests"), "sim request log");
  return Array.isArray(body) ? body : (body.requests ?? []);
}
export const clearSimRequests = (simUrl) => must(call(simUrl, "DELETE", "/__sim/requests"), "clear sim log");
