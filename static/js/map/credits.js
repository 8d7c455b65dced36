// Credits of the layers a map shows: the style's metadata names each registry layer's
// sources (`gisapp:credits`); a layer counts when one of its style layers is visible at the
// map's zoom. `CreditsControl` is MapLibre's folded (i) credits box, listing only those.
import { t } from '../i18n.js';

export function visibleCredits(map) {
  const style = map.getStyle();
  const credits = style.metadata?.['gisapp:credits'] ?? {};
  const zoom = map.getZoom();
  const shown = new Set(style.layers.filter((l) => l.metadata?.['gisapp:layer']
    && (l.layout?.visibility ?? 'visible') !== 'none'
    && zoom >= (l.minzoom ?? 0) && zoom < (l.maxzoom ?? 24)).map((l) => l.metadata['gisapp:layer']));
  return [...new Set(Object.keys(credits).filter((id) => shown.has(id)).flatMap((id) => credits[id]))];
}

export class CreditsControl {
  onAdd(map) {
    this.map = map;
    this.container = document.createElement('details');
    this.container.className = 'maplibregl-ctrl maplibregl-ctrl-attrib maplibregl-compact';
    this.button = document.createElement('summary');
    this.button.className = 'maplibregl-ctrl-attrib-button';
    this.inner = document.createElement('div');
    this.inner.className = 'maplibregl-ctrl-attrib-inner';
    this.container.append(this.button, this.inner);
    this.container.addEventListener('toggle', () => {
      this.container.classList.toggle('maplibregl-compact-show', this.container.open);
    });
    this.update = () => {
      const text = visibleCredits(map).join(' | ');
      if (text !== this.inner.textContent) this.inner.textContent = text;
      this.container.classList.toggle('maplibregl-attrib-empty', !text);
    };
    map.on('styledata', this.update);
    map.on('zoomend', this.update);
    this.relabel();
    return this.container;
  }

  relabel() {
    this.button.title = t('map.credits');
    this.button.setAttribute('aria-label', t('map.credits'));
  }

  onRemove() {
    this.map.off('styledata', this.update);
    this.map.off('zoomend', this.update);
    this.container.remove();
  }
}
