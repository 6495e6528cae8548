"""A loopback HTTPS server that serves MTA-STS policy files (RFC 8461 §3.3)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from simnet.ports import ensure_loopback, free_port_for
from simnet.tls import ServerCertificate


class PolicyServer:
    """Serves ``policies[host]`` at ``/.well-known/mta-sts.txt`` for the ``Host`` asked."""

    def __init__(self, host: str, certificate: ServerCertificate, port: int = 0) -> None:
        ensure_loopback(host)
        self.host = host
        self.port = port or free_port_for([host])
        self.policies: dict[str, str] = {}
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = (self.headers.get("Host") or "").split(":")[0].lower()
                owner.requests.append(name)
                body = owner.policies.get(name)
                if self.path != "/.well-known/mta-sts.txt" or body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((host, self.port), Handler)
        context = certificate.server_context()
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PolicyServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
