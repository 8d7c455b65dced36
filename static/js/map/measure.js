// Measure distance (geodesic path length) and area (ellipsoidal) by clicking the map.
import { t, formatNumber } from '../i18n.js';
import { pathLength, ringArea } from '../geodesy.js';

const SOURCE = 'gisapp-measure';

function formatLength(metres) {
  if (metres >= 10000) return `${formatNumber(metres / 1000, { maximumFractionDigits: 3 })} ${t('unit.km')}`;
  return `${formatNumber(metres, { maximumFractionDigits: 2 })} ${t('unit.m')}`;
}

function formatArea(squareMetres) {
  const m2 = `${formatNumber(squareMetres, { maximumFractionDigits: 1 })} ${t('unit.m2')}`;
  return squareMetres >= 10000 ? `${m2} (${formatNumber(squareMetres / 10000, { maximumFractionDigits: 4 })} ${t('unit.ha')})` : m2;
}

function addDrawing(map) {
  map.addSource(SOURCE, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${SOURCE}-fill`, type: 'fill', source: SOURCE, filter: ['==', '$type', 'Polygon'],
    paint: { 'fill-color': '#d62728', 'fill-opacity': 0.15 } });
  map.addLayer({ id: `${SOURCE}-line`, type: 'line', source: SOURCE, filter: ['!=', '$type', 'Point'],
    paint: { 'line-color': '#d62728', 'line-width': 2, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: `${SOURCE}-points`, type: 'circle', source: SOURCE, filter: ['==', '$type', 'Point'],
    paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-color': '#d62728', 'circle-stroke-width': 2 } });
}

export function installMeasure(map, controls) {
  const { distanceButton, areaButton, clearButton, hint, output } = controls;
  let mode = null;
  let points = [];
  let finished = false;
  let onFinish = null;  // a caller drawing an area for a query (analysis tools)
  addDrawing(map);

  const result = () => {
    if (points.length < 2) return '';
    if (mode === 'area' && points.length >= 3) {
      const ring = [...points, points[0]];
      return `${t('measure.area_result')}: ${formatArea(ringArea(points))} · ${t('measure.perimeter')}: ${formatLength(pathLength(ring))}`;
    }
    return `${t('measure.length')}: ${formatLength(pathLength(points))}`;
  };

  const redraw = () => {
    const features = points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
    if (mode === 'area' && points.length >= 3) {
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...points, points[0]]] } });
    } else if (points.length >= 2) {
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: points } });
    }
    map.getSource(SOURCE).setData({ type: 'FeatureCollection', features });
    output.textContent = result();
    output.dataset.metres = mode === 'area' && points.length >= 3 ? ringArea(points) : (points.length >= 2 ? pathLength(points) : '');
  };

  const setMode = (next) => {
    mode = next;
    onFinish = null;
    points = [];
    finished = false;
    distanceButton.setAttribute('aria-pressed', String(mode === 'distance'));
    areaButton.setAttribute('aria-pressed', String(mode === 'area'));
    hint.hidden = mode === null;
    map.getCanvas().style.cursor = mode ? 'crosshair' : '';
    if (mode) map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
    redraw();
  };

  const finish = () => {
    finished = true;
    if (onFinish && mode === 'area' && points.length >= 3) onFinish([...points, points[0]]);
    onFinish = null;
    hint.hidden = true;
    map.getCanvas().style.cursor = '';
    map.doubleClickZoom.enable();
    distanceButton.setAttribute('aria-pressed', 'false');
    areaButton.setAttribute('aria-pressed', 'false');
  };

  distanceButton.addEventListener('click', () => setMode(mode === 'distance' && !finished ? null : 'distance'));
  areaButton.addEventListener('click', () => setMode(mode === 'area' && !finished ? null : 'area'));
  clearButton.addEventListener('click', () => setMode(null));
  map.on('click', (event) => {
    if (!mode || finished) return;
    const last = points[points.length - 1];
    // The two clicks of a finishing double-click land on the last vertex: don't repeat it.
    if (last && map.project(last).dist(event.point) < 4) return;
    points.push([event.lngLat.lng, event.lngLat.lat]);
    redraw();
  });
  map.on('dblclick', (event) => {
    if (!mode || finished) return;
    event.preventDefault();
    finish();
  });
  document.addEventListener('keydown', (event) => {
    if (!mode || finished) return;
    if (event.key === 'Enter') finish();
    if (event.key === 'Escape') setMode(null);
  });

  return {
    isMeasuring: () => mode !== null && !finished,
    drawArea: (callback) => { setMode('area'); onFinish = callback; },
    relabel: () => { output.textContent = result(); },
  };
}
