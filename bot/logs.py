"""Logging setup that never lets the bot token reach a log line."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime

_TOKENISH = re.compile(r"\d{5,12}(?::|%3A)[A-Za-z0-9_-]{20,}")
# PTB logs every call's parameters at DEBUG, setWebhook's secret_token among them
_SECRET_FIELD = re.compile(r"""(secret_token['"]?\s*[:=]\s*['"]?)[^'"&\s,}]+""")
_secrets: set[str] = set()  # more secrets to redact, e.g. a webhook secret made at start
# libraries that log per request, per parse or per plugin at DEBUG/INFO: their warnings only
QUIET = (
    "httpx",  # every request URL, and Bot API URLs contain the token
    "httpcore",
    "apscheduler",
    "markdown_it",  # a line per rule per parse: multiplies log volume 145x at DEBUG
    "alembic.runtime.plugins",
    "asyncio",
)


def redact(secret: str) -> None:
    """Keep `secret` out of every log line from now on (like the token)."""
    if secret:
        _secrets.add(secret)


class RedactToken(logging.Filter):
    """Replace the bot token (and anything shaped like one) in every record."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self._secrets = [t for t in {token, token and token.replace(":", "%3A")} if t]

    def _clean(self, text: str) -> str:
        for token in self._secrets:
            text = text.replace(token, "<token>")
        for secret in sorted(_secrets, key=len, reverse=True):
            text = text.replace(secret, "<secret>")
        text = _SECRET_FIELD.sub(r"\1<secret>", text)
        return _TOKENISH.sub("<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (time, level, logger, message, exception) for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # RedactToken has already turned exc_info into a cleaned exc_text
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str, token: str | None = None, secrets: Sequence[str] = (), *, fmt: str = "text"
) -> None:
    """Configure the root logger with token and secret redaction; quiet chatty libraries.

    fmt is "text" (for people) or "json" (one object per line).
    """
    for secret in secrets:
        redact(secret)
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # our limiter retries a 429 itself; PTB's would log each one as an ERROR
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
