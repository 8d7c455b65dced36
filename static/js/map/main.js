// The web map page: MapLibre with the registry style, layer panel, identify, measure,
// coordinates and a shareable URL. The map is window.map for scripted checks.
import { startLanguage, onLanguageChange, t } from '../i18n.js';
import { buildLayerPanel, isLayerShown, openThemes, showLayer } from './layer-panel.js';
import { installPaletteSwitch, styleUrlFor } from './palette.js';
import { applyLabelLanguage } from './label-language.js';
import { installIdentify } from './identify.js';
import { installMeasure } from './measure.js';
import { installCoordinates } from './coordinates.js';
import { readHash, writeHash } from './view-hash.js';
import { installSearch } from './search.js';
import { installAnalysis } from './analysis.js';
import { installWardTools } from './ward-tools.js';
import { CreditsControl } from './credits.js';
import { installNowcast } from './nowcast.js';
import { installMonitoring } from './monitoring.js';
import { setTm3Meridian } from '../vn2000.js';

async function fetchJson(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function whenLoaded(map) {
  return new Promise((resolve) => { if (map.loaded()) resolve(); else map.once('load', resolve); });
}

function installPanelToggle() {
  const button = document.getElementById('panel-toggle');
  const panel = document.getElementById('panel');
  const narrow = window.matchMedia('(max-width: 900px)');
  const set = (open) => {
    button.setAttribute('aria-expanded', String(open));
    panel.hidden = !open;
    // Before start() replaces it, window.map is the #map element (named access), not the map.
    if (window.map instanceof maplibregl.Map) window.map.resize();
  };
  button.addEventListener('click', () => set(button.getAttribute('aria-expanded') !== 'true'));
  set(!narrow.matches);
}

async function start() {
  const root = document.getElementById('map-app');
  await startLanguage();
  installPanelToggle();
  const hash = readHash();
  const catalogue = await fetchJson(root.dataset.catalogueUrl);
  const { city } = catalogue;
  setTm3Meridian(city.metric_crs.central_meridian);
  let palette = catalogue.palettes.some((p) => p.id === hash.palette) ? hash.palette : catalogue.palettes[0].id;
  const style = await fetchJson(styleUrlFor(root.dataset.styleUrl, palette, catalogue));
  // A link naming layers but no view (the landing page's) opens where those layers draw.
  const minzoom = Math.min(...catalogue.layers.filter((l) => hash.layers?.includes(l.id)).map((l) => l.minzoom));
  const view = hash.view ?? { center: city.center, zoom: Math.max(city.zoom, Number.isFinite(minzoom) ? minzoom : 0) };
  const map = new maplibregl.Map({
    container: 'map', style, center: view.center, zoom: view.zoom, maxZoom: 22,
    attributionControl: false,
  });
  window.map = map;
  // The credits of the layers shown, folded behind an (i) button clear of the coordinates bar.
  const credits = new CreditsControl();
  map.addControl(credits, 'bottom-right');
  map.addControl(new maplibregl.NavigationControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 160 }), 'bottom-right');
  await whenLoaded(map);

  // Which layers a link opens: its `layers`, else every layer of its `themes`, else the
  // style's own default view (base map, land use, planning).
  const openFrom = (next) => {
    const wanted = next.layers ?? (next.themes
      ? catalogue.layers.filter((l) => next.themes.includes(l.theme)).map((l) => l.id) : null);
    if (!wanted) return false;
    for (const layer of catalogue.layers) showLayer(map, layer.id, wanted.includes(layer.id));
    return true;
  };
  openFrom(hash);
  applyLabelLanguage(map);
  let panel;
  const shownLayers = () => panel.drawn.filter((l) => isLayerShown(map, l.id)).map((l) => l.id);
  const saveView = () => writeHash(map, shownLayers(), openThemes(map, catalogue, panel.drawn),
    palette === catalogue.palettes[0].id ? null : palette);
  panel = buildLayerPanel(map, catalogue, document.getElementById('layer-list'), saveView);
  map.on('moveend', saveView);
  saveView();
  const paletteSwitch = installPaletteSwitch(map, catalogue, document.getElementById('palette'), {
    styleUrl: root.dataset.styleUrl, current: palette, fetchJson,
    before: () => shownLayers(),
    after: (chosen, open) => {
      palette = chosen;
      for (const layer of catalogue.layers) showLayer(map, layer.id, open.includes(layer.id));
      applyLabelLanguage(map);
      panel.reapplyOpacity();
      saveView();
    },
  });
  // A shared link pasted into this tab changes only the hash: follow it.
  window.addEventListener('hashchange', () => {
    const next = readHash();
    if (openFrom(next)) panel.sync();
    if (next.view) map.jumpTo(next.view);
    if (next.palette && next.palette !== palette) paletteSwitch.choose(next.palette);
  });

  const measure = installMeasure(map, {
    distanceButton: document.getElementById('measure-distance'),
    areaButton: document.getElementById('measure-area'),
    clearButton: document.getElementById('measure-clear'),
    hint: document.getElementById('measure-hint'),
    output: document.getElementById('measure-result'),
  });
  // Identify listens first, so it still sees a click that picks a trace node as taken.
  let analysis = null;
  const relabelPopup = installIdentify(map, catalogue, () => measure.isMeasuring() || Boolean(analysis?.isPicking()),
    JSON.parse(root.dataset.recordLinks || '{}'));
  const analysisSection = document.getElementById('analysis');
  if (analysisSection) analysis = installAnalysis(map, catalogue, analysisSection, measure);
  const wardFieldset = document.getElementById('ward-tools');
  const wardTools = wardFieldset ? installWardTools(map, wardFieldset) : null;
  const relabelCoordinates = installCoordinates(
    map, document.getElementById('coord-wgs84'), document.getElementById('coord-vn2000'));
  if (root.dataset.nowcastUrl) window.nowcast = installNowcast(map, root);
  const searchForm = document.getElementById('search');
  if (searchForm) installSearch(map, searchForm);
  const monitoring = installMonitoring(map);
  onLanguageChange(() => { monitoring?.relabel(); credits.relabel(); panel.render(); paletteSwitch.relabel(); applyLabelLanguage(map); analysis?.relabel(); wardTools?.relabel(); relabelPopup(); measure.relabel(); relabelCoordinates(); });
  root.dataset.ready = 'true';
}

start().catch((error) => {
  const box = document.getElementById('map-error');
  box.hidden = false;
  let prefix = 'Error';
  try { prefix = t('map.load_error'); } catch { /* the dictionary itself failed */ }
  box.textContent = `${prefix}: ${error.message}`;
  throw error;
});
