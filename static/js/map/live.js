// Live symbols: every monitored thing (rain gauge, pump station, lake, lighting cabinet)
// drawn in the colour of its live class from /api/live/state, with its key reading beside it;
// refreshed every REFRESH_MS and whenever an alert changes. The slider replays the last 24
// hours (?at=), and tells the now-cast layer (onTime) the moment shown.
import { pick, t, formatNumber, language } from '../i18n.js';
import { el } from '../dom.js';

const SOURCE = 'live-things';
const LAYER = 'live-symbols';
const VALUE_LAYER = 'live-values';
const REFRESH_MS = 10000;
const STEP_MINUTES = 5;
const PLAY_MS = 350;
const FONT = 'Noto Sans Regular';
const MINZOOM = 11;

async function fetchJson(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `${url}: HTTP ${response.status}`);
  return body;
}

export function formatTime(iso, withDate = false) {
  return new Intl.DateTimeFormat(language() === 'vi' ? 'vi-VN' : 'en-GB',
    { ...(withDate ? { dateStyle: 'short' } : {}), timeStyle: 'short' }).format(new Date(iso));
}

// The reading written beside a symbol: a gauge's rain of the last hour, else the value of
// the datastream the kind is coloured by, with its unit.
function valueText(thing, state) {
  const symbol = state.symbols[thing.kind];
  if (!symbol) return '';
  const stream = state.thing_kinds[thing.kind]?.datastreams[symbol.by];
  const value = thing.rain_last_hour_mm ?? thing.readings[symbol.by]?.value;
  if (value === null || value === undefined || typeof value === 'boolean') return '';
  return `${formatNumber(value, { maximumFractionDigits: 1 })}${stream?.unit ? ` ${stream.unit}` : ''}`;
}

function classOf(state, thing) {
  return state.symbols[thing.kind]?.classes.find((c) => c.id === thing.symbol);
}

function toGeoJson(state) {
  return {
    type: 'FeatureCollection',
    features: state.things.filter((th) => th.lon !== null && th.lat !== null).map((th) => ({
      type: 'Feature', id: th.id, geometry: { type: 'Point', coordinates: [th.lon, th.lat] },
      properties: { id: th.id, kind: th.kind, symbol: th.symbol, name: th.name,
        colour: classOf(state, th)?.colour ?? '#9e9e9e', value: valueText(th, state) },
    })),
  };
}

function addLayers(map) {
  map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: LAYER, type: 'circle', source: SOURCE, minzoom: MINZOOM, paint: {
    'circle-color': ['get', 'colour'],
    'circle-radius': ['interpolate', ['linear'], ['zoom'], MINZOOM, 5, 16, 10],
    'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } });
  map.addLayer({ id: VALUE_LAYER, type: 'symbol', source: SOURCE, minzoom: 14, layout: {
    'text-field': ['get', 'value'], 'text-font': [FONT], 'text-size': 11,
    'text-offset': [0, 1.4], 'text-anchor': 'top', 'text-optional': true },
  paint: { 'text-color': '#1b1f24', 'text-halo-color': '#ffffff', 'text-halo-width': 1.6 } });
}

function renderLegend(body, state) {
  const groups = Object.entries(state.symbols).map(([kind, symbol]) => el('div', { class: 'live-legend-group' },
    el('h4', {}, pick(state.thing_kinds[kind].title)),
    el('ul', {}, ...symbol.classes.map((c) => {
      const dot = el('span', { class: 'swatch swatch-circle', 'aria-hidden': 'true' });
      dot.style.setProperty('--swatch', c.colour);
      return el('li', { dataset: { kind, symbol: c.id } }, dot, ' ', pick(c.label));
    }))));
  body.replaceChildren(el('p', { class: 'live-note' }, t('live.rain_note')), ...groups);
}

export function installLive(map, section, { onThingClick, onTime } = {}) {
  const urls = { state: section.dataset.stateUrl };
  const slider = document.getElementById('live-slider');
  const show = document.getElementById('live-show');
  const play = document.getElementById('live-play');
  const status = document.getElementById('live-time');
  const legend = document.getElementById('live-legend-body');
  let state = null;
  let asked = 0;
  let timer = null;
  let player = null;
  let told = null;  // the moment last given to onTime; the now-cast starts at now
  const listeners = [];

  const replayIso = () => {
    const steps = Number(slider.value);
    if (steps === 0) return null;
    const now = Date.now() - (Date.now() % (STEP_MINUTES * 60000));
    return new Date(now + steps * STEP_MINUTES * 60000).toISOString();
  };
  const describe = () => {
    if (!state) return;
    const text = state.replay ? t('live.state_at').replace('{time}', formatTime(state.at, true))
      : t('live.state_live').replace('{time}', formatTime(state.at));
    status.textContent = text;
    slider.setAttribute('aria-valuetext', state.replay ? formatTime(state.at, true) : t('live.now'));
  };
  const apply = () => {
    map.getSource(SOURCE).setData(toGeoJson(state));
    renderLegend(legend, state);
    describe();
    section.dataset.at = state.at;
    listeners.forEach((listener) => listener(state));
  };
  const load = async () => {
    const at = replayIso();
    const mine = ++asked;
    const body = await fetchJson(at ? `${urls.state}?at=${encodeURIComponent(at)}` : urls.state);
    if (mine !== asked) return; // a later request was made meanwhile: its answer wins
    state = body;
    apply();
    // The now-cast layer follows the same moment (null: now), told only when it changes: a
    // now-cast costs seconds of server CPU, the 10-second refresh must not ask for one.
    if (at !== told) { told = at; onTime?.(at); }
  };
  const refresh = () => load().catch((error) => { status.textContent = error.message; });
  const schedule = () => {
    clearInterval(timer);
    timer = setInterval(() => { if (Number(slider.value) === 0) refresh(); }, REFRESH_MS);
  };
  const stopPlaying = () => {
    clearInterval(player);
    player = null;
    play.setAttribute('aria-pressed', 'false');
    play.textContent = t('live.play');
  };

  addLayers(map);
  // A map theme switch replaces the style and with it these layers: put them back.
  map.on('styledata', () => {
    if (map.getSource(SOURCE) || !map.isStyleLoaded()) return;
    addLayers(map);
    if (state) map.getSource(SOURCE).setData(toGeoJson(state));
    if (!show.checked) for (const id of [LAYER, VALUE_LAYER]) map.setLayoutProperty(id, 'visibility', 'none');
  });
  let debounce = null;
  slider.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(refresh, 150); });
  document.getElementById('live-now').addEventListener('click', () => { stopPlaying(); slider.value = '0'; refresh(); });
  play.addEventListener('click', () => {
    if (player) { stopPlaying(); return; }
    if (Number(slider.value) === 0) slider.value = slider.min;
    play.setAttribute('aria-pressed', 'true');
    play.textContent = t('live.pause');
    player = setInterval(() => {
      slider.value = String(Math.min(0, Number(slider.value) + 1));
      refresh();
      if (Number(slider.value) === 0) stopPlaying();
    }, PLAY_MS);
  });
  show.addEventListener('change', () => {
    for (const id of [LAYER, VALUE_LAYER]) map.setLayoutProperty(id, 'visibility', show.checked ? 'visible' : 'none');
  });
  map.on('mouseenter', LAYER, () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', LAYER, () => { map.getCanvas().style.cursor = ''; });
  map.on('click', LAYER, (event) => {
    const feature = event.features?.[0];
    const thing = state?.things.find((th) => th.id === feature?.properties.id);
    if (thing && onThingClick) onThingClick(thing, state);
  });
  schedule();
  refresh();

  const api = {
    refresh,
    state: () => state,
    thing: (id) => state?.things.find((th) => th.id === id),
    // Replay at an ISO time within the slider's 24 hours, or live with null.
    setTime(iso) {
      if (iso === null) slider.value = '0';
      else slider.value = String(Math.max(Number(slider.min), Math.min(0, Math.round((Date.parse(iso) - Date.now()) / (STEP_MINUTES * 60000)))));
      return load();
    },
    onState(listener) { listeners.push(listener); },
    relabel() { if (state) apply(); if (!player) play.textContent = t('live.play'); },
  };
  window.gisappLive = api;
  return api;
}
