// The dashboard page: submit work (with upload progress), list my tasks, show each one live.
// All connection handling is in taskpulse-client.js; this file only turns its events into DOM,
// in the page's language (tasks_app/i18n.js).

import { renderResult } from "./results.js";
import { formatNumber, gettext, interpolate, locale, ngettext } from "./tasks_app/i18n.js";
import { TaskStream } from "./tasks_app/taskpulse-client.js";
import { connectionText, estimateText, statusText } from "./tasks_app/taskpulse-view.js";
import { watchForEndings } from "./attention.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const LOG_LIMIT = 500;

const form = document.getElementById("submit-form");
const kindSelect = document.getElementById("kind");
const uploadProgress = document.getElementById("upload-progress");
const submitErrors = document.getElementById("submit-errors");
const taskList = document.getElementById("tasks");
const noTasks = document.getElementById("no-tasks");
const template = document.getElementById("task-template");
const connectionBadge = document.getElementById("connection");
const logEntries = document.getElementById("log-entries");
const loginPrompt = document.getElementById("login-prompt");

const rows = new Map();  // task_id → {element, state}
const taskChanged = watchForEndings({
  toggle: document.getElementById("notify-toggle"),
  hint: document.getElementById("notify-hint"),
  states: () => [...rows.values()].map((row) => row.state),
  nameOf: (state) => [kindLabel(state.kind), title(state)].filter(Boolean).join(" "),
  focusTask,
});
const stream = new TaskStream(clientOptions(new URLSearchParams(window.location.search)));

// For checking a connection by hand: ?transport=sse (or polling) starts on that transport, and
// the numeric client options (e.g. ?retryWebSocketAfter=2000) can be set the same way.
function clientOptions(query) {
  const options = {};
  if (["websocket", "sse", "polling"].includes(query.get("transport"))) options.transport = query.get("transport");
  for (const name of ["minDelay", "maxDelay", "heartbeatTimeout", "retryWebSocketAfter", "pollInterval"]) {
    const value = Number(query.get(name));
    if (query.has(name) && Number.isFinite(value) && value >= 0) options[name] = value;
  }
  return options;
}

function csrfToken() {
  return form.querySelector("input[name=csrfmiddlewaretoken]").value;
}

// ---- submitting -------------------------------------------------------------------------

function showKindFields() {
  for (const fieldset of form.querySelectorAll("fieldset[data-kind]")) {
    const active = fieldset.dataset.kind === kindSelect.value;
    fieldset.hidden = !active;
    fieldset.disabled = !active;  // disabled fields are not submitted
  }
}

function submit(event) {
  event.preventDefault();
  submitErrors.textContent = "";
  const body = new FormData(form);
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.setRequestHeader("X-CSRFToken", csrfToken());
  request.responseType = "json";
  uploadProgress.hidden = false;
  uploadProgress.value = 0;
  request.upload.onprogress = (progress) => {
    if (progress.lengthComputable) uploadProgress.value = (100 * progress.loaded) / progress.total;
  };
  request.onload = () => {
    uploadProgress.hidden = true;
    if (request.status === 201) {
      addTask(request.response, { prepend: true });
      form.querySelectorAll("input[type=file]").forEach((input) => (input.value = ""));
    } else {
      showSubmitErrors(request.response, request.status);
    }
  };
  request.onerror = () => {
    uploadProgress.hidden = true;
    submitErrors.textContent = gettext("The upload did not reach the server. Check your connection and try again.");
  };
  request.send(body);
}

function showSubmitErrors(response, status) {
  const answered = interpolate(gettext("The server answered %(status)s."), { status });
  if (!response) {
    submitErrors.textContent = answered;
    return;
  }
  const lines = [response.message || answered];
  for (const [field, messages] of Object.entries(response.errors || {})) {
    lines.push(`${field}: ${messages.join(" ")}`);
  }
  submitErrors.textContent = lines.join("\n");
}

// ---- the task list ----------------------------------------------------------------------

async function loadTasks() {
  const response = await fetch("/api/tasks/", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const page = await response.json();
  for (const task of page.results.reverse()) addTask(task, { prepend: true });
  noTasks.hidden = rows.size > 0;
}

function addTask(task, { prepend }) {
  if (rows.has(task.task_id)) {
    // Already shown: it arrived on the stream before the upload's answer. Keep the newer state.
    const row = rows.get(task.task_id);
    row.element.querySelector(".task-title").textContent = title(task);
    if (task.seq > row.state.seq) update(task.task_id, task);
    return;
  }
  const element = template.content.firstElementChild.cloneNode(true);
  element.dataset.taskId = task.task_id;
  element.querySelector(".task-kind").textContent = kindLabel(task.kind);
  element.querySelector(".task-title").textContent = title(task);
  element.querySelector(".cancel").addEventListener("click", () => cancel(task.task_id));
  if (prepend) taskList.prepend(element);
  else taskList.append(element);
  rows.set(task.task_id, { element, state: task });
  noTasks.hidden = true;
  render(task.task_id);
  taskChanged(task, { ended: false });
  if (!TERMINAL.has(task.status)) stream.follow(task.task_id, task.seq);
}

// Brings a task into view, marked for a moment (a notification about it was clicked).
function focusTask(taskId) {
  const row = rows.get(taskId);
  if (!row) return;
  row.element.scrollIntoView({ block: "center" });
  row.element.classList.add("attention");
  setTimeout(() => row.element.classList.remove("attention"), 3000);
}

// A built-in kind's name as the form's list says it; another task's, as its Celery name.
function kindLabel(kind) {
  return kindSelect.querySelector(`option[value="${CSS.escape(kind)}"]`)?.textContent || kind;
}

function title(task) {
  const params = task.params;
  if (!params) return "";
  if (params.filename) return params.filename;
  if (task.kind === "batch_report") {
    const reports = ngettext("%(reports)s report", "%(reports)s reports", params.reports);
    const by = params.group_by ? interpolate(gettext("by %(column)s"), { column: params.group_by }) : "";
    return [interpolate(reports, { reports: formatNumber(params.reports) }), by].filter(Boolean).join(" ");
  }
  if (task.kind === "ticker") {
    return interpolate(ngettext("%(steps)s step", "%(steps)s steps", params.steps), { steps: formatNumber(params.steps) });
  }
  return "";
}

function listen() {
  for (const type of ["snapshot", "progress", "complete"]) {
    stream.addEventListener(type, (event) => rows.has(event.detail.task_id) && update(event.detail.task_id, event.detail));
  }
  // A task created in another tab arrives on the stream unasked.
  stream.addEventListener("task", (event) => addTask(event.detail, { prepend: true }));
  stream.addEventListener("message", (event) => log(event.detail));
  stream.addEventListener("state", (event) => showConnection(event.detail));
  stream.open();
}

function update(taskId, message) {
  const row = rows.get(taskId);
  // Progress never goes backwards on screen within a run; a new attempt (its worker died) starts over.
  const sameRun = row.state.status === message.status && row.state.attempt === message.attempt;
  const progress = Math.max(sameRun ? row.state.progress : 0, message.progress);
  const ended = !TERMINAL.has(row.state.status) && TERMINAL.has(message.status);
  row.state = { ...row.state, ...message, progress };
  render(taskId);
  taskChanged(row.state, { ended });
  if (message.type === "complete" && message.status === "completed" && message.kind === "data_import") {
    addDatasetOption(message.result);
  }
}

function render(taskId) {
  const { element, state } = rows.get(taskId);
  element.dataset.status = state.status;
  const status = element.querySelector(".status");
  status.dataset.status = state.status;
  status.textContent = statusText(state.status);
  element.querySelector(".fill").style.width = `${state.progress}%`;
  element.querySelector(".percent").textContent = percentText(state.progress);
  element.querySelector(".counts").textContent = [
    state.total ? `${formatNumber(state.current ?? 0)} / ${formatNumber(state.total)}` : "",
    estimateText(state),
  ].filter(Boolean).join(" · ");
  element.querySelector(".message").textContent = state.message || "";
  element.querySelector(".cancel").hidden = TERMINAL.has(state.status);
  renderElapsed(element, state);
  if (TERMINAL.has(state.status)) renderResult(element.querySelector(".result"), state);
}

function renderElapsed(element, state) {
  const start = state.started_at || state.created_at;
  if (!start) return;
  const end = state.finished_at ? Date.parse(state.finished_at) : Date.now();
  element.querySelector(".elapsed").textContent = formatDuration((end - Date.parse(start)) / 1000);
}

function tickElapsed() {
  for (const { element, state } of rows.values()) {
    if (!TERMINAL.has(state.status)) renderElapsed(element, state);
  }
}

async function cancel(taskId) {
  const response = await fetch(`/api/tasks/${taskId}/cancel/`, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
  });
  if (!response.ok && response.status !== 409) {
    const row = rows.get(taskId);
    row.element.querySelector(".message").textContent = gettext("Could not cancel; try again.");
  }
}

function addDatasetOption(result) {
  const select = document.getElementById("dataset");
  if (!result || select.querySelector(`option[value="${result.dataset_id}"]`)) return;
  const label = ngettext("%(name)s (%(rows)s row)", "%(name)s (%(rows)s rows)", result.rows_imported);
  const option = new Option(interpolate(label, { name: result.dataset_name, rows: result.rows_imported }), result.dataset_id);
  select.append(option);
}

// ---- connection state and the message log -----------------------------------------------

function showConnection({ state, transport }) {
  connectionBadge.dataset.state = state;
  connectionBadge.dataset.transport = transport;
  const via = { sse: gettext("(Server-Sent Events)"), polling: gettext("(polling)") }[transport];
  connectionBadge.textContent = [connectionText(state), state === "unauthenticated" ? "" : via].filter(Boolean).join(" ");
  loginPrompt.hidden = state !== "unauthenticated";
}

function log(message) {
  const entry = document.createElement("li");
  entry.textContent = `${new Date().toLocaleTimeString(locale())} ${JSON.stringify(message)}`;
  logEntries.append(entry);
  while (logEntries.children.length > LOG_LIMIT) logEntries.firstElementChild.remove();
}

// ---- formatting ----------------------------------------------------------------------

function percentText(progress) {
  return `${formatNumber(progress, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}

function formatDuration(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(whole / 60);
  if (!minutes) return interpolate(gettext("%(seconds)s s"), { seconds: whole });
  return interpolate(gettext("%(minutes)s min %(seconds)s s"), { minutes, seconds: whole % 60 });
}

kindSelect.addEventListener("change", showKindFields);
form.addEventListener("submit", submit);
setInterval(tickElapsed, 1000);
showKindFields();
listen();
loadTasks();
