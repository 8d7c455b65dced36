// The ETL console: upload with options, live progress by polling the run, run history with
// filters, a run's rejects (table + CSV), schedules (list, create, pause/resume).
import { startLanguage, onLanguageChange, t, formatNumber } from '../i18n.js';
import { el } from '../dom.js';
import { installAlertView } from './alerts.js';

const root = document.getElementById('etl-app');
const urls = { imports: root.dataset.importsUrl, runs: root.dataset.runsUrl, schedules: root.dataset.schedulesUrl };
const csrf = document.querySelector('meta[name=csrf-token]').content;
const FINAL = ['succeeded', 'failed', 'cancelled'];
const POLL_MS = 700;
let watched = null;

async function call(url, options = {}) {
  const response = await fetch(url, { credentials: 'same-origin', ...options,
    headers: { 'X-CSRF-Token': csrf, ...(options.headers || {}) } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

function showError(error) {
  const box = document.getElementById('etl-error');
  box.hidden = !error;
  box.textContent = error ? error.message : '';
}

// A time in the UI language's format; in a schedule's own time zone when one is given.
const when = (iso, timeZone) => (iso ? new Intl.DateTimeFormat(document.documentElement.lang === 'vi' ? 'vi-VN' : 'en-GB',
  { dateStyle: 'short', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(new Date(iso)) : '–');
const status = (s) => t(`etl.status.${s}`);

function renderProgress(run) {
  const done = FINAL.includes(run.status);
  const counts = el('dl', { class: 'facts' },
    el('dt', {}, t('etl.run')), el('dd', { dataset: { field: 'id' } }, `#${run.id} · ${run.layer} · ${run.source}`),
    el('dt', {}, t('etl.status')), el('dd', { dataset: { field: 'status', status: run.status } }, status(run.status)),
    el('dt', {}, t('etl.phase')), el('dd', {}, run.phase ?? '–'),
    el('dt', {}, t('etl.read')), el('dd', {}, formatNumber(run.rows_read)),
    el('dt', {}, t('etl.loaded')), el('dd', { dataset: { field: 'rows_loaded' } }, formatNumber(run.rows_loaded)),
    el('dt', {}, t('etl.rejected')), el('dd', { dataset: { field: 'rows_rejected' } }, formatNumber(run.rows_rejected)));
  const bar = el('progress', { max: '1', 'aria-label': t('etl.progress') });
  if (done) bar.value = 1;
  const parts = [bar, counts];
  if (run.error) parts.push(el('p', { class: 'error' }, `${t('etl.error')}: ${run.error}`));
  if (done && run.rows_rejected > 0) {
    const button = el('button', { type: 'button', class: 'secondary' }, t('etl.show_rejects'));
    button.addEventListener('click', () => showRejects(run.id));
    parts.push(button);
  }
  document.getElementById('progress').replaceChildren(...parts);
}

async function watch(runId) {
  watched = runId;
  while (watched === runId) {
    const run = await call(`${urls.runs}/${runId}`);
    renderProgress(run);
    if (FINAL.includes(run.status)) { loadRuns(); return; }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function loadRuns() {
  const params = new URLSearchParams([...new FormData(document.getElementById('run-filter'))].filter(([, v]) => v));
  if (params.has('since')) params.set('since', `${params.get('since')}T00:00:00+07:00`);
  const { runs, total } = await call(`${urls.runs}?${params}&limit=50`);
  const head = el('tr', {}, ...['etl.run', 'etl.layer', 'etl.source', 'etl.status', 'etl.started', 'etl.read', 'etl.loaded', 'etl.rejected']
    .map((k) => el('th', { scope: 'col' }, t(k))), el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, t('etl.rejects'))));
  const rows = runs.map((run) => {
    const button = run.rows_rejected > 0 ? el('button', { type: 'button' }, t('etl.show_rejects')) : '';
    if (button) button.addEventListener('click', () => showRejects(run.id));
    return el('tr', { dataset: { run: run.id } }, el('td', {}, `#${run.id}`), el('td', {}, run.layer), el('td', {}, run.source),
      el('td', {}, status(run.status)), el('td', {}, when(run.created_at)), el('td', { class: 'num' }, formatNumber(run.rows_read)),
      el('td', { class: 'num' }, formatNumber(run.rows_loaded)), el('td', { class: 'num' }, formatNumber(run.rows_rejected)), el('td', {}, button));
  });
  document.getElementById('runs').replaceChildren(el('table', { class: 'data runs' },
    el('caption', {}, `${t('etl.history')}: ${formatNumber(total)}`), el('thead', {}, head), el('tbody', {}, ...rows)));
}

async function showRejects(runId) {
  const { rejects, total } = await call(`${urls.runs}/${runId}/rejects?limit=100`);
  const head = el('tr', {}, ...['etl.row', 'etl.reason', 'etl.attributes'].map((k) => el('th', { scope: 'col' }, t(k))));
  const rows = rejects.map((r) => el('tr', {}, el('td', { class: 'num' }, formatNumber(r.row_number)), el('td', {}, r.reason),
    el('td', { class: 'attrs' }, JSON.stringify(r.attributes))));
  const csv = el('a', { href: `${urls.runs}/${runId}/rejects?f=csv`, download: `run-${runId}-rejects.csv`, class: 'csv' }, t('etl.csv'));
  document.getElementById('rejects').replaceChildren(el('table', { class: 'data rejects', dataset: { run: runId } },
    el('caption', {}, `${t('etl.rejects')} · #${runId} · ${formatNumber(total)} `, csv), el('thead', {}, head), el('tbody', {}, ...rows)));
}

async function loadSchedules() {
  const { schedules } = await call(urls.schedules);
  const head = el('tr', {}, ...['etl.layer', 'etl.source', 'etl.cron', 'etl.status', 'etl.next_runs'].map((k) => el('th', { scope: 'col' }, t(k))),
    el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, t('etl.pause'))));
  const rows = schedules.map((s) => {
    const toggle = el('button', { type: 'button', class: 'toggle' }, s.enabled ? t('etl.pause') : t('etl.resume'));
    toggle.addEventListener('click', async () => {
      try {
        await call(`${urls.schedules}/${s.id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ enabled: !s.enabled }) });
        loadSchedules();
      } catch (error) { showError(error); }
    });
    const edit = el('button', { type: 'button', class: 'secondary edit' }, t('etl.edit'));
    edit.addEventListener('click', () => editSchedule(s));
    const next = s.enabled ? s.next_runs.slice(0, 3).map((iso) => el('li', {}, el('time', { datetime: iso }, when(iso, s.timezone)))) : [];
    return el('tr', { dataset: { schedule: s.id, enabled: String(s.enabled) } }, el('td', {}, s.layer), el('td', {}, s.source),
      el('td', {}, el('code', {}, s.cron), el('br'), el('small', {}, s.timezone)), el('td', {}, s.enabled ? t('etl.enabled') : t('etl.paused')),
      el('td', {}, next.length ? el('ul', { class: 'next-runs' }, ...next) : '–'), el('td', { class: 'actions' }, edit, ' ', toggle));
  });
  if (rows.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: '6' }, t('etl.none'))));
  document.getElementById('schedules').replaceChildren(el('table', { class: 'data schedules' },
    el('caption', {}, t('etl.schedules')), el('thead', {}, head), el('tbody', {}, ...rows)));
}

// The schedule form edits an existing schedule until it is saved or cancelled.
function editSchedule(schedule) {
  const form = document.getElementById('new-schedule');
  form.dataset.editing = schedule.id;
  for (const name of ['layer', 'source', 'cron']) form.elements[name].value = schedule[name];
  form.querySelector('button[type=submit]').textContent = t('etl.save');
  document.getElementById('s-cancel').hidden = false;
  form.elements.cron.focus();
}

function stopEditing() {
  const form = document.getElementById('new-schedule');
  delete form.dataset.editing;
  form.reset();
  form.querySelector('button[type=submit]').textContent = t('etl.add');
  document.getElementById('s-cancel').hidden = true;
}

function installForms() {
  document.getElementById('upload').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    for (const [key, value] of [...form]) if (value === '') form.delete(key);
    try {
      showError(null);
      const { run_id: runId } = await call(urls.imports, { method: 'POST', body: form });
      watch(runId);
    } catch (error) { showError(error); }
  });
  document.getElementById('run-filter').addEventListener('submit', (event) => { event.preventDefault(); loadRuns().catch(showError); });
  const scheduleForm = document.getElementById('new-schedule');
  scheduleForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const editing = scheduleForm.dataset.editing;
    try {
      showError(null);
      await call(editing ? `${urls.schedules}/${editing}` : urls.schedules, { method: editing ? 'PATCH' : 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(Object.fromEntries(new FormData(scheduleForm))) });
      stopEditing();
      loadSchedules();
    } catch (error) { showError(error); }
  });
  document.getElementById('s-cancel').addEventListener('click', stopEditing);
}

async function start() {
  await startLanguage();
  installForms();
  const alertView = installAlertView(document.getElementById('console-alerts'), { call, when, showError });
  await Promise.all([loadRuns(), loadSchedules(), alertView.load()]);
  onLanguageChange(() => { loadRuns(); loadSchedules(); alertView.load(); });
  root.dataset.ready = 'true';
}

start().catch((error) => { showError(error); throw error; });
