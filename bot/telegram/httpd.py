"""A small HTTP/1.1 server on asyncio streams (one request per connection).

Enough for the webhook, /healthz and /metrics; no web framework to install or patch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
MAX_HEADERS = 64 * 1024


@dataclass(frozen=True)
class Request:
    """The request line and headers; the body is read only by a handler that wants it."""

    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    reader: asyncio.StreamReader

    async def body(self, limit: int) -> bytes:
        """The body as Content-Length says; ValueError (→ 400) when absent or over `limit`."""
        length = int(self.headers.get("content-length", "0"))
        if length <= 0 or length > limit:
            raise ValueError("bad length")
        return await self.reader.readexactly(length)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


Handler = Callable[[Request], Awaitable[Response]]


class HttpServer:
    """Routes exact paths to handlers; anything else is a 404."""

    def __init__(self, routes: Mapping[str, Handler], *, host: str, port: int) -> None:
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The port really listened on (useful with port 0)."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def route(self, path: str, handler: Handler) -> None:
        self._routes[path] = handler

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        response = Response(500, b"error")
        try:
            response = await asyncio.wait_for(self._respond(reader), timeout=30)
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,  # headers beyond the stream's 64 KiB buffer
            ConnectionError,
            ValueError,
        ):
            response = Response(400, b"bad request")
        except Exception:
            log.exception("HTTP request failed (Telegram delivers a failed webhook again)")
        finally:
            head = (
                f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}\r\n"
                f"Content-Type: {response.content_type}\r\n"
                f"Content-Length: {len(response.body)}\r\nConnection: close\r\n\r\n"
            )
            with contextlib.suppress(ConnectionError):
                writer.write(head.encode() + response.body)
                await writer.drain()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, reader: asyncio.StreamReader) -> Response:
        raw = await reader.readuntil(b"\r\n\r\n")
        if len(raw) > MAX_HEADERS:
            return Response(400, b"headers too large")
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        handler = self._routes.get(urlsplit(target).path)
        if handler is None:
            return Response(404, b"not found")
        return await handler(Request(method, urlsplit(target).path, headers, reader))
