"""A callback receiver for trying assay out: prints each callback and checks its signature."""

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from assay.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, verify


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # deliveries come in bursts of connections; the default is 5


def make_server(
    host: str, port: int, secret: str | None, show: Callable[[str], None]
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the dispatcher reuses its connections

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signature = self.headers.get(SIGNATURE_HEADER, "")
            if secret is None:
                check = "not checked (no --secret)"
            else:
                check = "valid" if verify(body, signature, secret) else "INVALID"
            show(
                f"{self.command} {self.path}  delivery={self.headers.get(DELIVERY_HEADER)}  "
                f"signature {check}\n{body.decode(errors='replace')}"
            )
            self.send_response(204 if check != "INVALID" else 400)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    return _Server((host, port), Handler)
