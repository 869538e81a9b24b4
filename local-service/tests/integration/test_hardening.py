"""The local service under hostile clients: signed admin calls, bounded threads, read deadlines, malformed framing."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import select
import socket
import threading
import time
import urllib.error
from urllib.parse import urlsplit

import botocore.auth
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from customer_profiles_local import ConnectionLimits, call_admin

NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1})
# Stands for 200,000 nested arrays in a body, expanded only when sent (so test ids and reports stay small).
DEEP = b"<deep>"
# How long a test waits for the server to act (a bound against hanging, never an asserted duration).
PATIENCE = 15.0


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE)


def _readable(sock: socket.socket, timeout: float) -> bool:
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def _exchange(url: str, raw: bytes) -> tuple[int, dict[str, str], dict]:
    """Send raw request bytes; returns the answer's status, headers and JSON body."""
    with _connect(url) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(response.read())


def _post(path: str, body: bytes, content_length: str | None = None) -> bytes:
    length = str(len(body)) if content_length is None else content_length
    head = f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
    return head.encode() + b"\r\n" + body


def _closed_by_server(sock: socket.socket, keep_sending: bytes = b"") -> bool:
    """Whether the server closes ``sock`` within PATIENCE, while we trickle ``keep_sending`` one byte at a time."""
    trickle = iter(keep_sending)
    give_up = time.monotonic() + PATIENCE
    while time.monotonic() < give_up:
        if _readable(sock, 0.1):
            try:
                return sock.recv(4096) == b""
            except ConnectionResetError:
                return True
        byte = next(trickle, None)
        if byte is not None:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                return True
    return False


# ----------------------------------------------------------------------------------------- item 5: signed admin


def test_unsigned_admin_calls_are_refused_when_signing_is_on(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True, access_key_id="AKIDADMIN")
    endpoint.client().create_domain(DomainName="kept", DefaultExpirationDays=1)

    for method, path in (("POST", "reset"), ("GET", "metrics"), ("POST", "clock")):
        with pytest.raises(urllib.error.HTTPError) as unsigned:
            call_admin(endpoint.url, method, path, {} if method == "POST" else None)
        assert unsigned.value.code == 403
        assert unsigned.value.headers["x-amzn-ErrorType"].startswith("MissingAuthenticationTokenException")

    with pytest.raises(urllib.error.HTTPError) as wrong_secret:
        call_admin(endpoint.url, "POST", "reset", credentials=("AKIDADMIN", "not-the-secret"))
    assert wrong_secret.value.code == 403
    assert json.loads(wrong_secret.value.read())["Code"] == "InvalidSignatureException"

    assert [d["DomainName"] for d in endpoint.client().list_domains()["Items"]] == ["kept"]
    # The endpoint's own helper signs, so fixtures and tests keep working with signing on.
    assert endpoint.admin("POST", "reset") == {"reset": True}
    assert endpoint.client().list_domains()["Items"] == []


def test_admin_calls_verify_the_body_they_sign(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True)
    assert endpoint.admin("POST", "clock", {"AdvanceSeconds": 1})["Now"]
    credentials = (endpoint.access_key_id, endpoint.secret_access_key)
    # A signed request replayed with another body no longer matches its signature.
    request = AWSRequest(method="POST", url=f"{endpoint.url}/_emulator/clock", data=b'{"AdvanceSeconds": 1}')
    SigV4Auth(Credentials(*credentials), "profile", "us-east-1").add_auth(request)
    tampered = b'{"AdvanceSeconds": 9}'
    headers = "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    raw = f"POST /_emulator/clock HTTP/1.1\r\nHost: {urlsplit(endpoint.url).netloc}\r\n{headers}"
    raw += f"Content-Length: {len(tampered)}\r\n\r\n"
    status, _, answer = _exchange(endpoint.url, raw.encode() + tampered)
    assert (status, answer["Code"]) == (403, "InvalidSignatureException")


# -------------------------------------------------------------------------------------- item 6: clock skew


@pytest.mark.parametrize(
    ("skew_minutes", "message_start"),
    [(-16, "Signature expired: "), (16, "Signature not yet current: ")],
)
def test_signatures_outside_fifteen_minutes_are_refused(
    customer_profiles_emulator_factory, monkeypatch, skew_minutes, message_start
):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True)
    client = endpoint.client(retries={"mode": "standard", "max_attempts": 1})
    real_now = botocore.auth.get_current_datetime
    skew = dt.timedelta(minutes=skew_minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: real_now(*a, **k) + skew)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.list_domains()
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith(message_start)
    assert error["Message"].endswith(f"{'-' if skew_minutes < 0 else '+'} 15 min.)")


def test_signatures_within_fifteen_minutes_are_accepted(customer_profiles_emulator_factory, monkeypatch):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True)
    client = endpoint.client()
    real_now = botocore.auth.get_current_datetime
    for minutes in (-14, 14):
        skew = dt.timedelta(minutes=minutes)
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, s=skew, **k: real_now(*a, **k) + s)
        assert client.list_domains()["Items"] == []


# ------------------------------------------------------------------------ item 6: bounded threads, read deadlines


def test_idle_connections_do_not_take_threads(customer_profiles_emulator_factory):
    workers = 4
    endpoint = customer_profiles_emulator_factory(limits=ConnectionLimits(workers=workers))
    threads_before = threading.active_count()
    idle = [_connect(endpoint.url) for _ in range(300)]
    try:
        client = endpoint.client()
        client.create_domain(DomainName="busy", DefaultExpirationDays=1)
        assert client.get_domain(DomainName="busy")["DomainName"] == "busy"
        assert threading.active_count() <= threads_before + workers
        assert not any(_readable(sock, 0) for sock in idle), "idle connections stay open"
    finally:
        for sock in idle:
            sock.close()


def test_connections_that_send_nothing_are_closed_after_the_idle_timeout(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(limits=ConnectionLimits(idle_timeout=0.5))
    with _connect(endpoint.url) as sock:
        assert _closed_by_server(sock)


@pytest.mark.parametrize(
    "partial",
    [
        b"GET /domains HTTP/1.1\r\nHost: local",  # headers never finish
        _post("/_emulator/clock", b'{"AdvanceSe', content_length="100"),  # body never finishes
    ],
    ids=["headers", "body"],
)
def test_a_half_sent_request_is_closed_after_the_read_timeout(customer_profiles_emulator_factory, partial):
    endpoint = customer_profiles_emulator_factory(limits=ConnectionLimits(workers=1, read_timeout=0.5))
    with _connect(endpoint.url) as sock:
        sock.sendall(partial)
        assert _closed_by_server(sock)
    # The only worker is free again.
    assert endpoint.client(retries={"mode": "standard", "max_attempts": 1}).list_domains()["Items"] == []


def test_a_trickled_request_is_closed_at_its_deadline_however_steady(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(limits=ConnectionLimits(read_timeout=0.5))
    with _connect(endpoint.url) as sock:
        # one byte every 0.1 s: each read succeeds well inside the timeout, the whole request never does
        assert _closed_by_server(sock, keep_sending=b"GET /domains HTTP/1.1\r\n" + b"X-Slow: y\r\n" * 50)


def test_keep_alive_connections_are_served_again_after_waiting(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(limits=ConnectionLimits(workers=1))
    parts = urlsplit(endpoint.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=PATIENCE)
    for _ in range(3):
        connection.request("GET", "/domains")
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["Items"]) == (200, [])
        time.sleep(0.2)  # parked between requests, not holding the only worker
        assert endpoint.client().list_domains()["Items"] == []
    connection.close()


# ------------------------------------------------------------------------------- item 6: malformed requests


@pytest.mark.parametrize(
    "content_length",
    ["abc", "-5", "12abc", "0x10", "1e3", "+7"],
)
def test_a_bad_content_length_is_a_400_naming_no_value(customer_profiles_emulator, content_length):
    raw = _post("/_emulator/clock", b'{"AdvanceSeconds": 1}', content_length=content_length)
    status, headers, answer = _exchange(customer_profiles_emulator.url, raw)
    assert status == 400
    assert headers["x-amzn-errortype"].startswith("BadRequestException")
    assert headers["connection"] == "close"
    assert "Content-Length" in answer["Message"]
    assert content_length not in answer["Message"]


def test_two_content_lengths_are_refused(customer_profiles_emulator):
    raw = b"POST /domains/d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}"
    status, _, _ = _exchange(customer_profiles_emulator.url, raw)
    assert status == 400


def test_a_body_over_the_size_limit_is_a_413_without_reading_it(customer_profiles_emulator):
    declared = str(ConnectionLimits().max_body_bytes + 1)
    status, headers, answer = _exchange(customer_profiles_emulator.url, _post("/domains/d", b"", declared))
    assert status == 413
    assert headers["connection"] == "close"
    assert declared not in answer["Message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/clock", b"[1, 2]"),
        ("/_emulator/settings", b'"JobPhaseSeconds"'),
        ("/_emulator/clock", b'{"AdvanceSeconds": 1e300}'),
        ("/_emulator/clock", b'{"AdvanceSeconds": NaN}'),
        ("/_emulator/clock", b'{"AdvanceSeconds": Infinity}'),
        ("/_emulator/clock", b'{"AdvanceSeconds": -Infinity}'),
        ("/_emulator/clock", b'{"AdvanceSeconds": -1}'),
        ("/_emulator/clock", b'{"AdvanceSeconds": 99999999999}'),
        ("/_emulator/clock", DEEP),
        ("/domains/deep", b'{"DefaultExpirationDays": ' + DEEP + b"}"),
        ("/domains/nan", b'{"DefaultExpirationDays": NaN}'),
        ("/_emulator/clock", b"\xff\xfe"),
    ],
    ids=[
        "admin-array",
        "admin-string",
        "advance-1e300",
        "advance-nan",
        "advance-inf",
        "advance-minus-inf",
        "advance-negative",
        "advance-past-100-years",
        "admin-200000-deep",
        "api-200000-deep",
        "api-nan",
        "admin-bad-utf8",
    ],
)
def test_malformed_bodies_are_400s_naming_no_value(customer_profiles_emulator, path, body):
    raw = _post(path, body.replace(DEEP, b"[" * 200_000 + b"]" * 200_000))
    status, headers, answer = _exchange(customer_profiles_emulator.url, raw)
    assert status == 400
    assert headers["x-amzn-errortype"].startswith("BadRequestException")
    for echoed in ("1e300", "1e+300", "NaN", "nan", "Infinity", "inf", "99999999999", "-1", "[[["):
        assert echoed not in answer["Message"]
    # The connection is still good for the next request.
    assert customer_profiles_emulator.client().list_domains()["Items"] == []


def test_the_clock_still_moves_after_refused_advances(customer_profiles_emulator):
    before = customer_profiles_emulator.admin("POST", "clock", {"AdvanceSeconds": 0})["Now"]
    _exchange(customer_profiles_emulator.url, _post("/_emulator/clock", b'{"AdvanceSeconds": 1e300}'))
    after = customer_profiles_emulator.admin("POST", "clock", {"AdvanceSeconds": 3600})["Now"]
    moved = dt.datetime.fromisoformat(after) - dt.datetime.fromisoformat(before)
    assert dt.timedelta(hours=1) <= moved < dt.timedelta(hours=2)


def test_pipelined_requests_are_all_answered(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(limits=ConnectionLimits(workers=1))
    one = b"GET /domains HTTP/1.1\r\nHost: x\r\n\r\n"
    with _connect(endpoint.url) as sock, sock.makefile("rb") as stream:
        sock.sendall(one * 3)
        for _ in range(3):
            status = int(stream.readline().split()[1])
            headers = http.client.parse_headers(stream)
            assert (status, json.loads(stream.read(int(headers["Content-Length"])))["Items"]) == (200, [])
