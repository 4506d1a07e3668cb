/*
 * Theme before the first paint: a classic (blocking) script in <head>, allowed by the page's CSP
 * as 'self'. With no choice remembered, styles.css follows prefers-color-scheme by itself; a
 * remembered choice ("light" or "dark", set by the header's theme switch in ui.js) is applied
 * here as <html data-theme>, so the page never flashes the other theme.
 */
try {
  var km = localStorage.getItem("km.theme");
  if (km === "light" || km === "dark") document.documentElement.setAttribute("data-theme", km);
} catch (e) {
  /* storage blocked: follow the system */
}
