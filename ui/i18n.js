/**
 * Language: one flat catalogue per language (ui/i18n/en.js, ui/i18n/zh.js), loaded lazily — only
 * the chosen one is fetched, before the first render. `t("key", {n: 3})` looks a string up and
 * fills `{n}` placeholders; a missing key shows the key itself (and test/node/i18n.test.ts fails
 * the build long before a user could see it). The first visit follows the browser's languages;
 * a choice made with `setLang` is remembered in localStorage. `<html lang>` follows the choice,
 * and dates and relative times are formatted by `Intl` in that language.
 */
export const LANGS = { en: "English", zh: "简体中文" };
const TAGS = { en: "en", zh: "zh-CN" };
const KEY = "km.lang";

let current = "en";
let strings = {};

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
  const mod = await import(`./i18n/${lang}.js`);
  strings = mod.default;
  current = lang;
  document.documentElement.lang = TAGS[lang];
  return lang;
}

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
