// What the dashboard says to a person who is not looking (static/attention.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { notificationOf, pageTitle } from "../../static/attention.js";

const BASE = "My tasks · Taskpulse";

test("the title shows the running tasks' mean progress and how many ended unseen", () => {
  const states = [
    { status: "running", progress: 40 },
    { status: "running", progress: 45.9 },
    { status: "completed", progress: 100 },
  ];

  assert.equal(pageTitle(BASE, states, 0), "(42 %) My tasks · Taskpulse");
  assert.equal(pageTitle(BASE, states, 2), "(42 %) 2 ended · My tasks · Taskpulse");
  assert.equal(pageTitle(BASE, [{ status: "completed", progress: 100 }], 1), "1 ended · My tasks · Taskpulse");
  assert.equal(pageTitle(BASE, [], 0), BASE);
});

test("a notification names the task and how it ended, with its error when it failed", () => {
  assert.deepEqual(notificationOf({ status: "completed", message: "Done" }, "Ticker 20 steps"), {
    title: "Ticker 20 steps is done",
    body: "Done",
  });
  assert.deepEqual(notificationOf({ status: "failed", message: "Failed", error: "The file is empty." }, "Import a.csv"), {
    title: "Import a.csv failed",
    body: "The file is empty.",
  });
});
