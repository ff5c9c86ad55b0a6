"""Real HTTP servers on 127.0.0.1 for tests: an OpenAI-style chat API, Anthropic's Messages
API and a Hugging Face hub file endpoint. Each can be told to fail in the ways real
services do, and records the requests it received."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Behaviour:
    """What the fake does: a queue of failures to serve before answering normally."""

    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    reply: str = "Hello from the test server"
    requests: list[Seen] = field(default_factory=list)
    script: deque[str] = field(default_factory=deque)
    """Replies served in turn before ``reply`` (a scripted conversation)."""


class _Base(BaseHTTPRequestHandler):
    behaviour: Behaviour
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _read(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode(errors="replace")

    def _record(self, body: Any) -> None:
        self.behaviour.requests.append(
            Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _fail_if_scheduled(self) -> bool:
        if not self.behaviour.failures:
            return False
        status, headers = self.behaviour.failures.popleft()
        self._json(status, {"error": {"message": f"scheduled failure {status}", "type": "test"}}, headers)
        return True

    def _sse(self, events: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for e in events:
            self.wfile.write(e.encode())
            self.wfile.flush()
        self.close_connection = True


class OpenAIHandler(_Base):
    """``/v1/models`` and streaming ``/v1/chat/completions``, OpenAI's wire format."""

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = self._read()
        self._record(body)
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        if self._fail_if_scheduled():
            return
        text = self.behaviour.script.popleft() if self.behaviour.script else self.behaviour.reply
        words = text.split(" ")
        events = []
        for i, w in enumerate(words):
            chunk = {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "test-model",
                "choices": [
                    {"index": 0, "delta": {"content": (" " if i else "") + w}, "finish_reason": None}
                ],
            }
            events.append(f"data: {json.dumps(chunk)}\n\n")
        done = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "test-model",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        usage = {
            **done,
            "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": len(words), "total_tokens": 11 + len(words)},
        }
        events += [f"data: {json.dumps(done)}\n\n", f"data: {json.dumps(usage)}\n\n", "data: [DONE]\n\n"]
        self._sse(events)


class AnthropicHandler(_Base):
    """Streaming ``/v1/messages`` in Anthropic's event format, checking ``x-api-key``."""

    api_key = "test-key"

    def do_POST(self) -> None:
        body = self._read()
        self._record(body)
        if not self.path.startswith("/v1/messages"):
            self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not found"}})
            return
        if self.headers.get("x-api-key") != self.api_key:
            self._json(
                401,
                {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
            )
            return
        if self._fail_if_scheduled():
            return
        text = self.behaviour.script.popleft() if self.behaviour.script else self.behaviour.reply

        def ev(name: str, data: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps(data)}\n\n"

        msg = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 9, "output_tokens": 1},
        }
        events = [ev("message_start", {"type": "message_start", "message": msg})]
        forced = (body.get("tool_choice") or {}).get("type") == "tool"
        if forced:  # a forced tool: the reply is the tool's input, streamed as JSON pieces
            block = {"type": "tool_use", "id": "toolu_1", "name": body["tool_choice"]["name"], "input": {}}
        else:
            block = {"type": "text", "text": ""}
        events.append(
            ev("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
        )
        for i, w in enumerate(text.split(" ")):
            piece = (" " if i else "") + w
            delta = (
                {"type": "input_json_delta", "partial_json": piece}
                if forced
                else {"type": "text_delta", "text": piece}
            )
            events.append(
                ev("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
            )
        events.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
        events.append(
            ev(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use" if forced else "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": len(text.split(" "))},
                },
            )
        )
        events.append(ev("message_stop", {"type": "message_stop"}))
        self._sse(events)


@dataclass
class HubFiles:
    """Files a fake hub serves under ``/{repo}/resolve/{revision}/{filename}``."""

    files: dict[str, bytes] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)
    """Override the advertised sha256 of a path (to serve a 'wrong' file)."""
    cut_after: int | None = None
    """Close the connection after this many body bytes, for this many GETs."""
    cuts: int = 0
    requests: list[Seen] = field(default_factory=list)


class HubHandler(BaseHTTPRequestHandler):
    hub: HubFiles
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _lookup(self) -> tuple[str, bytes] | None:
        path = self.path.split("?")[0].lstrip("/")
        for key, data in self.hub.files.items():
            repo, _, name = key.rpartition("/")
            if path.startswith(f"{repo}/resolve/") and path.endswith("/" + name):
                return key, data
        return None

    def _headers(self, key: str, data: bytes, status: int, length: int, extra: dict[str, str]) -> None:
        sha = self.hub.etags.get(key, hashlib.sha256(data).hexdigest())
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Repo-Commit", "0" * 40)
        self.send_header("ETag", f'"{sha}"')
        self.send_header("X-Linked-Etag", f'"{sha}"')
        self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()

    def _record(self) -> None:
        self.hub.requests.append(
            Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, None)
        )

    def _not_found(self) -> None:
        self.send_response(404)
        self.send_header("X-Error-Code", "EntryNotFound")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self._record()
        found = self._lookup()
        if found is None:
            self._not_found()
            return
        key, data = found
        self._headers(key, data, 200, len(data), {})

    def do_GET(self) -> None:
        self._record()
        found = self._lookup()
        if found is None:
            self._not_found()
            return
        key, data = found
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng.removeprefix("bytes=").split("-")[0] or 0)
        body = data[start:]
        if start:
            self._headers(
                key, data, 206, len(body), {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            )
        else:
            self._headers(key, data, 200, len(body), {})
        if self.hub.cut_after is not None and self.hub.cuts > 0:
            self.hub.cuts -= 1
            self.wfile.write(body[: self.hub.cut_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@dataclass
class ArxivPapers:
    """What a fake arXiv serves: ``/e-print/ID`` (the source, or the PDF when a paper has no
    source, as arXiv does) and ``/pdf/ID``; unknown ids are 404."""

    sources: dict[str, bytes] = field(default_factory=dict)
    pdfs: dict[str, bytes] = field(default_factory=dict)
    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    cuts: int = 0
    """Close the connection half-way through this many bodies."""
    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)


class ArxivHandler(BaseHTTPRequestHandler):
    arxiv: ArxivPapers
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.arxiv.cuts and status == 200:
            self.arxiv.cuts -= 1
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.arxiv.requests.append((time.monotonic(), self.path, headers))
        if self.arxiv.failures:
            status, extra = self.arxiv.failures.popleft()
            self._send(status, b"busy", extra)
            return
        kind, _, ident = self.path.lstrip("/").partition("/")
        a = self.arxiv
        if kind == "e-print" and (ident in a.sources or ident in a.pdfs):
            self._send(200, a.sources.get(ident) or a.pdfs[ident])
        elif kind == "pdf" and ident in a.pdfs:
            self._send(200, a.pdfs[ident], {"Content-Type": "application/pdf"})
        else:
            self._send(404, b"<html>Not found</html>", {"Content-Type": "text/html"})


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler], **attrs: Any) -> Iterator[str]:
    """Run ``handler`` (with ``attrs`` set on a subclass) on a free loopback port; yield its URL."""
    cls = type("Handler", (handler,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), cls)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


ATOM_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <entry>
    <id>http://arxiv.org/abs/1706.03762v7</id>
    <published>2017-06-12T17:57:34Z</published>
    <title>Attention Is All
      You Need</title>
    <summary>The dominant sequence transduction models are based on complex recurrent networks.</summary>
    <author><name>Ashish Vaswani</name></author><author><name>Noam Shazeer</name></author>
    <author><name>Niki Parmar</name></author><author><name>Jakob Uszkoreit</name></author>
  </entry>
</feed>"""


class WebHandler(BaseHTTPRequestHandler):
    """Stands in for arXiv's search API, the Hugging Face hub's API and GitHub's code search."""

    seen: list[str]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, body: str, kind: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.seen.append(self.path)
        path = self.path.split("?")[0]
        if path == "/api/query":
            self._send(200, ATOM_FEED, "application/atom+xml")
        elif path == "/api/models":
            models = [
                {"id": "Qwen/Qwen2.5-Coder-0.5B-Instruct", "downloads": 10, "likes": 2, "tags": ["gguf"]}
            ]
            self._send(200, json.dumps(models), "application/json")
        elif path == "/datasets/tiny/csv/raw/main/README.md":
            self._send(200, "# tiny/csv\nTwo columns, 100 rows. License: MIT.", "text/plain")
        elif path == "/docs/page.html":
            html = (
                "<html><head><script>var x;</script></head>"
                "<body><h1>AdamW</h1><p>Decoupled weight decay.</p></body></html>"
            )
            self._send(200, html, "text/html; charset=utf-8")
        elif path == "/search/code":
            if self.headers.get("Authorization") != "Bearer test-token":
                self._send(401, '{"message": "Bad credentials"}', "application/json")
                return
            items = [
                {"repository": {"full_name": "a/b"}, "path": "model.py", "html_url": "https://x/model.py"}
            ]
            self._send(200, json.dumps({"items": items}), "application/json")
        else:
            self._send(404, "not found", "text/plain")
