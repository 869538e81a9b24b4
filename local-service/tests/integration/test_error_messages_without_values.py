"""A request value that may be customer data never comes back in an error message, nor in the service's log.

AWS's validation messages name the member and the constraint, not the value; the local service's messages end up
in task logs, so a value echoed there would leak an email or a phone number into them.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from urllib.parse import quote, urlsplit

import pytest
from helpers import error_of

from customer_profiles_local.ops.registry import HANDLERS

MARKER = "pii-marker@example.com"
# every spelling of the marker a message or a log line could carry
SPELLINGS = (MARKER, quote(MARKER, safe=""), "pii-marker")


@pytest.fixture
def service_log(caplog):
    """Everything the service logs, down to DEBUG (the access log)."""
    caplog.set_level(logging.DEBUG, logger="customer_profiles_local")
    return caplog


def _raw(url: str, method: str, path: str) -> tuple[int, dict]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def assert_no_marker(text: str) -> None:
    assert not [spelling for spelling in SPELLINGS if spelling in text], text


def test_a_query_value_that_is_not_a_number_is_a_400_naming_the_member_not_the_value(
    customer_profiles_emulator, service_log
):
    status, answer = _raw(
        customer_profiles_emulator.url, "GET", f"/domains/retail/integrations?max-results={quote(MARKER)}"
    )
    assert status == 400
    assert "'maxResults'" in answer["Message"]
    assert "Member must be of type integer" in answer["Message"]
    assert_no_marker(answer["Message"])
    assert "/domains/retail/integrations" in service_log.text  # the access log did log the request
    assert_no_marker(service_log.text)


def test_a_malformed_request_line_is_not_logged(customer_profiles_emulator, service_log):
    parts = urlsplit(customer_profiles_emulator.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"GET /domains?{MARKER} HTTP/1.1 extra\r\n\r\n".encode())
        answer = sock.makefile("rb").read()
    assert b"400" in answer  # http.server answers a request line it cannot parse as HTTP/0.9: no status line
    assert "code 400" in service_log.text
    assert_no_marker(service_log.text)


def test_a_profile_field_over_its_length_is_a_400_naming_the_member(client, domain, service_log):
    code, message, status = error_of(client.create_profile, DomainName=domain, EmailAddress=MARKER * 12)
    assert (code, status) == ("BadRequestException", 400)
    assert "'emailAddress'" in message and "length less than or equal to 255" in message
    assert_no_marker(message)
    assert_no_marker(service_log.text)


def test_an_emulator_bug_is_logged_with_its_traceback_but_not_its_message(
    customer_profiles_emulator, service_log, monkeypatch
):
    def list_domains_with_a_bug(state, params):
        raise ValueError(f"no domain for {MARKER}")

    monkeypatch.setitem(HANDLERS, "ListDomains", list_domains_with_a_bug)
    status, answer = _raw(customer_profiles_emulator.url, "GET", "/domains")
    assert (status, answer["Message"]) == (500, "Internal error in the local service")
    assert "emulator bug while serving GET /domains: ValueError" in service_log.text
    assert "list_domains_with_a_bug" in service_log.text  # the traceback says where
    assert_no_marker(service_log.text)
