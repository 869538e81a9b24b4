"""Bounded HTTP serving: a fixed pool of worker threads, per-request read deadlines, and idle connections
parked in one selector, so a thousand idle or trickling clients cost no thread and cannot starve the others.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

log = logging.getLogger(__name__)

_CHUNK = 65536


@dataclass(frozen=True)
class ConnectionLimits:
    """How much one client may hold: worker threads are shared, time and bodies are bounded."""

    # threads serving requests; connections beyond that wait their turn
    workers: int = 64
    # seconds from a request's first byte to its last (headers and body), however slowly it trickles
    read_timeout: float = 10.0
    # seconds a connection may sit without sending a request before it is closed
    idle_timeout: float = 60.0
    # largest request body accepted (the API's largest requests are far smaller)
    max_body_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if not (self.read_timeout > 0 and self.idle_timeout > 0 and self.max_body_bytes > 0):
            raise ValueError("read_timeout, idle_timeout and max_body_bytes must be positive")


class RequestReader:
    """Buffered socket reads under a deadline; knows whether the client already sent more (pipelining)."""

    def __init__(self, sock: socket.socket, io_timeout: float) -> None:
        self.sock = sock
        self.io_timeout = io_timeout
        self.deadline = time.monotonic() + io_timeout
        self.buffer = bytearray()

    @property
    def pending(self) -> bool:
        return bool(self.buffer)

    def _fill(self) -> bool:
        """Read what the socket has; False at end of stream. TimeoutError once the deadline has passed."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request was not received in time")
        self.sock.settimeout(min(remaining, self.io_timeout))
        try:
            data = self.sock.recv(_CHUNK)
        finally:
            self.sock.settimeout(self.io_timeout)
        self.buffer += data
        return bool(data)

    def _take(self, size: int) -> bytes:
        taken = bytes(self.buffer[:size])
        del self.buffer[:size]
        return taken

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self.buffer.find(b"\n") + 1
            if end:
                return self._take(end if limit < 0 else min(end, limit))
            if 0 <= limit <= len(self.buffer) or not self._fill():
                return self._take(len(self.buffer) if limit < 0 else limit)

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size and self._fill():
            pass
        return self._take(size)


class _SocketWriter:
    """Unbuffered writes that send everything (``socket.makefile`` may send only part)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> int:
        self.sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""


class PooledRequestHandler(BaseHTTPRequestHandler):
    """One object per connection, driven one request at a time by ``PooledHTTPServer``'s workers."""

    server: PooledHTTPServer

    def setup(self) -> None:
        limits = self.server.limits
        self.connection = self.request
        self.connection.settimeout(limits.read_timeout)
        if self.disable_nagle_algorithm:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.rfile = RequestReader(self.connection, limits.read_timeout)
        self.wfile = _SocketWriter(self.connection)

    def handle(self) -> None:
        """Nothing on accept: the server parks the connection until a request arrives."""

    def finish(self) -> None:
        """The server closes the connection when it is done with it."""

    def serve_ready(self) -> bool:
        """Serve the request(s) the client has started sending; False when the connection must close."""
        while True:
            self.rfile.deadline = time.monotonic() + self.server.limits.read_timeout
            self.close_connection = True
            self.handle_one_request()
            if self.close_connection:
                return False
            if not self.rfile.pending:
                return True


class _IdleConnections:
    """Connections waiting for their next request, all in one selector: no thread each, closed when idle too long."""

    def __init__(self, server: PooledHTTPServer) -> None:
        self.server = server
        self.selector = selectors.DefaultSelector()
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.wake_writer.setblocking(False)
        self.selector.register(self.wake_reader, selectors.EVENT_READ)
        self.arrivals: queue.SimpleQueue[PooledRequestHandler] = queue.SimpleQueue()
        # parked connection -> when it was parked; insertion order is parking order
        self.parked_at: dict[PooledRequestHandler, float] = {}
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="http-idle-connections", daemon=True)
        self.thread.start()

    def park(self, handler: PooledRequestHandler) -> None:
        self.arrivals.put(handler)
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()
        self.thread.join(timeout=5)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full wake-up pipe already wakes the selector
            self.wake_writer.send(b"\0")

    def _run(self) -> None:
        try:
            while not self.closed:
                for key, _ in self.selector.select(self._until_next_expiry()):
                    if key.fileobj is self.wake_reader:
                        self.wake_reader.recv(_CHUNK)
                    else:
                        self._unpark(key.data)
                        self.server.dispatch(key.data)
                self._admit_arrivals()
                self._close_expired()
        finally:
            self.selector.close()
            self.wake_reader.close()
            self.wake_writer.close()

    def _until_next_expiry(self) -> float | None:
        if not self.parked_at:
            return None
        oldest = next(iter(self.parked_at.values()))
        return max(0.0, oldest + self.server.limits.idle_timeout - time.monotonic())

    def _admit_arrivals(self) -> None:
        while not self.arrivals.empty():
            handler = self.arrivals.get()
            try:
                self.selector.register(handler.connection, selectors.EVENT_READ, handler)
            except (OSError, ValueError):  # closed meanwhile
                self.server.close_connection(handler)
                continue
            self.parked_at[handler] = time.monotonic()

    def _close_expired(self) -> None:
        deadline = time.monotonic() - self.server.limits.idle_timeout
        while self.parked_at:
            handler, parked_at = next(iter(self.parked_at.items()))
            if parked_at > deadline:
                return
            self._unpark(handler)
            self.server.close_connection(handler)

    def _unpark(self, handler: PooledRequestHandler) -> None:
        del self.parked_at[handler]
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(handler.connection)


class PooledHTTPServer(HTTPServer):
    """An HTTP/1.1 server whose thread count is bounded by ``limits.workers`` plus two, whatever clients do."""

    def __init__(
        self, address: tuple[str, int], handler_class: type[PooledRequestHandler], limits: ConnectionLimits
    ) -> None:
        super().__init__(address, handler_class)
        self.limits = limits
        self.workers = ThreadPoolExecutor(limits.workers, thread_name_prefix="http-worker")
        self.open_connections: set[PooledRequestHandler] = set()
        self.open_lock = threading.Lock()
        self.idle = _IdleConnections(self)

    def process_request(self, request: Any, client_address: Any) -> None:
        handler = self.RequestHandlerClass(request, client_address, self)
        with self.open_lock:
            self.open_connections.add(handler)
        self.idle.park(handler)

    def dispatch(self, handler: PooledRequestHandler) -> None:
        """Hand a connection with a request waiting to the worker pool (it queues when every worker is busy)."""
        try:
            self.workers.submit(self._serve, handler)
        except RuntimeError:  # shutting down
            self.close_connection(handler)

    def _serve(self, handler: PooledRequestHandler) -> None:
        try:
            keep = handler.serve_ready()
        except OSError:
            keep = False  # the client went away
        except Exception:
            log.exception("unexpected error while serving a connection; closing it")
            keep = False
        if keep and not self.idle.closed:
            self.idle.park(handler)
        else:
            self.close_connection(handler)

    def close_connection(self, handler: PooledRequestHandler) -> None:
        with self.open_lock:
            if handler not in self.open_connections:
                return
            self.open_connections.discard(handler)
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)
        handler.connection.close()

    def server_close(self) -> None:
        """Stop listening and close every connection, waking workers blocked on reads."""
        super().server_close()
        self.idle.close()
        self.workers.shutdown(wait=False, cancel_futures=True)
        with self.open_lock:
            handlers = list(self.open_connections)
        for handler in handlers:
            self.close_connection(handler)
