"""RequestReader: buffered reads that stop at a deadline and know when the client already sent more."""

from __future__ import annotations

import socket
import time

import pytest

from customer_profiles_local.connections import ConnectionLimits, RequestReader


@pytest.fixture
def pair():
    server_side, client_side = socket.socketpair()
    yield server_side, client_side
    server_side.close()
    client_side.close()


def test_reads_lines_and_bodies_and_keeps_what_follows(pair):
    server_side, client_side = pair
    client_side.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody!NEXT")
    reader = RequestReader(server_side, io_timeout=5)
    assert reader.readline(65537) == b"GET / HTTP/1.1\r\n"
    assert reader.readline() == b"Host: x\r\n"
    assert reader.readline() == b"\r\n"
    assert reader.read(5) == b"body!"
    assert reader.pending  # a pipelined request is already here
    assert reader.read(4) == b"NEXT"
    assert not reader.pending


def test_readline_stops_at_its_limit_and_at_end_of_stream(pair):
    server_side, client_side = pair
    client_side.sendall(b"abcdefgh\nrest")
    client_side.shutdown(socket.SHUT_WR)
    reader = RequestReader(server_side, io_timeout=5)
    assert reader.readline(3) == b"abc"
    assert reader.readline() == b"defgh\n"
    assert reader.readline() == b"rest"
    assert reader.readline() == b""
    assert reader.read(10) == b""


def test_a_passed_deadline_is_a_timeout_even_while_bytes_keep_coming(pair):
    server_side, client_side = pair
    reader = RequestReader(server_side, io_timeout=5)
    reader.deadline = time.monotonic() - 1
    client_side.sendall(b"GET")
    with pytest.raises(TimeoutError):
        reader.readline()


@pytest.mark.parametrize(
    "bad",
    [{"workers": 0}, {"read_timeout": 0}, {"idle_timeout": -1}, {"max_body_bytes": 0}],
)
def test_limits_must_be_positive(bad):
    with pytest.raises(ValueError):
        ConnectionLimits(**bad)
