// TaskStream: follows any number of tasks over one /ws/stream/ connection, never losing an event.
//
// No DOM code here. It reconnects with capped exponential backoff and full jitter, resumes each
// task from the last seq it saw, drops duplicates, treats a connection that has been silent past
// the heartbeat as dead, and falls back from WebSocket to Server-Sent Events to HTTP polling when
// a transport keeps failing (a proxy that blocks WebSocket), trying WebSocket again now and then.
//
// Events (detail in brackets):
//   "state"    {state, transport, code?, delay?}
//              state ∈ connecting | connected | reconnecting | offline | unauthenticated | closed
//   "message"  every server message as received, for a message log
//   "task"     the first message of a task this stream did not ask for (created elsewhere)
//   "snapshot" | "progress" | "complete"   a task message, de-duplicated by seq, in seq order
//   "error"    a protocol error message from the server

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const TRANSPORTS = ["websocket", "sse", "polling"];
// The contract's close codes, as tasks_app/realtime/close_codes.py defines them (a test compares).
export const CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  HEARTBEAT_MISSED: 4000,
  UNAUTHENTICATED: 4401,
  NOT_FOUND: 4404,
  TOO_MANY: 4429,
});
// After these a client must not reconnect: normal close, policy (origin not allowed), not found.
export const CLOSE_FINAL = new Set([CLOSE.NORMAL, CLOSE.POLICY_VIOLATION, CLOSE.NOT_FOUND]);

export const DEFAULTS = {
  transport: "websocket",       // the transport to start with
  minDelay: 500,                // ms: cap of the first reconnect delay
  maxDelay: 15000,              // ms: cap of any reconnect delay
  factor: 2,                    // growth of the cap per failed attempt
  random: Math.random,          // full jitter: the delay is random() × cap
  heartbeatTimeout: 60000,      // ms of silence after which a socket is deemed dead (until the server says its interval)
  failuresBeforeFallback: 3,    // attempts of a transport that fail before the next one is used
  retryWebSocketAfter: 30000,   // ms between quiet WebSocket probes while on a fallback
  pollInterval: 2000,           // ms between polls
  location: globalThis.location,
  WebSocket: globalThis.WebSocket,
  EventSource: globalThis.EventSource,
  fetch: globalThis.fetch?.bind(globalThis),
};

export class TaskStream extends EventTarget {
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.state = "closed";
    this.transport = this.options.transport;
    this._tasks = new Map();     // task_id → {lastSeq, finished}
    this._stopped = true;
    this._attempt = 0;           // reconnect attempts since the last good connection
    this._failures = 0;          // attempts of this transport that never got going
    this._socket = null;
    this._greeted = false;       // the current socket got its `connection` message
    this._sources = new Map();   // task_id → EventSource
    this._timers = {};
    this._heartbeatTimeout = this.options.heartbeatTimeout;
    this._onOnline = () => !this._stopped && this.state === "offline" && this._start(this.transport);
    globalThis.addEventListener?.("online", this._onOnline);
  }

  open() {
    this._stopped = false;
    this._start(this.transport);
    return this;
  }

  close() {
    this._stopped = true;
    this._teardown();
    clearTimeout(this._timers.probe);
    globalThis.removeEventListener?.("online", this._onOnline);
    this._setState("closed");
  }

  // Follow a task from after `lastSeq` (null: start with a snapshot).
  follow(taskId, lastSeq = null) {
    if (this._tasks.has(taskId)) return;
    this._tasks.set(taskId, { lastSeq, finished: false });
    if (this.state !== "connected") return;  // subscribed when the connection is (re)made
    if (this.transport === "websocket") this._subscribe(taskId);
    if (this.transport === "sse") this._openEventSource(taskId);
  }

  // ---- receiving, whatever the transport --------------------------------------------------

  _receive(message) {
    this._emit("message", message);
    if (message.type === "ping") {
      this._send({ type: "pong" });
      return;
    }
    if (message.type === "error") {
      this._emit("error", message);
      return;
    }
    if (!["snapshot", "progress", "complete"].includes(message.type)) return;
    let task = this._tasks.get(message.task_id);
    if (!task) {
      task = { lastSeq: null, finished: false };
      this._tasks.set(message.task_id, task);
      this._emit("task", message);
    }
    if (task.lastSeq !== null) {
      if (message.type !== "snapshot" && message.seq <= task.lastSeq) return;
      if (message.type === "snapshot" && message.seq < task.lastSeq && message.recovered !== false) return;
    }
    task.lastSeq = message.seq;
    task.finished = message.type === "complete" || TERMINAL.has(message.status);
    this._emit(message.type, message);
  }

  _unfinished() {
    return [...this._tasks].filter(([, task]) => !task.finished).map(([taskId]) => taskId);
  }

  // ---- transports -------------------------------------------------------------------------

  _start(transport) {
    this._teardown();
    this.transport = transport;
    this._setState("connecting");
    if (transport === "websocket") this._openWebSocket();
    else if (transport === "sse") this._openEventSources();
    else this._poll();
  }

  _teardown() {
    clearTimeout(this._timers.reconnect);
    clearTimeout(this._timers.heartbeat);
    clearTimeout(this._timers.poll);
    if (this._socket) {
      const socket = this._socket;
      this._socket = null;
      socket.close(CLOSE.NORMAL);
    }
    for (const source of this._sources.values()) source.close();
    this._sources.clear();
  }

  _openWebSocket() {
    const socket = new this.options.WebSocket(this._url("/ws/stream/", "ws"));
    this._socket = socket;
    this._greeted = false;
    socket.onopen = () => this._armHeartbeat(socket);  // a socket that opens but never greets is dead too
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection") {
        // The server says how often it sends a heartbeat; silence for 2.5 of those is death.
        if (message.heartbeat) this._heartbeatTimeout = message.heartbeat * 2500;
        this._greeted = true;
        this._connected();
        for (const taskId of this._unfinished()) this._subscribe(taskId);
      }
      this._armHeartbeat(socket);
      this._receive(message);
    };
    socket.onclose = (event) => this._closed(socket, event.code);
  }

  // A dead connection may never finish a close handshake, so it is abandoned, not awaited.
  _abandon(socket) {
    socket.onclose = null;
    socket.close(CLOSE.HEARTBEAT_MISSED);
    this._closed(socket, CLOSE.HEARTBEAT_MISSED);
  }

  _closed(socket, code) {
    if (socket !== this._socket) return;
    this._socket = null;
    clearTimeout(this._timers.heartbeat);
    if (this._stopped) return;
    if (code === CLOSE.UNAUTHENTICATED) this._unauthenticated();
    else if (CLOSE_FINAL.has(code)) this._closedByServer(code);
    else if (this._greeted || code === CLOSE.TOO_MANY) this._reconnect(code);  // back off, same transport
    else this._failed(code);
  }

  _subscribe(taskId) {
    const { lastSeq } = this._tasks.get(taskId);
    this._send(lastSeq === null ? { type: "subscribe", task_id: taskId } : { type: "subscribe", task_id: taskId, last_seq: lastSeq });
  }

  _send(message) {
    if (this._socket?.readyState === 1) this._socket.send(JSON.stringify(message));
  }

  _armHeartbeat(socket) {
    clearTimeout(this._timers.heartbeat);
    this._timers.heartbeat = setTimeout(() => this._abandon(socket), this._heartbeatTimeout);
  }

  _openEventSources() {
    const tasks = this._unfinished();
    if (!tasks.length) this._connected();
    for (const taskId of tasks) this._openEventSource(taskId);
  }

  _openEventSource(taskId) {
    const { lastSeq } = this._tasks.get(taskId);
    const query = lastSeq === null ? "" : `?last_seq=${lastSeq}`;
    const source = new this.options.EventSource(this._url(`/sse/tasks/${encodeURIComponent(taskId)}/${query}`, "http"));
    this._sources.set(taskId, source);
    let received = false;
    for (const type of ["snapshot", "progress", "complete"]) {
      source.addEventListener(type, (event) => {
        if (!received) this._connected();
        received = true;
        this._receive(JSON.parse(event.data));
        if (this._tasks.get(taskId)?.finished) this._closeEventSource(taskId);
      });
    }
    // EventSource reconnects by itself (sending Last-Event-ID) once it has worked; an error
    // before any event means this transport does not get through.
    source.onerror = () => {
      if (received || this._sources.get(taskId) !== source) return;
      this._teardown();
      this._failed();
    };
  }

  _closeEventSource(taskId) {
    this._sources.get(taskId)?.close();
    this._sources.delete(taskId);
  }

  async _poll() {
    for (const taskId of this._unfinished()) {
      const { lastSeq } = this._tasks.get(taskId);
      const query = lastSeq === null ? "" : `?after=${lastSeq}`;
      let response;
      try {
        response = await this.options.fetch(this._url(`/api/tasks/${encodeURIComponent(taskId)}/events/${query}`, "http"), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
      } catch {
        response = null;
      }
      if (this._stopped || this.transport !== "polling") return;
      if (response?.status === 401) return this._unauthenticated();
      if (response?.status === 404) {
        this._tasks.delete(taskId);
        continue;
      }
      if (!response?.ok) return this.state === "connected" ? this._reconnect() : this._failed();
      for (const message of (await response.json()).messages) this._receive(message);
    }
    if (this.state !== "connected") this._connected();
    this._timers.poll = setTimeout(() => this._poll(), this.options.pollInterval);
  }

  // ---- connection life --------------------------------------------------------------------

  _connected() {
    this._attempt = 0;
    this._failures = 0;
    this._setState("connected");
    if (this.transport !== "websocket") this._scheduleProbe();
  }

  // An attempt that never got going: after a few, move to the next transport.
  _failed(code) {
    this._failures += 1;
    const next = TRANSPORTS[TRANSPORTS.indexOf(this.transport) + 1];
    if (this._failures >= this.options.failuresBeforeFallback && next) {
      this._failures = 0;
      this._start(next);
    } else {
      this._reconnect(code);
    }
  }

  _reconnect(code) {
    this._teardown();
    if (globalThis.navigator?.onLine === false) {
      this._setState("offline", { code });  // the "online" event starts again
      return;
    }
    const cap = Math.min(this.options.maxDelay, this.options.minDelay * this.options.factor ** this._attempt);
    const delay = Math.round(this.options.random() * cap);
    this._attempt += 1;
    this._setState("reconnecting", { code, delay });
    this._timers.reconnect = setTimeout(() => this._start(this.transport), delay);
  }

  _closedByServer(code) {
    this._stopped = true;
    this._teardown();
    this._setState("closed", { code });
  }

  _unauthenticated() {
    this._stopped = true;
    this._teardown();
    this._setState("unauthenticated");
  }

  // While on a fallback, quietly check whether WebSocket gets through again; switch back if so.
  _scheduleProbe() {
    clearTimeout(this._timers.probe);
    this._timers.probe = setTimeout(() => {
      if (this._stopped || this.transport === "websocket") return;
      const probe = new this.options.WebSocket(this._url("/ws/stream/", "ws"));
      probe.onmessage = (event) => {
        if (JSON.parse(event.data).type !== "connection") return;
        probe.onclose = null;
        probe.close(CLOSE.NORMAL);
        if (!this._stopped) this._start("websocket");
      };
      probe.onclose = () => this._scheduleProbe();
    }, this.options.retryWebSocketAfter);
  }

  _url(path, scheme) {
    const { location } = this.options;
    const secure = location.protocol === "https:";
    const prefix = scheme === "ws" ? (secure ? "wss:" : "ws:") : location.protocol;
    return `${prefix}//${location.host}${path}`;
  }

  _setState(state, extra = {}) {
    this.state = state;
    this._emit("state", { state, transport: this.transport, ...extra });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
