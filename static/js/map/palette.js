// The map theme switch (light, dark, cadastral print): the server builds each theme's style
// from the registry; switching keeps the open layers and the opacity sliders.
import { pick } from '../i18n.js';

export function styleUrlFor(base, palette, catalogue) {
  return palette === catalogue.palettes[0].id ? base : `${base}?palette=${encodeURIComponent(palette)}`;
}

export function installPaletteSwitch(map, catalogue, select, { styleUrl, current, fetchJson, before, after }) {
  const relabel = () => {
    select.replaceChildren(...catalogue.palettes.map((p) => {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = pick(p.title);
      return option;
    }));
    select.value = current;
  };
  const choose = async (palette) => {
    const open = before();
    const style = await fetchJson(styleUrlFor(styleUrl, palette, catalogue));
    current = palette;
    select.value = palette;
    // A diff is applied at once, a full reload later: either way the map goes idle after.
    map.once('idle', () => after(palette, open));
    map.setStyle(style, { diff: true });
    map.getContainer().dataset.palette = palette;
  };
  select.addEventListener('change', () => { choose(select.value); });
  relabel();
  map.getContainer().dataset.palette = current;
  return { relabel, choose };
}
