// Map labels in the UI language: a label the registry names in other languages too (ward
// names in English) is written from that language's field while the page is in it.
import { language } from '../i18n.js';

const FIELDS = 'gisapp:text-fields';

export function applyLabelLanguage(map) {
  for (const layer of map.getStyle().layers) {
    const byLanguage = layer.metadata?.[FIELDS];
    if (!byLanguage) continue;
    if (!('gisapp:text-field' in layer.metadata)) {
      // The style's own (Vietnamese) text, kept on the map's copy of the layer's metadata.
      map.getLayer(layer.id).metadata['gisapp:text-field'] = layer.layout['text-field'];
    }
    const own = map.getLayer(layer.id).metadata['gisapp:text-field'];
    map.setLayoutProperty(layer.id, 'text-field', byLanguage[language()] ?? own);
  }
}
