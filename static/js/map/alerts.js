// The open alerts beside the map, pushed by /api/alerts/stream (server-sent events): the
// stream's `open` event gives the list, each `alert` event an event opened, ended or
// acknowledged. Clicking an alert flies to its thing; operators may acknowledge it.
import { pick, t, formatNumber } from '../i18n.js';
import { el } from '../dom.js';
import { formatTime } from './live.js';

const FLY_ZOOM = 16;
const POLL_MS = 15000;
const POLL_LIMIT = 200;
const STREAM_RETRY_MS = 30000;

export function installAlerts(map, section, { locate, onChange } = {}) {
  const list = document.getElementById('alert-list');
  const status = document.getElementById('alerts-status');
  const canAcknowledge = section.dataset.canAcknowledge === 'true';
  const ackUrl = (id) => section.dataset.acknowledgeUrl.replace(/\/0\/acknowledge$/, `/${id}/acknowledge`);
  const csrf = document.querySelector('meta[name=csrf-token]')?.content ?? '';
  const open = new Map(); // event id -> event

  const acknowledge = async (event, button) => {
    button.disabled = true;
    const response = await fetch(ackUrl(event.id), { method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf } });
    const body = await response.json();
    if (!response.ok) { status.textContent = body.error?.message ?? `HTTP ${response.status}`; button.disabled = false; return; }
    open.set(body.id, body);
    render();
  };

  const item = (event) => {
    const place = locate?.(event.thing.id);
    const go = el('button', { type: 'button', class: 'alert-go' },
      el('strong', {}, pick(event.rule.title)), el('br'), event.thing.name, ' · ',
      el('time', { datetime: event.started_at }, t('alerts.since').replace('{time}', formatTime(event.started_at, true))),
      el('span', { class: 'visually-hidden' }, ` (${t('alerts.show_on_map').replace('{name}', event.thing.name)})`));
    go.addEventListener('click', () => {
      const where = locate?.(event.thing.id);
      if (where) map.flyTo({ center: where, zoom: Math.max(map.getZoom(), FLY_ZOOM) });
    });
    if (!place) go.disabled = true;
    const parts = [go];
    if (event.acknowledged_at) {
      parts.push(el('p', { class: 'alert-ack' }, event.acknowledged_by
        ? t('alerts.acknowledged_by').replace('{user}', event.acknowledged_by) : t('alerts.acknowledged')));
    } else if (canAcknowledge) {
      const ack = el('button', { type: 'button', class: 'alert-acknowledge' }, t('alerts.acknowledge'));
      ack.addEventListener('click', () => acknowledge(event, ack).catch((error) => { status.textContent = error.message; }));
      parts.push(ack);
    }
    return el('li', { class: 'alert-item', dataset: { event: event.id, rule: event.rule.id, thing: event.thing.id,
      acknowledged: String(Boolean(event.acknowledged_at)) } }, ...parts);
  };

  function render() {
    const events = [...open.values()].sort((a, b) => b.started_at.localeCompare(a.started_at) || b.id - a.id);
    list.replaceChildren(...events.map(item));
    status.textContent = events.length ? t('alerts.count').replace('{n}', formatNumber(events.length)) : t('alerts.none');
    section.dataset.alerts = String(events.length);
  }

  const replaceAll = (events) => {
    open.clear();
    for (const event of events) open.set(event.id, event);
    render();
    onChange?.();
  };
  // While every stream slot of the server process is taken (`busy`), the list is polled
  // instead and the stream tried again a little later.
  let source = null;
  let polling = null;
  const poll = async () => {
    const response = await fetch(`${section.dataset.alertsUrl}?state=open&limit=${POLL_LIMIT}`, { credentials: 'same-origin' });
    if (response.ok) replaceAll((await response.json()).events);
  };
  const connect = () => {
    source = new EventSource(section.dataset.streamUrl, { withCredentials: true });
    source.addEventListener('open', (message) => {
      if (message.data === undefined) return; // EventSource's own "connected" event, not ours
      clearInterval(polling);
      polling = null;
      replaceAll(JSON.parse(message.data));
    });
    source.addEventListener('alert', (message) => {
      const event = JSON.parse(message.data);
      if (event.open) open.set(event.id, event); else open.delete(event.id);
      render();
      onChange?.();
    });
    source.addEventListener('busy', () => {
      source.close();
      if (!polling) {
        poll().catch(() => {});
        polling = setInterval(() => poll().catch(() => {}), POLL_MS);
      }
      setTimeout(connect, STREAM_RETRY_MS);
    });
    // An interrupted stream reconnects by itself (the server's `retry`); say so meanwhile.
    source.onerror = () => { if (source.readyState === EventSource.CONNECTING) status.textContent = t('alerts.reconnecting'); };
  };
  connect();
  window.addEventListener('pagehide', () => source?.close());

  return { relabel: render, events: () => [...open.values()] };
}
