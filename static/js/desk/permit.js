// Permit pre-check (permit officers): the proposal for the chosen parcel, a footprint drawn
// on the desk map or its area, the rule-by-rule result, the overlaps drawn, a print link.
import { pick, t, formatNumber } from '../i18n.js';
import { el } from '../dom.js';

const FOOTPRINT = 'desk-footprint';
const OVERLAPS = 'desk-overlaps';
let proposedUses = [];  // the form's use choices (from the permit rules), named in the UI language

// A measured value or limit: a number with its unit, a use code or a list of them, or a dash.
function quantity(value, unit) {
  if (value === null || value === undefined) return '–';
  const shown = unit === 'floors' ? t('permit.unit_floors') : unit;
  if (typeof value === 'number') return `${formatNumber(value, { maximumFractionDigits: 2 })} ${shown ?? ''}`.trim();
  if (Array.isArray(value)) return value.join(', ');
  return proposedUses.includes(value) ? t(`permit.use.${value}`) : String(value);
}

export function installPermitCheck(map, form, currentParcel) {
  proposedUses = [...form.querySelector('#pc-use').options].map((o) => o.value);
  const drawButton = form.querySelector('#pc-draw');
  const result = form.querySelector('#permit-result');
  let drawing = false;
  let ring = [];
  let last = null;
  map.addSource(FOOTPRINT, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${FOOTPRINT}-line`, type: 'line', source: FOOTPRINT, paint: { 'line-color': '#6a00ff', 'line-width': 3 } });
  map.addSource(OVERLAPS, { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: `${OVERLAPS}-fill`, type: 'fill', source: OVERLAPS, paint: { 'fill-color': '#d62728', 'fill-opacity': 0.45 } });

  const drawRing = (closed) => {
    const coords = closed && ring.length >= 3 ? [...ring, ring[0]] : ring;
    map.getSource(FOOTPRINT).setData(coords.length >= 2
      ? { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: coords } }
      : { type: 'FeatureCollection', features: [] });
  };
  const setDrawing = (on) => {
    drawing = on;
    drawButton.setAttribute('aria-pressed', String(on));
    drawButton.textContent = on ? t('permit.drawing') : (ring.length >= 3 ? t('permit.drawn') : t('permit.draw'));
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
    if (on) map.getContainer().scrollIntoView({ block: 'nearest' });  // the form may sit below the map
  };
  drawButton.addEventListener('click', () => { if (!drawing) { ring = []; drawRing(false); } setDrawing(!drawing); });
  map.on('click', (event) => {
    if (!drawing) return;
    ring.push([event.lngLat.lng, event.lngLat.lat]);
    drawRing(false);
  });
  document.addEventListener('keydown', (event) => {
    if (drawing && event.key === 'Enter') { event.preventDefault(); setDrawing(false); drawRing(true); }
  });

  const render = (check) => {
    last = check;
    const rows = check.results.map((r) => el('tr', { dataset: { status: r.status } },
      el('td', {}, pick({ vi: r.title_vi, en: r.title_en })),
      el('td', {}, t(`permit.status.${r.status}`)),
      el('td', { class: 'num' }, quantity(r.measured, r.unit)),
      el('td', { class: 'num' }, quantity(r.limit, r.unit)),
      el('td', {}, pick({ vi: r.explanation_vi, en: r.explanation_en }) ?? '')));
    const head = el('tr', {}, ...['permit.rule', 'permit.status', 'permit.measured', 'permit.limit', 'permit.explanation']
      .map((k) => el('th', { scope: 'col' }, t(k))));
    result.replaceChildren(
      el('p', { class: `verdict verdict-${check.verdict}`, dataset: { verdict: check.verdict, check: check.id } },
        `${t('permit.verdict')}: ${t(`permit.status.${check.verdict}`)}`),
      el('table', { class: 'data rules' }, el('thead', {}, head), el('tbody', {}, ...rows)),
      el('a', { href: `${form.dataset.url}/${check.id}?f=html`, target: '_blank', class: 'print' }, t('permit.print')));
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const uid = currentParcel();
    if (!uid) { result.replaceChildren(el('p', { class: 'error' }, t('permit.choose_parcel'))); return; }
    const data = new FormData(form);
    const body = { parcel_uid: uid, use: data.get('use'), floors: Number(data.get('floors')), height_m: Number(data.get('height_m')) };
    if (ring.length >= 3) body.footprint = { type: 'Polygon', coordinates: [[...ring, ring[0]]] };
    else body.footprint_area_m2 = Number(data.get('footprint_area_m2'));
    const response = await fetch(form.dataset.url, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content },
      body: JSON.stringify(body) });
    const check = await response.json();
    if (!response.ok) { result.replaceChildren(el('p', { class: 'error' }, check.error?.message ?? `HTTP ${response.status}`)); return; }
    render(check);
    const overlaps = await fetch(`${form.dataset.url}/${check.id}?f=geojson`, { credentials: 'same-origin' });
    if (overlaps.ok) map.getSource(OVERLAPS).setData(await overlaps.json());
  });

  return { isDrawing: () => drawing, relabel: () => { if (last) render(last); } };
}
