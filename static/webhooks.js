// The webhooks page: the signing secret (shown once when made), and the user's endpoints, over
// the webhooks API (docs/protocol.md). In the page's language (tasks_app/i18n.js).
import { gettext, interpolate } from "./tasks_app/i18n.js";

const EVENT_LABELS = () => ({
  "task.started": gettext("starts"),
  "task.completed": gettext("completes"),
  "task.failed": gettext("fails"),
  "task.cancelled": gettext("is cancelled"),
});
const csrf = document.querySelector("#csrf input[name=csrfmiddlewaretoken]").value;
const secretSection = document.getElementById("secret");
const secretButton = document.getElementById("secret-button");
const list = document.getElementById("endpoints");
const form = document.getElementById("endpoint-form");
const errors = document.getElementById("endpoint-errors");

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "X-CSRFToken": csrf, Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = response.status === 204 ? {} : await response.json();
  return { ok: response.ok, status: response.status, answer };
}

function showSecretButton() {
  const has = secretSection.dataset.hasSecret === "true";
  secretButton.textContent = has ? secretButton.dataset.rotate : secretButton.dataset.create;
}

async function makeSecret() {
  const { ok, answer } = await call("POST", "/api/webhooks/secret/");
  if (!ok) return;
  document.getElementById("secret-value").textContent = answer.secret;
  document.getElementById("secret-shown").hidden = false;
  secretSection.dataset.hasSecret = "true";
  showSecretButton();
}

function stateOf(endpoint) {
  if (endpoint.disabled_at) return interpolate(gettext("disabled: %(reason)s"), { reason: endpoint.disabled_reason });
  if (endpoint.failing_since) {
    return interpolate(gettext("failing since %(time)s"), { time: new Date(endpoint.failing_since).toLocaleString(document.documentElement.lang) });
  }
  return gettext("active");
}

function render(endpoints) {
  const labels = EVENT_LABELS();
  list.replaceChildren(...endpoints.map((endpoint) => {
    const item = document.getElementById("endpoint-template").content.firstElementChild.cloneNode(true);
    item.dataset.endpointId = endpoint.id;
    item.dataset.state = endpoint.disabled_at ? "disabled" : endpoint.failing_since ? "failing" : "active";
    item.querySelector(".endpoint-url").textContent = endpoint.url;
    item.querySelector(".endpoint-events").textContent = endpoint.events.map((event) => labels[event] ?? event).join(", ");
    item.querySelector(".endpoint-state").textContent = stateOf(endpoint);
    item.querySelector(".delete").addEventListener("click", () => remove(endpoint.id));
    return item;
  }));
  document.getElementById("no-endpoints").hidden = endpoints.length > 0;
}

async function load() {
  const { ok, answer } = await call("GET", "/api/webhooks/");
  if (ok) render(answer.results);
}

async function add(event) {
  event.preventDefault();
  errors.textContent = "";
  const body = {
    url: form.elements.url.value.trim(),
    events: [...form.querySelectorAll("input[name=events]:checked")].map((input) => input.value),
  };
  const { ok, status, answer } = await call("POST", "/api/webhooks/", body);
  if (ok) {
    form.elements.url.value = "";
    await load();
    return;
  }
  const lines = [answer.message || interpolate(gettext("The server answered %(status)s."), { status })];
  for (const messages of Object.values(answer.errors || {})) lines.push(...messages);
  errors.textContent = lines.join("\n");
}

async function remove(endpointId) {
  await call("DELETE", `/api/webhooks/${endpointId}/`);
  await load();
}

secretButton.addEventListener("click", makeSecret);
form.addEventListener("submit", add);
showSecretButton();
load();
