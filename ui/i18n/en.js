/** English. Flat keys, grouped by page; every key must also exist in zh.js (test/node/i18n.test.ts). */
export default {
  // ── shell (app.js, ui.js) ──
  "app.loading": "Loading KaisouMail…",
  // ── inbox (pages/inbox.js) ──
  // ── mailboxes ──
  // ── domains ──
  // ── users ──
  // ── webhooks ──
  // ── api keys ──
};
