"""The ✍ reactions on wire.ReactionWire's own connections, beside PTB's way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.ext import ExtBot

from bot.emulator import FakeBotAPI
from bot.telegram.acks import Acks
from bot.telegram.ratelimit import MAX_FLOOD_WAIT, JournalRateLimiter
from bot.telegram.wire import Answer, ReactionWire, WireError
from tests.fakepace import FakePace

REACTION = "setMessageReaction"


async def _react(
    fake: FakeBotAPI, own_wire: bool, messages: list[int], calls: int
) -> JournalRateLimiter:
    """React to `messages` one way or the other, until the fake has had `calls` calls."""
    pace = FakePace()
    fake.monotonic = pace.monotonic
    limiter = JournalRateLimiter(30, pace=pace)
    bot: ExtBot[Any] = ExtBot(fake.token, base_url=fake.base_url, rate_limiter=limiter)
    await bot.initialize()
    acks = Acks(bot, pace=pace, own_wire=own_wire)
    assert (acks._wire is not None) == own_wire
    for message in messages:
        acks.react(7000 + message % 2, message)
    await fake_done(fake, calls)
    await acks.drain()
    await bot.shutdown()
    return limiter


async def fake_done(fake: FakeBotAPI, count: int) -> None:
    """Until the fake has had `count` reaction calls."""
    for _ in range(1500):
        if len(fake.calls_to(REACTION)) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"fewer than {count} reaction calls")


async def test_the_wire_sends_what_ptb_sends() -> None:
    sent = []
    for own_wire in (False, True):
        fake = FakeBotAPI().start()
        try:
            await _react(fake, own_wire, [1, 2, 3], 3)
            calls = sorted(fake.calls_to(REACTION), key=lambda c: int(c.params["message_id"]))
            sent.append([c.params for c in calls])
        finally:
            fake.stop()
    assert sent[0] == sent[1]
    assert sent[1][0] == {
        "chat_id": "7001",
        "message_id": "1",
        "reaction": [{"type": "emoji", "emoji": "✍"}],
    }


@pytest.mark.parametrize("own_wire", [False, True])
async def test_a_429_pauses_reactions_and_the_reaction_goes_again(own_wire: bool) -> None:
    fake = FakeBotAPI().start()
    try:
        fake.fail(REACTION, 429, "Too Many Requests: retry after 2", retry_after=2)
        limiter = await _react(fake, own_wire, [5], 2)
        calls = fake.calls_to(REACTION)
        assert [c.params.get("_failed") for c in calls] == [429, None]
        assert calls[1].at - calls[0].at >= 2.0
        assert limiter.flood_waits == 1
    finally:
        fake.stop()


@pytest.mark.parametrize("own_wire", [False, True])
async def test_an_absurd_flood_wait_is_waited_out_for_at_most_five_minutes(
    own_wire: bool,
) -> None:
    """A 429 asking for 10**9 s (crafted, or a bug) holds the ✍ for MAX_FLOOD_WAIT, not
    for ever: then the reaction goes again (a real longer wait would answer 429 again)."""
    fake = FakeBotAPI().start()
    try:
        fake.fail(REACTION, 429, "Too Many Requests: retry after 1000000000", retry_after=10**9)
        await _react(fake, own_wire, [5], 2)
        calls = fake.calls_to(REACTION)
        assert [c.params.get("_failed") for c in calls] == [429, None]
        assert MAX_FLOOD_WAIT <= calls[1].at - calls[0].at <= MAX_FLOOD_WAIT + 1
    finally:
        fake.stop()


@pytest.mark.parametrize("own_wire", [False, True])
async def test_a_refused_reaction_is_not_sent_again(own_wire: bool) -> None:
    fake = FakeBotAPI().start()
    try:
        fake.fail(REACTION, 400, "Bad Request: message to react not found")
        await _react(fake, own_wire, [5, 6], 2)
        assert [c.params.get("_failed") for c in fake.calls_to(REACTION)] == [400, None]
    finally:
        fake.stop()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The next request's body (the wire's requests have a Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return await reader.readexactly(length)


class _Server:
    """A loopback HTTP server that answers in chunks; the first connection is closed by the
    server after one answer, the second hangs up on its second request unanswered (an idle
    connection the server dropped as it was being reused)."""

    def __init__(self) -> None:
        self.bodies: list[tuple[int, bytes]] = []  # (connection, request body) answered
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        exchanges = 0
        try:
            while True:
                body = await read_request(reader)
                exchanges += 1
                if conn == 2 and exchanges == 2:
                    return  # hangs up without an answer
                self.bodies.append((conn, body))
                closing = b"Connection: close\r\n" if conn == 1 else b""
                answer = b'{"ok":true,"result":true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + closing + b"\r\n"
                    b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
                    % (4, answer[:4], len(answer) - 4, answer[4:])
                )
                await writer.drain()
                if closing:
                    return
        except asyncio.IncompleteReadError:
            return
        finally:
            writer.close()


async def test_chunked_answers_closed_and_dropped_connections() -> None:
    server = _Server()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    wire = ReactionWire(f"http://127.0.0.1:{port}/botTOKEN", [{"type": "emoji", "emoji": "✍"}])
    try:
        answers = [await wire.react(7000, message) for message in (1, 2, 3, 4)]
    finally:
        wire.close()
        listening.close()
        await listening.wait_closed()
    assert [a.status for a in answers] == [200, 200, 200, 200]
    assert [(conn, body.split(b"&")[1]) for conn, body in server.bodies] == [
        (1, b"message_id=1"),  # then the server closes it
        (2, b"message_id=2"),
        (3, b"message_id=3"),  # the second connection hung up: again on a new one
        (3, b"message_id=4"),  # kept alive
    ]


def test_the_wire_is_for_plain_http_without_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    assert ReactionWire.usable("https://api.telegram.org/bot1:abc")
    assert ReactionWire.usable("http://127.0.0.1:8081/bot1:abc")
    assert not ReactionWire.usable("unix:///tmp/api/bot1:abc")
    assert not ReactionWire.usable("https://user:pw@api.example/bot1:abc")
    assert not ReactionWire.usable("https://api.example/bot1:abc?x=1")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not ReactionWire.usable("https://api.telegram.org/bot1:abc")
    assert ReactionWire.usable("http://127.0.0.1:8081/bot1:abc")


OK_ANSWER = b'HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n{"ok":true,"result":true}'
# what the server sends on its first connection, then a piece repeated until the client
# hangs up (or None: it then waits, the connection open, for the client to hang up)
HOSTILE: dict[str, tuple[bytes, bytes | None]] = {
    "huge content-length": (b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n", b"x" * 4096),
    "endless chunks": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"1000\r\n" + b"x" * 4096 + b"\r\n",
    ),
    "endless 1-byte chunks": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"1\r\nx\r\n" * 512,
    ),
    "huge chunk": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n",
        b"x" * 4096,
    ),
    "endless trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        b"X-Trailer: y\r\n" * 64,
    ),
    "endless body to the end": (b"HTTP/1.0 200 OK\r\n\r\n", b"x" * 4096),
    "header flood": (b"HTTP/1.1 200 OK\r\n", b"X-Flood: " + b"y" * 100 + b"\r\n"),
    "endless status line": (b"HTTP/1.1 200 ", b"O" * 4096),
    "garbage status line": (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", None),
    "status not 3 digits": (b"HTTP/1.1 2_00 OK\r\nContent-Length: 0\r\n\r\n", None),
    "not HTTP/1": (b"ICY 200 OK\r\nContent-Length: 0\r\n\r\n", None),
    "negative content-length": (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", None),
    "negative chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", None),
}


class _Hostile:
    """A loopback server whose connection `bad` answers its `at`-th request with a crafted
    answer (HOSTILE's); every other answer is a plain 200."""

    def __init__(self, crafted: tuple[bytes, bytes | None], bad: int, at: int) -> None:
        self.crafted, self.bad, self.at = crafted, bad, at
        self.bodies: list[tuple[int, bytes]] = []  # (connection, request body) received
        self.connections = 0
        self.hung_up: dict[int, asyncio.Event] = {}  # set when the client closed it

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        self.hung_up[conn] = asyncio.Event()
        exchanges = 0
        try:
            while True:
                self.bodies.append((conn, await read_request(reader)))
                exchanges += 1
                if (conn, exchanges) != (self.bad, self.at):
                    writer.write(OK_ANSWER)
                    await writer.drain()
                    continue
                start, piece = self.crafted
                writer.write(start)
                await writer.drain()
                if piece is None:
                    await reader.read()  # until the client hangs up
                    return
                while True:
                    writer.write(piece)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self.hung_up[conn].set()
            writer.close()


@pytest.mark.parametrize("at", [1, 2], ids=["new connection", "kept-alive connection"])
@pytest.mark.parametrize("crafted", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_a_crafted_answer_is_refused_and_the_next_reaction_goes_on_a_new_connection(
    crafted: tuple[bytes, bytes | None], at: int
) -> None:
    server = _Hostile(crafted, bad=1, at=at)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    wire = ReactionWire(f"http://127.0.0.1:{port}/botTOKEN", [{"type": "emoji", "emoji": "✍"}])
    wire.timeout = 3600.0  # the answer is refused for what it is, not for its time
    try:
        before = [await wire.react(7000, message) for message in range(1, at)]
        with pytest.raises(WireError) as refused:
            await wire.react(7000, at)
        assert not refused.value.timed_out
        await server.hung_up[1].wait()  # the client closed the connection
        after = await wire.react(7000, at + 1)
    finally:
        wire.close()
        listening.close()
        await listening.wait_closed()
    assert [a.status for a in [*before, after]] == [200] * at
    # sent once: the server had it (it answered), so it is not sent again on a new one
    assert [(conn, body.split(b"&")[1]) for conn, body in server.bodies] == [
        *[(1, b"message_id=%d" % message) for message in range(1, at + 1)],
        (2, b"message_id=%d" % (at + 1)),
    ]


def test_a_crafted_retry_after_is_no_wait() -> None:
    def answer(wait: object) -> Answer:
        return Answer(429, {"ok": False, "parameters": {"retry_after": wait}})

    assert answer(3).retry_after == 3.0
    assert answer(0.5).retry_after == 0.5
    for wait in (float("inf"), float("nan"), 10**400, -1, True, "3", None):
        assert answer(wait).retry_after is None


async def test_an_error_nested_too_deep_to_parse_is_an_error_without_a_body() -> None:
    deep = b"[" * 200_000

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n%s" % (len(deep), deep)
        )
        await writer.drain()
        await reader.read()
        writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    wire = ReactionWire(f"http://127.0.0.1:{port}/botTOKEN", [{"type": "emoji", "emoji": "✍"}])
    try:
        answer = await wire.react(7000, 1)
    finally:
        wire.close()
        listening.close()
        await listening.wait_closed()
    assert answer == Answer(400, None)
