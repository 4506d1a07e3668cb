/**
 * Language: one flat catalogue per language (ui/i18n/en.js, ui/i18n/zh.js: the shell and the
 * inbox), loaded lazily — only the chosen one is fetched, before the first render — plus one
 * section per page (ui/i18n/<lang>/<section>.js), fetched with the page by `need`, so no page
 * carries another page's text. `t("key", {n: 3})` looks a string up and
 * fills `{n}` placeholders; a missing key shows the key itself (and test/node/i18n.test.ts fails
 * the build long before a user could see it). The first visit follows the browser's languages;
 * a choice made with `setLang` is remembered in localStorage. `<html lang>` follows the choice,
 * and dates and relative times are formatted by `Intl` in that language.
 */
export const LANGS = { en: "English", zh: "简体中文" };
const TAGS = { en: "en", zh: "zh-CN" };
const KEY = "km.lang";

let current = "en";
let core = {};
/** Sections loaded so far (name → strings of the current language); reloaded on a switch. */
const sections = new Map();
let strings = {};
const merge = () => (strings = Object.assign({}, core, ...sections.values()));
const fetchSection = (lang, name) => import(`./i18n/${lang}/${name}.js`).then((m) => m.default);

/** The language a first visit gets: the first of the browser's languages we have, else English. */
export function detectLang(prefs = navigator.languages ?? [navigator.language]) {
  for (const p of prefs) {
    const base = String(p).toLowerCase().split("-")[0];
    if (base in LANGS) return base;
  }
  return "en";
}

function stored() {
  try {
    const v = localStorage.getItem(KEY);
    return v in LANGS ? v : null;
  } catch {
    return null;
  }
}

/** Loads `lang` (or the remembered/detected one) and makes it current; resolves when ready. */
export async function loadLang(lang = stored() ?? detectLang()) {
  if (!(lang in LANGS)) lang = "en";
  const [mod, ...more] = await Promise.all([import(`./i18n/${lang}.js`), ...[...sections.keys()].map((n) => fetchSection(lang, n))]);
  core = mod.default;
  [...sections.keys()].forEach((n, i) => sections.set(n, more[i]));
  current = lang;
  merge();
  document.documentElement.lang = TAGS[lang];
  return lang;
}

/** Loads the named sections (e.g. "domains", "errors") of the current language; resolves when ready. */
export async function need(...names) {
  const missing = names.filter((n) => !sections.has(n));
  if (!missing.length) return;
  const lang = current;
  const loaded = await Promise.all(missing.map((n) => fetchSection(lang, n)));
  if (lang !== current) return need(...names);
  missing.forEach((n, i) => sections.set(n, loaded[i]));
  merge();
}
/** True once `name` is loaded. */
export const ready = (name) => sections.has(name);

/** Switches language, remembers it and asks the app to re-render (event `km:lang`). */
export async function setLang(lang) {
  await loadLang(lang);
  try {
    localStorage.setItem(KEY, lang);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  dispatchEvent(new Event("km:lang"));
}

export const lang = () => current;
/** The BCP 47 tag for Intl and `<html lang>`. */
export const locale = () => TAGS[current];

/** The string for `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  const s = strings[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}
