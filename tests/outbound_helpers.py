"""Local endpoints for the outbound-policy probes: a port that counts who connects, and
a callback receiver that holds every request until it is let go."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Listener:
    """A TCP port on 127.0.0.1 that accepts connections and counts them (a stand-in for
    the database port an attacker points a URL at)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> "Listener":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class _Backlogged(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class HeldReceiver:
    """A callback receiver that answers nothing until `release()`: a customer's endpoint
    that hangs. `holding` counts the requests it has open."""

    def __init__(self):
        self.holding = 0
        self.answered = 0
        self.released = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.holding += 1
                outer.released.wait(120)
                self.send_response(204)
                self.end_headers()
                outer.answered += 1

            def log_message(self, *args):
                pass

        self.httpd = _Backlogged(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> "HeldReceiver":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()
