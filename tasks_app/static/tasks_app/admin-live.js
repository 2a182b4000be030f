// The admin's task page: its progress bar, status and message follow the task live, over the
// same stream users' pages use. The page's fields stay as they were loaded; reload for them.
import { TaskStream } from "./taskpulse-client.js";
import { estimateText } from "./taskpulse-view.js";

const panel = document.getElementById("live-task");
const taskId = panel.dataset.taskId;
const stream = new TaskStream();

function show(message) {
  if (message.task_id !== taskId) return;
  panel.querySelector("progress").value = message.progress;
  panel.querySelector(".percent").textContent = `${message.progress.toFixed(1)} %`;
  panel.querySelector(".status").textContent = message.status;
  panel.querySelector(".message").textContent = [message.message, estimateText(message)].filter(Boolean).join(" · ");
  panel.querySelector(".seq").textContent = `seq ${message.seq}`;
}

for (const type of ["snapshot", "progress", "complete"]) {
  stream.addEventListener(type, (event) => show(event.detail));
}
stream.addEventListener("state", (event) => {
  panel.dataset.state = event.detail.state;
  panel.querySelector(".connection").textContent = event.detail.state;
});
stream.follow(taskId);
stream.open();
