// What the monitoring page draws from the server's series (monitor-charts.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { chartsOf } from "../../tasks_app/static/tasks_app/monitor-charts.js";

const NOW = 1_800_000_000;
const DATA = {
  window_seconds: 100,
  rates: { time: [NOW - 50, NOW], messages: [10, 40], events: [2, 4], errors: [0, 0], refusals: [0, 1] },
  gauges: {
    time: [NOW - 100, NOW - 50, NOW],
    running: [0, 1, 2], queued: [3, 0, 0],
    connections: { websocket: [1, 2, 4], sse: [0, 0, 1] },
    connections_by_process: { "web-1:10": [1, 1, 3], "web-2:11": [0, 1, 2] },
  },
};

test("a chart's line runs over the window, scaled to its peak", () => {
  const messages = chartsOf(DATA, NOW).messages;

  assert.equal(messages.peak, 40);
  assert.deepEqual(messages.lines.map((line) => line.points), ["50.00,75.00 100.00,0.00"]);
  assert.equal(messages.now, "40");
});

test("connections are drawn by transport and by server process, with their latest values", () => {
  const charts = chartsOf(DATA, NOW);

  assert.deepEqual(charts.connections.lines.map((line) => [line.name, line.latest]), [["WebSocket", 4], ["Server-Sent Events", 1]]);
  assert.deepEqual(charts.connections_by_process.lines.map((line) => line.name), ["web-1:10", "web-2:11"]);
  assert.equal(charts.tasks.now, "2 / 0");
});

test("samples older than the window are left out, and an idle chart still has a scale", () => {
  const later = chartsOf(DATA, NOW + 60);

  assert.equal(later.connections.lines[0].points.split(" ").length, 1);
  assert.equal(later.errors.peak, 1);
});
