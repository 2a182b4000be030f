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

// {value, status, text, counted, result, error, finished}: `value` is the percentage for a
// <progress> element, or null while the task is waiting (an indeterminate bar).
export function viewOf(message) {
  const finished = message.type === "complete" || TERMINAL.has(message.status);
  const status = STATUS_TEXT[message.status] ?? message.status;
  // The server's last message often says the status again ("Done"): said once.
  const step = message.message && message.message.toLowerCase() !== status.toLowerCase() ? message.message : "";
  const counted = message.total ? `${count(message.current ?? 0)} of ${count(message.total)}` : "";
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
