// The small map of the OGC API Features pages: the page's features, or the collection's
// extent, over the app's own base style. Data comes from data-* attributes (no inline
// script, so the pages work under a strict Content-Security-Policy).
import { startLanguage } from '../i18n.js';

const FALLBACK_STYLE = { version: 8, sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f1ea' } }] };

function extend(box, coords) {
  if (typeof coords[0] === 'number') {
    box[0] = Math.min(box[0], coords[0]); box[1] = Math.min(box[1], coords[1]);
    box[2] = Math.max(box[2], coords[0]); box[3] = Math.max(box[3], coords[1]);
  } else coords.forEach((c) => extend(box, c));
}

function dataBounds(collection) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const feature of collection.features) if (feature.geometry) extend(box, feature.geometry.coordinates);
  return Number.isFinite(box[0]) ? box : null;
}

function boxFeature([w, s, e, n]) {
  return { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {},
    geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } }] };
}

async function baseStyle(url) {
  try {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (response.ok) return await response.json();
  } catch { /* the features still draw on a plain background */ }
  return FALLBACK_STYLE;
}

// The city's opening view (/api/layers); the world when it cannot be read.
async function cityView(url) {
  try {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (response.ok) return (await response.json()).city;
  } catch { /* the page still fits its features */ }
  return { center: [0, 0], zoom: 2 };
}

async function start(root) {
  const data = root.dataset.geojson ? JSON.parse(root.dataset.geojson) : null;
  const extent = root.dataset.bbox ? JSON.parse(root.dataset.bbox) : null;
  const collection = data && data.type === 'Feature' ? { type: 'FeatureCollection', features: [data] } : data;
  const shown = collection ?? (extent ? boxFeature(extent) : null);
  const box = (collection && dataBounds(collection)) ?? extent;
  const [style, city] = await Promise.all([baseStyle(root.dataset.styleUrl), cityView(root.dataset.catalogueUrl)]);
  // two zooms out from the map's opening view: the whole centre, until the data is fitted
  const map = new maplibregl.Map({ container: root, style, center: city.center, zoom: city.zoom - 2,
    attributionControl: { compact: true } });
  window.featureMap = map;
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.on('load', () => {
    if (shown) {
      map.addSource('ogc-features', { type: 'geojson', data: shown });
      map.addLayer({ id: 'ogc-fill', type: 'fill', source: 'ogc-features', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#1f78b4', 'fill-opacity': 0.25 } });
      map.addLayer({ id: 'ogc-line', type: 'line', source: 'ogc-features', filter: ['!=', ['geometry-type'], 'Point'],
        paint: { 'line-color': '#1f78b4', 'line-width': 2 } });
      map.addLayer({ id: 'ogc-point', type: 'circle', source: 'ogc-features', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': '#1f78b4', 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } });
    }
    if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 30, maxZoom: 18, duration: 0 });
    map.once('idle', () => { root.dataset.ready = 'true'; });
  });
}

startLanguage();
const root = document.getElementById('feature-map');
if (root) start(root);
