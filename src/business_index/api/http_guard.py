"""Limits uvicorn's HTTP layer does not set by itself: how long a client may take to send a
request's headers (a "slowloris" holds connections open by sending them a byte at a time), and how
large the headers may be (uvicorn reads any size). A connection over either gets a plain HTTP error
and is closed before the app sees anything.

``bx serve`` passes ``GuardedHttpToolsProtocol`` to uvicorn as its HTTP protocol; the limits are
settings (``BX_HEADER_TIMEOUT_SECONDS``, ``BX_MAX_HEADER_BYTES``) read from the environment bx serve
sets, since uvicorn builds protocols itself in each worker.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from business_index.config import ServeConfig

_SETTINGS = ServeConfig()  # read once per worker, from the environment bx serve sets


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout = _SETTINGS.header_timeout_seconds
    max_header_bytes = _SETTINGS.max_header_bytes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._awaiting_headers = True
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = self.loop.call_later(self.header_timeout, self._too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _stop_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _refuse(self, status: bytes, reason: bytes) -> None:
        self._stop_header_timer()
        if not self.transport.is_closing():
            body = reason + b"\n"
            self.transport.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                 b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n"
                                 + body)
            self.transport.close()

    def _too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers:
            self._refuse(b"408 Request Timeout", b"the request headers took too long to arrive")

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            end = data.find(b"\r\n\r\n")  # a body may come in the same packet: it is not headers
            self._header_bytes += len(data) if end < 0 else end + 4
            if self._header_bytes > self.max_header_bytes:
                self._refuse(b"431 Request Header Fields Too Large",
                             b"the request headers are over " + str(self.max_header_bytes).encode() + b" bytes")
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._stop_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # the next request on this connection has its own time and size for its headers; an idle
        # connection is closed by uvicorn's keep-alive timeout
        self._awaiting_headers = True
        self._header_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None and self._awaiting_headers:
            self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)
