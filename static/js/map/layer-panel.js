// The layer panel: the registry's layers grouped by theme, each with a toggle, an opacity
// slider and its legend. A registry layer draws as every style layer whose source-layer is
// its id (fill + outline + label...), so toggles and opacity apply to all of them.
import { pick, t, formatNumber } from '../i18n.js';

const OPACITY_PAINT = {
  fill: ['fill-opacity'],
  line: ['line-opacity'],
  circle: ['circle-opacity', 'circle-stroke-opacity'],
  symbol: ['text-opacity', 'icon-opacity'],
  'fill-extrusion': ['fill-extrusion-opacity'],
  raster: ['raster-opacity'],
};

export function styleLayersOf(map, layerId) {
  return map.getStyle().layers.filter((l) => l['source-layer'] === layerId || l.metadata?.['gisapp:layer'] === layerId);
}

export function isLayerShown(map, layerId) {
  return styleLayersOf(map, layerId).some((l) => (l.layout?.visibility ?? 'visible') !== 'none');
}

export function showLayer(map, layerId, shown) {
  for (const l of styleLayersOf(map, layerId)) map.setLayoutProperty(l.id, 'visibility', shown ? 'visible' : 'none');
}

function setOpacity(map, layerId, fraction, original) {
  for (const l of styleLayersOf(map, layerId)) {
    for (const prop of OPACITY_PAINT[l.type] || []) {
      const key = `${l.id}/${prop}`;
      if (!(key in original)) original[key] = map.getPaintProperty(l.id, prop);
      const base = typeof original[key] === 'number' ? original[key] : 1;
      map.setPaintProperty(l.id, prop, base * fraction);
    }
  }
}

function swatch(kind, color) {
  const el = document.createElement('span');
  el.className = `swatch swatch-${kind}`;
  el.style.setProperty('--swatch', color);
  el.setAttribute('aria-hidden', 'true');
  return el;
}

function legendList(layer) {
  const list = document.createElement('ul');
  list.className = 'legend';
  for (const entry of layer.legend) {
    const item = document.createElement('li');
    const text = document.createElement('span');
    text.textContent = entry.label ? pick(entry.label)
      : entry.value ?? (layer.legend.length > 1 ? t('panel.other') : pick(layer.title));
    if (entry.label) text.title = entry.value;
    item.append(swatch(layer.style.kind, entry.color), text);
    list.append(item);
  }
  return list;
}

function layerRow(map, layer, onChange, original, fractions) {
  const row = document.createElement('div');
  row.className = 'layer-row';
  row.dataset.layer = layer.id;
  const toggle = document.createElement('input');
  toggle.type = 'checkbox';
  toggle.id = `toggle-${layer.id}`;
  toggle.checked = isLayerShown(map, layer.id);
  toggle.addEventListener('change', () => { showLayer(map, layer.id, toggle.checked); onChange(); });
  const label = document.createElement('label');
  label.htmlFor = toggle.id;
  label.textContent = pick(layer.title);
  const zoomNote = document.createElement('small');
  zoomNote.className = 'zoom-note';
  zoomNote.textContent = `${t('panel.zoom_hint')} ${formatNumber(layer.minzoom)}`;
  const opacity = document.createElement('input');
  opacity.type = 'range';
  opacity.min = '0';
  opacity.max = '100';
  opacity.value = String(Math.round((fractions[layer.id] ?? 1) * 100));
  opacity.id = `opacity-${layer.id}`;
  opacity.setAttribute('aria-label', `${t('panel.opacity')}: ${pick(layer.title)}`);
  opacity.addEventListener('input', () => {
    fractions[layer.id] = Number(opacity.value) / 100;
    setOpacity(map, layer.id, fractions[layer.id], original);
  });
  const head = document.createElement('div');
  head.className = 'layer-head';
  head.append(toggle, label);
  row.append(head, zoomNote, opacity, legendList(layer));
  return row;
}

// Builds (or rebuilds, after a language change) the panel; returns the ids of drawn layers.
export function buildLayerPanel(map, catalogue, container, onChange) {
  const original = {};
  const fractions = {};
  const drawn = catalogue.layers.filter((layer) => styleLayersOf(map, layer.id).length > 0);
  const render = () => {
    container.replaceChildren();
    for (const theme of catalogue.themes) {
      const members = drawn.filter((layer) => layer.theme === theme.id);
      if (members.length === 0) continue;
      const group = document.createElement('fieldset');
      group.className = 'theme';
      group.dataset.theme = theme.id;
      const legend = document.createElement('legend');
      legend.textContent = pick(theme.title);
      group.append(legend, ...members.map((layer) => layerRow(map, layer, onChange, original, fractions)));
      container.append(group);
    }
  };
  render();
  return { drawn, render };
}
