// The layer panel: the registry's layers grouped by theme, each theme with a toggle that
// opens or closes all its layers, each layer with a toggle, an opacity slider and its
// legend. A registry layer draws as every style layer whose source-layer is its id
// (fill + outline + casing + icons + labels...), so toggles and opacity apply to all of them.
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

// The colours the current style paints a layer with (they change with the map theme):
// {value: colour} from a `match` expression, `null` for its default or a plain colour.
export function paintedColours(map, layer) {
  const drawn = styleLayersOf(map, layer.id).find((l) => l.id === `${layer.id}-${layer.style.kind}`);
  const paint = drawn && map.getPaintProperty(drawn.id, `${layer.style.kind}-color`);
  if (typeof paint === 'string') return { null: paint };
  if (!Array.isArray(paint) || paint[0] !== 'match') return {};
  const colours = { null: paint[paint.length - 1] };
  for (let i = 2; i < paint.length - 1; i += 2) {
    for (const value of [].concat(paint[i])) colours[value] = paint[i + 1];
  }
  return colours;
}

function legendList(map, layer) {
  const list = document.createElement('ul');
  list.className = 'legend';
  const painted = paintedColours(map, layer);
  for (const entry of layer.legend) {
    const item = document.createElement('li');
    const text = document.createElement('span');
    text.textContent = entry.label ? pick(entry.label)
      : entry.value ?? (layer.legend.length > 1 ? t('panel.other') : pick(layer.title));
    if (entry.label) text.title = entry.value;
    item.append(swatch(layer.style.kind, painted[entry.value ?? null] ?? entry.color), text);
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
  const held = layer.feature_minzoom;
  if (held) {
    const names = held.values.map((v) => (v.label ? pick(v.label) : v.value)).join(', ');
    zoomNote.textContent += `; ${names}: ${t('panel.some_from_zoom')} ${formatNumber(held.minzoom)}`;
  }
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
  row.append(head, zoomNote, opacity, legendList(map, layer));
  return row;
}

// A theme's toggle shows whether all (checked), some (mixed) or none of its layers are on.
function syncThemeToggle(map, toggle, members) {
  const shown = members.filter((layer) => isLayerShown(map, layer.id)).length;
  toggle.checked = shown === members.length;
  toggle.indeterminate = shown > 0 && shown < members.length;
}

function themeLegend(map, theme, members, onChange, syncRows) {
  const legend = document.createElement('legend');
  const toggle = document.createElement('input');
  toggle.type = 'checkbox';
  toggle.id = `theme-${theme.id}`;
  toggle.className = 'theme-toggle';
  const label = document.createElement('label');
  label.htmlFor = toggle.id;
  label.textContent = pick(theme.title);
  label.title = t('panel.theme_toggle');
  toggle.addEventListener('change', () => {
    for (const layer of members) showLayer(map, layer.id, toggle.checked);
    syncRows();
    onChange();
  });
  legend.append(toggle, label);
  return { legend, toggle };
}

// Builds (or rebuilds, after a language change) the panel; returns the ids of drawn layers,
// `render` and `sync` (after layers were shown or hidden from elsewhere: the URL, a theme).
export function buildLayerPanel(map, catalogue, container, onChange) {
  let original = {};
  const fractions = {};
  const drawn = catalogue.layers.filter((layer) => styleLayersOf(map, layer.id).length > 0);
  const themeToggles = [];
  const sync = () => {
    for (const layer of drawn) {
      const box = container.querySelector(`#toggle-${layer.id}`);
      if (box) box.checked = isLayerShown(map, layer.id);
    }
    for (const { toggle, members } of themeToggles) syncThemeToggle(map, toggle, members);
  };
  const changed = () => { sync(); onChange(); };
  const render = () => {
    container.replaceChildren();
    themeToggles.length = 0;
    for (const theme of catalogue.themes) {
      const members = drawn.filter((layer) => layer.theme === theme.id);
      if (members.length === 0) continue;
      const group = document.createElement('fieldset');
      group.className = 'theme';
      group.dataset.theme = theme.id;
      const { legend, toggle } = themeLegend(map, theme, members, onChange, sync);
      themeToggles.push({ toggle, members });
      group.append(legend, ...members.map((layer) => layerRow(map, layer, changed, original, fractions)));
      container.append(group);
    }
    sync();
  };
  // After a new style (another map theme) the paint values are new: re-apply the sliders.
  const reapplyOpacity = () => {
    original = {};
    for (const [layerId, fraction] of Object.entries(fractions)) setOpacity(map, layerId, fraction, original);
    render();
  };
  render();
  return { drawn, render, sync, reapplyOpacity };
}

// Themes whose every drawn layer is shown, for the shareable URL.
export function openThemes(map, catalogue, drawn) {
  return catalogue.themes.map((theme) => theme.id).filter((id) => {
    const members = drawn.filter((layer) => layer.theme === id);
    return members.length > 0 && members.every((layer) => isLayerShown(map, layer.id));
  });
}
