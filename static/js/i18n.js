// UI language: one JSON dictionary per language (static/i18n/), Vietnamese by default,
// the choice remembered in localStorage and in the `lang` cookie the server reads.
const LANGUAGES = ['vi', 'en'];
const LOCALES = { vi: 'vi-VN', en: 'en-GB' };
const dictionaries = {};
const listeners = [];
let current = LANGUAGES.includes(document.documentElement.lang) ? document.documentElement.lang : 'vi';
// The city's name by language (layers/city.py, in <meta name=gisapp-city>): `{city}` in a word.
const CITY = JSON.parse(document.querySelector('meta[name="gisapp-city"]')?.content ?? '{}');

export function language() { return current; }

async function loadDictionary(lang) {
  if (!dictionaries[lang]) {
    const response = await fetch(`/static/i18n/${lang}.json`);
    if (!response.ok) throw new Error(`UI dictionary ${lang} could not be loaded: ${response.status}`);
    dictionaries[lang] = await response.json();
  }
  return dictionaries[lang];
}

export function t(key) {
  const words = dictionaries[current];
  if (!words || !(key in words)) throw new Error(`no UI word "${key}" in ${current}.json`);
  return words[key].replaceAll('{city}', CITY[current] ?? '');
}

// A {vi, en} pair from the registry, in the UI language.
export function pick(pair) { return pair[current]; }

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(LOCALES[current], options).format(value);
}

// A calendar day ('2024-05-01') is that day wherever the browser is: read and written in UTC.
export function formatDate(value) {
  const day = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
  return new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'medium', ...(day ? { timeZone: 'UTC' } : {}) })
    .format(new Date(value));
}

export function translatePage(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  });
}

export function onLanguageChange(listener) { listeners.push(listener); }

export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`language ${lang} is not one of ${LANGUAGES}`);
  await loadDictionary(lang);
  current = lang;
  document.documentElement.lang = lang;
  localStorage.setItem('lang', lang);
  const secure = location.protocol === 'https:' ? '; secure' : '';
  document.cookie = `lang=${lang}; path=/; max-age=31536000; samesite=lax${secure}`;
  document.querySelectorAll('[data-lang-switch]').forEach((a) => {
    if (a.dataset.langSwitch === lang) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  });
  translatePage();
  listeners.forEach((listener) => listener(lang));
}

// Loads the page's dictionary, follows a remembered choice, and makes the switch links live.
export async function startLanguage() {
  await loadDictionary(current);
  const remembered = localStorage.getItem('lang');
  const asked = new URLSearchParams(location.search).get('lang');
  if (!asked && LANGUAGES.includes(remembered) && remembered !== current) await setLanguage(remembered);
  else localStorage.setItem('lang', current);
  document.querySelectorAll('[data-lang-switch]').forEach((a) => {
    a.addEventListener('click', (event) => {
      event.preventDefault();
      setLanguage(a.dataset.langSwitch);
    });
  });
}
