"""A real HTTP server on loopback that records requests and answers scripted statuses."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses=(200,), body: bytes = b"ok", content_type="text/plain",
                 headers: dict | None = None):
        self.requests: list[dict] = []
        self._statuses = list(statuses)
        self._body = body
        self._content_type = content_type
        self._headers = headers or {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append({
                    "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.rfile.read(length) if length else b"",
                })
                status = (receiver._statuses.pop(0) if len(receiver._statuses) > 1
                          else receiver._statuses[0])
                self.send_response(status)
                self.send_header("Content-Type", receiver._content_type)
                self.send_header("Content-Length", str(len(receiver._body)))
                for name, value in receiver._headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(receiver._body)

            do_POST = do_GET = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
