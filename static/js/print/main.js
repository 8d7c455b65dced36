// The print layout: the map view of the shareable URL on an A4/A3 sheet, with title, legend
// of the layers drawn, scale bar, north arrow, VN-2000 corner coordinates, date and
// attribution. The browser's print to PDF makes the document (Ctrl-P or the button).
import { startLanguage, onLanguageChange, t, pick, formatNumber, formatDate } from '../i18n.js';
import { readHash } from '../map/view-hash.js';
import { styleUrlFor } from '../map/palette.js';
import { styleLayersOf, showLayer, paintedColours } from '../map/layer-panel.js';
import { visibleCredits } from '../map/credits.js';
import { setTm3Meridian, toVn2000Tm3 } from '../vn2000.js';
import { el } from '../dom.js';

const CSS_PX_M = 0.0254 / 96;  // one CSS pixel on paper, in metres
const EARTH_M = 40075016.686;  // the equator; MapLibre's tiles are 512 px wide

async function fetchJson(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function metresPerPixel(map) {
  return EARTH_M * Math.cos(map.getCenter().lat * Math.PI / 180) / (512 * 2 ** map.getZoom());
}

// The longest round length (1, 2 or 5 × 10^k m) that fits in `maxPx` pixels.
function niceLength(mpp, maxPx) {
  const most = mpp * maxPx;
  const power = 10 ** Math.floor(Math.log10(most));
  const step = [5, 2, 1].find((s) => s * power <= most);
  return step * power;
}

function distanceText(metres) {
  return metres >= 1000 ? `${formatNumber(metres / 1000)} km` : `${formatNumber(metres)} m`;
}

function drawnLayers(map, catalogue) {
  const zoom = map.getZoom();
  return catalogue.layers.filter((layer) => layer.minzoom <= zoom && zoom <= layer.maxzoom + 1
    && styleLayersOf(map, layer.id).some((l) => (l.layout?.visibility ?? 'visible') !== 'none'));
}

// A legend swatch in the colour the sheet's map theme paints (the cadastral theme's tints).
function legendEntry(layer, entry, painted) {
  const swatch = el('span', { class: `swatch swatch-${layer.style.kind}`, 'aria-hidden': 'true' });
  swatch.style.setProperty('--swatch', painted[entry.value ?? null] ?? entry.color);
  const label = entry.label ? pick(entry.label)
    : entry.value ?? (layer.legend.length > 1 ? t('panel.other') : pick(layer.title));
  return el('li', {}, swatch, label);
}

function renderLegend(map, catalogue) {
  const list = document.getElementById('sheet-legend');
  list.replaceChildren(...drawnLayers(map, catalogue).map((layer) => el('li', { class: 'legend-layer' },
    el('strong', {}, pick(layer.title)),
    el('ul', {}, ...layer.legend.map((entry) => legendEntry(layer, entry, paintedColours(map, layer)))))));
}

// Legend type sizes (pt) tried in turn, then one column more, until the legend fits its box.
const LEGEND_SIZES = [7, 6.5, 6, 5.5];

// Many open layers: the legend shrinks, wraps into one more column and, if it still runs
// off the sheet, takes a wider side panel (the map gives up the room) instead of being cut.
function fitLegend(map) {
  const sheet = document.getElementById('sheet');
  const list = document.getElementById('sheet-legend');
  const box = list.closest('.legend-box');
  const wasWide = sheet.classList.contains('wide-legend');
  const fits = () => {
    const room = box.getBoundingClientRect();
    return [...list.children].every((item) => {
      const r = item.getBoundingClientRect();
      return r.bottom <= room.bottom + 0.5 && r.right <= room.right + 0.5;
    });
  };
  const attempt = () => {
    list.style.removeProperty('font-size');
    list.style.removeProperty('column-count');
    const base = Number.parseInt(getComputedStyle(list).columnCount, 10) || 1;
    for (const columns of [base, base + 1]) {
      for (const size of LEGEND_SIZES) {
        list.style.fontSize = `${size}pt`;
        list.style.columnCount = String(columns);
        if (fits()) return true;
      }
    }
    return false;
  };
  sheet.classList.remove('wide-legend');
  if (!attempt()) {
    sheet.classList.add('wide-legend');
    attempt();
  }
  if (sheet.classList.contains('wide-legend') !== wasWide) map.resize();
}

function renderScale(map) {
  const mpp = metresPerPixel(map);
  document.getElementById('sheet-scale').textContent = `1:${formatNumber(Math.round(mpp / CSS_PX_M / 100) * 100)}`;
  const length = niceLength(mpp, 120);
  const bar = document.querySelector('#sheet-scalebar .bar');
  bar.style.width = `${length / mpp}px`;
  document.querySelector('#sheet-scalebar .label').textContent = distanceText(length);
}

function corner(label, lon, lat) {
  const [e, n] = toVn2000Tm3(lon, lat);
  const round = (v) => formatNumber(Math.round(v));
  return [el('dt', {}, label), el('dd', {}, `E ${round(e)} · N ${round(n)}`)];
}

function renderCorners(map, city) {
  const b = map.getBounds();
  document.getElementById('sheet-corners').replaceChildren(
    ...corner(t('print.corner_nw'), b.getWest(), b.getNorth()),
    ...corner(t('print.corner_se'), b.getEast(), b.getSouth()),
    el('dt', {}, t('print.crs')), el('dd', {}, `${city.metric_crs.name} (${city.metric_crs.code})`));
}

// The credits of the layers the sheet's map shows, nothing else.
function renderAttribution(map) {
  const credits = visibleCredits(map);
  const box = document.getElementById('sheet-attribution');
  box.textContent = credits.join(' · ');
  box.hidden = !credits.length;
}

function renderSheet(map, catalogue) {
  const title = document.getElementById('print-title-input').value.trim() || t('print.default_title');
  document.getElementById('sheet-title').textContent = title;
  document.getElementById('sheet-date').textContent = formatDate(new Date());
  renderLegend(map, catalogue);
  renderScale(map);
  renderCorners(map, catalogue.city);
  renderAttribution(map);
  fitLegend(map);  // last: the credits beside it take their room first
}

function setPaper(map) {
  const paper = document.getElementById('print-paper').value;
  const orientation = document.getElementById('print-orientation').value;
  const sheet = document.getElementById('sheet');
  sheet.className = `sheet ${paper} ${orientation}`;  // the legend is fitted again after
  const link = document.getElementById('paper-css');
  link.href = `${link.dataset.base}${paper}-${orientation}.css`;
  map.resize();
  return `${paper}-${orientation}`;
}

async function start() {
  const root = document.getElementById('print-app');
  await startLanguage();
  const hash = readHash();
  const catalogue = await fetchJson(root.dataset.catalogueUrl);
  // The map theme of the shared view (the cadastral one is made for print).
  const palette = catalogue.palettes.find((p) => p.id === hash.palette) ?? catalogue.palettes[0];
  const style = await fetchJson(styleUrlFor(root.dataset.styleUrl, palette.id, catalogue));
  const { city } = catalogue;
  setTm3Meridian(city.metric_crs.central_meridian);
  // one zoom closer than the map's opening view: a sheet shows a neighbourhood
  const view = hash.view ?? { center: city.center, zoom: city.zoom + 1 };
  const map = new maplibregl.Map({
    container: 'print-map', style, center: view.center, zoom: view.zoom, interactive: false,
    attributionControl: false, pixelRatio: Math.max(2, window.devicePixelRatio), fadeDuration: 0,
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  window.map = map;
  await new Promise((resolve) => map.once('load', resolve));
  // The link's layers, else every layer of its themes, else the style's default view.
  const wanted = hash.layers ?? (hash.themes
    ? catalogue.layers.filter((l) => hash.themes.includes(l.theme)).map((l) => l.id) : null);
  if (wanted) {
    for (const layer of catalogue.layers) showLayer(map, layer.id, wanted.includes(layer.id));
  }
  document.getElementById('print-back').href = `/map${location.hash}`;
  const refresh = () => renderSheet(map, catalogue);
  for (const id of ['print-paper', 'print-orientation']) {
    document.getElementById(id).addEventListener('change', () => {
      const paper = setPaper(map);
      map.once('idle', () => { refresh(); root.dataset.paper = paper; });
      map.triggerRepaint();
    });
  }
  document.getElementById('print-title-input').addEventListener('input', refresh);
  document.getElementById('print-button').addEventListener('click', () => window.print());
  onLanguageChange(refresh);
  refresh();
  map.once('idle', () => { refresh(); root.dataset.paper = 'a4-landscape'; root.dataset.ready = 'true'; });
}

start().catch((error) => {
  document.getElementById('print-app').prepend(el('p', { class: 'error', role: 'alert' }, error.message));
  throw error;
});
