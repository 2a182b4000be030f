// What the progress widget shows for each task message (taskpulse-view.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { viewOf } from "../../tasks_app/static/tasks_app/taskpulse-view.js";

const TASK = { task_id: "8c9a3f2e-0000-4000-8000-000000000001", kind: "myapp.tasks.resize" };

test("a waiting task has an indeterminate bar", () => {
  const view = viewOf({ ...TASK, type: "snapshot", status: "pending", progress: 0, message: "Waiting for a worker" });

  assert.equal(view.value, null);
  assert.equal(view.text, "Waiting: Waiting for a worker");
  assert.equal(view.finished, false);
});

test("a running task shows its percentage, its step and what it counted", () => {
  const view = viewOf({
    ...TASK, type: "progress", status: "running", progress: 42.5, current: 1234, total: 5000, message: "Resized a.png",
  });

  assert.deepEqual([view.value, view.text, view.counted], [42.5, "Running: Resized a.png", "1,234 of 5,000"]);
});

test("a completed task shows its result, a failed one its error", () => {
  const done = viewOf({ ...TASK, type: "complete", status: "completed", progress: 100, message: "Done", result: { resized: 3 } });
  const failed = viewOf({ ...TASK, type: "complete", status: "failed", progress: 40, message: "", error: "The file is empty." });

  assert.deepEqual([done.finished, done.result, done.error, done.text], [true, '{"resized":3}', "", "Done"]);
  assert.deepEqual([failed.finished, failed.result, failed.error, failed.text], [true, "", "The file is empty.", "Failed"]);
});

test("a progress out of range is clamped for the bar", () => {
  assert.equal(viewOf({ ...TASK, type: "progress", status: "running", progress: 140 }).value, 100);
  assert.equal(viewOf({ ...TASK, type: "progress", status: "running", progress: -3 }).value, 0);
});
