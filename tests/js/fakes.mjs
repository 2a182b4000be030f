// Stand-ins for what a browser gives the client: sockets, event sources and fetch that the test
// drives by hand, and the page's location.

export class FakeWebSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.instances.push(this);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code) {
    this.readyState = 3;
    this.closedWith = code;
  }

  // What the server does.
  open() {
    this.readyState = 1;
    this.onopen?.();
  }

  greet(heartbeat = 5) {
    if (this.readyState !== 1) this.open();
    this.receive({ type: "connection", status: "connected", heartbeat, timestamp: "2026-12-03T00:00:00.000Z" });
  }

  receive(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  drop(code) {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  static last() {
    return FakeWebSocket.instances.at(-1);
  }
}

export class FakeEventSource {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.listeners = {};
    this.closed = false;
    FakeEventSource.instances.push(this);
  }

  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }

  close() {
    this.closed = true;
  }

  static last() {
    return FakeEventSource.instances.at(-1);
  }

  emit(message) {
    for (const listener of this.listeners[message.type] ?? []) listener({ data: JSON.stringify(message) });
  }
}

export function reset() {
  FakeWebSocket.instances = [];
  FakeEventSource.instances = [];
}

export const location = { protocol: "http:", host: "taskpulse.test" };

export function progress(taskId, seq, extra = {}) {
  return {
    type: "progress", task_id: taskId, kind: "ticker", status: "running", progress: seq * 10,
    current: seq, total: 10, message: `Tick ${seq}`, seq, timestamp: "2026-12-03T00:00:00.000Z", ...extra,
  };
}
