// Baseline Worker for bench/run.mjs: the cheapest possible answers on the same runtime.
export default {
  fetch() {
    return new Response('{"ok":true}', { headers: { "content-type": "application/json; charset=utf-8" } });
  },
  // A no-op email() handler: accepts every message without reading it.
  async email() {},
};
