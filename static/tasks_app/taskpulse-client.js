// TaskSocket: follows one task over /ws/tasks/<id>/, reconnecting and resuming from the last seq.
//
// No DOM code here. States and messages are emitted as events:
//   "state"    detail: {state, code?, delay?}   state ∈ connecting | connected | reconnecting | offline | closed
//   "message"  detail: every server message, as received (for a message log)
//   "snapshot" | "progress" | "complete" | "error"   detail: that message, after de-duplication by seq
//
// Close codes follow ../shared/protocol.md: never reconnect after 1000, 1008, 4401 or 4404.

const FINAL_CLOSE_CODES = new Set([1000, 1008, 4401, 4404]);

export const DEFAULTS = {
  lastSeq: null,          // resume after this seq (null: start with a snapshot)
  minDelay: 500,          // ms, first reconnect delay cap
  maxDelay: 15000,        // ms, reconnect delay cap
  factor: 2,              // growth of the delay cap per failed attempt
  random: Math.random,    // full jitter: the delay is random(0, cap)
  WebSocket: globalThis.WebSocket,
};

export function taskSocketUrl(taskId, location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/tasks/${encodeURIComponent(taskId)}/`;
}

export class TaskSocket extends EventTarget {
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = { ...DEFAULTS, ...options };
    this.lastSeq = this.options.lastSeq;
    this.state = "closed";
    this._socket = null;
    this._attempt = 0;
    this._timer = null;
    this._stopped = false;
    this._onOnline = () => this._reconnectNow();
    globalThis.addEventListener?.("online", this._onOnline);
  }

  open() {
    this._stopped = false;
    this._connect();
    return this;
  }

  close() {
    this._stopped = true;
    clearTimeout(this._timer);
    globalThis.removeEventListener?.("online", this._onOnline);
    if (this._socket) this._socket.close(1000);
    this._setState("closed");
  }

  send(message) {
    if (this._socket?.readyState === 1) this._socket.send(JSON.stringify(message));
  }

  _connect() {
    clearTimeout(this._timer);
    const url = this.lastSeq === null ? this.url : `${this.url}?last_seq=${this.lastSeq}`;
    this._setState("connecting");
    const socket = new this.options.WebSocket(url);
    this._socket = socket;
    socket.onopen = () => {
      this._attempt = 0;
      this._setState("connected");
    };
    socket.onmessage = (event) => this._receive(event.data);
    socket.onclose = (event) => {
      if (socket !== this._socket) return;
      this._socket = null;
      this._closed(event.code);
    };
  }

  _receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    this._emit("message", message);
    if (message.type === "ping") {
      this.send({ type: "pong" });
      return;
    }
    if (typeof message.seq === "number") {
      // Drop what was already seen: a replay overlapping live events, or a late duplicate.
      if (message.type !== "snapshot" && this.lastSeq !== null && message.seq <= this.lastSeq) return;
      if (message.type === "snapshot" && this.lastSeq !== null && message.seq < this.lastSeq && message.recovered !== false) return;
      this.lastSeq = message.seq;
    }
    if (["snapshot", "progress", "complete", "error"].includes(message.type)) this._emit(message.type, message);
  }

  _closed(code) {
    if (this._stopped || FINAL_CLOSE_CODES.has(code)) {
      this._stopped = true;
      this._setState("closed", { code });
      return;
    }
    if (globalThis.navigator?.onLine === false) {
      this._setState("offline", { code });  // the "online" event reconnects
      return;
    }
    const cap = Math.min(this.options.maxDelay, this.options.minDelay * this.options.factor ** this._attempt);
    const delay = Math.round(this.options.random() * cap);
    this._attempt += 1;
    this._setState("reconnecting", { code, delay });
    this._timer = setTimeout(() => this._connect(), delay);
  }

  _reconnectNow() {
    if (!this._stopped && this._socket === null) this._connect();
  }

  _setState(state, extra = {}) {
    this.state = state;
    this._emit("state", { state, ...extra });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
