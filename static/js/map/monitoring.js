// Live monitoring on the map: live symbols with the replay slider, the chart of a clicked
// thing's datastream and the open alerts, wired together (nothing when the page has no
// #live section).
import { installLive } from './live.js';
import { installChart } from './chart.js';
import { installAlerts } from './alerts.js';
import { setNowcastTime } from './nowcast.js';

export function installMonitoring(map) {
  const section = document.getElementById('live');
  if (!section) return null;
  const chart = installChart(document.getElementById('live-chart'), section.dataset.seriesUrl);
  // The slider moves the now-cast too (window.gisappNowcast, when a page or a script sets
  // one, takes its place).
  const onTime = (iso) => (window.gisappNowcast?.setNowcastTime ?? setNowcastTime)(iso);
  const live = installLive(map, section, { onThingClick: (thing, state) => chart.open(thing, state), onTime });
  const locate = (thingId) => {
    const thing = live.thing(thingId);
    return thing && thing.lon !== null ? [thing.lon, thing.lat] : null;
  };
  const alerts = installAlerts(map, section, { locate, onChange: () => live.refresh() });
  // Alerts drawn before the first state could not be located yet: draw them again once.
  let located = false;
  live.onState(() => { if (!located) { located = true; alerts.relabel(); } });
  return { live, chart, alerts, relabel() { live.relabel(); chart.relabel(); alerts.relabel(); } };
}
