// The admin's live monitoring page: asks for the last minutes' series every few seconds (each
// ask also records a sample, shared with every other open page) and redraws the charts.
import { gettext } from "./i18n.js";
import { chartsOf } from "./monitor-charts.js";

const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 2000;
const board = document.getElementById("monitor");
const state = document.getElementById("monitor-state");

function draw(data) {
  for (const [name, chart] of Object.entries(chartsOf(data))) {
    const figure = board.querySelector(`[data-chart="${name}"]`);
    figure.querySelector(".now").textContent = chart.now;
    const svg = figure.querySelector("svg");
    svg.replaceChildren(...chart.lines.map((line) => {
      const polyline = document.createElementNS(SVG, "polyline");
      polyline.setAttribute("points", line.points);
      polyline.setAttribute("stroke", line.colour);
      return polyline;
    }));
    svg.setAttribute("aria-label", chart.lines.map((line) => `${line.name}: ${line.latest}`).join(", "));
    figure.querySelector(".legend").replaceChildren(...chart.lines.map((line) => {
      const item = document.createElement("span");
      item.style.setProperty("--series", line.colour);
      item.textContent = `${line.name} `;
      return item;
    }));
  }
}

async function refresh() {
  try {
    const response = await fetch(board.dataset.source, { headers: { Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) throw new Error(data.message || response.statusText);
    draw(data);
    state.dataset.state = "live";
    state.dataset.samples = data.gauges.time.length;
  } catch (error) {
    state.dataset.state = "failed";
    state.textContent = `${gettext("Could not update the charts:")} ${error.message}`;
  }
  setTimeout(refresh, REFRESH_MS);
}

refresh();
