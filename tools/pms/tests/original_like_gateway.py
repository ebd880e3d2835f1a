"""A stand-in for the original Java gateway, for the bench's foreign-target test: a real
HTTP server offering only the original's public contract (../shared/design/ORIGINAL.md)
and nothing of ours, so no ``/health/ready`` (404, as the original answers).

- ``POST /auth/login`` with the seeded ADMIN -> 200 ``{"token": ...}``, else 401;
- ``GET /api/patients`` with that bearer token -> 200, a JSON array (no paging, no
  ``X-Total-Count``), else 401;
- ``POST /api/patients`` -> 200 and the patient (the original's status for a create).

Run as a script: it listens on a free loopback port and prints that port on its first line.
"""

import json
import secrets
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER = ("testuser@test.com", "password123")
TOKEN = secrets.token_urlsafe(24)
PATIENTS = [
    {
        "id": str(uuid.UUID(int=index + 1)),
        "name": f"Patient {index}",
        "email": f"patient.{index}@example.com",
        "address": f"{index} Main St, Springfield",
        "dateOfBirth": "1985-06-15",
    }
    for index in range(15)
]
LISTING = json.dumps(PATIENTS).encode()


class OriginalLikeGateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms delayed ACK

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: thousands of requests per second."""

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None

    def _authorised(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/api/patients":
            self._answer(404)
        elif not self._authorised():
            self._answer(401)
        else:
            self._answer(200, LISTING)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._body()
        if path == "/auth/login":
            given = (body.get("email"), body.get("password")) if isinstance(body, dict) else None
            if given == USER:
                self._answer(200, json.dumps({"token": TOKEN}).encode())
            else:
                self._answer(401)
        elif path == "/api/patients" and self._authorised() and isinstance(body, dict):
            self._answer(200, json.dumps({**body, "id": str(uuid.uuid4())}).encode())
        else:
            self._answer(404 if path != "/api/patients" else 401)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """wrk resets its connections when a run ends: no traceback for each."""


def main() -> None:
    server = QuietServer(("127.0.0.1", 0), OriginalLikeGateway)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
