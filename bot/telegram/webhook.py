"""A webhook receiver that answers Telegram only after the update is in the inbox.

Telegram retries a webhook delivery until it gets a 2xx, so committing first and
answering second gives the same guarantee as the polling intake: nothing is
acknowledged that is not stored.
"""

from __future__ import annotations

import hmac
import json
import logging
from urllib.parse import urlsplit

from bot.telegram.httpd import Handler, HttpServer, Request, Response
from bot.telegram.intake import Intake
from bot.telegram.services import App
from storage.engine import is_transient

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


class WebhookServer:
    """Receives POSTs at the webhook path and stores them through the intake.

    `extra` routes (e.g. /healthz) are served on the same port.
    """

    def __init__(
        self,
        app: App,
        intake: Intake,
        *,
        url: str,
        secret: str,
        host: str,
        port: int,
        extra: dict[str, Handler] | None = None,
    ) -> None:
        self._app = app
        self._intake = intake
        self._secret = secret.encode()
        path = urlsplit(url).path or "/"
        self._http = HttpServer({**(extra or {}), path: self._receive}, host=host, port=port)
        self.accepted = 0

    @property
    def port(self) -> int:
        return self._http.port

    async def start(self) -> None:
        await self._http.start()

    async def stop(self) -> None:
        await self._http.stop()

    async def _receive(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(404, b"not found")
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not hmac.compare_digest(given, self._secret):
            return Response(403, b"forbidden")
        data = json.loads(await request.body(MAX_BODY))
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return Response(400, b"not an update")
        # stored as sent, even when PTB cannot read it: answering 500 would make Telegram
        # deliver it again forever; the worker skips what it cannot read
        try:
            await self._intake.accept([data])  # committed before Telegram hears "200"
        except Exception as exc:
            if not is_transient(exc):
                raise
            # the database is away: one log line per outage; Telegram delivers it again
            self._intake.outage.failed(exc, "storing a webhook update")
            return Response(500, b"error")
        self.accepted += 1
        return Response(200, b"ok")
