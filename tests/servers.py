"""Real loopback HTTP servers for the tests.

Each server binds port 0 on its own 127.0.0.x address, so one test can have
several "hosts". It records every request it receives and answers through a
handler the test sets, by default "200 if the expected credential came, else
401".
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[["LoopbackServer", Received], Reply]


def accept_all(server: LoopbackServer, request: Received) -> Reply:
    return Reply(200, {"Content-Type": "text/plain"}, b"ok")


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # stampede tests open 64 connections at once
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class LoopbackServer:
    def __init__(self, host: str = "127.0.0.1", handler: Handler = accept_all) -> None:
        self.handler = handler
        self.received: list[Received] = []
        self._lock = threading.Lock()
        outer = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without this, delayed ACKs
            # add ~40 ms to every keep-alive request
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = Received(self.command, self.path, headers, body)
                with outer._lock:
                    outer.received.append(record)
                reply = outer.handler(outer, record)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        server_class = _Server6 if ":" in host else _Server
        self.httpd = server_class((host, 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def require_authorization(expected: str) -> Handler:
    """A handler that answers 200 only to requests carrying ``Authorization: expected``."""

    def handler(server: LoopbackServer, request: Received) -> Reply:
        if request.authorization == expected:
            return Reply(200, {}, b"ok")
        return Reply(401, {"WWW-Authenticate": 'Basic realm="test"'}, b"")

    return handler
