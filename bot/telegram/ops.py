"""For operators: the /healthz answer, and the health and metrics servers of a running bot."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from bot.core.clock import Clock
from bot.settings import Settings
from bot.telegram.httpd import HttpServer, Request, Response
from bot.telegram.intake import Intake
from bot.telegram.services import App
from storage import stats

if TYPE_CHECKING:  # prometheus_client only when METRICS_PORT is set
    from bot.telegram.metrics import Metrics

log = logging.getLogger(__name__)
DB_TIMEOUT = 5.0  # a health probe must answer even when the database hangs
STUCK_AFTER = 600.0  # seconds the oldest stored update may wait before the intake counts as stuck


class Health:
    """Is the intake alive, does the database answer, how many updates wait?"""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        app: App,
        intake: Intake | None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._app = app
        self._intake = intake

    def _intake_alive(self) -> bool:
        if self._intake is not None:
            return self._intake.alive
        return self._app.updater is not None and self._app.updater.running

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the JSON body)."""
        alive = self._intake_alive()
        reachable, backlog = True, None
        try:
            await asyncio.wait_for(asyncio.to_thread(stats.ping, self._engine), DB_TIMEOUT)
            backlog = await asyncio.wait_for(
                asyncio.to_thread(stats.inbox_backlog, self._engine), DB_TIMEOUT
            )
        except Exception as exc:
            log.warning("health check: the database does not answer (%s)", type(exc).__name__)
            reachable = False
        waited = None
        if backlog is not None and backlog.oldest is not None:
            waited = max(0.0, (self._clock.now() - backlog.oldest).total_seconds())
        stuck = waited is not None and waited > STUCK_AFTER
        healthy = alive and reachable and not stuck
        body: dict[str, Any] = {
            "status": "ok" if healthy else "unhealthy",
            "intake": {
                "alive": alive,
                "processed": self._intake.processed if self._intake is not None else None,
            },
            "database": {"reachable": reachable},
            "inbox": {
                "backlog": backlog.pending if backlog is not None else None,
                "oldest_waiting_seconds": None if waited is None else round(waited, 1),
            },
        }
        return healthy, body

    async def handle(self, request: Request) -> Response:
        if request.method != "GET":
            return Response(405, b"method not allowed")
        healthy, body = await self.report()
        payload = json.dumps(body).encode()
        return Response(200 if healthy else 503, payload, "application/json")


def flood_waits(
    app: App,
    intake: Intake,
) -> int:
    """429 answers so far: to sends (the rate limiter's retries) and to getUpdates."""
    limiter = app.bot.rate_limiter
    sends = int(getattr(limiter, "flood_waits", 0)) if limiter is not None else 0
    return sends + intake.flood_waits


class OpsServers:
    """The opt-in health port and metrics port; both off unless their port is set."""

    def __init__(self, settings: Settings, health: Health, metrics: Metrics | None) -> None:
        self.health: HttpServer | None = None
        self.metrics: HttpServer | None = None
        if settings.health_port is not None:
            self.health = HttpServer(
                {"/healthz": health.handle},
                host=settings.health_listen,
                port=settings.health_port,
            )
        if settings.metrics_port is not None and metrics is not None:
            self.metrics = HttpServer(
                {"/metrics": metrics.handle},
                host=settings.metrics_listen,
                port=settings.metrics_port,
            )

    async def start(self) -> None:
        for name, server in (("health", self.health), ("metrics", self.metrics)):
            if server is not None:
                await server.start()
                log.info("%s endpoint on port %d", name, server.port)

    async def stop(self) -> None:
        for server in (self.health, self.metrics):
            if server is not None:
                await server.stop()
