// Planner tools for one ward: streets with no working light nearby and Wi-Fi coverage drawn
// as overlays with their figures, and the ward summary (parcels, pipes, lights, Wi-Fi).
import { t, formatNumber } from '../i18n.js';
import { el } from '../dom.js';

const OVERLAY = 'gisapp-ward-overlay';
const EMPTY = { type: 'FeatureCollection', features: [] };

const metres = (m) => `${formatNumber(m, { maximumFractionDigits: 0 })} m`;
const squareMetres = (m2) => `${formatNumber(m2, { maximumFractionDigits: 0 })} m²`;
const percent = (p) => (p === null || p === undefined ? '–' : `${formatNumber(p, { maximumFractionDigits: 1 })} %`);

function facts(dataset, pairs) {
  return el('dl', { class: 'facts', dataset }, ...pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function table(className, caption, headings, rows) {
  const body = rows.length ? rows.map((cells) => el('tr', {}, ...cells.map((c, i) => el('td', i ? { class: 'num' } : {}, c))))
    : [el('tr', {}, el('td', { colspan: String(headings.length) }, t('ward.none')))];
  return el('table', { class: `data ${className}` }, el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, ...body));
}

function addOverlayLayers(map) {
  map.addSource(OVERLAY, { type: 'geojson', data: EMPTY });
  map.addLayer({ id: `${OVERLAY}-fill`, type: 'fill', source: OVERLAY, filter: ['==', '$type', 'Polygon'],
    paint: { 'fill-color': ['match', ['get', 'feature'], 'uncovered_public_place', '#d62728', '#1f78b4'],
      'fill-opacity': ['match', ['get', 'feature'], 'uncovered_public_place', 0.6, 0.3] } });
  map.addLayer({ id: `${OVERLAY}-line`, type: 'line', source: OVERLAY, filter: ['==', '$type', 'LineString'],
    paint: { 'line-color': '#c2006b', 'line-width': 6, 'line-dasharray': [1.5, 1] } });
}

function fitTo(map, fc) {
  const coords = fc.features.flatMap((f) => (f.geometry ? [f.geometry.coordinates].flat(Infinity) : []));
  if (coords.length < 2) return;
  const bounds = new maplibregl.LngLatBounds();
  for (let i = 0; i + 1 < coords.length; i += 2) bounds.extend([coords[i], coords[i + 1]]);
  map.fitBounds(bounds, { padding: 60, maxZoom: 18, duration: 0 });
}

export function installWardTools(map, fieldset) {
  const urls = { unlit: fieldset.dataset.unlitUrl, coverage: fieldset.dataset.coverageUrl, summary: fieldset.dataset.summaryUrl };
  const slot = fieldset.dataset.codeSlot;
  const code = fieldset.querySelector('#ward-code');
  const distance = fieldset.querySelector('#ward-distance');
  const result = fieldset.querySelector('#ward-result');
  let last = null;  // what is shown, so a language switch can redraw it
  addOverlayLayers(map);

  const get = async (url) => {
    const response = await fetch(url, { credentials: 'same-origin' });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    return body;
  };

  const views = {
    unlit: (fc) => facts({ tool: 'unlit', stretches: fc.properties.stretches, metres: fc.properties.unlit_length_m }, [
      [t('ward.stretches'), formatNumber(fc.properties.stretches)],
      [t('ward.unlit_length'), metres(fc.properties.unlit_length_m)]]),
    coverage: (fc) => {
      const p = fc.properties;
      return facts({ tool: 'coverage', coveredPct: p.covered_pct }, [
        [t('ward.area'), squareMetres(p.area_m2)],
        [t('ward.covered'), `${squareMetres(p.covered_m2)} (${percent(p.covered_pct)})`],
        [t('ward.parcels_touched'), `${formatNumber(p.parcels_touched)} / ${formatNumber(p.parcels)} (${percent(p.parcels_touched_pct)})`],
        [t('ward.uncovered_places'), formatNumber(p.uncovered_public_places)]]);
    },
    summary: (s) => el('div', { class: 'ward-summary', dataset: { tool: 'summary', ward: s.ward.code ?? '' } },
      el('h3', {}, s.ward.name ?? s.ward.code),
      table('land-uses', t('ward.parcels_by_use'), [t('ward.land_use'), t('ward.parcels'), t('ward.area')],
        s.parcels_by_land_use.map((r) => [r.land_use ?? '–', formatNumber(r.parcels), squareMetres(r.area_m2)])),
      table('pipes', t('ward.pipes_by_diameter'), [t('ward.diameter'), t('ward.pipes'), t('ward.length')],
        s.pipe_length_by_diameter.map((r) => [r.diameter_mm === null ? '–' : String(r.diameter_mm), formatNumber(r.pipes), metres(r.length_m)])),
      table('lights', t('ward.lights_by_status'), [t('ward.status'), t('ward.lights')],
        Object.entries(s.lights_by_status).map(([status, n]) => [status, formatNumber(n)])),
      facts({}, [[t('ward.covered'), percent(s.wifi.covered_pct)],
        [t('ward.uncovered_places'), formatNumber(s.wifi.uncovered_public_places)]])),
  };

  const show = (tool, body) => {
    last = [tool, body];
    result.replaceChildren(views[tool](body));
  };
  const run = async (tool) => {
    const ward = encodeURIComponent(code.value);
    result.replaceChildren(el('p', { class: 'busy' }, '…'));
    try {
      if (tool === 'summary') {
        show(tool, await get(urls.summary.replace(slot, ward)));
        return;
      }
      const url = tool === 'unlit' ? `${urls.unlit}?ward=${ward}&distance_m=${encodeURIComponent(distance.value)}`
        : `${urls.coverage}?ward=${ward}`;
      const fc = await get(url);
      map.getSource(OVERLAY).setData(fc);
      fitTo(map, fc);
      show(tool, fc);
    } catch (error) { last = null; result.replaceChildren(el('p', { class: 'error' }, error.message)); }
  };
  fieldset.querySelector('#ward-unlit').addEventListener('click', () => run('unlit'));
  fieldset.querySelector('#ward-wifi').addEventListener('click', () => run('coverage'));
  fieldset.querySelector('#ward-summary').addEventListener('click', () => run('summary'));
  fieldset.querySelector('#ward-clear').addEventListener('click', () => {
    map.getSource(OVERLAY).setData(EMPTY);
    last = null;
    result.replaceChildren();
  });
  return { relabel: () => { if (last) show(...last); } };
}
