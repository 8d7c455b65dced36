// The parcel desk: look-ups (key, text, owner, map point, a #parcel=<uid> link), the record,
// history by date.
import { startLanguage, onLanguageChange, t } from '../i18n.js';
import { renderRecord, renderHistory } from './record.js';
import { installPermitCheck } from './permit.js';
import { bounds } from '../geodesy.js';

const root = document.getElementById('desk-app');
const api = root.dataset.apiUrl;
const state = { uid: null, asOf: '', doc: null, history: [], catalogue: null };
const HIGHLIGHT = 'desk-parcel';

async function fetchJson(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

function showError(error) {
  const box = document.getElementById('desk-error');
  box.hidden = !error;
  box.textContent = error ? error.message : '';
}

function withAsOf(url) {
  if (!state.asOf) return url;
  return `${url}${url.includes('?') ? '&' : '?'}as_of=${state.asOf}`;
}

function render() {
  const container = document.getElementById('record');
  if (!state.doc) return;
  renderRecord(container, state.doc, state.catalogue, { day: state.asOf, open: (uid) => open(`${api}/${encodeURIComponent(uid)}`),
    report: `${api}/${encodeURIComponent(state.doc.parcel_uid)}/report?f=html` });
  const history = document.createElement('div');
  renderHistory(history, state.history, { asOf: setAsOf, day: state.asOf, changes: state.catalogue.changes });
  container.append(history);
}

// Each look-up takes a ticket; a response that arrives after a newer look-up started is
// dropped, so two quick date changes cannot render twice or leave the older answer shown.
let latest = 0;

async function show(doc, ticket) {
  const history = await fetch(`${api}/${encodeURIComponent(doc.parcel_uid)}/history`, { credentials: 'same-origin' });
  const versions = history.ok ? (await history.json()).versions : [];  // 404: no recorded versions
  if (ticket !== latest) return;
  state.doc = doc;
  state.uid = doc.parcel_uid;
  state.history = versions;
  window.deskMap.getSource(HIGHLIGHT).setData({ type: 'Feature', properties: {}, geometry: doc.geometry });
  window.deskMap.fitBounds(bounds(doc.geometry), { padding: 60, maxZoom: 19, duration: 0 });
  render();
  root.dataset.parcel = doc.parcel_uid;
}

async function open(url) {
  const ticket = ++latest;
  try {
    showError(null);
    const doc = await fetchJson(withAsOf(url));
    if (ticket === latest) await show(doc, ticket);
  } catch (error) { if (ticket === latest) showError(error); }
}

function setAsOf(day) {
  state.asOf = day;
  document.getElementById('as-of').value = day;
  if (state.uid) open(`${api}/${encodeURIComponent(state.uid)}`);
}

function listResults(results) {
  const box = document.getElementById('lookup-results');
  const list = document.createElement('ul');
  list.className = 'results';
  for (const hit of results) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.parcel = hit.parcel_uid;
    button.textContent = `${t('search.parcel')} ${hit.parcel_no}, ${t('search.sheet')} ${hit.sheet_no} · ${hit.address ?? hit.land_use ?? ''}`;
    button.addEventListener('click', () => open(`${api}/${encodeURIComponent(hit.parcel_uid)}`));
    const item = document.createElement('li');
    item.append(button);
    list.append(item);
  }
  const heading = document.createElement('h2');
  heading.textContent = `${t('desk.results')}: ${results.length}`;
  box.replaceChildren(heading, list);
  if (results.length === 1) open(`${api}/${encodeURIComponent(results[0].parcel_uid)}`);
}

function installForms() {
  document.getElementById('by-key').addEventListener('submit', (event) => {
    event.preventDefault();
    const params = new URLSearchParams([...new FormData(event.target)].filter(([, v]) => v !== ''));
    open(`${api}?${params}`);
  });
  for (const [id, param] of [['by-text', 'q'], ['by-owner', 'owner']]) {
    document.getElementById(id)?.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = new FormData(event.target).get(param);
      try {
        showError(null);
        listResults((await fetchJson(`${api}/search?${param}=${encodeURIComponent(text)}&limit=20`)).results);
      } catch (error) { showError(error); }
    });
  }
  document.getElementById('as-of').addEventListener('change', (event) => setAsOf(event.target.value));
  document.getElementById('as-of-clear').addEventListener('click', () => setAsOf(''));
}

async function start() {
  await startLanguage();
  const [catalogue, style] = await Promise.all([
    fetchJson(root.dataset.catalogueUrl), fetchJson(root.dataset.styleUrl)]);
  state.catalogue = catalogue;
  // one zoom closer than the map's opening view: the desk looks at parcels
  const map = new maplibregl.Map({ container: 'desk-map', style, center: catalogue.city.center, zoom: catalogue.city.zoom + 1 });
  window.deskMap = map;
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  await new Promise((resolve) => map.once('load', resolve));
  map.addSource(HIGHLIGHT, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${HIGHLIGHT}-line`, type: 'line', source: HIGHLIGHT, paint: { 'line-color': '#00b8d4', 'line-width': 4 } });
  const permitForm = document.getElementById('permit');
  const permit = permitForm ? installPermitCheck(map, permitForm, () => state.uid) : null;
  map.on('click', (event) => {
    if (permit?.isDrawing()) return;
    open(`${api}/at?lon=${event.lngLat.lng}&lat=${event.lngLat.lat}`);
  });
  installForms();
  onLanguageChange(() => { render(); permit?.relabel(); });
  // A link from the map's identify (#parcel=<parcel uid>) opens that parcel's record.
  const fromLink = () => {
    const uid = new URLSearchParams(location.hash.slice(1)).get('parcel');
    if (uid) open(`${api}/${encodeURIComponent(uid)}`);
  };
  window.addEventListener('hashchange', fromLink);
  fromLink();
  root.dataset.ready = 'true';
}

start().catch((error) => { showError(error); throw error; });
