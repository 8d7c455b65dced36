// The chart of a monitored thing's datastream: choose the series and the period (24 hours,
// 7 or 30 days, or from..to); /api/live/datastreams/{id}/series picks raw readings, hourly or
// daily buckets by the span. Drawn as SVG (a line, with the min..max band of a bucket),
// described for screen readers and repeated as a data table.
import { pick, t, formatNumber, language } from '../i18n.js';
import { el } from '../dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 560;
const HEIGHT = 210;
const PAD = { left: 46, right: 12, top: 10, bottom: 26 };
const HOUR_MS = 3600000;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

const locale = () => (language() === 'vi' ? 'vi-VN' : 'en-GB');
const stamp = (ms, span) => new Intl.DateTimeFormat(locale(), span > 2 * 24 * HOUR_MS
  ? { day: '2-digit', month: '2-digit' } : { hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
const fullStamp = (iso) => new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
const number = (v) => formatNumber(v, { maximumFractionDigits: 2 });

function valueText(body, v) {
  if (v === null || v === undefined) return '–';
  if (body.datastream.truth && body.resolution === 'raw') return v >= 0.5 ? t('chart.yes') : t('chart.no');
  if (body.datastream.truth) return formatNumber(v, { style: 'percent', maximumFractionDigits: 0 });
  return `${number(v)}${body.datastream.unit ? ` ${body.datastream.unit}` : ''}`;
}

// Evenly spaced "nice" ticks between low and high.
function ticks(low, high, count = 4) {
  const raw = (high - low) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step / 1e6; v += step) out.push(v);
  return out;
}

// Time ticks on whole local hours or days: about five over the span.
const TIME_STEPS = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 720].map((h) => h * HOUR_MS);
function timeTicks(start, end) {
  const step = TIME_STEPS.find((s) => (end - start) / s <= 6) ?? TIME_STEPS.at(-1);
  const offset = new Date(start).getTimezoneOffset() * 60000; // align to local midnight/hours
  const out = [];
  for (let ms = Math.ceil((start - offset) / step) * step + offset; ms <= end; ms += step) out.push(ms);
  return out;
}

export function drawChart(body) {
  const points = body.points.filter((p) => p[1] !== null);
  const times = points.map((p) => Date.parse(p[0]));
  const start = Date.parse(body.from);
  const end = Date.parse(body.to);
  const values = points.flatMap((p) => [p[1], p[2] ?? p[1], p[3] ?? p[1]]);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (body.datastream.truth || body.datastream.accumulates) low = Math.min(low, 0);
  if (body.datastream.truth) high = Math.max(high, 1);
  if (high === low) { high += 1; low -= body.datastream.accumulates ? 0 : 1; }
  if (!body.datastream.truth) high += (high - low) * 0.08; // headroom: a flat top stays visible
  const x = (ms) => PAD.left + ((ms - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
  const y = (v) => HEIGHT - PAD.bottom - ((v - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
  const title = svg('title', { id: 'chart-svg-title' });
  title.textContent = `${pick(body.datastream.label)} – ${body.datastream.thing.name}`;
  const desc = svg('desc', { id: 'chart-svg-desc' });
  desc.textContent = summary(body);
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart-svg',
    'aria-labelledby': 'chart-svg-title chart-svg-desc' }, title, desc);
  for (const v of ticks(low, high)) {
    root.append(svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: 'chart-grid' }));
    const label = svg('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'chart-tick' });
    label.textContent = body.datastream.truth && body.resolution === 'raw' ? (v >= 0.5 ? t('chart.yes') : t('chart.no')) : number(v);
    if (!body.datastream.truth || body.resolution !== 'raw' || v === 0 || v === 1) root.append(label);
  }
  for (const ms of timeTicks(start, end)) {
    const label = svg('text', { x: x(ms), y: HEIGHT - 8, 'text-anchor': 'middle', class: 'chart-tick' });
    label.textContent = stamp(ms, end - start);
    if (ms >= start && ms <= end) root.append(label);
  }
  root.append(svg('line', { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: HEIGHT - PAD.bottom, class: 'chart-axis' }),
    svg('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: HEIGHT - PAD.bottom, y2: HEIGHT - PAD.bottom, class: 'chart-axis' }));
  if (body.resolution !== 'raw' && points.length > 1) {
    const upper = points.map((p, i) => `${x(times[i])},${y(p[3])}`);
    const lower = points.map((p, i) => `${x(times[i])},${y(p[2])}`).reverse();
    if (body.value === 'mean') root.append(svg('polygon', { points: [...upper, ...lower].join(' '), class: 'chart-band' }));
  }
  const stepped = body.datastream.truth && body.resolution === 'raw';
  const path = points.map((p, i) => {
    const here = `${x(times[i])},${y(p[1])}`;
    if (i === 0) return `M${here}`;
    return stepped ? `H${x(times[i])}V${y(p[1])}` : `L${here}`;
  }).join('');
  if (points.length) root.append(svg('path', { d: path, class: 'chart-line' }));
  if (points.length === 1) root.append(svg('circle', { cx: x(times[0]), cy: y(points[0][1]), r: 3, class: 'chart-dot' }));
  return root;
}

function summary(body) {
  const values = body.points.map((p) => p[1]).filter((v) => v !== null);
  if (!values.length) return t('chart.no_data');
  return t('chart.summary').replace('{label}', `${pick(body.datastream.label)}${body.datastream.unit ? ` (${body.datastream.unit})` : ''}`)
    .replace('{count}', formatNumber(values.length)).replace('{value}', t(`chart.value.${body.value}`))
    .replace('{resolution}', t(`chart.resolution.${body.resolution}`))
    .replace('{from}', fullStamp(body.from)).replace('{to}', fullStamp(body.to))
    .replace('{min}', valueText(body, Math.min(...values))).replace('{max}', valueText(body, Math.max(...values)));
}

function table(body) {
  const aggregate = body.resolution !== 'raw';
  const head = el('tr', {}, el('th', { scope: 'col' }, t('chart.time')), el('th', { scope: 'col' }, t(`chart.value.${body.value}`)),
    ...(aggregate ? [el('th', { scope: 'col' }, t('chart.min')), el('th', { scope: 'col' }, t('chart.max'))] : []));
  const rows = body.points.map((p) => el('tr', {}, el('td', {}, el('time', { datetime: p[0] }, fullStamp(p[0]))),
    el('td', { class: 'num' }, valueText(body, p[1])),
    ...(aggregate ? [el('td', { class: 'num' }, valueText(body, p[2])), el('td', { class: 'num' }, valueText(body, p[3]))] : [])));
  return el('table', { class: 'data' }, el('caption', {}, `${pick(body.datastream.label)} – ${body.datastream.thing.name}`),
    el('thead', {}, head), el('tbody', {}, ...rows));
}

// `YYYY-MM-DDTHH:MM` of a time in the browser's zone, as datetime-local inputs take it.
function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

export function installChart(section, seriesUrl) {
  const select = document.getElementById('chart-datastream');
  const heading = document.getElementById('chart-title');
  const plot = document.getElementById('chart-plot');
  const status = document.getElementById('chart-status');
  const tableBox = document.getElementById('chart-table');
  const rangeButtons = [...section.querySelectorAll('[data-range]')];
  const custom = document.getElementById('chart-custom');
  let opened = null; // { thing, kinds }
  let range = { hours: 24 };
  let body = null;
  let asked = 0;

  const urlFor = (id) => seriesUrl.replace(/\/0\/series$/, `/${id}/series`);
  const render = () => {
    if (!body) return;
    plot.replaceChildren(body.points.length ? drawChart(body) : '');
    status.textContent = summary(body);
    tableBox.replaceChildren(table(body));
    section.dataset.points = String(body.points.length);
    section.dataset.resolution = body.resolution;
  };
  const load = async () => {
    const id = Number(select.value);
    const end = range.to ?? Date.now();
    const start = range.from ?? end - range.hours * 3600000;
    const params = new URLSearchParams({ from: new Date(start).toISOString(), to: new Date(end).toISOString() });
    const mine = ++asked;
    delete section.dataset.points;
    status.textContent = t('chart.loading');
    const response = await fetch(`${urlFor(id)}?${params}`, { credentials: 'same-origin' });
    const answer = await response.json();
    if (mine !== asked) return;
    if (!response.ok) { status.textContent = answer.error?.message ?? `HTTP ${response.status}`; return; }
    body = answer;
    render();
  };
  const fillOptions = () => {
    const { thing, kinds } = opened;
    const declared = kinds[thing.kind]?.datastreams ?? {};
    const chosen = select.value;
    select.replaceChildren(...Object.entries(thing.readings).map(([kind, reading]) => el('option',
      { value: String(reading.datastream) },
      `${declared[kind] ? pick(declared[kind].label) : kind}${declared[kind]?.unit ? ` (${declared[kind].unit})` : ''}`)));
    if (chosen && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
    heading.textContent = `${kinds[thing.kind] ? pick(kinds[thing.kind].title) : thing.kind}: ${thing.name}`;
  };
  const setRange = (hours) => {
    range = { hours };
    rangeButtons.forEach((b) => b.setAttribute('aria-pressed', String(Number(b.dataset.range) === hours)));
  };

  select.addEventListener('change', () => load());
  rangeButtons.forEach((button) => button.addEventListener('click', () => { setRange(Number(button.dataset.range)); load(); }));
  custom.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = Date.parse(document.getElementById('chart-from').value);
    const to = Date.parse(document.getElementById('chart-to').value);
    range = { from, to };
    rangeButtons.forEach((b) => b.setAttribute('aria-pressed', 'false'));
    load();
  });
  document.getElementById('chart-close').addEventListener('click', () => { section.hidden = true; opened = null; });

  return {
    // Open the chart of a thing (from /api/live/state), on `kind` or its first datastream.
    open(thing, state, kind = null) {
      opened = { thing, kinds: state.thing_kinds };
      section.hidden = false;
      select.value = '';
      fillOptions();
      const preferred = thing.readings[kind ?? state.symbols[thing.kind]?.by];
      if (preferred) select.value = String(preferred.datastream);
      setRange(24);
      document.getElementById('chart-to').value = localInput(Date.now());
      document.getElementById('chart-from').value = localInput(Date.now() - 24 * 3600000);
      return load();
    },
    relabel() { if (opened) { fillOptions(); render(); } },
  };
}
