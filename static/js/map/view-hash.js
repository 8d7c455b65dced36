// The shareable URL: #map=zoom/lat/lon&layers=id,id keeps the view and the open layers.
export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const view = (params.get('map') || '').split('/').map(Number);
  const result = { layers: null, view: null };
  if (view.length === 3 && view.every(Number.isFinite)) {
    result.view = { zoom: view[0], center: [view[2], view[1]] };
  }
  if (params.has('layers')) result.layers = params.get('layers').split(',').filter(Boolean);
  return result;
}

export function writeHash(map, openLayers) {
  const { lng, lat } = map.getCenter();
  const zoom = map.getZoom();
  // Precision follows the zoom, as MapLibre's own hash does.
  const digits = Math.ceil((zoom * Math.LN2 + Math.log(512 / 360 / 0.5)) / Math.LN10);
  const view = `${zoom.toFixed(2)}/${lat.toFixed(digits)}/${lng.toFixed(digits)}`;
  const hash = `#map=${view}&layers=${openLayers.join(',')}`;
  if (hash !== location.hash) history.replaceState(history.state, '', hash);
  // the print layout opens on the same view and layers
  document.getElementById('print-link')?.setAttribute('href', `/map/print${hash}`);
}
