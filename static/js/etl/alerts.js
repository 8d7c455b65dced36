// The console's alert view: sensor alert events (open, ended or all) with their rule, thing,
// times and the readings behind them; an operator acknowledges one (audited by the API).
import { t, pick, formatNumber } from '../i18n.js';
import { el } from '../dom.js';

const LIMIT = 200;

// The inputs that made the rule hold, numbers and times written in the UI language.
function details(event, when) {
  const value = (v) => (typeof v === 'number' ? formatNumber(v, { maximumFractionDigits: 2 })
    : (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? when(v) : v));
  return Object.entries(event.details ?? {}).map(([k, v]) => `${k}: ${value(v)}`).join('; ');
}

export function installAlertView(section, { call, when, showError }) {
  const urls = { alerts: section.dataset.alertsUrl, acknowledge: section.dataset.acknowledgeUrl };
  const form = document.getElementById('alert-filter');
  const box = document.getElementById('alerts');
  const ackUrl = (id) => urls.acknowledge.replace(/\/0\/acknowledge$/, `/${id}/acknowledge`);

  async function load() {
    const state = form.elements.state.value;
    const { events } = await call(`${urls.alerts}?state=${encodeURIComponent(state)}&limit=${LIMIT}`);
    const head = el('tr', {}, ...['alerts.rule', 'alerts.thing', 'alerts.started', 'alerts.ended', 'alerts.details', 'alerts.ack_column']
      .map((k) => el('th', { scope: 'col' }, t(k))));
    const rows = events.map((event) => {
      let ack = event.acknowledged_by ? t('alerts.acknowledged_by').replace('{user}', event.acknowledged_by)
        : (event.acknowledged_at ? t('alerts.acknowledged') : null);
      if (!ack) {
        ack = el('button', { type: 'button', class: 'acknowledge' }, t('alerts.acknowledge'));
        ack.addEventListener('click', async () => {
          try {
            showError(null);
            await call(ackUrl(event.id), { method: 'POST' });
            await load();
          } catch (error) { showError(error); }
        });
      }
      return el('tr', { dataset: { event: event.id, rule: event.rule.id, open: String(event.open),
        acknowledged: String(Boolean(event.acknowledged_at)) } },
      el('td', {}, event.rule.title ? pick(event.rule.title) : event.rule.id), el('td', {}, `${event.thing.name} (${event.thing.code})`),
      el('td', {}, el('time', { datetime: event.started_at }, when(event.started_at))),
      el('td', {}, event.ended_at ? el('time', { datetime: event.ended_at }, when(event.ended_at)) : '–'),
      el('td', { class: 'attrs' }, details(event, when)), el('td', { class: 'actions' }, ack));
    });
    if (rows.length === 0) rows.push(el('tr', { class: 'empty' }, el('td', { colspan: '6' }, t('alerts.none_listed'))));
    box.replaceChildren(el('table', { class: 'data alerts' },
      el('caption', {}, `${t('alerts.console_title')} · ${t(`alerts.state.${state}`)} · ${t('alerts.total').replace('{n}', formatNumber(events.length))}`),
      el('thead', {}, head), el('tbody', {}, ...rows)));
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load().catch(showError); });
  return { load };
}
