"""setMessageReaction on kept-alive HTTP/1.1 connections of its own, for the ✍ on every note.

The reaction is the one request sent for every note, and through PTB's request layers and
httpx/httpcore it cost ~1 ms of the event loop's time on loopback (a request object, its
pool's scan of every connection, headers built and parsed by h11, the answer read as a
Telegram object), most of what a captured note costs. Here it is one write of bytes built
once but for two numbers, and one read of a short answer: ~0.05-0.09 ms. The body is the
form PTB sends (same fields, same encoding). Only when the Bot API URL is plain http(s)
without a proxy (httpx would honour HTTP(S)_PROXY/ALL_PROXY); else Acks uses PTB's way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

TIMEOUT = 10.0  # seconds for one exchange, connecting included (PTB's: 5 s connect, 5 s read)
IDLE = 20.0  # a connection idle longer is not reused: the server may be closing it
MAX_HEAD = 64 * 1024  # the answer's status line and headers


class WireError(Exception):
    """No answer: the connection failed, timed out, or the answer could not be read."""

    def __init__(self, why: str, *, timed_out: bool = False) -> None:
        super().__init__(why)
        self.timed_out = timed_out  # the request may have been applied


@dataclass(frozen=True)
class Answer:
    """The Bot API's answer: its HTTP status, and the JSON body when it is not a 200."""

    status: int
    body: dict[str, object] | None = None

    @property
    def retry_after(self) -> float | None:
        """A 429's wait, in seconds (None when it is not one or names none)."""
        if self.status != 429 or self.body is None:
            return None
        parameters = self.body.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        return float(wait) if isinstance(wait, int | float) else None

    @property
    def description(self) -> str:
        text = self.body.get("description") if self.body is not None else None
        return str(text) if text is not None else f"HTTP {self.status}"


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.used = 0.0  # the loop's time when its last exchange ended

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """Send a request; the answer's status, body, and whether the connection stays open."""
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        version, status, *_ = lines[0].split(b" ", 2)
        keep = version == b"HTTP/1.1"
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value != b"identity"
            elif name == b"connection":
                keep = value == b"keep-alive" or (keep and value != b"close")
        if chunked:
            body = await self._chunks()
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:  # the body runs to the end of the connection
            body, keep = await self.reader.read(), False
        return int(status), body, keep

    async def _chunks(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class ReactionWire:
    """Sends setMessageReaction for one bot; connections are kept open between reactions."""

    def __init__(
        self, url: str, reaction: list[dict[str, object]], tls: ssl.SSLContext | None = None
    ) -> None:
        """`url`: the bot's API URL (base URL and token); `reaction`: as the Bot API takes it."""
        parts = urlsplit(url)
        https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if https else 80)
        self._tls = (tls or ssl.create_default_context()) if https else None
        self._head = (
            f"POST {parts.path}/setMessageReaction HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        ).encode()
        # PTB's form: each field a string, a list as its JSON
        self._reaction = quote_plus(json.dumps(reaction)).encode()
        self._idle: list[_Connection] = []
        self.timeout = TIMEOUT

    @staticmethod
    def usable(url: str) -> bool:
        """Whether the URL is one this can send to: plain http(s), no query, no proxy."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            return False
        if "@" in parts.netloc:
            return False
        if not parts.path.isascii() or any(c.isspace() for c in parts.path):
            return False
        proxies = urllib.request.getproxies()
        return not (proxies.get("all") or proxies.get(parts.scheme))

    async def react(self, chat_id: int, message_id: int) -> Answer:
        """One reaction; the Bot API's answer, or WireError when none came."""
        body = b"chat_id=%d&message_id=%d&reaction=%s" % (chat_id, message_id, self._reaction)
        request = self._head + b"%d\r\n\r\n" % len(body) + body
        loop = asyncio.get_running_loop()
        while self._idle:
            conn = self._idle.pop()
            if loop.time() - conn.used > IDLE or conn.reader.at_eof():
                conn.close()
                continue
            try:
                return await self._exchange(conn, request)
            except WireError as exc:
                if exc.timed_out:
                    raise
                # the server may have closed it meanwhile; the reaction is set once however
                # often it is sent, so it goes once more on a new connection
                break
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(
                    self._host, self._port, ssl=self._tls, limit=MAX_HEAD
                )
        except (OSError, TimeoutError) as exc:
            raise WireError(f"cannot connect: {type(exc).__name__}") from exc  # not sent
        return await self._exchange(_Connection(reader, writer), request)

    async def _exchange(self, conn: _Connection, request: bytes) -> Answer:
        try:
            async with asyncio.timeout(self.timeout):
                status, body, keep = await conn.exchange(request)
        except TimeoutError as exc:
            conn.close()
            raise WireError("no answer in time", timed_out=True) from exc
        except asyncio.CancelledError:  # a stop: the connection is in an unknown state
            conn.close()
            raise
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
            # IncompleteReadError is an EOFError; a malformed answer a ValueError
            conn.close()
            raise WireError(f"no answer: {type(exc).__name__}") from exc
        if keep:
            conn.used = asyncio.get_running_loop().time()
            self._idle.append(conn)
        else:
            conn.close()
        if status == 200:
            return Answer(status)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        return Answer(status, parsed if isinstance(parsed, dict) else None)

    def close(self) -> None:
        """Close the connections kept open."""
        while self._idle:
            self._idle.pop().close()
