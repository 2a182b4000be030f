// What the monitoring page draws from the server's series (admin monitor/data/): for each chart,
// its lines (name, colour, points scaled to a 100 × 100 box over the window) and the latest
// values. No DOM here, so that node --test can check it; monitor.js puts it on the page.
import { formatNumber, gettext } from "./i18n.js";

const COLOURS = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2"];

// {chart: [{name, values}]}, with the times the values were taken at.
function linesOf(data) {
  const rates = data.rates;
  const gauges = data.gauges;
  return {
    connections: [
      { name: gettext("WebSocket"), values: gauges.connections.websocket, times: gauges.time },
      { name: gettext("Server-Sent Events"), values: gauges.connections.sse, times: gauges.time },
    ],
    connections_by_process: Object.entries(gauges.connections_by_process).map(([process, values]) => ({
      name: process, values, times: gauges.time,
    })),
    messages: [{ name: gettext("messages/s"), values: rates.messages, times: rates.time }],
    events: [{ name: gettext("events/s"), values: rates.events, times: rates.time }],
    tasks: [
      { name: gettext("running"), values: gauges.running, times: gauges.time },
      { name: gettext("queued"), values: gauges.queued, times: gauges.time },
    ],
    errors: [
      { name: gettext("errors/s"), values: rates.errors, times: rates.time },
      { name: gettext("refusals/s"), values: rates.refusals, times: rates.time },
    ],
  };
}

// x from the window's start (0) to now (100), y from 0 (bottom, 100) to the chart's peak (top, 0).
export function chartsOf(data, now = Date.now() / 1000) {
  const start = now - data.window_seconds;
  const charts = {};
  for (const [chart, lines] of Object.entries(linesOf(data))) {
    const peak = Math.max(1, ...lines.flatMap((line) => line.values));
    charts[chart] = {
      peak,
      lines: lines.map((line, index) => ({
        name: line.name,
        colour: COLOURS[index % COLOURS.length],
        latest: line.values.at(-1) ?? 0,
        points: line.values
          .map((value, i) => [(100 * (line.times[i] - start)) / data.window_seconds, 100 - (100 * value) / peak])
          .filter(([x]) => x >= 0)
          .map(([x, y]) => `${x.toFixed(2)},${y.toFixed(2)}`)
          .join(" "),
      })),
      now: lines.map((line) => formatNumber(line.values.at(-1) ?? 0)).join(" / "),
    };
  }
  return charts;
}
