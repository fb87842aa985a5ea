"""A webhook receiver that answers Telegram only after the update is in the inbox.

Telegram retries a webhook delivery until it gets a 2xx, so committing first and
answering second gives the same guarantee as the polling intake: nothing is
acknowledged that is not stored. Plain asyncio streams, one request per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from urllib.parse import urlsplit

from telegram.ext import Application

from bot.telegram.intake import Intake
from storage.engine import is_transient

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
MAX_HEADERS = 64 * 1024


class WebhookServer:
    """Receives POSTs at the webhook path and stores them through the intake."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        intake: Intake,
        *,
        url: str,
        secret: str,
        host: str,
        port: int,
    ) -> None:
        self._app = app
        self._intake = intake
        self._path = urlsplit(url).path or "/"
        self._secret = secret.encode()
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self.accepted = 0

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status, body = 500, b"error"
        try:
            status, body = await asyncio.wait_for(self._respond(reader), timeout=30)
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,  # headers beyond the stream's 64 KiB buffer
            ConnectionError,
            ValueError,
        ):
            status, body = 400, b"bad request"
        except Exception as exc:
            if is_transient(exc):  # the database is away: one log line per outage
                self._intake.outage.failed(exc, "storing a webhook update")
            else:
                log.exception("webhook request failed; Telegram will deliver it again")
            status, body = 500, b"error"
        finally:
            reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}.get(
                status, "Internal Server Error"
            )
            head = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            with contextlib.suppress(ConnectionError):
                writer.write(head.encode() + body)
                await writer.drain()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        raw = await reader.readuntil(b"\r\n\r\n")
        if len(raw) > MAX_HEADERS:
            return 400, b"headers too large"
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if method != "POST" or urlsplit(target).path != self._path:
            return 404, b"not found"
        given = headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not hmac.compare_digest(given, self._secret):
            return 403, b"forbidden"
        length = int(headers.get("content-length", "0"))
        if length <= 0 or length > MAX_BODY:
            return 400, b"bad length"
        data = json.loads(await reader.readexactly(length))
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return 400, b"not an update"
        # stored as sent, even when PTB cannot read it: answering 500 would make Telegram
        # deliver it again forever; the worker skips what it cannot read
        await self._intake.accept([data])  # committed before Telegram hears "200"
        self.accepted += 1
        return 200, b"ok"
