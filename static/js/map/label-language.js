// Map labels in the UI language: a label the registry names in English too (ward names)
// is written from its English field while the page is in English.
import { language } from '../i18n.js';

const EN_FIELD = 'gisapp:text-field-en';

export function applyLabelLanguage(map) {
  for (const layer of map.getStyle().layers) {
    const english = layer.metadata?.[EN_FIELD];
    if (!english) continue;
    if (!('gisapp:text-field' in layer.metadata)) {
      // The style's own (Vietnamese) text, kept on the map's copy of the layer's metadata.
      map.getLayer(layer.id).metadata['gisapp:text-field'] = layer.layout['text-field'];
    }
    const vietnamese = map.getLayer(layer.id).metadata['gisapp:text-field'];
    map.setLayoutProperty(layer.id, 'text-field', language() === 'en' ? english : vietnamese);
  }
}
