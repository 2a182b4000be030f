// What a progress widget shows for a task message: no DOM here, so that node --test can check it.
// The element (taskpulse-progress.js) puts it on the page, in the page's language (i18n.js).
import { formatNumber, gettext, interpolate } from "./i18n.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

// A task's status in words; the wire's status names are the protocol's, not the reader's.
export function statusText(status) {
  switch (status) {
    case "pending": return gettext("Waiting");
    case "running": return gettext("Running");
    case "completed": return gettext("Done");
    case "failed": return gettext("Failed");
    case "cancelled": return gettext("Cancelled");
    default: return status;
  }
}

// A TaskStream's connection state (taskpulse-client.js) in words.
export function connectionText(state) {
  switch (state) {
    case "connecting": return gettext("connecting");
    case "connected": return gettext("connected");
    case "reconnecting": return gettext("reconnecting");
    case "offline": return gettext("offline");
    case "closed": return gettext("closed");
    case "unauthenticated": return gettext("logged out");
    default: return state;
  }
}

// "about 40 s left", "about 3 min left", "about 1 h 5 min left"; coarser as it grows, so that
// it does not flicker with each event.
export function timeLeftText(seconds) {
  if (seconds < 5) return gettext("almost done");
  if (seconds < 60) return interpolate(gettext("about %(seconds)s s left"), { seconds: Math.ceil(seconds / 5) * 5 });
  if (seconds < 3600) return interpolate(gettext("about %(minutes)s min left"), { minutes: Math.round(seconds / 60) });
  const minutes = Math.round(seconds / 60);
  const hours = Math.floor(minutes / 60);
  if (minutes % 60 === 0) return interpolate(gettext("about %(hours)s h left"), { hours });
  return interpolate(gettext("about %(hours)s h %(minutes)s min left"), { hours, minutes: minutes % 60 });
}

// "850/s · about 5 s left" for a running task whose rate the server estimated; its time left
// counted down from the message's timestamp to `now` (ms), since events may be seconds apart.
export function estimateText(message, now = Date.now()) {
  if (message.status !== "running" || message.rate == null) return "";
  const rate = formatNumber(message.rate >= 10 ? Math.round(message.rate) : message.rate);
  const parts = [interpolate(gettext("%(rate)s/s"), { rate })];
  if (message.eta_seconds != null) {
    const since = message.timestamp ? Math.max(0, (now - Date.parse(message.timestamp)) / 1000) : 0;
    parts.push(timeLeftText(Math.max(0, message.eta_seconds - since)));
  }
  return parts.join(" · ");
}

// {value, status, text, counted, result, error, finished}: `value` is the percentage for a
// <progress> element, or null while the task is waiting (an indeterminate bar); `counted` says
// what the task counted, how fast, and the time left.
export function viewOf(message, now = Date.now()) {
  const finished = message.type === "complete" || TERMINAL.has(message.status);
  const status = statusText(message.status);
  // The server's last message often says the status again ("Done"): said once.
  const step = message.message && message.message.toLowerCase() !== status.toLowerCase() ? message.message : "";
  const counted = [
    message.total
      ? interpolate(gettext("%(current)s of %(total)s"), {
        current: formatNumber(message.current ?? 0), total: formatNumber(message.total),
      })
      : "",
    estimateText(message, now),
  ].filter(Boolean).join(" · ");
  return {
    value: message.status === "pending" ? null : Math.max(0, Math.min(100, Number(message.progress) || 0)),
    status: message.status,
    text: step ? interpolate(gettext("%(status)s: %(step)s"), { status, step }) : status,
    counted,
    result: finished && message.status === "completed" && message.result != null
      ? (typeof message.result === "string" ? message.result : JSON.stringify(message.result))
      : "",
    error: finished && message.error ? message.error : "",
    finished,
  };
}
