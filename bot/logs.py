"""Logging setup that never lets the bot token reach a log line."""

from __future__ import annotations

import logging
import re

_TOKENISH = re.compile(r"\d{5,12}(?::|%3A)[A-Za-z0-9_-]{20,}")


class RedactToken(logging.Filter):
    """Replace the bot token (and anything shaped like one) in every record."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self._secrets = [t for t in {token, token and token.replace(":", "%3A")} if t]

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<token>")
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


def setup_logging(level: str, token: str | None = None) -> None:
    """Configure the root logger with token redaction; quiet the HTTP client's URL logging."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and Bot API URLs contain the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # our limiter retries a 429 itself; PTB's would log each one as an ERROR
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
