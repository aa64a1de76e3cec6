"""A real local HTTP server that answers like a SUSHI (COUNTER API) endpoint.

Each test queues the answers: a corpus file (read from the shared corpus by path, never
copied into the project), raw bytes, or an HTTP status; the server records every request.
"""

from __future__ import annotations

import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


class SushiServer:
    def __init__(self) -> None:
        self.answers: deque[tuple[int, bytes, dict[str, str]]] = deque()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                status, body, headers = (
                    server.answers.popleft() if server.answers else (404, b"", {})
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/counter/r5"

    def answer(self, body: Path | bytes = b"", status: int = 200, **headers: str) -> None:
        data = body.read_bytes() if isinstance(body, Path) else body
        self.answers.append((status, data, {k.replace("_", "-"): v for k, v in headers.items()}))

    def query(self, index: int = -1) -> dict[str, str]:
        """Return the query parameters of a request (the last by default), one value each."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.requests[index]).query).items()}

    def path(self, index: int = -1) -> str:
        return urlsplit(self.requests[index]).path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
