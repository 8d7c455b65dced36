// WGS 84 -> VN-2000 / TM-3 (the city's zone: EPSG:5899 for Da Nang), as PROJ does it by default:
// the inverse of EPSG:6960 (VN-2000 to WGS 84 (2), 7 parameters, coordinate-frame rotation,
// Decision 05/2007/QĐ-BTNMT), then transverse Mercator on the WGS 84 ellipsoid (VN-2000
// uses it) with the zone's central meridian (107°45' until setTm3Meridian), k0 0.9999,
// false easting 500 000 m.
// Checked against pyproj in tests/gisapp/web/test_map.py.
const A = 6378137.0;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const ARCSEC = Math.PI / (180 * 3600);
const HELMERT = {
  tx: -191.90441429, ty: -39.30318279, tz: -111.45032835,
  rx: -0.00928836 * ARCSEC, ry: 0.01975479 * ARCSEC, rz: -0.00427372 * ARCSEC,
  s: 0.252906278e-6,
};
const TM3 = { lon0: (107 + 45 / 60) * Math.PI / 180, k0: 0.9999, x0: 500000, y0: 0 };

// The city's TM-3 zone, from /api/layers (city.metric_crs.central_meridian, degrees).
export function setTm3Meridian(degrees) {
  TM3.lon0 = degrees * Math.PI / 180;
}

function toCartesian(lat, lon) {
  const n = A / Math.sqrt(1 - E2 * Math.sin(lat) ** 2);
  return [n * Math.cos(lat) * Math.cos(lon), n * Math.cos(lat) * Math.sin(lon), n * (1 - E2) * Math.sin(lat)];
}

function toGeographic([x, y, z]) {
  const lon = Math.atan2(y, x);
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - E2));
  for (let i = 0; i < 10; i += 1) {
    const n = A / Math.sqrt(1 - E2 * Math.sin(lat) ** 2);
    const h = p / Math.cos(lat) - n;
    lat = Math.atan2(z, p * (1 - E2 * n / (n + h)));
  }
  return [lat, lon];
}

// WGS 84 geocentric -> VN-2000 geocentric: the inverse of the coordinate-frame Helmert,
// X_vn = R^T (X_wgs - T) / (1 + s), as PROJ's `inv helmert` computes it.
function inverseHelmert([x, y, z]) {
  const { tx, ty, tz, rx, ry, rz, s } = HELMERT;
  const [dx, dy, dz] = [x - tx, y - ty, z - tz];
  // coordinate-frame R = [[1, rz, -ry], [-rz, 1, rx], [ry, -rx, 1]]; its transpose:
  return [
    (dx - rz * dy + ry * dz) / (1 + s),
    (rz * dx + dy - rx * dz) / (1 + s),
    (-ry * dx + rx * dy + dz) / (1 + s),
  ];
}

// Transverse Mercator by Krüger's series in n (Karney 2011), sub-millimetre within a zone.
const N = F / (2 - F);
const RECT = A / (1 + N) * (1 + N ** 2 / 4 + N ** 4 / 64);
const ALPHA = [
  N / 2 - 2 * N ** 2 / 3 + 5 * N ** 3 / 16 + 41 * N ** 4 / 180,
  13 * N ** 2 / 48 - 3 * N ** 3 / 5 + 557 * N ** 4 / 1440,
  61 * N ** 3 / 240 - 103 * N ** 4 / 140,
  49561 * N ** 4 / 161280,
];

function transverseMercator(lat, lon) {
  const e = Math.sqrt(E2);
  const dl = lon - TM3.lon0;
  const t = Math.sinh(Math.atanh(Math.sin(lat)) - e * Math.atanh(e * Math.sin(lat)));
  const xi0 = Math.atan2(t, Math.cos(dl));
  const eta0 = Math.atanh(Math.sin(dl) / Math.sqrt(1 + t * t));
  let xi = xi0;
  let eta = eta0;
  ALPHA.forEach((a, i) => {
    const j = 2 * (i + 1);
    xi += a * Math.sin(j * xi0) * Math.cosh(j * eta0);
    eta += a * Math.cos(j * xi0) * Math.sinh(j * eta0);
  });
  return [TM3.x0 + TM3.k0 * RECT * eta, TM3.y0 + TM3.k0 * RECT * xi];
}

// [easting, northing] in metres for a WGS 84 longitude/latitude in degrees.
export function toVn2000Tm3(lon, lat) {
  const rad = Math.PI / 180;
  const [vlat, vlon] = toGeographic(inverseHelmert(toCartesian(lat * rad, lon * rad)));
  return transverseMercator(vlat, vlon);
}

// The TM-3 point scale factor at an easting: plane areas divide by its square.
export function tm3ScaleFactor(easting) {
  const d = (easting - TM3.x0) / (TM3.k0 * A);
  return TM3.k0 * (1 + d * d / 2);
}
