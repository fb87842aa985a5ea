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
import math
import ssl
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote_plus, urlsplit

TIMEOUT = 10.0  # seconds for one exchange, connecting included (PTB's: 5 s connect, 5 s read)
IDLE = 20.0  # a connection idle longer is not reused: the server may be closing it
MAX_HEAD = 64 * 1024  # the answer's status line and headers; its trailers too
# the answer's body, its chunks' framing included. A reaction's answer is ~40 bytes and an
# error's JSON not much more, while the Bot API server's answer is not trusted: a crafted
# Content-Length or an endless body would otherwise be read into memory until the timeout
MAX_BODY = 1024 * 1024


class WireError(Exception):
    """No answer: the connection failed, timed out, or the answer could not be read."""

    def __init__(self, why: str, *, timed_out: bool = False, unheard: bool = False) -> None:
        super().__init__(why)
        self.timed_out = timed_out  # the request may have been applied
        # the connection failed before any of an answer came: an idle one the server closed
        self.unheard = unheard


class _Refused(Exception):
    """An answer this does not read: too large, or not HTTP/1.x."""


class _Unheard(Exception):
    """The connection ended before the first byte of an answer."""


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
        if not isinstance(wait, int | float) or isinstance(wait, bool):
            return None
        try:
            seconds = float(wait)
        except OverflowError:  # an int beyond a float's range
            return None
        return seconds if math.isfinite(seconds) and seconds >= 0 else None

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
        try:
            self.writer.write(request)
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            raise _Unheard from exc
        except OSError as exc:  # a reset, or a write to a socket the server closed
            raise _Unheard from exc
        lines = head[:-4].split(b"\r\n")
        version, status, *_ = lines[0].split(b" ", 2)
        if not version.startswith(b"HTTP/1.") or len(status) != 3 or not status.isdigit():
            raise _Refused("not an HTTP/1.x answer")
        keep = version == b"HTTP/1.1"
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                if not value.isdigit():  # int() would take "-1", "+1" and "1_0"
                    raise _Refused("a malformed Content-Length")
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = value != b"identity"
            elif name == b"connection":
                keep = value == b"keep-alive" or (keep and value != b"close")
        if chunked:
            body = await self._chunks()
        elif length is not None:
            if length > MAX_BODY:  # refused unread
                raise _Refused(f"an answer of over {MAX_BODY} bytes")
            body = await self.reader.readexactly(length)
        else:  # the body runs to the end of the connection
            body, keep = await self._to_the_end(), False
        return int(status), body, keep

    async def _chunks(self) -> bytes:
        body = bytearray()
        # the framing counts: an endless run of 1-byte chunks reads 6 bytes for each
        room = MAX_BODY
        while True:
            line = await self.reader.readuntil(b"\r\n")
            size = int(line.split(b";", 1)[0], 16)
            room -= len(line) + size + 2
            if room < 0 or size < 0:
                raise _Refused(f"an answer of over {MAX_BODY} bytes")
            if size == 0:
                break
            body += await self.reader.readexactly(size)
            if await self.reader.readexactly(2) != b"\r\n":
                raise _Refused("a malformed chunk")
        room = MAX_HEAD
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            room -= len(line)  # trailers, ignored
            if room < 0:
                raise _Refused(f"trailers of over {MAX_HEAD} bytes")
        return bytes(body)

    async def _to_the_end(self) -> bytes:
        body = bytearray()
        while piece := await self.reader.read(MAX_BODY + 1 - len(body)):
            body += piece
            if len(body) > MAX_BODY:
                raise _Refused(f"an answer of over {MAX_BODY} bytes")
        return bytes(body)

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
                if not exc.unheard:  # the server had it (an answer came, unread or in time)
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
        except _Refused as exc:  # the connection is mid-answer: closed, never reused
            conn.close()
            raise WireError(f"answer refused: {exc}") from exc
        except _Unheard as exc:
            conn.close()
            why = type(exc.__cause__).__name__
            raise WireError(f"no answer: {why}", unheard=True) from exc.__cause__
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
            # IncompleteReadError is an EOFError; a malformed answer a ValueError; a head
            # over MAX_HEAD a LimitOverrunError
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
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            parsed = None
        return Answer(status, parsed if isinstance(parsed, dict) else None)

    def close(self) -> None:
        """Close the connections kept open."""
        while self._idle:
            self._idle.pop().close()
