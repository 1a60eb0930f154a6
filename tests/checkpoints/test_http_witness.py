"""An HTTP witness: each checkpoint is POSTed as its checkpoint file; a refusal is reported."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Witness(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]
    answer: int = 201

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"type": self.headers["Content-Type"], "doc": json.loads(body)})
        self.send_response(self.answer)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def witness() -> Iterator[tuple[str, type[Witness]]]:
    handler = type("Handler", (Witness,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints", handler
    finally:
        server.shutdown()
        server.server_close()


def test_each_checkpoint_is_posted_to_an_http_witness(
    app, client, party, with_events, checkpoint, witness, monkeypatch
):
    url, handler = witness
    with_events(party("farmer"), 1)
    monkeypatch.setitem(app.config, "CHECKPOINT_WITNESSES", [url])
    result = checkpoint()
    assert result.exit_code == 0, result.output
    assert f"witness {url}: accepted by {url} (201)" in result.output
    assert handler.received == [
        {"type": "application/json", "doc": client.get("/api/v1/checkpoints/latest").get_json()}
    ]

    handler.answer = 409
    refused = checkpoint()
    assert refused.exit_code == 1 and f"witness {url}: {url} answered 409" in refused.output

    monkeypatch.setitem(app.config, "CHECKPOINT_WITNESSES", ["http://127.0.0.1:9/nowhere"])
    unreachable = checkpoint()
    assert unreachable.exit_code == 1 and "could not be reached" in unreachable.output
