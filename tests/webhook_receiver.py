"""A webhook receiver for the tests: an HTTP server that records each POST (headers and raw
body) and answers as told: fail the first N with a status, wait before answering (the first,
or each), or answer with a Retry-After. Run in a thread (`Receiver()`) or as a process of its own (`python -m
tests.webhook_receiver PORT FILE`, recording to FILE, one JSON line per request)."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    def __init__(
        self,
        *,
        delay_first: float = 0.0,
        fail_first: int = 0,
        fail_status: int = 500,
        delay: float = 0.0,
        retry_after: str | None = None,
        status: int = 200,
        record: Path | None = None,
    ) -> None:
        self.received: list[dict] = []
        self.fail_first, self.fail_status, self.delay = fail_first, fail_status, delay
        self.delay_first = delay_first
        self.retry_after, self.status, self.record = retry_after, status, record
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                entry = {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body.decode(),
                    "at": time.time(),
                }
                receiver.received.append(entry)
                if receiver.record is not None:
                    with receiver.record.open("a") as out:
                        out.write(json.dumps(entry) + "\n")
                first = len(receiver.received) == 1
                time.sleep(receiver.delay_first if first and receiver.delay_first else receiver.delay)
                failing = len(receiver.received) <= receiver.fail_first
                self.send_response(receiver.fail_status if failing else receiver.status)
                if failing and receiver.retry_after is not None:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    port, record = int(sys.argv[1]), Path(sys.argv[2])
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    receiver = Receiver(record=record, **options)
    receiver.server.server_close()
    receiver.server = ThreadingHTTPServer(("127.0.0.1", port), receiver.server.RequestHandlerClass)
    receiver.server.serve_forever()
