"""Real HTTP peers on 127.0.0.1 for the outside world the portal talks to: a sending
system's response endpoint, and GOV.UK Notify's API. Each runs in a thread of the test
process, answers as scripted (or as it is told), and records what it received."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Peer:
    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.peer = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class _ResponseHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        peer = self.server.peer
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        mode = peer.script.popleft() if peer.script else peer.then
        peer.tries.append(self.headers["Idempotency-Key"])
        if mode == "fail":
            self.send_response(503)
            self.end_headers()
            return
        if mode == "slow":  # takes it in, but answers after the sender gave up waiting
            peer.accept(self.headers, body)
            time.sleep(peer.slow_seconds)
        else:
            peer.accept(self.headers, body)
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.end_headers()
        self.wfile.write(b'{"resourceType": "OperationOutcome", "issue": []}')


class SendingSystemReceiver(_Peer):
    """A sending system's endpoint: `script` says how each post is answered in turn
    ("ok", "fail" for a 503, "slow" for a timeout after taking it in), `then` after that."""

    def __init__(self, *, script=(), then="ok", slow_seconds=1.0):
        super().__init__(_ResponseHandler)
        self.script, self.then, self.slow_seconds = deque(script), then, slow_seconds
        self.tries: list[str] = []
        self.received: list[dict] = []  # every message taken in, repeats included
        self.lock = threading.Lock()

    def accept(self, headers, body) -> None:
        with self.lock:
            self.received.append(
                {"key": headers["Idempotency-Key"], "auth": headers.get("Authorization"), "bundle": body}
            )

    def kept(self) -> list[dict]:
        """What a receiver that drops repeats by their key keeps, in the order it got them."""
        seen, kept = set(), []
        for message in self.received:
            if message["key"] not in seen:
                seen.add(message["key"])
                kept.append(message)
        return kept


class _NotifyHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        notify = self.server.peer
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self._answer(403, {"errors": [{"error": "AuthError", "message": "no token"}]})
        if notify.answer_with:
            status = notify.answer_with.popleft()
            return self._answer(status, {"errors": [{"error": "Error", "message": f"refused {status}"}]})
        notification_id = f"00000000-0000-4000-8000-{len(notify.sent) + 1:012d}"
        channel = self.path.rsplit("/", 1)[-1]
        notify.sent.append({"id": notification_id, "channel": channel, **body})
        self._answer(201, {"id": notification_id, "reference": body.get("reference")})

    def do_GET(self):
        notification_id = self.path.rsplit("/", 1)[-1]
        self._answer(200, {"id": notification_id, "status": self.server.peer.status})


class FakeNotify(_Peer):
    """GOV.UK Notify's API as its client calls it: sends are recorded (or refused with the
    statuses in `answer_with`, in turn) and every notification reports `status`."""

    def __init__(self, *, status="delivered"):
        super().__init__(_NotifyHandler)
        self.sent: list[dict] = []
        self.answer_with: deque[int] = deque()
        self.status = status
