// Click to identify: a popup with the features under the pointer, their fields labelled
// and written in the UI language (labels, units, names of codes and visible fields come
// from /api/layers); a feature with a record page (a parcel on the parcel desk) links to it.
import { pick, t } from '../i18n.js';
import { formatField } from '../field-format.js';

const MAX_FEATURES = 5;

// `{field}` slots of a record link template filled from the feature's properties.
function recordHref(template, properties) {
  let complete = true;
  const href = template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = properties[name];
    if (value === null || value === undefined || value === '') complete = false;
    return encodeURIComponent(String(value ?? ''));
  });
  return complete ? href : null;
}

function featureSection(layer, feature, recordLinks) {
  const section = document.createElement('section');
  section.className = 'identify-feature';
  section.dataset.layer = layer.id;
  const heading = document.createElement('h3');
  heading.textContent = pick(layer.title);
  const list = document.createElement('dl');
  for (const field of layer.fields) {
    if (!(field.name in feature.properties)) continue;
    const term = document.createElement('dt');
    term.textContent = pick(field.label);
    const detail = document.createElement('dd');
    detail.dataset.field = field.name;
    detail.textContent = formatField(field, feature.properties[field.name]);
    list.append(term, detail);
  }
  section.append(heading, list);
  const href = recordLinks[layer.id] && recordHref(recordLinks[layer.id], feature.properties);
  if (href) {
    const link = document.createElement('a');
    link.className = 'record-link';
    link.href = href;
    link.textContent = t('identify.open_record');
    section.append(link);
  }
  return section;
}

// Points, then lines, then areas smallest first: the feature under the cursor (a parcel)
// comes before the larger areas it lies in (its zone, a flood zone, the ward).
function geometryRank(geometry) {
  if (geometry.type.endsWith('Point')) return 0;
  return geometry.type.endsWith('LineString') ? 1 : 2;
}

function ringArea(ring) {
  let twice = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    twice += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  }
  return Math.abs(twice / 2);
}

// Area in square degrees of the rendered (tile-clipped) geometry: enough to order features.
function planarArea(geometry) {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  return polygons.reduce((sum, rings) => sum + ringArea(rings[0])
    - rings.slice(1).reduce((holes, ring) => holes + ringArea(ring), 0), 0);
}

function specificFirst(a, b) {
  const ranks = geometryRank(a.feature.geometry) - geometryRank(b.feature.geometry);
  if (ranks !== 0 || geometryRank(a.feature.geometry) !== 2) return ranks;
  return planarArea(a.feature.geometry) - planarArea(b.feature.geometry);
}

// Features at a point, most specific first, one per distinct feature, only catalogued layers.
export function featuresAt(map, point, byId) {
  const seen = new Set();
  const found = [];
  for (const feature of map.queryRenderedFeatures(point)) {
    const layer = byId.get(feature.sourceLayer);
    if (!layer) continue;
    const identity = `${feature.sourceLayer}/${feature.id ?? JSON.stringify(feature.properties)}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    found.push({ layer, feature });
  }
  return found.sort(specificFirst).slice(0, MAX_FEATURES);
}

export function installIdentify(map, catalogue, isBusy, recordLinks = {}) {
  const byId = new Map(catalogue.layers.map((layer) => [layer.id, layer]));
  let popup = null;
  let shown = null;
  const render = (relabel = false) => {
    const box = document.createElement('div');
    box.className = 'identify';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-label', t('identify.title'));
    box.append(...shown.found.map(({ layer, feature }) => featureSection(layer, feature, recordLinks)));
    popup.setDOMContent(box);
    // Sections other modules added to this popup (the now-cast's) are written again too.
    if (relabel) map.fire('identify-relabel', { box });
  };
  map.on('click', (event) => {
    if (isBusy()) return;
    const found = featuresAt(map, event.point, byId);
    if (popup) popup.remove();
    if (found.length === 0) { popup = null; return; }
    shown = { found };
    popup = new maplibregl.Popup({ maxWidth: '340px', closeButton: true })
      .setLngLat(event.lngLat);
    render();
    popup.addTo(map);
    popup.getElement().querySelector('.maplibregl-popup-close-button')?.setAttribute('aria-label', t('identify.close'));
  });
  return () => { if (popup && popup.isOpen()) render(true); };
}
