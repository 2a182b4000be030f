// What the progress widget shows for each task message (taskpulse-view.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { estimateText, timeLeftText, viewOf } from "../../tasks_app/static/tasks_app/taskpulse-view.js";

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

test("a running task that counts shows how fast and the time left, counted down since its message", () => {
  const message = {
    ...TASK, type: "progress", status: "running", progress: 24, current: 1200, total: 5000, message: "",
    rate: 850, eta_seconds: 14.2, timestamp: "2026-12-03T10:00:00.000Z",
  };

  assert.equal(viewOf(message, Date.parse("2026-12-03T10:00:00.000Z")).counted, "1,200 of 5,000 · 850/s · about 15 s left");
  assert.equal(viewOf(message, Date.parse("2026-12-03T10:00:12.000Z")).counted, "1,200 of 5,000 · 850/s · almost done");
});

test("no estimate yet, or an ended task, shows no rate or time left", () => {
  const running = { ...TASK, type: "progress", status: "running", progress: 1, current: 3, total: 500, rate: null, eta_seconds: null };

  assert.equal(viewOf(running).counted, "3 of 500");
  assert.equal(viewOf({ ...running, type: "complete", status: "completed", rate: 9, eta_seconds: 1 }).counted, "3 of 500");
});

test("the time left grows coarser as it grows", () => {
  assert.deepEqual(
    [3, 41, 59.5, 150, 3599, 3600, 3900, 7230].map(timeLeftText),
    ["almost done", "about 45 s left", "about 60 s left", "about 3 min left", "about 60 min left",
     "about 1 h left", "about 1 h 5 min left", "about 2 h 1 min left"],
  );
  assert.equal(estimateText({ status: "running", rate: 2.5, eta_seconds: null }), "2.5/s");
});

test("with the page's catalog, the widget speaks the page's language", (t) => {
  const chinese = {
    "Running": "运行中", "%(status)s: %(step)s": "%(status)s：%(step)s", "%(current)s of %(total)s": "%(current)s/%(total)s", "%(rate)s/s": "%(rate)s/秒",
    "about %(seconds)s s left": "大约还需 %(seconds)s 秒",
  };
  globalThis.django = { gettext: (text) => chinese[text] ?? text, ngettext: (one, many, n) => (n === 1 ? one : many) };
  t.after(() => delete globalThis.django);
  const message = {
    ...TASK, type: "progress", status: "running", progress: 24, current: 1200, total: 5000, message: "第 3 步",
    rate: 850, eta_seconds: 14.2, timestamp: "2026-12-03T10:00:00.000Z",
  };

  const view = viewOf(message, Date.parse("2026-12-03T10:00:00.000Z"));

  assert.deepEqual([view.text, view.counted], ["运行中：第 3 步", "1,200/5,000 · 850/秒 · 大约还需 15 秒"]);
});
