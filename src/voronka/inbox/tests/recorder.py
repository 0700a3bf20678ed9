"""A local HTTP server a test starts to stand in for a provider's API: it records every request
byte for byte and answers with what the test queued (or a default JSON)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Recorder:
    requests: list[Recorded] = field(default_factory=list)
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    default: tuple[int, bytes] = (200, b'{"ok": true, "result": {"message_id": 1}}')
    url: str = ""

    def answer(self, status: int, body) -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.answers.append((status, body))


def start_recorder() -> tuple[Recorder, ThreadingHTTPServer]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.requests.append(
                Recorded(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
            status, answer = recorder.answers.pop(0) if recorder.answers else recorder.default
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    recorder.url = f"http://127.0.0.1:{server.server_port}"
    return recorder, server
