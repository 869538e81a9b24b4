"""The HTTP server: one request in, one model-shaped answer out, with the testing knobs applied."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import re
import socket
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from customer_profiles_local import model, ops
from customer_profiles_local.connections import (
    ConnectionLimits,
    PooledHTTPServer,
    PooledRequestHandler,
)
from customer_profiles_local.errors import BadRequest, InternalError, NotFound, ServiceError, Throttled
from customer_profiles_local.json_body import decode_json_object
from customer_profiles_local.ops.registry import ADMIN_ROUTES, HANDLERS
from customer_profiles_local.quotas import Quotas
from customer_profiles_local.sigv4 import SigV4Verifier
from customer_profiles_local.state import EmulatorConfig, EmulatorState

log = logging.getLogger(__name__)
ops.load_all()

_DIGITS = re.compile(r"[0-9]+")
_FRAMING_RULE = "A request body needs one Content-Length header, a whole number of bytes; chunked bodies are refused"


@dataclass
class Knobs:
    """How the service misbehaves, for honest tests."""

    quotas: str = "aws"  # AWS always enforces its quotas, so throttling paths run by default
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    access_key_id: str | None = None
    secret_access_key: str | None = None


class Metrics:
    """Counts per operation; never a request's contents."""

    FIELDS = ("requests", "succeeded", "errors", "throttled", "faults", "dropped", "objects", "objects_accepted")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.per_operation: dict[str, Counter[str]] = defaultdict(Counter)
        self.signed_by: Counter[str] = Counter()  # accepted requests per access key id (never a secret)
        self.refused_signatures: Counter[str] = Counter()  # per error code

    def count(self, operation: str, what: str, amount: int = 1) -> None:
        with self.lock:
            self.per_operation[operation][what] += amount

    def count_signature(self, access_key_id: str | None = None, refused_with: str | None = None) -> None:
        """One verified request: accepted for ``access_key_id``, or refused with the error code ``refused_with``."""
        with self.lock:
            if refused_with:
                self.refused_signatures[refused_with] += 1
            else:
                self.signed_by[access_key_id or ""] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            per_op = {op: dict(counts) for op, counts in sorted(self.per_operation.items())}
            signatures = {"accepted_by_key": dict(self.signed_by), "refused": dict(self.refused_signatures)}
        totals: Counter[str] = Counter()
        for counts in per_op.values():
            totals.update(counts)
        return {"operations": per_op, "totals": dict(totals), "signatures": signatures}

    def reset(self) -> None:
        with self.lock:
            self.per_operation.clear()
            self.signed_by.clear()
            self.refused_signatures.clear()


def _object_counts(operation: str, params: dict[str, Any], result: dict[str, Any]) -> dict[str, int]:
    """Objects a successful put carried, and those the service accepted: what a test counts a load by."""
    if operation == "PutProfileObject":
        return {"objects": 1, "objects_accepted": 1}
    if operation == "BatchPutProfileObject":
        return {"objects": len(params["Items"]), "objects_accepted": len(result.get("Successful") or [])}
    return {}


class _DropConnection(Exception):
    """Close the socket without answering: the client sees a connection error."""


class CustomerProfilesServer(PooledHTTPServer):
    """A local Customer Profiles endpoint; ``url`` is what boto3's ``endpoint_url`` takes."""

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        knobs: Knobs | None = None,
        config: EmulatorConfig | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        super().__init__((host, port), _RequestHandler, limits or ConnectionLimits())
        self.knobs = knobs or Knobs()
        if not 0 <= self.knobs.fault_rate <= 1:
            raise ValueError("fault_rate must be between 0 and 1")
        self.state = EmulatorState(config)
        self.metrics = Metrics()
        self.quotas = Quotas(self.knobs.quotas)
        self.verifier = (
            SigV4Verifier(self.knobs.access_key_id, self.knobs.secret_access_key, self.state.config.region)
            if self.knobs.access_key_id and self.knobs.secret_access_key
            else None
        )
        self.random = random.Random()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_background(self) -> CustomerProfilesServer:
        """Serve from a daemon thread; returns self so callers can chain ``.url``."""
        self._thread = threading.Thread(target=self.serve_forever, name="customer-profiles-local", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        self.state.reset()
        self.metrics.reset()
        self.quotas = Quotas(self.knobs.quotas)

    # ------------------------------------------------------------------ dispatch

    def handle_api(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        """Serve one AWS API request; returns (status, body, error code or '')."""
        split = urlsplit(raw_path)
        operation_name = "Unknown"
        try:
            self._verify_signature(method, raw_path, headers, body)
            operation, path_params = model.match_route(method, split.path)
            operation_name = operation.name
            self.metrics.count(operation_name, "requests")
            if not self.quotas.admit(operation_name):
                self.metrics.count(operation_name, "throttled")
                raise Throttled()
            fault_draw = self.random.random()
            if fault_draw < self.knobs.fault_rate / 2:
                self.metrics.count(operation_name, "faults")
                raise InternalError("Injected fault")
            params = model.parse_request(operation, path_params, split.query, headers, body)
            model.validate(operation.input_shape, params)
            handler = HANDLERS.get(operation_name)
            if handler is None:
                raise ServiceError(
                    "BadRequestException", f"{operation_name} is not implemented by the local service", 501
                )
            with self.state.lock:
                result = handler(self.state, params)
            payload = model.serialize_response(operation, result)
        except ServiceError as exc:
            self.metrics.count(operation_name, "errors")
            status = exc.status or model.error_status(exc.code)
            return status, json.dumps({"Message": exc.message, "message": exc.message}).encode(), exc.code
        self.metrics.count(operation_name, "succeeded")
        for what, amount in _object_counts(operation_name, params, result).items():
            self.metrics.count(operation_name, what, amount)
        # The other half of injected faults drop the connection after the work is done:
        # the client cannot tell whether the write happened, as with a real network failure.
        if fault_draw < self.knobs.fault_rate:
            self.metrics.count(operation_name, "dropped")
            raise _DropConnection()
        return 200, payload, ""

    def _verify_signature(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> None:
        if not self.verifier:
            return
        try:
            signer = self.verifier.verify(method, f"http://{headers.get('Host', 'localhost')}{raw_path}", headers, body)
        except ServiceError as exc:
            self.metrics.count_signature(refused_with=exc.code)
            raise
        self.metrics.count_signature(signer)

    def _issue_temporary_credentials(self, body: bytes) -> dict[str, Any]:
        if not self.verifier:
            raise BadRequest("Temporary credentials need a service that verifies signatures (--access-key-id)")
        return {"Credentials": self.verifier.issue_temporary(decode_json_object(body).get("DurationSeconds"))}

    def handle_admin(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any], str]:
        """Serve one ``/_emulator/...`` call, signed like an API call when signatures are on.

        Returns (status, JSON answer, error code or '').
        """
        try:
            self._verify_signature(method, raw_path, headers, body)
            return (*self._admin_result(method, urlsplit(raw_path).path, body), "")
        except ServiceError as exc:
            return exc.status or 400, {"Message": exc.message, "Code": exc.code}, exc.code

    def _admin_result(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if method == "GET" and path == "/_emulator/metrics":
            return 200, self.metrics.snapshot()
        if method == "POST" and path == "/_emulator/reset":
            self.reset()
            return 200, {"reset": True}
        if method == "POST" and path == "/_emulator/temporary-credentials":
            return 200, self._issue_temporary_credentials(body)
        for route_method, pattern, fn in ADMIN_ROUTES:
            found = pattern.match(path)
            if found and route_method == method:
                payload = decode_json_object(body)
                with self.state.lock:
                    return fn(self, payload, **found.groupdict())
        raise NotFound(f"No admin endpoint {method} {path}")


class _RequestHandler(PooledRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate sends: without this, Nagle's algorithm and the
    # client's delayed ACK add about 40 ms to every call.
    disable_nagle_algorithm = True
    server: CustomerProfilesServer

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path without its query string: query values may carry customer data.
        path = urlsplit(getattr(self, "path", "")).path or "-"
        log.debug("%s %s %s %s", self.address_string(), self.command or "-", path, code)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server's messages quote the raw request line, which may carry customer data: numbers only.
        log.debug("%s %s", self.address_string(), format % tuple(a if isinstance(a, int) else "..." for a in args))

    def _serve(self) -> None:
        length = self._body_length()
        if length is None:
            return
        body = self.rfile.read(length)
        if len(body) < length:  # the client closed the connection mid-body
            self.close_connection = True
            return
        path = urlsplit(self.path).path
        if path.startswith("/_emulator/"):
            status, result, error_code = self.server.handle_admin(self.command, self.path, dict(self.headers), body)
            self._answer(status, json.dumps(result, default=str).encode(), error_code)
            return
        started = time.monotonic()
        try:
            status, payload, error_code = self.server.handle_api(self.command, self.path, dict(self.headers), body)
        except _DropConnection:
            self._sleep_until(started)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception as exc:
            # Where the bug is, not what its exception says: the message may quote request data (customer data).
            where = "".join(traceback.format_tb(exc.__traceback__))
            log.error("emulator bug while serving %s %s: %s\n%s", self.command, path, type(exc).__name__, where)
            status, payload, error_code = (
                500,
                b'{"Message":"Internal error in the local service"}',
                ("InternalServerException"),
            )
        self._sleep_until(started)
        self._answer(status, payload, error_code)

    def _body_length(self) -> int | None:
        """The body's declared size; None after refusing a body that cannot be framed or is too large."""
        lengths = self.headers.get_all("Content-Length") or []
        if self.headers.get("Transfer-Encoding") or len(lengths) > 1 or not all(map(_DIGITS.fullmatch, lengths)):
            return self._refuse(400, "BadRequestException", _FRAMING_RULE)
        length = int(lengths[0]) if lengths else 0
        limit = self.server.limits.max_body_bytes
        if length > limit:
            return self._refuse(413, "", f"The request body must be at most {limit} bytes")
        return length

    def _refuse(self, status: int, error_code: str, message: str) -> None:
        """Answer an error and close: the rest of the request cannot be read safely."""
        self.close_connection = True
        self._answer(status, json.dumps({"Message": message, "message": message}).encode(), error_code)

    def _sleep_until(self, started: float) -> None:
        delay = self.server.knobs.latency_ms / 1000 - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)

    def _answer(self, status: int, payload: bytes, error_code: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if self.close_connection:
            self.send_header("Connection", "close")
        if error_code:
            self.send_header(
                "x-amzn-ErrorType", f"{error_code}:http://internal.amazon.com/coral/com.amazonaws.profile/"
            )
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve
