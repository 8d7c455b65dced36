// The shareable URL: #map=zoom/lat/lon&themes=id,id&layers=id,id&palette=dark keeps the view,
// the open themes and layers, and the map theme. `layers` says exactly which layers are
// open; a link with only `themes` opens every layer of those themes.
export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const view = (params.get('map') || '').split('/').map(Number);
  const result = { layers: null, themes: null, view: null, palette: params.get('palette') };
  if (view.length === 3 && view.every(Number.isFinite)) {
    result.view = { zoom: view[0], center: [view[2], view[1]] };
  }
  if (params.has('layers')) result.layers = params.get('layers').split(',').filter(Boolean);
  if (params.has('themes')) result.themes = params.get('themes').split(',').filter(Boolean);
  return result;
}

export function writeHash(map, openLayers, openThemes = [], palette = null) {
  const { lng, lat } = map.getCenter();
  const zoom = map.getZoom();
  // Precision follows the zoom, as MapLibre's own hash does.
  const digits = Math.ceil((zoom * Math.LN2 + Math.log(512 / 360 / 0.5)) / Math.LN10);
  const view = `${zoom.toFixed(2)}/${lat.toFixed(digits)}/${lng.toFixed(digits)}`;
  let hash = `#map=${view}&themes=${openThemes.join(',')}&layers=${openLayers.join(',')}`;
  if (palette) hash += `&palette=${palette}`;
  if (hash !== location.hash) history.replaceState(history.state, '', hash);
  // the print layout opens on the same view and layers
  document.getElementById('print-link')?.setAttribute('href', `/map/print${hash}`);
}
