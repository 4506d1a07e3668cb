/** 简体中文. Same keys as en.js (test/node/i18n.test.ts). */
export default {
  // ── shell (app.js, ui.js) ──
  "app.loading": "正在加载 KaisouMail…",
  // ── inbox (pages/inbox.js) ──
  // ── mailboxes ──
  // ── domains ──
  // ── users ──
  // ── webhooks ──
  // ── api keys ──
};
