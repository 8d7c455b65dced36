// Lengths and areas on the WGS 84 ellipsoid, in metres and square metres.
import { toVn2000Tm3, tm3ScaleFactor } from './vn2000.js';

const A = 6378137.0;
const F = 1 / 298.257223563;
const B = A * (1 - F);

// Geodesic distance between two [lon, lat] points (Vincenty's inverse formula, mm-accurate).
export function geodesicDistance([lon1, lat1], [lon2, lat2]) {
  const rad = Math.PI / 180;
  const L = (lon2 - lon1) * rad;
  const U1 = Math.atan((1 - F) * Math.tan(lat1 * rad));
  const U2 = Math.atan((1 - F) * Math.tan(lat2 * rad));
  const [sinU1, cosU1, sinU2, cosU2] = [Math.sin(U1), Math.cos(U1), Math.sin(U2), Math.cos(U2)];
  let lambda = L;
  for (let i = 0; i < 200; i += 1) {
    const sinL = Math.sin(lambda);
    const cosL = Math.cos(lambda);
    const sinSigma = Math.hypot(cosU2 * sinL, cosU1 * sinU2 - sinU1 * cosU2 * cosL);
    if (sinSigma === 0) return 0;
    const cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    const sigma = Math.atan2(sinSigma, cosSigma);
    const sinAlpha = cosU1 * cosU2 * sinL / sinSigma;
    const cos2Alpha = 1 - sinAlpha ** 2;
    const cos2SigmaM = cos2Alpha === 0 ? 0 : cosSigma - 2 * sinU1 * sinU2 / cos2Alpha;
    const C = F / 16 * cos2Alpha * (4 + F * (4 - 3 * cos2Alpha));
    const previous = lambda;
    lambda = L + (1 - C) * F * sinAlpha
      * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM ** 2)));
    if (Math.abs(lambda - previous) < 1e-12) {
      const u2 = cos2Alpha * (A * A - B * B) / (B * B);
      const bigA = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
      const bigB = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
      const dSigma = bigB * sinSigma * (cos2SigmaM + bigB / 4 * (cosSigma * (-1 + 2 * cos2SigmaM ** 2)
        - bigB / 6 * cos2SigmaM * (-3 + 4 * sinSigma ** 2) * (-3 + 4 * cos2SigmaM ** 2)));
      return B * bigA * (sigma - dSigma);
    }
  }
  throw new Error('geodesic distance did not converge (nearly antipodal points)');
}

// Length of a path of [lon, lat] points.
export function pathLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) total += geodesicDistance(points[i - 1], points[i]);
  return total;
}

// Area of a ring of [lon, lat] points: shoelace in the VN-2000 TM-3 plane, divided by the
// square of the plane's scale factor at the ring, which leaves the ellipsoidal area
// (within 0.01 % for city-sized rings near Da Nang).
export function ringArea(points) {
  const plane = points.map(([lon, lat]) => toVn2000Tm3(lon, lat));
  let twice = 0;
  for (let i = 0; i < plane.length; i += 1) {
    const [x1, y1] = plane[i];
    const [x2, y2] = plane[(i + 1) % plane.length];
    twice += x1 * y2 - x2 * y1;
  }
  const meanEasting = plane.reduce((sum, [x]) => sum + x, 0) / plane.length;
  return Math.abs(twice) / 2 / tm3ScaleFactor(meanEasting) ** 2;
}

// The [[west, south], [east, north]] box of a GeoJSON geometry (for map.fitBounds).
export function bounds(geometry) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      box[0] = Math.min(box[0], c[0]); box[1] = Math.min(box[1], c[1]);
      box[2] = Math.max(box[2], c[0]); box[3] = Math.max(box[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return [[box[0], box[1]], [box[2], box[3]]];
}
