"""A local emulator of the Telegram Bot API (loopback only): end-to-end tests, benchmarks, demo.

It speaks the wire format python-telegram-bot uses: POST {base}/bot<token>/<method>,
form-urlencoded or multipart, JSON-encoded non-string fields; answers {"ok": true,
"result": ...} or Telegram's error shape. getUpdates honours offset (confirmation) and
long-poll timeout. Files are served at {base}/file/bot<token>/<path>.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "123456789:" + "TEST-fake-token-not-real-AAAAAAAAAAAAA"  # split: not a real token
BOT_ID = 123456789
JSON_FIELDS = {
    "entities", "reply_markup", "reaction", "commands", "allowed_updates",
    "reply_parameters", "caption_entities", "link_preview_options", "scope",
}  # fmt: skip


class ApiError(Exception):
    """Raised by a fake method to answer with Telegram's error shape."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the method answered (a sent message's dict), once done
    done: bool = False  # answered: the demo shows calls in order, each once it is done


@dataclass
class Failure:
    method: str
    code: int
    description: str
    chat_id: int | None = None
    times: int = 1
    retry_after: int | None = None


class FakeBotAPI:
    """In-memory Telegram: updates to hand out, calls received, files to serve."""

    def __init__(self, token: str = TOKEN, *, rate_limit: int | None = None) -> None:
        self.token = token
        self.rate_limit = rate_limit  # messages per second over all chats, like Telegram's
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.broken_files: Counter[str] = Counter()  # file id → downloads still answered 404
        self.failures: list[Failure] = []
        self.limited = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._cond = threading.Condition()
        self._window: list[float] = []
        self._shown: dict[tuple[int, int], tuple[str, Any]] = {}  # what each bot message says
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.sent_messages: list[dict[str, Any]] = []
        self.delivered: Counter[int] = Counter()  # successful sendMessage calls per chat
        self._callback_ids = itertools.count(1)
        self.confirmed = 0  # highest update_id confirmed through an offset
        self.polls = 0  # getUpdates requests so far
        self.now: Callable[[], int] = lambda: int(time.time())
        # stamps each call: a test that paces the bot with a fake pace reads the same clock
        self.monotonic: Callable[[], float] = time.monotonic
        # called (on the server's thread) when a poll comes and once a call's answer is on
        # its way back: a test waiting for a call wakes then, instead of polling for it
        self.watchers: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ server

    def start(self) -> FakeBotAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body leave in two writes: without this, Nagle + delayed ACK
                # cost ~40 ms per request
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake._serve_file(self)

            def do_POST(self) -> None:
                fake._serve_method(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # a client that hung up mid long-poll is normal

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ------------------------------------------------------------------ building updates

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
        chat_type: str = "private",
        chat_id: int | None = None,
        date: int | None = None,
        extra: dict[str, Any] | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """A message dict as Telegram sends it (not yet queued)."""
        chat_id = user_id if chat_id is None else chat_id
        msg: dict[str, Any] = {
            "message_id": message_id or self._next_message_id(chat_id),
            "date": date or self.now(),
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Ada"}
            if chat_type == "private"
            else {"id": chat_id, "type": chat_type, "title": "A group"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"},
        }
        if text is not None:
            msg["text"] = text
        if entities:
            msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = {
                "message_id": reply_to,
                "date": msg["date"],
                "chat": msg["chat"],
                "from": msg["from"],
                "text": "…",
            }
        if extra:
            msg.update(extra)
        return msg

    def legacy_poll(self, user_id: int) -> dict[str, Any]:
        """A message carrying a poll as an older (or local) Bot API server sends it: options
        without `persistent_id`, which python-telegram-bot 22.8 refuses to read (TypeError)."""
        poll = {
            "id": "poll1",
            "question": "Lunch?",
            "options": [{"text": "yes", "voter_count": 0}, {"text": "no", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
        return self.message(user_id, extra={"poll": poll})

    def send(self, user_id: int, text: str | None = None, **kw: Any) -> dict[str, Any]:
        """The user sends a message to the bot; returns the message dict."""
        msg = self.message(user_id, text, **kw)
        self.push({"message": msg})
        return msg

    def press(self, user_id: int, message: dict[str, Any], data: str) -> None:
        """The user presses an inline button under one of the bot's messages."""
        self.push(
            {
                "callback_query": {
                    "id": str(next(self._callback_ids)),
                    "from": {"id": user_id, "is_bot": False, "first_name": "Ada"},
                    "chat_instance": "ci",
                    "data": data,
                    "message": message,
                }
            }
        )

    def command(self, user_id: int, text: str, **kw: Any) -> dict[str, Any]:
        """The user sends a /command (with its bot_command entity)."""
        length = len(text.split(" ", 1)[0])
        return self.send(
            user_id, text, entities=[{"type": "bot_command", "offset": 0, "length": length}], **kw
        )

    def edit(self, msg: dict[str, Any], text: str, *, edit_date: int | None = None) -> None:
        edited = dict(msg, text=text, edit_date=edit_date or self.now() + 1)
        edited.pop("entities", None)
        self.push({"edited_message": edited})

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[file_id] = data

    def file_fields(
        self, file_id: str, data: bytes | None = None, *, size: int | None = None, **more: Any
    ) -> dict[str, Any]:
        """A file object (voice, audio, video, document…) for a message; with `data`, the
        file is served too. `size` overrides its file_size (e.g. past the 20 MB limit)."""
        if data is not None:
            self.add_file(file_id, data)
        fields = {"file_id": file_id, "file_unique_id": "u" + file_id, **more}
        size = len(data) if size is None and data is not None else size
        if size is not None:
            fields["file_size"] = size
        return fields

    @staticmethod
    def poll_fields(question: str, options: list[str]) -> dict[str, Any]:
        """A poll as Bot API 10 sends it (what python-telegram-bot 22.8 requires)."""
        return {
            "id": "poll-" + question,
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(i)}
                for i, text in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }

    def forwarded(self, msg: dict[str, Any], origin: dict[str, Any]) -> dict[str, Any]:
        """The message as a forward: `origin` is a MessageOrigin dict (type user,
        hidden_user, chat or channel, with its date)."""
        return dict(msg, forward_origin=origin)

    def break_file(self, file_id: str, times: int = 1_000_000) -> None:
        """The next `times` downloads of a file fail with 404 (getFile still answers)."""
        with self._cond:
            self.broken_files[file_id] = times

    # ------------------------------------------------------------------ inspecting

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [
            str(c.params.get("text", ""))
            for c in self.calls_to("sendMessage")
            if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    def fail(self, method: str, code: int, description: str, **kw: Any) -> None:
        """The next matching call(s) get a Telegram error."""
        with self._cond:
            self.failures.append(Failure(method, code, description, **kw))

    # ------------------------------------------------------------------ HTTP plumbing

    def _reply(self, h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _json(self, h: BaseHTTPRequestHandler, payload: dict[str, Any], status: int = 200) -> None:
        self._reply(h, status, json.dumps(payload).encode(), "application/json")

    def _error(self, h: BaseHTTPRequestHandler, code: int, description: str) -> None:
        status, payload = self._error_body(code, description)
        self._json(h, payload, status)

    @staticmethod
    def _error_body(
        code: int, description: str, retry_after: int | None = None
    ) -> tuple[int, dict[str, Any]]:
        payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            payload["parameters"] = {"retry_after": retry_after}
        return code, payload

    def _serve_file(self, h: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(h.path).path)  # httpx percent-encodes the token's ':'
        prefix = f"/file/bot{self.token}/"
        if not path.startswith(prefix):
            self._error(h, 404, "Not Found")
            return
        file_id = path[len(prefix) :].split("/", 1)[-1]
        data = self.files.get(file_id)
        with self._cond:
            broken = self.broken_files[file_id] > 0
            self.broken_files[file_id] -= broken
        if data is None or broken:
            self._error(h, 404, "Not Found: file")
            return
        self._reply(h, 200, data, "application/octet-stream")

    def _params(self, h: BaseHTTPRequestHandler) -> dict[str, Any]:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        ctype = h.headers.get("Content-Type", "")
        params: dict[str, Any] = {}
        if ctype.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
            )
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                if filename is not None:
                    params[str(name)] = {"filename": filename, "data": payload}
                else:
                    params[str(name)] = payload.decode() if isinstance(payload, bytes) else ""
        elif ctype.startswith("application/json"):
            params = json.loads(body or b"{}")
        else:
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    def _serve_method(self, h: BaseHTTPRequestHandler) -> None:
        path = urlsplit(h.path).path
        prefix = f"/bot{self.token}/"
        params = self._params(h)
        if not path.startswith("/bot"):
            self._error(h, 404, "Not Found")
            return
        if not path.startswith(prefix):
            self._error(h, 401, "Unauthorized")
            return
        method = path[len(prefix) :]
        call: Call | None = None
        with self._cond:
            if method == "getUpdates":
                self.polls += 1  # not a call: a bot polls all the time
            else:
                call = Call(method, params, self.monotonic())
                self.calls.append(call)
        if call is None:
            self._notify()
        status, payload = self._error_body(500, "Internal Server Error: the emulator failed")
        try:
            status, payload = self._answer(method, params)
        finally:
            if call is not None:  # done before the bot hears the answer: the demo relies on it
                call.result = payload.get("result")
                call.done = True
        self._json(h, payload, status)
        if call is not None:
            self._notify()

    def _notify(self) -> None:
        for watcher in list(self.watchers):
            watcher()

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body for one call."""
        failure = self._failure_for(method, params)
        if failure is not None:
            return self._error_body(failure.code, failure.description, failure.retry_after)
        if self.rate_limit and "chat_id" in params and method.startswith(("send", "edit")):
            wait = self._rate_check()
            if wait:
                self.limited += 1
                with self._cond:
                    self.calls[-1].params["_failed"] = 429
                return self._error_body(429, f"Too Many Requests: retry after {wait}", wait)
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            return 200, {"ok": True, "result": True}
        try:
            return 200, {"ok": True, "result": handler(params)}
        except ApiError as exc:
            return self._error_body(exc.code, exc.description)

    def _failure_for(self, method: str, params: dict[str, Any]) -> Failure | None:
        with self._cond:
            for f in self.failures:
                if f.method != method or f.times <= 0:
                    continue
                if f.chat_id is not None and int(params.get("chat_id", 0)) != f.chat_id:
                    continue
                f.times -= 1
                if method != "getUpdates":
                    self.calls[-1].params["_failed"] = f.code
                return f
        return None

    def _rate_check(self) -> int:
        with self._cond:
            now = time.monotonic()
            self._window = [t for t in self._window if now - t < 1.0]
            assert self.rate_limit is not None
            if len(self._window) >= self.rate_limit:
                return 1
            self._window.append(now)
            return 0

    # ------------------------------------------------------------------ methods

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "rizhilu",
            "username": "rizhilu_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getMe(self, p: dict[str, Any]) -> Any:
        return self._bot_user()

    def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset:
                self.confirmed = max(self.confirmed, offset - 1)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(min(0.25, max(deadline - time.monotonic(), 0.0)))
                if self._closed:
                    break
            return self._updates[:limit]

    def _sent_message(self, p: dict[str, Any], **fields: Any) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        msg = {
            "message_id": self._next_message_id(chat_id),
            "date": self.now(),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": self._bot_user(),
            **fields,
        }
        if "reply_markup" in p:
            msg["reply_markup"] = p["reply_markup"]
        return msg

    def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        msg = self._sent_message(p, text=p.get("text", ""))
        with self._cond:
            self._shown[(int(p["chat_id"]), msg["message_id"])] = (
                msg["text"],
                p.get("reply_markup"),
            )
            self.sent_messages.append(msg)
            self.delivered[int(p["chat_id"])] += 1
        return msg

    def _m_sendDocument(self, p: dict[str, Any]) -> Any:
        doc = p.get("document")
        name = doc.get("filename", "file") if isinstance(doc, dict) else "file"
        size = len(doc.get("data") or b"") if isinstance(doc, dict) else 0
        return self._sent_message(
            p,
            document={
                "file_id": f"doc{len(self.calls)}",
                "file_unique_id": f"udoc{len(self.calls)}",
                "file_name": name,
                "file_size": size,
            },
            caption=p.get("caption", ""),
        )

    def _m_sendPhoto(self, p: dict[str, Any]) -> Any:
        photo = p.get("photo")
        data = (photo.get("data") or b"") if isinstance(photo, dict) else b""
        n = len(self.calls)
        msg = self._sent_message(
            p,
            photo=[{"file_id": f"ph{n}", "file_unique_id": f"uph{n}", "width": 90, "height": 20,
                    "file_size": len(data)}],
            caption=p.get("caption", ""),
        )  # fmt: skip
        with self._cond:
            self.sent_messages.append(msg)
        return msg

    def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        key = (int(p["chat_id"]), int(p["message_id"]))
        with self._cond:
            text, markup = self._shown.get(key, ("", None))
            new = p.get("reply_markup")
            if markup == new or (not markup and not new):
                raise ApiError(400, "Bad Request: message is not modified")
            self._shown[key] = (text, new)
        msg = self._sent_message(p, text=text, edit_date=self.now())
        msg["message_id"] = key[1]
        return msg

    def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        key = (int(p["chat_id"]), int(p["message_id"]))
        new = (p.get("text", ""), p.get("reply_markup"))
        with self._cond:
            if self._shown.get(key) == new:  # Telegram refuses an edit that changes nothing
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            self._shown[key] = new
        msg = self._sent_message(p, text=new[0], edit_date=self.now())
        msg["message_id"] = key[1]
        return msg

    def _m_getFile(self, p: dict[str, Any]) -> Any:
        file_id = p["file_id"]
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(self.files[file_id]) > 20 * 1024 * 1024:  # Telegram's download limit
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(self.files[file_id]),
            "file_path": f"photos/{file_id}",
        }
