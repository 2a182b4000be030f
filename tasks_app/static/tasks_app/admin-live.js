// The admin's task page: its progress bar, status and message follow the task live, over the
// same stream users' pages use. The page's fields stay as they were loaded; reload for them.
import { TaskStream } from "./taskpulse-client.js";
import { formatNumber } from "./i18n.js";
import { connectionText, estimateText, statusText } from "./taskpulse-view.js";

const panel = document.getElementById("live-task");
const taskId = panel.dataset.taskId;
const stream = new TaskStream();

function show(message) {
  if (message.task_id !== taskId) return;
  panel.querySelector("progress").value = message.progress;
  panel.querySelector(".percent").textContent = `${formatNumber(message.progress, { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
  const status = panel.querySelector(".status");
  status.dataset.status = message.status;
  status.textContent = statusText(message.status);
  panel.querySelector(".message").textContent = [message.message, estimateText(message)].filter(Boolean).join(" · ");
  panel.querySelector(".seq").textContent = `#${message.seq}`;
}

for (const type of ["snapshot", "progress", "complete"]) {
  stream.addEventListener(type, (event) => show(event.detail));
}
stream.addEventListener("state", (event) => {
  panel.dataset.state = event.detail.state;
  panel.querySelector(".connection").textContent = connectionText(event.detail.state);
});
stream.follow(taskId);
stream.open();
