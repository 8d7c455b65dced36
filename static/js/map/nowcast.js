// The flood now-cast layer (GET /api/nowcast): streets and parcels at risk now or 1-3 hours
// ahead in the map's view (asked again when it moves), coloured by risk, switched on from the hazards theme of the layer panel, with a
// horizon selector, the inputs (gauges, stopped pumps), the disclaimer and, on click, why
// each feature is at risk. setNowcastTime(iso) moves it to another moment (a time slider).
import { formatNumber, language, t } from '../i18n.js';

const SOURCE = 'nowcast';
const FILL = 'nowcast-parcels';
const LINE = 'nowcast-streets';
export const RISK_COLOURS = { high: '#b2182b', medium: '#f4a582', low: '#fddbc7' };
const RISK_PAINT = ['match', ['get', 'risk'], 'high', RISK_COLOURS.high, 'medium', RISK_COLOURS.medium, RISK_COLOURS.low];
const EMPTY = { type: 'FeatureCollection', features: [] };

let active = null;

// Moves the now-cast to another moment (ISO 8601 with a timezone; null: now).
export function setNowcastTime(iso) { active?.setTime(iso); }

function words(key, values = {}) {
  return Object.entries(values).reduce((text, [name, value]) => text.replaceAll(`{${name}}`, value), t(key));
}

function ensureLayers(map, data) {
  if (map.getSource(SOURCE)) return;
  map.addSource(SOURCE, { type: 'geojson', data: data ?? EMPTY });
  map.addLayer({ id: FILL, type: 'fill', source: SOURCE, filter: ['==', ['get', 'kind'], 'parcel'],
    layout: { visibility: 'none' }, metadata: { 'gisapp:nowcast': true },
    paint: { 'fill-color': RISK_PAINT, 'fill-opacity': 0.75, 'fill-outline-color': '#67001f' } });
  map.addLayer({ id: LINE, type: 'line', source: SOURCE, filter: ['==', ['get', 'kind'], 'street'],
    layout: { visibility: 'none', 'line-cap': 'round' }, metadata: { 'gisapp:nowcast': true },
    paint: { 'line-color': RISK_PAINT, 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 3, 18, 10], 'line-opacity': 0.9 } });
}

function term(list, label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  list.append(dt, dd);
}

const number = (value, digits = 2) => (value === null || value === undefined ? '–' : formatNumber(value, { maximumFractionDigits: digits }));

// Why a feature is at risk: the inputs the server used, in the UI language.
export function explainSection(properties) {
  const e = typeof properties.explain === 'string' ? JSON.parse(properties.explain) : properties.explain;
  const label = typeof properties.label === 'string' ? JSON.parse(properties.label) : properties.label;
  const section = document.createElement('section');
  section.className = 'identify-feature nowcast-explain';
  section.dataset.layer = 'nowcast';
  const heading = document.createElement('h3');
  heading.textContent = `${t('nowcast.title')}: ${t(`nowcast.risk_${properties.risk}`)}`;
  const name = document.createElement('p');
  name.textContent = label[language()];
  const list = document.createElement('dl');
  term(list, t('nowcast.rain'), `${number(e.rain_mm_h, 1)} mm/h`);
  term(list, t('nowcast.catchment'), `${e.catchment.node_id} · ${e.catchment.ward_name ?? e.catchment.ward} · ${number(e.catchment.area_m2, 0)} m²`);
  term(list, t('nowcast.runoff'), `C ${number(e.runoff.c)} × i ${number(e.runoff.i_mm_h, 1)} mm/h × A ${number(e.runoff.contributing_area_m2, 0)} m² = ${number(e.runoff.q_m3_s, 3)} m³/s`);
  term(list, t('nowcast.pipe'), `${e.pipe.pipe_id ?? '–'} (${e.pipe.diameter_mm ?? '–'} mm)`);
  term(list, t('nowcast.capacity'), `${number(e.pipe.capacity_m3_s, 3)} m³/s`);
  term(list, t('nowcast.ratio'), e.pipe.ratio === null ? '∞' : number(e.pipe.ratio));
  if (e.pump_stopped) term(list, t('nowcast.pump_stopped'), e.pump_stopped);
  term(list, t('nowcast.low_point'), e.low_point_depth_m === null ? '–' : `${number(e.low_point_depth_m)} m`);
  term(list, t('nowcast.flood_zone'), e.flood_zone ? `${e.flood_zone.zone_id} (${t(`nowcast.risk_${e.flood_zone.risk}`)})` : '–');
  const reasons = document.createElement('ul');
  reasons.className = 'nowcast-reasons';
  for (const reason of e.reasons) {
    const item = document.createElement('li');
    item.textContent = reason[language()];
    reasons.append(item);
  }
  section.append(heading, name, list, reasons);
  return section;
}

export function installNowcast(map, root) {
  const url = root.dataset.nowcastUrl;
  const state = { shown: false, horizon: 0, at: null, data: null, request: 0 };
  let row = null;

  const setShown = (shown) => {
    state.shown = shown;
    ensureLayers(map, state.data);
    for (const id of [FILL, LINE]) map.setLayoutProperty(id, 'visibility', shown ? 'visible' : 'none');
  };

  const renderStatus = () => {
    if (!row) return;
    const status = row.querySelector('.nowcast-status');
    const inputs = row.querySelector('.nowcast-inputs');
    const disclaimer = row.querySelector('.nowcast-disclaimer');
    inputs.replaceChildren();
    if (state.error) { status.textContent = `${t('nowcast.error')}: ${state.error}`; return; }
    if (!state.data) { status.textContent = state.shown ? t('nowcast.loading') : ''; disclaimer.textContent = ''; return; }
    const { counts } = state.data;
    status.textContent = counts.high + counts.medium + counts.low === 0 ? t('nowcast.none') : words('nowcast.summary', {
      high: formatNumber(counts.high), medium: formatNumber(counts.medium), low: formatNumber(counts.low) });
    const used = state.data.gauges.filter((g) => g.used);
    const gauges = document.createElement('li');
    gauges.textContent = `${t('nowcast.gauges')}: ${used.length ? used.map((g) => `${g.name} ${number(g.intensity_mm_h, 1)} mm/h`).join('; ') : '–'}`;
    const closed = state.data.pumps_stopped.filter((p) => p.outlet_closed);
    const pumps = document.createElement('li');
    pumps.textContent = `${t('nowcast.pumps_stopped')}: ${closed.length ? closed.map((p) => p.node_id).join(', ') : '–'}`;
    inputs.append(gauges, pumps);
    disclaimer.textContent = state.data.disclaimer[language()];
  };

  const load = async () => {
    if (!state.shown) return;
    const request = ++state.request;
    // Only what the view shows: a city-wide storm is tens of megabytes of GeoJSON.
    const b = map.getBounds();
    const clamp = (v, limit) => Math.max(-limit, Math.min(limit, v));
    const bbox = [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)];
    const query = new URLSearchParams({ horizon: String(state.horizon), bbox: bbox.map((v) => v.toFixed(6)).join(',') });
    if (state.at) query.set('at', state.at);
    state.error = null;
    state.data = null;
    root.dataset.nowcast = 'loading';
    renderStatus();
    try {
      const response = await fetch(`${url}?${query}`, { credentials: 'same-origin' });
      const body = await response.json();
      if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
      if (request !== state.request) return;
      state.data = body;
      ensureLayers(map, body);
      map.getSource(SOURCE).setData(body);
    } catch (error) {
      if (request === state.request) state.error = error.message;
    }
    if (request === state.request) {
      renderStatus();
      root.dataset.nowcast = state.error ? 'error' : 'ready';
    }
  };

  // The row in the hazards theme (rebuilt with the panel after a language change).
  const attach = () => {
    const list = document.getElementById('layer-list');
    let group = list.querySelector('fieldset.theme[data-theme="hazards"]');
    if (!group) {
      group = document.createElement('fieldset');
      group.className = 'theme';
      group.dataset.theme = 'hazards';
      list.append(group);
    }
    row = document.createElement('div');
    row.className = 'layer-row nowcast-row';
    row.dataset.layer = 'nowcast';
    const head = document.createElement('div');
    head.className = 'layer-head';
    const toggle = document.createElement('input');
    toggle.type = 'checkbox';
    toggle.id = 'toggle-nowcast';
    toggle.checked = state.shown;
    const label = document.createElement('label');
    label.htmlFor = toggle.id;
    label.textContent = t('nowcast.title');
    head.append(toggle, label);
    const horizonRow = document.createElement('div');
    horizonRow.className = 'palette-row';
    const horizonLabel = document.createElement('label');
    horizonLabel.htmlFor = 'nowcast-horizon';
    horizonLabel.textContent = t('nowcast.horizon');
    const horizon = document.createElement('select');
    horizon.id = 'nowcast-horizon';
    for (let h = 0; h <= 3; h += 1) {
      const option = new Option(h === 0 ? t('nowcast.now') : words('nowcast.ahead', { h }), String(h));
      horizon.append(option);
    }
    horizon.value = String(state.horizon);
    const legend = document.createElement('ul');
    legend.className = 'legend';
    for (const risk of ['high', 'medium', 'low']) {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch swatch-fill';
      swatch.style.setProperty('--swatch', RISK_COLOURS[risk]);
      const text = document.createElement('span');
      text.textContent = t(`nowcast.risk_${risk}`);
      item.append(swatch, text);
      legend.append(item);
    }
    const status = document.createElement('p');
    status.className = 'nowcast-status';
    status.setAttribute('role', 'status');
    const inputs = document.createElement('ul');
    inputs.className = 'nowcast-inputs';
    const disclaimer = document.createElement('p');
    disclaimer.className = 'nowcast-disclaimer zoom-note';
    toggle.addEventListener('change', () => { setShown(toggle.checked); if (toggle.checked) load(); else renderStatus(); });
    horizon.addEventListener('change', () => { state.horizon = Number(horizon.value); load(); });
    horizonRow.append(horizonLabel, horizon);
    row.append(head, horizonRow, legend, status, inputs, disclaimer);
    group.append(row);
    renderStatus();
  };

  // Identify: the explanation joins the identify popup (or opens one of its own).
  let explained = [];  // the properties explained in the open popup, to write them again
  map.on('click', (event) => {
    explained = [];
    if (!state.shown || !map.getLayer(FILL)) return;
    const found = map.queryRenderedFeatures(event.point, { layers: [LINE, FILL] });
    if (found.length === 0) return;
    explained = found.slice(0, 2).map((f) => f.properties);
    const sections = explained.map(explainSection);
    const box = document.querySelector('.maplibregl-popup .identify');
    if (box) box.prepend(...sections);
    else {
      const own = document.createElement('div');
      own.className = 'identify';
      own.append(...sections);
      new maplibregl.Popup({ maxWidth: '360px' }).setLngLat(event.lngLat).setDOMContent(own).addTo(map);
    }
  });
  // A language change redraws the identify popup: put the explanation back, in that language.
  map.on('identify-relabel', ({ box }) => { if (explained.length) box.prepend(...explained.map(explainSection)); });
  let moved = null;
  map.on('moveend', () => { clearTimeout(moved); moved = setTimeout(load, 300); });
  // Another map theme replaces the style: put the layer back as it was.
  map.on('styledata', () => { if (map.isStyleLoaded() && !map.getSource(SOURCE)) setShown(state.shown); });
  // The panel is rebuilt after a language or map-theme change: put the row back each time.
  new MutationObserver(() => { if (!row?.isConnected) attach(); })
    .observe(document.getElementById('layer-list'), { childList: true });

  active = {
    setTime: (iso) => { state.at = iso || null; load(); },
  };
  attach();
  return { reload: load, show: (shown) => { setShown(shown); if (row) row.querySelector('#toggle-nowcast').checked = shown; return load(); } };
}
