/**
 * The page's only door to the server: same-origin JSON calls to /api/*. The session is the
 * HttpOnly cookie the server sets, so nothing secret is ever stored here. Every failure becomes an
 * ApiError carrying the server's `error` text and `details` (code, hint, …) for the page to show
 * where the action was taken.
 */

/** An API failure: `message` is the server's `error`, `details` its `details` object. */
export class ApiError extends Error {
  constructor(status, error, details) {
    super(error);
    this.status = status;
    this.details = details ?? null;
  }
}

const unauthorized = new Set();
/** Calls `fn` when a request fails with 401 because the session ended. */
export const onUnauthorized = (fn) => unauthorized.add(fn);

/** Builds `/api<path>?query`; array values repeat the key, empty values are left out. */
export function apiUrl(path, query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) for (const x of [].concat(v)) if (x != null && x !== "") qs.append(k, x);
  const s = qs.toString();
  return `/api${path}${s ? `?${s}` : ""}`;
}

/**
 * Every page of a cursor-paged list (`{<key>: [...], nextCursor}`), followed to the end, so a long
 * list is never cut off silently.
 */
export async function apiAll(path, key, query = {}) {
  const items = [];
  let cursor;
  do {
    const page = await api(path, { query: { ...query, limit: 1000, cursor } });
    items.push(...(page?.[key] ?? []));
    cursor = page?.nextCursor;
  } while (cursor);
  return { [key]: items, nextCursor: null };
}

/** `api("/domains/bind", {method: "POST", body: {...}})` → parsed JSON, or null for 204. */
export async function api(path, { method = "GET", body, query } = {}) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(apiUrl(path, query), init);
  } catch (e) {
    throw new ApiError(0, "Could not reach the KaisouMail server", { code: "network_error", cause: e.message });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below */
  }
  if (res.ok) return data;
  const err =
    data && typeof data.error === "string"
      ? new ApiError(res.status, data.error, data.details)
      : new ApiError(res.status, `HTTP ${res.status} ${res.statusText}`, { hint: text.slice(0, 200) || undefined });
  if (res.status === 401 && path !== "/auth/session") for (const fn of unauthorized) fn(err);
  throw err;
}
