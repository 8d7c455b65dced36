// A field's value as the UI language writes it, from the field's description in /api/layers:
// coded values by their names (official land-use codes beside them: "Đất ở tại đô thị
// (ODT)"), booleans as Có/Không or Yes/No, years without grouping, numbers with the locale's separators, dates in the locale,
// units as each language writes them.
import { pick, t, formatNumber, formatDate } from './i18n.js';

export function formatField(field, value) {
  if (value === null || value === undefined || value === '') return '–';
  const named = field?.values?.[value];
  if (named) return field.shows_code ? `${pick(named)} (${value})` : pick(named);
  let text = String(value);
  if (field?.type === 'boolean') return t(value === true || value === 'true' ? 'value.yes' : 'value.no');
  if (field?.type === 'integer' || field?.type === 'float') {
    text = formatNumber(Number(value), field.year ? { useGrouping: false } : { maximumFractionDigits: 2 });
  } else if (field?.type === 'date') text = formatDate(value);
  const unit = field?.unit_label ? pick(field.unit_label) : field?.unit;
  return unit ? `${text} ${unit}` : text;
}
