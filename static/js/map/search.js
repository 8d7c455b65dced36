// Parcel search (address, street, ward, parcel number; diacritics optional): lists the hits,
// and choosing one flies the map to the parcel and outlines it.
import { t, formatNumber } from '../i18n.js';
import { bounds } from '../geodesy.js';

const HIGHLIGHT = 'gisapp-highlight';

function addHighlight(map) {
  map.addSource(HIGHLIGHT, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${HIGHLIGHT}-line`, type: 'line', source: HIGHLIGHT,
    paint: { 'line-color': '#00e5ff', 'line-width': 4 } });
}

function describe(hit) {
  const place = [hit.address, hit.street].filter(Boolean)[0] ?? '';
  return `${t('search.parcel')} ${formatNumber(hit.parcel_no)}, ${t('search.sheet')} ${formatNumber(hit.sheet_no)} · ${hit.land_use ?? ''} ${place ? `· ${place}` : ''}`;
}

export function installSearch(map, form) {
  const input = form.querySelector('input[type=search]');
  const list = form.querySelector('.search-results');
  const status = form.querySelector('.search-status');
  addHighlight(map);

  const show = async (hit) => {
    const response = await fetch(hit.links[0].href, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`${hit.links[0].href}: HTTP ${response.status}`);
    const parcel = await response.json();
    map.getSource(HIGHLIGHT).setData({ type: 'Feature', properties: {}, geometry: parcel.geometry });
    delete form.dataset.shown;
    map.fitBounds(bounds(parcel.geometry), { padding: 120, maxZoom: 19, duration: 800 });
    status.textContent = `${t('search.shown')}: ${describe(hit)}`;
    map.once('idle', () => { form.dataset.shown = hit.parcel_uid; });
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    list.replaceChildren();
    if (!q) return;
    const response = await fetch(`${form.action}?q=${encodeURIComponent(q)}&limit=10`, { credentials: 'same-origin' });
    if (!response.ok) {
      status.textContent = (await response.json()).error?.message ?? `HTTP ${response.status}`;
      return;
    }
    const { results } = await response.json();
    status.textContent = results.length ? `${t('search.found')}: ${formatNumber(results.length)}` : t('search.none');
    for (const hit of results) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.parcel = hit.parcel_uid;
      button.textContent = describe(hit);
      button.addEventListener('click', () => show(hit));
      item.append(button);
      list.append(item);
    }
    if (results.length === 1) await show(results[0]);
  });
}
