// The browser client, TaskStream, against stand-in sockets and a mocked clock: how it reconnects,
// falls back and comes back, resumes, and drops what it has already seen.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { TaskStream } from "../../tasks_app/static/tasks_app/taskpulse-client.js";
import { FakeEventSource, FakeWebSocket, location, progress, reset } from "./fakes.mjs";

const TASK = "8c9a3f2e-0000-4000-8000-000000000001";

function stream(options = {}) {
  const opened = new TaskStream({
    WebSocket: FakeWebSocket,
    EventSource: FakeEventSource,
    fetch: async () => { throw new Error("no network in this test"); },
    location,
    random: () => 1,
    ...options,
  });
  opened.states = [];
  opened.addEventListener("state", (event) => opened.states.push(event.detail));
  return opened;
}

function received(opened, type) {
  const messages = [];
  opened.addEventListener(type, (event) => messages.push(event.detail));
  return messages;
}

beforeEach(() => {
  reset();
  mock.timers.enable({ apis: ["setTimeout"] });
});

afterEach(() => mock.timers.reset());

test("reconnect delays grow by the factor up to the cap, each scaled by the injected random", () => {
  const opened = stream({ failuresBeforeFallback: Infinity, random: () => 0.5 }).open();
  const delays = [];
  for (let attempt = 0; attempt < 7; attempt += 1) {
    FakeWebSocket.last().drop(1006);
    delays.push(opened.states.at(-1).delay);
    mock.timers.tick(opened.states.at(-1).delay);
  }

  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 7500, 7500]);
  assert.equal(FakeWebSocket.instances.length, 8);
});

test("a WebSocket that keeps failing falls back to Server-Sent Events", () => {
  const opened = stream().open();
  opened.follow(TASK);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    FakeWebSocket.last().drop(1006);
    if (opened.transport === "websocket") mock.timers.tick(opened.states.at(-1).delay);
  }

  assert.equal(opened.transport, "sse");
  assert.equal(FakeEventSource.instances.length, 1);
  assert.equal(FakeEventSource.instances[0].url, `http://taskpulse.test/sse/tasks/${TASK}/`);
});

test("on a fallback, a quiet WebSocket probe that gets through brings the stream back to WebSocket", () => {
  const opened = stream({ transport: "sse", retryWebSocketAfter: 30000 }).open();
  opened.follow(TASK);
  FakeEventSource.last().emit(progress(TASK, 4));
  assert.equal(opened.state, "connected");

  mock.timers.tick(30000);
  const probe = FakeWebSocket.last();
  probe.greet();
  const socket = FakeWebSocket.last();
  socket.greet();

  assert.notEqual(socket, probe);
  assert.equal(probe.closedWith, 1000);
  assert.equal(opened.transport, "websocket");
  assert.ok(FakeEventSource.instances.every((source) => source.closed));
  assert.deepEqual(socket.sent, [{ type: "subscribe", task_id: TASK, last_seq: 4 }]);
});

test("an event already seen, or older, is dropped; each is passed on once in seq order", () => {
  const opened = stream().open();
  const progressed = received(opened, "progress");
  opened.follow(TASK);
  const socket = FakeWebSocket.last();
  socket.greet();

  for (const seq of [3, 3, 2, 4]) socket.receive(progress(TASK, seq));

  assert.deepEqual(progressed.map((message) => message.seq), [3, 4]);
});

test("after a drop the stream subscribes again from the last seq it saw", () => {
  const opened = stream().open();
  opened.follow(TASK);
  const first = FakeWebSocket.last();
  first.greet();
  first.receive(progress(TASK, 5));

  first.drop(1006);
  mock.timers.tick(opened.states.at(-1).delay);
  const second = FakeWebSocket.last();
  second.greet();

  assert.deepEqual(first.sent, [{ type: "subscribe", task_id: TASK }]);
  assert.deepEqual(second.sent, [{ type: "subscribe", task_id: TASK, last_seq: 5 }]);
});

for (const code of [1000, 1008, 4404]) {
  test(`a close with ${code} is final: no reconnect`, () => {
    const opened = stream().open();
    FakeWebSocket.last().greet();

    FakeWebSocket.last().drop(code);
    mock.timers.tick(60000);

    assert.equal(FakeWebSocket.instances.length, 1);
    assert.deepEqual(opened.states.at(-1), { state: "closed", transport: "websocket", code });
  });
}

test("a close with 4401 asks the page to log the user in, and does not reconnect", () => {
  const opened = stream().open();
  FakeWebSocket.last().greet();

  FakeWebSocket.last().drop(4401);
  mock.timers.tick(60000);

  assert.equal(opened.state, "unauthenticated");
  assert.equal(FakeWebSocket.instances.length, 1);
});

test("a socket silent for two and a half heartbeats is declared dead and replaced", () => {
  const opened = stream().open();
  const silent = FakeWebSocket.last();
  silent.greet(4);

  mock.timers.tick(9999);
  assert.equal(silent.closedWith, null);
  mock.timers.tick(1);

  assert.equal(silent.closedWith, 4000);
  assert.equal(opened.state, "reconnecting");
  mock.timers.tick(opened.states.at(-1).delay);
  assert.equal(FakeWebSocket.instances.length, 2);
});

test("a socket that opens but never greets is declared dead after the default timeout", () => {
  const opened = stream({ heartbeatTimeout: 60000 }).open();
  FakeWebSocket.last().open();

  mock.timers.tick(60000);

  assert.equal(FakeWebSocket.last().closedWith, 4000);
  assert.equal(opened.state, "reconnecting");
});
