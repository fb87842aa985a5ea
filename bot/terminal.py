"""The bot's side of a `rizhilu demo` chat: Bot API calls shown as terminal text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

# SGR codes for Telegram's HTML tags; a closing tag resets and re-applies what is still open
STYLES = {
    "b": "1", "strong": "1", "i": "3", "em": "3", "u": "4", "ins": "4",
    "s": "9", "strike": "9", "del": "9", "code": "36", "pre": "36",
    "tg-spoiler": "2", "a": "4;34", "blockquote": "3",
}  # fmt: skip
RESET = "\x1b[0m"
# what a bot does that a person in the chat would not see
UNSEEN = {
    "getMe", "getUpdates", "setMyCommands", "deleteWebhook", "setWebhook", "getFile",
    "sendChatAction", "close", "logOut",
}  # fmt: skip
INDENT = "     "


class _Html(HTMLParser):
    """Telegram's HTML subset → text, with ANSI styles when `color`."""

    def __init__(self, color: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.color = color
        self.out: list[str] = []
        self.open: list[tuple[str, str | None]] = []  # tag, link target

    def _style(self) -> str:
        codes = [STYLES[tag] for tag, _ in self.open if tag in STYLES]
        return RESET + "".join(f"\x1b[{c}m" for c in codes) if self.color else ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            tag = "tg-spoiler"
        href = dict(attrs).get("href") if tag == "a" else None
        if tag == "blockquote":
            self.out.append("│ ")
        self.open.append((tag, href))
        self.out.append(self._style())

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag or (tag == "span" and self.open[i][0] == "tg-spoiler"):
                _, href = self.open.pop(i)
                self.out.append(self._style())
                text = "".join(self.out)
                if href and not text.rstrip().endswith(href):
                    self.out.append(f" ({href})")
                return

    def handle_data(self, data: str) -> None:
        if any(tag == "blockquote" for tag, _ in self.open):
            data = data.replace("\n", "\n│ ")
        self.out.append(data)


def show_html(text: str, *, color: bool) -> str:
    """A message sent with parse_mode HTML as the terminal shows it."""
    parser = _Html(color)
    parser.feed(text)
    parser.close()
    shown = "".join(parser.out)
    return shown + RESET if color and "\x1b[" in shown else shown


def plain_or_html(params: dict[str, Any], key: str, *, color: bool) -> str:
    text = str(params.get(key) or "")
    if str(params.get("parse_mode", "")).upper() == "HTML":
        return show_html(text, color=color)
    return text


def indent(text: str) -> str:
    """Later lines under the first one's text (blank lines stay empty)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(INDENT + line if line.strip() else "" for line in rest)])


@dataclass
class Button:
    """A button the demo numbered: pressing it sends `data` about `message`."""

    message: dict[str, Any]
    data: str
    label: str


@dataclass
class Transcript:
    """Turns the bot's calls into lines for the terminal; numbers buttons, saves files.

    `number_of` maps a Telegram message id in the chat to the demo's number of the user's
    message (for reactions), or None when it is not one of theirs.
    """

    files: Path
    color: bool
    number_of: Callable[[int], int | None]
    buttons: list[Button] = field(default_factory=list)

    def button(self, number: int) -> Button | None:
        return self.buttons[number - 1] if 1 <= number <= len(self.buttons) else None

    def _keyboard(self, message: dict[str, Any], markup: Any) -> str:
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not rows:
            return ""
        lines = []
        for row in rows:
            shown = []
            for b in row:
                label = str(b.get("text", ""))
                if "callback_data" in b:
                    self.buttons.append(Button(message, str(b["callback_data"]), label))
                    shown.append(f"[press {len(self.buttons)}] {label}")
                elif "url" in b:
                    shown.append(f"[{label}: {b['url']}]")
                else:
                    shown.append(f"[{label}]")
            lines.append("  ".join(shown))
        return "\n" + INDENT + ("\n" + INDENT).join(lines)

    def _save(self, upload: Any, fallback: str) -> str:
        if not isinstance(upload, dict):
            return fallback
        name = Path(str(upload.get("filename") or fallback)).name or fallback
        data = upload.get("data") or b""
        self.files.mkdir(parents=True, exist_ok=True)
        target = self.files / name
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():  # never overwrite an earlier document of this session
            target = self.files / f"{stem}-{n}{suffix}"
            n += 1
        target.write_bytes(data)
        return f"{name} ({len(data):,} bytes), saved as {target}"

    def _who(self, message_id: Any) -> str:
        number = self.number_of(int(message_id or 0))
        return f"[{number}]" if number is not None else "its message"

    def show(self, method: str, params: dict[str, Any], result: Any) -> str | None:
        """The lines for one call, or None for calls a person would not see."""
        if method in UNSEEN or "_failed" in params:
            return None
        message = result if isinstance(result, dict) else {}
        markup = params.get("reply_markup")
        if method == "sendMessage":
            text = plain_or_html(params, "text", color=self.color)
            return "bot> " + indent(text) + self._keyboard(message, markup)
        if method == "editMessageText":
            text = plain_or_html(params, "text", color=self.color)
            return "bot (edited)> " + indent(text) + self._keyboard(message, markup)
        if method == "editMessageReplyMarkup":
            keys = self._keyboard(message, markup)
            return "bot changed the buttons:" + keys if keys else "bot removed the buttons"
        if method == "setMessageReaction":
            emoji = [r.get("emoji", "?") for r in params.get("reaction") or []]
            who = self._who(params.get("message_id"))
            return f"bot reacted {' '.join(emoji)} to {who}" if emoji else f"bot unreacted {who}"
        if method in ("sendDocument", "sendPhoto"):
            kind = "document" if method == "sendDocument" else "photo"
            saved = self._save(params.get(kind), f"{kind}.bin")
            caption = plain_or_html(params, "caption", color=self.color)
            lines = f"bot sent a {kind}: {saved}" + (f"\n{INDENT}{indent(caption)}" * bool(caption))
            return lines + self._keyboard(message, markup)
        if method == "answerCallbackQuery":
            text = str(params.get("text") or "")
            return f"bot (notice)> {text}" if text else None
        if method == "deleteMessage":
            return "bot deleted " + self._who(params.get("message_id"))
        return f"bot called {method}"
