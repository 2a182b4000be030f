// What a progress widget shows for a task message: no DOM here, so that node --test can check it.
// The element (taskpulse-progress.js) puts it on the page.

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const STATUS_TEXT = {
  pending: "Waiting",
  running: "Running",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

const count = (value) => Number(value).toLocaleString("en");

// "about 40 s left", "about 3 min left", "about 1 h 5 min left"; coarser as it grows, so that
// it does not flicker with each event.
export function timeLeftText(seconds) {
  if (seconds < 5) return "almost done";
  if (seconds < 60) return `about ${Math.ceil(seconds / 5) * 5} s left`;
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min left`;
  const minutes = Math.round(seconds / 60);
  const hours = Math.floor(minutes / 60);
  return `about ${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ""} left`;
}

// "850/s · about 5 s left" for a running task whose rate the server estimated; its time left
// counted down from the message's timestamp to `now` (ms), since events may be seconds apart.
export function estimateText(message, now = Date.now()) {
  if (message.status !== "running" || message.rate == null) return "";
  const rate = message.rate >= 10 ? count(Math.round(message.rate)) : count(message.rate);
  const parts = [`${rate}/s`];
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
  const status = STATUS_TEXT[message.status] ?? message.status;
  // The server's last message often says the status again ("Done"): said once.
  const step = message.message && message.message.toLowerCase() !== status.toLowerCase() ? message.message : "";
  const counted = [
    message.total ? `${count(message.current ?? 0)} of ${count(message.total)}` : "",
    estimateText(message, now),
  ].filter(Boolean).join(" · ");
  return {
    value: message.status === "pending" ? null : Math.max(0, Math.min(100, Number(message.progress) || 0)),
    status: message.status,
    text: [status, step].filter(Boolean).join(": "),
    counted,
    result: finished && message.status === "completed" && message.result != null
      ? (typeof message.result === "string" ? message.result : JSON.stringify(message.result))
      : "",
    error: finished && message.error ? message.error : "",
    finished,
  };
}
