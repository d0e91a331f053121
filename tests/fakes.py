"""Fake provider APIs (Twilio, Postmark) on 127.0.0.1, for running the real client libraries in tests.

Each fake records every request it receives and answers like the provider, its error cases included.
The pytest fixtures at the bottom start a fake, point the settings at it and refuse any connection that
is not to a loopback address. Plug them in with `pytest_plugins = ["tests.fakes"]` in tests/conftest.py.
"""

import base64
import contextlib
import ipaddress
import json
import math
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from requests.structures import CaseInsensitiveDict


@dataclass
class ReceivedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    headers: CaseInsensitiveDict
    body: bytes
    form: dict[str, str] = field(default_factory=dict)  # form-encoded bodies (Twilio)
    json: Any = None  # JSON bodies (Postmark)
    auth: tuple[str, str] | None = None  # HTTP basic auth, decoded


@dataclass
class Failure:
    status: int
    payload: dict


class FakeProvider:
    """An HTTP API in a background thread: records requests, then answers through `respond()`.

    `fail_next(...)` queues one error answer; `hang = True` makes it hold every request without
    answering (until stopped or `hang_seconds` passed), to drive clients into their timeout.
    """

    hang_seconds = 30.0

    def __init__(self, *, hang: bool = False):
        self.hang = hang
        self._lock = threading.Lock()
        self._requests: list[ReceivedRequest] = []
        self._failures: deque[Failure] = deque()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> "FakeProvider":
        self._released.clear()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # let hanging handlers go
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # What tests read and set

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def queue_failure(self, status: int, payload: dict) -> None:
        with self._lock:
            self._failures.append(Failure(status, payload))

    # Request handling (in the server's threads)

    def _receive(self, request: ReceivedRequest) -> tuple[int, dict] | None:
        """The answer to send, or None to hang up without one."""
        with self._lock:
            self._requests.append(request)
            failure = self._failures.popleft() if self._failures else None
        if self.hang:
            self._released.wait(self.hang_seconds)
            return None
        if failure is not None:
            return failure.status, failure.payload
        return self.respond(request)

    def respond(self, request: ReceivedRequest) -> tuple[int, dict]:
        raise NotImplementedError


class FakeTwilio(FakeProvider):
    """Twilio's Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`, with its magic test numbers."""

    MAGIC_TO_ERRORS = {
        "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
        "+15005550009": (21614, "'To' number is not a valid mobile number"),
        "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    }
    STATUS_ERRORS = {
        429: (20429, "Too Many Requests"),
        500: (20500, "Internal Server Error"),
        503: (20503, "Service Unavailable"),
    }

    def __init__(self, *, account_sid: str, auth_token: str, hang: bool = False):
        super().__init__(hang=hang)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict] = []  # the message resource of each accepted SMS, in order

    def fail_next(self, status: int, code: int | None = None, message: str = "") -> None:
        """Answer the next request with a Twilio error, e.g. fail_next(503) or fail_next(429, 20429)."""
        default_code, default_message = self.STATUS_ERRORS.get(status, (status, "Error"))
        self.queue_failure(status, self.error(status, code or default_code, message or default_message))

    @staticmethod
    def error(status: int, code: int, message: str) -> dict:
        return {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def respond(self, request: ReceivedRequest) -> tuple[int, dict]:
        if request.auth != (self.account_sid, self.auth_token):
            return 401, self.error(401, 20003, "Authenticate")
        messages_path = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if request.method != "POST" or request.path != messages_path:
            return 404, self.error(404, 20404, f"The requested resource {request.path} was not found")

        form = request.form
        to = form.get("To", "")
        if not to:
            return 400, self.error(400, 21604, "A 'To' phone number is required.")
        if not form.get("Body"):
            return 400, self.error(400, 21602, "Message body is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, self.error(400, 21603, "A 'From' phone number is required.")
        if to in self.MAGIC_TO_ERRORS:
            code, message = self.MAGIC_TO_ERRORS[to]
            return 400, self.error(400, code, message)
        message = self.message_resource(form)
        with self._lock:
            self.messages.append(message)
        return 201, message

    def message_resource(self, form: dict[str, str]) -> dict:
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        body = form["Body"]
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            # With a messaging service and no From, Twilio picks the sender later and says "accepted".
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": str(_approximate_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if form.get("From") else "accepted",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }


class FakePostmark(FakeProvider):
    """Postmark's `POST /email`, enough for anymail's Postmark backend; `inactive` holds suppressed addresses."""

    def __init__(self, *, server_token: str, hang: bool = False):
        super().__init__(hang=hang)
        self.server_token = server_token
        self.inactive: set[str] = set()
        self.message_ids: list[str] = []  # MessageID of each accepted email, in order

    def fail_next(self, status: int, error_code: int, message: str) -> None:
        """Answer the next request with a Postmark error, e.g. fail_next(500, 0, "Internal Server Error")."""
        self.queue_failure(status, {"ErrorCode": error_code, "Message": message})

    def respond(self, request: ReceivedRequest) -> tuple[int, dict]:
        token = request.headers.get("X-Postmark-Server-Token")
        if not token:
            return 401, {
                "ErrorCode": 10,
                "Message": "No Account or Server API tokens were supplied in the HTTP headers.",
            }
        if token != self.server_token:
            return 401, {"ErrorCode": 10, "Message": "The Server Token you provided was invalid."}
        if request.method != "POST" or request.path != "/email":
            return 404, {"ErrorCode": 404, "Message": "Not found."}
        if not isinstance(request.json, dict):
            return 422, {"ErrorCode": 402, "Message": "Received invalid JSON input."}

        to = request.json.get("To", "")
        addresses = [address.lower() for _, address in getaddresses([to]) if address]
        if not addresses:
            return 422, {"ErrorCode": 300, "Message": "Zero recipients specified"}
        inactive = [address for address in addresses if address in self.inactive]
        if inactive and len(inactive) == len(addresses):
            message = (
                "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: "
                f"{', '.join(inactive)}. Inactive recipients are ones that have generated a hard bounce, "
                "a spam complaint, or a manual suppression. "
            )
            return 422, {"ErrorCode": 406, "Message": message}

        message_id = str(uuid.uuid4())
        with self._lock:
            self.message_ids.append(message_id)
        return 200, {
            "To": to,
            "SubmittedAt": datetime.now(UTC).isoformat(),
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }


def _approximate_segments(body: str) -> int:
    """Twilio's num_segments, roughly (GSM-7 lengths only): enough for a fake."""
    return 1 if len(body) <= 160 else math.ceil(len(body) / 153)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that timed out and hung up is the point of hang mode, not an error.
        pass


def _handler_for(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self._handle()

        def do_GET(self):
            self._handle()

        def _handle(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = CaseInsensitiveDict(self.headers.items())
            request = ReceivedRequest(
                method=self.command,
                path=self.path.split("?", 1)[0],
                headers=headers,
                body=body,
                auth=_basic_auth(headers.get("Authorization", "")),
            )
            content_type = headers.get("Content-Type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                request.form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            elif content_type.startswith("application/json"):
                with contextlib.suppress(ValueError):
                    request.json = json.loads(body)
            answer = fake._receive(request)
            if answer is None:
                self.close_connection = True
                return
            status, payload = answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            pass

    return Handler


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(credentials).decode().partition(":")
    except ValueError:
        return None
    return user, password


# Keeping tests on the loopback interface


class NonLoopbackConnection(RuntimeError):
    """A test tried to reach a real host. Not an OSError, so no client library mistakes it for a network blip."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def loopback_only(monkeypatch):
    """Refuse name look-ups and connections to anything but 127.0.0.0/8, ::1 and localhost."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address):
        if isinstance(address, tuple) and not _is_loopback(str(address[0])):
            raise NonLoopbackConnection(f"tests may not connect to {address[0]}")

    def connect(sock, address):
        check(address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None:
            check((host if isinstance(host, str) else host.decode(),))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def fake_twilio(settings, loopback_only):
    """A running FakeTwilio, with SMS_BACKEND="twilio" and the TWILIO_* settings pointing at it."""
    with FakeTwilio(account_sid="AC" + "0123456789abcdef" * 2, auth_token="test-auth-token") as fake:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_ACCOUNT_SID = fake.account_sid
        settings.TWILIO_AUTH_TOKEN = fake.auth_token
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_API_BASE_URL = fake.url
        settings.TWILIO_TIMEOUT = 5
        yield fake


@pytest.fixture
def fake_postmark(settings, loopback_only):
    """A running FakePostmark, with EMAIL_BACKEND set to anymail's Postmark backend pointing at it."""
    with FakePostmark(server_token="test-server-token") as fake:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": f"{fake.url}/",
            "REQUESTS_TIMEOUT": 5,
        }
        yield fake
