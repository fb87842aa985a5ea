"""`rizhilu demo`: the real bot against the packaged Bot API emulator; the terminal is the chat."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import mimetypes
import os
import queue
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot.cli import CliError, examples
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # the emulator and the terminal load when the demo runs, not with the CLI
    from bot.emulator import FakeBotAPI

USER = 1001
SAMPLE = Path(__file__).parent / "data" / "journal-sample.md"
IDLE_TIMEOUT = 60.0  # seconds the bot may take to answer one line before the demo goes on

GUIDE = """\
rizhilu demo: the real bot and a pretend Telegram on this computer (no token, no network).
Type a note and press Enter; /help lists the bot's commands. Your messages are numbered.
  reply N: text          reply to your message [N], e.g. reply 2: /done
  edit N: text           edit your message [N]
  photo PATH [caption]   send a picture (file PATH [caption] sends a file: a .md journal
                         is offered for import; voice PATH [caption] a voice note)
  place LAT,LON [name]   send a location (a venue when it has a name)
  forward NAME: text     forward a message NAME wrote
  press N                press the button shown as [press N]
  \\text                  send text that starts like one of these, as it is
Ctrl-D ends the demo."""


class BadLine(Exception):
    """A demo line that cannot be sent; the message says how to write it."""


@dataclass(frozen=True)
class Say:
    """A new message (a reply when `reply_to` names one of the user's messages)."""

    text: str
    reply_to: int | None = None


@dataclass(frozen=True)
class Edit:
    """The user's message [number] edited to `text`."""

    number: int
    text: str


@dataclass(frozen=True)
class Upload:
    """A picture or a file sent from this computer."""

    kind: Literal["photo", "file", "voice"]
    path: Path
    caption: str


@dataclass(frozen=True)
class Spot:
    """A location (a venue when it has a name)."""

    latitude: float
    longitude: float
    name: str = ""


@dataclass(frozen=True)
class Forward:
    """A message `name` wrote, forwarded."""

    name: str
    text: str


@dataclass(frozen=True)
class Press:
    """A press of the button shown as [press number]."""

    number: int


Action = Say | Edit | Upload | Spot | Forward | Press


def _split_path(rest: str) -> tuple[str, str]:
    """`PATH caption` or `"PATH with spaces" caption`."""
    rest = rest.strip()
    if rest[:1] in "\"'":
        end = rest.find(rest[0], 1)
        if end < 0:
            raise BadLine("the path's closing quote is missing")
        return rest[1:end], rest[end + 1 :].strip()
    path, _, caption = rest.partition(" ")
    return path, caption.strip()


def parse_line(line: str) -> Action | None:
    """What one typed line does; None for a blank line (Telegram sends no empty messages)."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("\\"):
        return Say(text[1:])
    word, _, rest = text.strip().partition(" ")
    if word in ("reply", "edit") and rest[:1].isdigit():
        found = re.fullmatch(r"(\d+)\s*:\s?(.*)", rest, re.DOTALL)
        if found is None or not found.group(2).strip():
            raise BadLine(
                f"write `{word} N: text`, e.g. `{word} 1: {'/done' * (word == 'reply')}…`"
            )
        number, said = int(found.group(1)), found.group(2)
        return Say(said, reply_to=number) if word == "reply" else Edit(number, said)
    if word in ("photo", "file", "voice"):
        if not rest.strip():
            raise BadLine(f"write `{word} PATH [caption]`")
        path, caption = _split_path(rest)
        kinds: dict[str, Literal["photo", "file", "voice"]] = {
            "photo": "photo", "file": "file", "voice": "voice"
        }  # fmt: skip
        return Upload(kinds[word], Path(path).expanduser(), caption)
    if word == "place":
        found = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)(?:\s+(.*))?", rest.strip())
        if found is None or abs(float(found[1])) > 90 or abs(float(found[2])) > 180:
            raise BadLine("write `place LAT,LON [name]`, e.g. `place 48.8584,2.2945 Tour Eiffel`")
        return Spot(float(found[1]), float(found[2]), (found[3] or "").strip())
    if word == "forward":
        name, colon, said = rest.partition(":")
        if not colon or not name.strip() or not said.strip():
            raise BadLine("write `forward NAME: text`, e.g. `forward Grace: read this`")
        return Forward(name.strip(), said.strip())
    if word == "press":
        if not rest.strip().isdigit():
            raise BadLine("write `press N`, N being a button's number as shown: [press N]")
        return Press(int(rest.strip()))
    return Say(text)


def demo_settings(api: FakeBotAPI, database: Path, timezone: str) -> Settings:
    """Every setting at its default (none read from the environment or .env: a demo must not
    write to EXPORT_PATH or open ports), pointed at the emulator."""
    return load_settings(
        None,
        environ={},
        telegram_bot_token=api.token,
        telegram_base_url=api.base_url,
        telegram_base_file_url=api.base_file_url,
        database_url=f"sqlite:///{database}",
        media_dir=database.parent / "media",
        allowed_user_ids=str(USER),
        timezone=timezone,
        rate_limit=0,
        poll_timeout=10,
    )


def local_zone() -> str:
    """This computer's IANA zone name when it can be told, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        with contextlib.suppress(OSError):
            target = os.readlink("/etc/localtime")
            name = target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
    return name or "UTC"


class Lines:
    """Lines from standard input, read on a daemon thread only when asked for (so the prompt
    shows after the bot's answers); a daemon thread, so a pending read never blocks the exit."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interactive: bool) -> None:
        self._loop = loop
        self._interactive = interactive
        self._asks: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        threading.Thread(target=self._read, daemon=True, name="demo-stdin").start()

    def _read(self) -> None:
        if self._interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())
        while True:
            prompt = self._asks.get()
            line: str | None
            try:
                line = input(prompt) if self._interactive else sys.stdin.readline() or None
            except EOFError:
                line = None
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    async def next(self, prompt: str) -> str | None:
        self._asks.put(prompt)
        return await self._lines.get()


class Chat:
    """The user's side of the demo: typed lines become updates; the bot's calls are shown."""

    def __init__(self, api: FakeBotAPI, files: Path, *, interactive: bool, color: bool) -> None:
        self.api = api
        self.interactive = interactive
        from bot.terminal import Transcript

        self.mine: list[dict[str, Any]] = []  # the user's messages; [N] is mine[N - 1]
        self.transcript = Transcript(files, color, self.number_of)
        self.sent = 0  # updates pushed
        self._seen = 0  # calls shown
        self._file_ids = itertools.count(1)

    def number_of(self, message_id: int) -> int | None:
        for number, message in enumerate(self.mine, 1):
            if message["message_id"] == message_id:
                return number
        return None

    def say(self, line: str) -> None:
        print(line, flush=True)

    def flush(self) -> None:
        """Show the bot's calls made so far, in order, stopping at one still unanswered."""
        calls = self.api.calls
        while self._seen < len(calls) and calls[self._seen].done:
            call = calls[self._seen]
            self._seen += 1
            shown = self.transcript.show(call.method, call.params, call.result)
            if shown is not None:
                self.say(shown)

    def _mine(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= len(self.mine):
            known = f"yours are [1]…[{len(self.mine)}]" if self.mine else "none sent yet"
            raise BadLine(f"there is no message [{number}] ({known})")
        return self.mine[number - 1]

    def _new(self, text: str | None, **kw: Any) -> None:
        if text is not None and text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            kw["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.mine.append(self.api.send(USER, text, **kw))
        self.sent += 1

    def _upload(self, action: Upload) -> tuple[str, dict[str, Any]]:
        try:
            data = action.path.read_bytes()
        except OSError as exc:
            raise BadLine(f"cannot read {action.path}: {exc.strerror or exc}") from None
        file_id = f"demo{next(self._file_ids)}"
        self.api.add_file(file_id, data)
        meta: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(data),
        }
        if action.kind == "photo":
            return "photo", {"photo": [{**meta, "width": 0, "height": 0}]}
        if action.kind == "voice":  # its length guessed from its size, at Opus's 32 kbit/s
            return "voice", {"voice": {**meta, "duration": max(1, len(data) // 4000)}}
        mime = mimetypes.guess_type(action.path.name)[0] or "application/octet-stream"
        return "document", {"document": {**meta, "file_name": action.path.name, "mime_type": mime}}

    def act(self, action: Action, line: str) -> None:
        """Send what the line asks for (echoing it when the input is not a terminal)."""
        echo = not self.interactive
        if isinstance(action, Say):
            reply_to = None
            if action.reply_to is not None:
                reply_to = self._mine(action.reply_to)["message_id"]
            if echo:
                self.say(f"[{len(self.mine) + 1}] you> {line}")
            self._new(action.text, reply_to=reply_to)
        elif isinstance(action, Edit):
            message = self._mine(action.number)
            if "text" not in message and "caption" not in message and not action.text:
                raise BadLine("nothing to edit")
            if echo:
                self.say(f"[{action.number}] you (edited)> {action.text}")
            key = "text" if "text" in message else "caption"
            edited = {**message, key: action.text, "edit_date": self.api.now() + 1}
            edited.pop("entities", None)
            self.mine[action.number - 1] = edited
            self.api.push({"edited_message": edited})
            self.sent += 1
        elif isinstance(action, Upload):
            kind, extra = self._upload(action)
            if action.caption:
                extra["caption"] = action.caption
            if echo:
                self.say(f"[{len(self.mine) + 1}] you sent a {kind}> {line.split(' ', 1)[1]}")
            self._new(None, extra=extra)
        elif isinstance(action, Spot):
            where = {"latitude": action.latitude, "longitude": action.longitude}
            place: dict[str, Any] = {"location": where}
            if action.name:
                place["venue"] = {"location": where, "title": action.name, "address": ""}
            if echo:
                self.say(f"[{len(self.mine) + 1}] you sent a place> {line.split(' ', 1)[1]}")
            self._new(None, extra=place)
        elif isinstance(action, Forward):
            if echo:
                self.say(f"[{len(self.mine) + 1}] you forwarded> {line.split(' ', 1)[1]}")
            sender = {"id": 4242, "is_bot": False, "first_name": action.name}
            origin = {"type": "user", "date": self.api.now(), "sender_user": sender}
            self._new(action.text, extra={"forward_origin": origin})
        else:
            button = self.transcript.button(action.number)
            if button is None:
                count = len(self.transcript.buttons)
                known = f"buttons so far: 1…{count}" if count else "no buttons yet"
                raise BadLine(f"there is no button {action.number} ({known})")
            if echo:
                self.say(f"you pressed [press {action.number}] {button.label}")
            self.api.press(USER, button.message, button.data)
            self.sent += 1


async def converse(chat: Chat, settings: Settings) -> None:
    """Run the bot, feed it the lines, wait for it to be idle after each; stop at the end."""
    from bot.core.clock import SystemClock
    from bot.telegram.runner import run_bot

    stop = asyncio.Event()
    exposed: dict[str, Any] = {}
    bot = asyncio.create_task(run_bot(settings, SystemClock(), stop, expose=exposed))
    try:
        while "services" not in exposed or not chat.api.polls:
            if bot.done():
                bot.result()
                raise CliError("the demo bot stopped while starting")
            await asyncio.sleep(0.02)
        intake = exposed["services"].intake
        base = intake.processed  # updates left in a --db journal's inbox are replayed first
        shower = asyncio.create_task(_keep_showing(chat))
        if chat.interactive:
            chat.say(GUIDE)
        lines = Lines(asyncio.get_running_loop(), chat.interactive)
        while (line := await lines.next(f"[{len(chat.mine) + 1}] you> ")) is not None:
            try:
                action = parse_line(line)
                if action is not None:
                    chat.act(action, line.rstrip("\r\n"))
            except BadLine as exc:
                chat.say(f"demo: {exc}")
                continue
            deadline = time.monotonic() + IDLE_TIMEOUT
            while intake.processed - base < chat.sent and not bot.done():
                if time.monotonic() > deadline:
                    chat.say("demo: the bot has not answered yet; going on")
                    break
                await asyncio.sleep(0.01)
            chat.flush()
        shower.cancel()
    finally:
        stop.set()
        await bot
        chat.flush()


async def _keep_showing(chat: Chat) -> None:
    """What the bot says on its own (a reminder) shows without waiting for a typed line."""
    while True:
        await asyncio.sleep(0.2)
        chat.flush()


def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.emulator import FakeBotAPI
    from bot.logs import setup_logging
    from storage.engine import DatabaseUnavailable

    interactive = sys.stdin.isatty()
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    with contextlib.ExitStack() as stack:
        if args.db is not None:
            database = Path(args.db).expanduser().resolve()
            try:
                database.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CliError(f"cannot use --db {args.db}: {exc.strerror or exc}") from None
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="rizhilu-demo-"))
            database = Path(tmp) / "journal.db"
        api = FakeBotAPI().start()
        stack.callback(api.stop)
        try:
            demo = demo_settings(api, database, args.tz or local_zone())
        except SettingsError:
            if args.tz:
                raise
            demo = demo_settings(api, database, "UTC")
        setup_logging("WARNING", api.token)
        if args.journal is not None:
            _preload(demo, args.journal)
        chat = Chat(api, Path(args.files), interactive=interactive, color=color)
        try:
            asyncio.run(converse(chat, demo))
        except DatabaseUnavailable as exc:
            raise CliError(f"cannot open the database {exc}") from None
        except KeyboardInterrupt:
            print()
    return 0


def _preload(settings: Settings, name: str) -> None:
    from bot.cli_journal import cmd_import

    path = SAMPLE if name == "sample" and not Path(name).exists() else Path(name)
    cmd_import(settings, argparse.Namespace(path=path, user=USER, dry_run=False, fix_dates=False))


def add_command(sub: Any) -> None:
    demo = sub.add_parser(
        "demo",
        help="try the bot in this terminal: no token, no network, a throw-away journal",
        description="The real bot against a pretend Telegram on this computer: each line "
        "you type is a message to the bot.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=GUIDE.split("\n", 2)[2].replace("Ctrl-D ends the demo.", "")
        + "\nWith standard input not a terminal, the lines are read and the demo ends "
        "after the bot has answered the last.\n\n"
        + examples(
            "rizhilu demo",
            "rizhilu demo --import sample",
            "printf 'hello\\n/today\\n' | rizhilu demo",
            "rizhilu demo --db try.db --tz Asia/Shanghai",
        ),
    )
    demo.add_argument(
        "--import",
        dest="journal",
        metavar="PATH",
        help="preload a journal post; `sample` is the sample journal shipped with rizhilu",
    )
    demo.add_argument("--db", metavar="FILE", help="keep the journal in this SQLite file")
    demo.add_argument("--tz", metavar="ZONE", help="time zone (default: this computer's)")
    demo.add_argument(
        "--files",
        default="rizhilu-demo-files",
        metavar="DIR",
        help="where documents and pictures the bot sends are saved (default: %(default)s)",
    )
    demo.set_defaults(func=_cmd_demo)
