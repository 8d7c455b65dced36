// Renders a parcel document from /api/parcels as a record: key, areas, fields (labels from
// the registry), land uses, rights and holders (present only when the caller may read them),
// neighbours and history.
import { pick, t, formatNumber, formatDate } from '../i18n.js';
import { formatField } from '../field-format.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const value = formatField;

function table(name, caption, fields, rows, cell) {
  const head = el('tr', {}, ...fields.map((f) => el('th', { scope: 'col' }, pick(f.label))));
  const body = rows.map((row) => el('tr', {}, ...fields.map((f) => el('td', { dataset: { field: f.name } }, cell(row, f)))));
  return el('table', { class: `data ${name}` }, el('caption', {}, caption), el('thead', {}, head), el('tbody', {}, ...body));
}

function m2(v) { return `${formatNumber(v, { maximumFractionDigits: 1 })} m²`; }

export function renderRecord(container, doc, catalogue, actions) {
  const parcels = catalogue.layers.find((l) => l.id === 'parcels');
  const tables = Object.fromEntries(catalogue.tables.map((tb) => [tb.id, tb]));
  const facts = el('dl', { class: 'facts' });
  const add = (label, text, name) => facts.append(el('dt', {}, label), el('dd', name ? { dataset: { field: name } } : {}, text));
  add(t('desk.ward_name'), `${doc.ward.name ?? ''} (${doc.ward.code})`);
  if (doc.legal_area !== null && doc.legal_area !== undefined) add(t('desk.legal_area'), m2(doc.legal_area), 'legal_area');
  add(t('desk.computed_area'), m2(doc.computed_area), 'computed_area');
  for (const field of parcels.fields) {
    if (!(field.name in doc.properties) || field.name === 'legal_area') continue;
    add(pick(field.label), value(field, doc.properties[field.name]), field.name);
  }
  const heading = el('h3', { class: 'parcel-title' }, `${t('search.parcel')} ${doc.key.parcel_no}, ${t('search.sheet')} ${doc.key.sheet_no} · ${doc.parcel_uid}`);
  const parts = [heading, el('p', { class: 'report-link' },
    el('a', { href: actions.report, target: '_blank', rel: 'noopener', class: 'report' }, t('desk.report')))];
  // doc.as_of is the end of the chosen day (the next midnight), so show the day asked for.
  if (doc.as_of) parts.push(el('p', { class: 'as-of-note' }, `${t('desk.showing_as_of')} ${formatDate(actions.day)}`));
  parts.push(facts);

  if (doc.land_uses?.length && tables.parcel_land_uses) {
    const fields = tables.parcel_land_uses.fields.filter((f) => f.name !== 'parcel_uid');
    parts.push(table('land-uses', t('desk.land_uses'), fields, doc.land_uses, (row, f) => value(f, row[f.name])));
  }
  if (doc.rights && tables.rights) {
    const rightFields = tables.rights.fields.filter((f) => f.name !== 'parcel_uid');
    const partyFields = tables.parties ? tables.parties.fields.filter((f) => f.name !== 'party_id') : [];
    const columns = [...rightFields, ...partyFields.map((f) => ({ ...f, name: `party.${f.name}` }))];
    parts.push(table('rights', t('desk.rights'), columns, doc.rights, (row, f) => (f.name.startsWith('party.')
      ? value(f, row.party?.[f.name.slice(6)]) : value(f, row[f.name]))));
  }
  if (doc.neighbours?.length) {
    const list = el('ul', { class: 'chips' }, ...doc.neighbours.map((n) => {
      const button = el('button', { type: 'button', dataset: { parcel: n.parcel_uid } }, `${n.sheet_no}/${n.parcel_no} · ${n.land_use ?? ''}`);
      button.addEventListener('click', () => actions.open(n.parcel_uid));
      return el('li', {}, button);
    }));
    parts.push(el('h4', {}, t('desk.neighbours')), list);
  }
  container.replaceChildren(...parts);
}

export function renderHistory(container, versions, actions) {
  const rows = versions.map((v) => {
    const day = v.valid_from.slice(0, 10);
    const button = el('button', { type: 'button', dataset: { day } }, t('desk.show_version'));
    button.addEventListener('click', () => actions.asOf(v.current ? '' : day));
    return el('tr', {}, el('td', {}, formatDate(v.valid_from)),
      el('td', {}, v.valid_to ? formatDate(v.valid_to) : t('desk.current')),
      el('td', { dataset: { field: 'change' } }, v.change ? pick(actions.changes?.[v.change] ?? { vi: v.change, en: v.change }) : ''),
      el('td', {}, button));
  });
  const head = el('tr', {}, ...['desk.valid_from', 'desk.valid_to', 'desk.change'].map((k) => el('th', { scope: 'col' }, t(k))),
    el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, t('desk.show_version'))));
  const parts = [];
  if (versions.length > 1) parts.push(timeSlider(versions, actions));
  container.replaceChildren(...parts, el('table', { class: 'data history' }, el('caption', {}, t('desk.history')),
    el('thead', {}, head), el('tbody', {}, ...rows)));
}

// A slider over the recorded versions, oldest to current: moving it shows the parcel as it was.
function timeSlider(versions, actions) {
  const ordered = [...versions].sort((a, b) => a.valid_from.localeCompare(b.valid_from));
  const dayOf = (v) => (v.current || !v.valid_to ? '' : v.valid_from.slice(0, 10));
  const at = actions.day ? ordered.findIndex((v) => v.valid_from.slice(0, 10) <= actions.day
    && (!v.valid_to || actions.day < v.valid_to.slice(0, 10))) : ordered.length - 1;
  const slider = el('input', { type: 'range', id: 'history-slider', min: '0', max: String(ordered.length - 1), step: '1',
    value: String(at < 0 ? ordered.length - 1 : at), 'aria-describedby': 'history-slider-day' });
  const shown = el('output', { id: 'history-slider-day', for: 'history-slider' });
  const label = () => {
    const v = ordered[Number(slider.value)];
    shown.textContent = `${formatDate(v.valid_from)} – ${v.valid_to ? formatDate(v.valid_to) : t('desk.current')}`;
    slider.setAttribute('aria-valuetext', shown.textContent);
  };
  label();
  slider.addEventListener('input', label);
  slider.addEventListener('change', () => actions.asOf(dayOf(ordered[Number(slider.value)])));
  return el('p', { class: 'history-slider' }, el('label', { for: 'history-slider' }, t('desk.time_slider')), ' ', slider, ' ', shown);
}
