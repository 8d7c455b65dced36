// Planner tools on the map: an area query over a drawn polygon or near a picked feature
// (counts, groups, features, CSV, highlighted) and a drainage trace from a clicked node (drawn, with its summary).
import { pick, t, formatNumber } from '../i18n.js';
import { el } from '../dom.js';

const RESULT = 'gisapp-analysis';

function addResultLayers(map) {
  map.addSource(RESULT, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${RESULT}-fill`, type: 'fill', source: RESULT, filter: ['==', '$type', 'Polygon'],
    paint: { 'fill-color': '#ff00aa', 'fill-opacity': 0.35 } });
  map.addLayer({ id: `${RESULT}-line`, type: 'line', source: RESULT, filter: ['!=', '$type', 'Point'],
    paint: { 'line-color': '#ff00aa', 'line-width': 4 } });
  map.addLayer({ id: `${RESULT}-point`, type: 'circle', source: RESULT, filter: ['==', '$type', 'Point'],
    paint: { 'circle-radius': 6, 'circle-color': '#ff00aa', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
}

async function postJson(url, body, format = 'json') {
  const response = await fetch(`${url}?f=${format}`, { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]')?.content ?? '' },
    body: JSON.stringify(body) });
  if (!response.ok) throw new Error((await response.json()).error?.message ?? `HTTP ${response.status}`);
  return format === 'csv' ? response.blob() : response.json();
}

export function installAnalysis(map, catalogue, section, measure) {
  const urls = { within: section.dataset.withinUrl, trace: section.dataset.traceUrl };
  const nodes = { layer: section.dataset.traceLayer, key: section.dataset.traceKey };
  const layerSelect = section.querySelector('#aq-layer');
  const groupSelect = section.querySelector('#aq-group');
  const areaResult = section.querySelector('#aq-result');
  const traceButton = section.querySelector('#trace-pick');
  const traceResult = section.querySelector('#trace-result');
  const byId = new Map(catalogue.layers.map((l) => [l.id, l]));
  let picking = false;
  addResultLayers(map);

  const fillSelects = () => {
    const chosen = layerSelect.value || catalogue.layers[0].id;
    layerSelect.replaceChildren(...catalogue.layers.map((l) => el('option', { value: l.id }, pick(l.title))));
    layerSelect.value = chosen;
    const group = groupSelect.value;
    groupSelect.replaceChildren(el('option', { value: '' }, t('analysis.no_group')),
      ...byId.get(chosen).fields.map((f) => el('option', { value: f.name }, pick(f.label))));
    groupSelect.value = [...groupSelect.options].some((o) => o.value === group) ? group : '';
  };
  layerSelect.addEventListener('change', () => { groupSelect.value = ''; fillSelects(); });

  const showArea = (fc, body) => {
    const layer = byId.get(fc.properties.layer);
    map.getSource(RESULT).setData(fc);
    const parts = [el('p', { class: 'count' }, `${t('analysis.count')}: `,
      el('strong', { dataset: { count: fc.properties.count } }, formatNumber(fc.properties.count)))];
    if (fc.properties.group_by) {
      const field = layer.fields.find((f) => f.name === fc.properties.group_by);
      parts.push(el('table', { class: 'data groups' }, el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, pick(field.label)), el('th', { scope: 'col' }, t('analysis.count')))),
      el('tbody', {}, ...fc.properties.groups.map((g) => el('tr', {}, el('td', {}, String(g.value ?? '–')),
        el('td', { class: 'num' }, formatNumber(g.count)))))));
    }
    const shown = layer.fields.slice(0, 3);
    parts.push(el('table', { class: 'data features' }, el('thead', {}, el('tr', {},
      ...shown.map((f) => el('th', { scope: 'col' }, pick(f.label))))),
    el('tbody', {}, ...fc.features.slice(0, 50).map((feature) => el('tr', {},
      ...shown.map((f) => el('td', {}, String(feature.properties[f.name] ?? '–'))))))));
    const csv = el('button', { type: 'button', class: 'csv' }, t('analysis.csv'));
    csv.addEventListener('click', async () => {
      const blob = await postJson(urls.within, body, 'csv');
      const link = el('a', { href: URL.createObjectURL(blob), download: `${layer.id}-within.csv` });
      link.click();
      URL.revokeObjectURL(link.href);
    });
    parts.push(csv);
    areaResult.replaceChildren(...parts);
  };

  // Near a feature: the next map click picks the feature, the distance comes from the form.
  const nearButton = section.querySelector('#aq-pick');
  let pickingNear = false;
  const setPickingNear = (on) => {
    pickingNear = on;
    nearButton.setAttribute('aria-pressed', String(on));
    nearButton.textContent = on ? t('analysis.picking_feature') : t('analysis.pick_feature');
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
  };
  nearButton.addEventListener('click', () => setPickingNear(!pickingNear));
  map.on('click', async (event) => {
    if (!pickingNear) return;
    setPickingNear(false);
    const { x, y } = event.point;
    const near = map.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]])
      .find((f) => byId.has(f.sourceLayer) && Number.isInteger(f.id));
    if (!near) { areaResult.replaceChildren(el('p', {}, t('analysis.no_feature'))); return; }
    const body = { layer: layerSelect.value,
      near: { layer: near.sourceLayer, id: near.id, distance_m: Number(section.querySelector('#aq-distance').value) } };
    if (groupSelect.value) body.group_by = groupSelect.value;
    try {
      showArea(await postJson(urls.within, body), body);
    } catch (error) { areaResult.replaceChildren(el('p', { class: 'error' }, error.message)); }
  });

  section.querySelector('#aq-draw').addEventListener('click', () => {
    measure.drawArea(async (ring) => {
      const body = { layer: layerSelect.value, polygon: { type: 'Polygon', coordinates: [ring] } };
      if (groupSelect.value) body.group_by = groupSelect.value;
      try {
        showArea(await postJson(urls.within, body), body);
      } catch (error) { areaResult.replaceChildren(el('p', { class: 'error' }, error.message)); }
    });
  });

  const showTrace = (fc) => {
    map.getSource(RESULT).setData(fc);
    const p = fc.properties;
    const facts = [[t('analysis.start'), p.start], [t('analysis.pipes'), formatNumber(p.pipes)],
      [t('analysis.length'), `${formatNumber(p.total_length_m, { maximumFractionDigits: 1 })} m`],
      [t('analysis.outfalls'), p.outfalls.join(', ') || '–'], [t('analysis.catchment'), formatNumber(p.catchment_parcels.length)]];
    traceResult.replaceChildren(el('dl', { class: 'facts', dataset: { pipes: p.pipes } },
      ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
  };

  const setPicking = (on) => {
    picking = on;
    traceButton.setAttribute('aria-pressed', String(on));
    traceButton.textContent = on ? t('analysis.picking') : t('analysis.pick_node');
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
  };
  traceButton.addEventListener('click', () => setPicking(!picking));
  map.on('click', async (event) => {
    if (!picking) return;
    setPicking(false);
    const { x, y } = event.point;
    const node = map.queryRenderedFeatures([[x - 8, y - 8], [x + 8, y + 8]])
      .find((f) => f.sourceLayer === nodes.layer);
    if (!node) { traceResult.replaceChildren(el('p', {}, t('analysis.no_node'))); return; }
    const direction = section.querySelector('#trace-direction').value;
    const url = `${urls.trace}?node=${encodeURIComponent(node.properties[nodes.key])}&direction=${direction}`;
    const response = await fetch(url, { credentials: 'same-origin' });
    const body = await response.json();
    if (!response.ok) { traceResult.replaceChildren(el('p', { class: 'error' }, body.error?.message)); return; }
    showTrace(body);
  });

  fillSelects();
  return { isPicking: () => picking || pickingNear, relabel: fillSelects };
}
