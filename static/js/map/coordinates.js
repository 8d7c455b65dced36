// Cursor coordinates in WGS 84 and VN-2000 / TM-3 (the map centre when no pointer is over it).
import { formatNumber } from '../i18n.js';
import { toVn2000Tm3 } from '../vn2000.js';

export function installCoordinates(map, wgsOutput, vnOutput) {
  let last = map.getCenter();
  const show = ({ lng, lat }) => {
    last = { lng, lat };
    const deg = (v) => formatNumber(v, { minimumFractionDigits: 6, maximumFractionDigits: 6 });
    wgsOutput.textContent = `${deg(Math.abs(lat))}° ${lat >= 0 ? 'N' : 'S'}, ${deg(Math.abs(lng))}° ${lng >= 0 ? 'E' : 'W'}`;
    const [e, n] = toVn2000Tm3(lng, lat);
    const m = (v) => formatNumber(v, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    vnOutput.textContent = `E ${m(e)} m, N ${m(n)} m`;
  };
  map.on('mousemove', (event) => show(event.lngLat));
  map.on('moveend', () => show(map.getCenter()));
  show(last);
  return () => show(last);
}
