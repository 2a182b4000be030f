// <taskpulse-progress task-id="…">: a live progress bar for one task on any page. Every element
// of a page shares one TaskStream (one connection, resumed after drops, falling back to SSE and
// polling). Styled from outside with CSS custom properties: --taskpulse-bar, --taskpulse-track,
// --taskpulse-error, --taskpulse-radius, --taskpulse-height. Server-rendered content (the
// template tag's) is replaced once the stream has the task. Its words come from the page's
// JavaScript catalog when the page loads one (the template tag does): see i18n.js.
import { TaskStream } from "./taskpulse-client.js";
import { statusText, viewOf } from "./taskpulse-view.js";

let shared = null;

function pageStream() {
  shared ??= new TaskStream().open();
  return shared;
}

const STYLE = `
  :host { display: block; font: inherit; }
  label { display: block; margin-bottom: .25em; }
  progress { width: 100%; height: var(--taskpulse-height, .75em); appearance: none; border: 0;
    border-radius: var(--taskpulse-radius, .375em); background: var(--taskpulse-track, #e5e7eb);
    overflow: hidden; }
  progress::-webkit-progress-bar { background: var(--taskpulse-track, #e5e7eb); }
  progress::-webkit-progress-value { background: var(--taskpulse-bar, #2563eb); }
  progress::-moz-progress-bar { background: var(--taskpulse-bar, #2563eb); }
  [part=counted] { font-variant-numeric: tabular-nums; opacity: .8; }
  [part=error] { color: var(--taskpulse-error, #b91c1c); }
  [hidden] { display: none; }
`;

export class TaskpulseProgress extends HTMLElement {
  connectedCallback() {
    const taskId = this.getAttribute("task-id");
    if (!taskId || this._listening) return;
    this._listening = true;
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const labelId = `taskpulse-${taskId}`;
    root.innerHTML = `<style>${STYLE}</style>
      <label part="label" id="${labelId}"></label>
      <div part="state"></div>
      <progress part="bar" max="100" aria-labelledby="${labelId}"></progress>
      <div part="counted"></div>
      <output part="result" hidden></output>
      <div part="error" role="alert" hidden></div>`;
    this._parts = Object.fromEntries([...root.querySelectorAll("[part]")].map((el) => [el.getAttribute("part"), el]));
    // The label names the bar: the page's own words if it gave some, else the task's state.
    this._named = this.hasAttribute("label");
    this._parts.label.textContent = this.getAttribute("label") || this.textContent.trim() || statusText("pending");
    this._parts.state.hidden = !this._named;
    this._parts.state.textContent = this._named ? this.textContent.trim() : "";
    this._parts.bar.removeAttribute("value");  // indeterminate until the first message
    const stream = pageStream();
    this._onMessage = (event) => {
      if (event.detail.task_id === taskId) this.show(event.detail);
    };
    for (const type of ["snapshot", "progress", "complete"]) stream.addEventListener(type, this._onMessage);
    stream.follow(taskId);
  }

  disconnectedCallback() {
    if (!this._listening) return;
    this._listening = false;
    for (const type of ["snapshot", "progress", "complete"]) shared?.removeEventListener(type, this._onMessage);
  }

  show(message) {
    const view = viewOf(message);
    const { label, state, bar, counted, result, error } = this._parts;
    (this._named ? state : label).textContent = view.text;
    if (view.value === null) bar.removeAttribute("value");
    else bar.value = view.value;
    bar.setAttribute("aria-valuetext", [view.text, view.counted].filter(Boolean).join(", "));
    counted.textContent = view.counted;
    result.textContent = view.result;
    result.hidden = !view.result;
    error.textContent = view.error;
    error.hidden = !view.error;
    this.setAttribute("status", view.status);
    this.dispatchEvent(new CustomEvent("taskpulse:update", { detail: message, bubbles: true }));
  }
}

if (!customElements.get("taskpulse-progress")) customElements.define("taskpulse-progress", TaskpulseProgress);
