// For a person who is not looking at the dashboard: the page title says how far the running
// tasks are and how many ended unseen, and a desktop notification says when one of them ends.
// The pure parts are exported for node --test; the page wiring is in watchForEndings().
import { gettext, interpolate, ngettext } from "./tasks_app/i18n.js";

const STORAGE_KEY = "taskpulse.notify";

function endingOf(name, status) {
  switch (status) {
    case "completed": return interpolate(gettext("%(name)s is done"), { name });
    case "failed": return interpolate(gettext("%(name)s failed"), { name });
    case "cancelled": return interpolate(gettext("%(name)s was cancelled"), { name });
    default: return `${name} ${status}`;
  }
}

// "(42 %) 2 ended · My tasks · Taskpulse": the running tasks' mean progress, then how many
// ended while the page was hidden, before the page's own title.
export function pageTitle(base, states, unseen) {
  const running = states.filter((state) => state.status === "running");
  const parts = [];
  if (running.length) {
    const mean = running.reduce((sum, state) => sum + (Number(state.progress) || 0), 0) / running.length;
    parts.push(`(${Math.floor(mean)} %)`);
  }
  if (unseen) parts.push(interpolate(ngettext("%(count)s ended ·", "%(count)s ended ·", unseen), { count: unseen }));
  return [...parts, base].join(" ");
}

// The notification for a task that ended: {title, body}.
export function notificationOf(state, name) {
  const body = state.status === "failed" && state.error ? state.error : state.message || "";
  return { title: endingOf(name, state.status), body };
}

// Wires the title, the header's toggle and the notifications to the page. `states()` gives
// every task's latest state; `nameOf(state)` what to call a task; `focusTask(taskId)` shows one.
export function watchForEndings({ toggle, hint, states, nameOf, focusTask }) {
  const base = document.title;
  let unseen = 0;
  const supported = "Notification" in window;
  toggle.checked = supported && localStorage.getItem(STORAGE_KEY) === "on" && Notification.permission === "granted";
  toggle.disabled = !supported;
  hint.textContent = supported ? "" : gettext("This browser cannot show notifications.");

  toggle.addEventListener("change", async () => {
    hint.textContent = "";
    if (!toggle.checked) {
      localStorage.setItem(STORAGE_KEY, "off");
      return;
    }
    // Asked only now, when the person turned it on.
    const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
    toggle.checked = permission === "granted";
    localStorage.setItem(STORAGE_KEY, toggle.checked ? "on" : "off");
    if (!toggle.checked) hint.textContent = gettext("Notifications are blocked for this site in the browser's settings.");
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      unseen = 0;
      retitle();
    }
  });

  function retitle() {
    document.title = pageTitle(base, states(), unseen);
  }

  // Called with each task's state as it changes; `ended` when this change ended it, live.
  return function taskChanged(state, { ended }) {
    if (ended && document.visibilityState === "hidden") {
      unseen += 1;
      if (toggle.checked && Notification.permission === "granted") {
        const { title, body } = notificationOf(state, nameOf(state));
        const notification = new Notification(title, { body, tag: state.task_id });
        notification.addEventListener("click", () => {
          window.focus();
          focusTask(state.task_id);
          notification.close();
        });
      }
    }
    retitle();
  };
}
