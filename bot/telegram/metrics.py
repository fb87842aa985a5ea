"""Prometheus metrics of a running bot (served only when METRICS_PORT is set)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from bot.telegram.httpd import Request, Response
from storage import stats

log = logging.getLogger(__name__)

# an update is a database write and usually one Bot API call: tens of milliseconds
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _ErrorCounter(logging.Handler):
    """Counts log records at ERROR and above, by logger: every failure is logged once."""

    def __init__(self, counter: Counter) -> None:
        super().__init__(logging.ERROR)
        self._counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        self._counter.labels(logger=record.name).inc()


class _Journal(Collector):
    """Read at scrape time: what the database says, and counters kept by the bot's parts."""

    def __init__(self, engine: Engine, flood_waits: Callable[[], int]) -> None:
        self._engine = engine
        self._flood_waits = flood_waits

    def collect(self) -> Iterator[Metric]:
        flood = CounterMetricFamily(
            "rizhilu_flood_waits", "429 answers from Telegram (sends paused and retried)"
        )
        flood.add_metric([], self._flood_waits())
        yield flood
        try:
            notes = stats.note_count(self._engine)
            backlog = stats.inbox_backlog(self._engine)
            sent = stats.sent_counts(self._engine)
        except Exception as exc:
            log.warning("metrics: the database does not answer (%s)", type(exc).__name__)
            return
        yield GaugeMetricFamily("rizhilu_notes", "Notes stored in all journals", value=notes)
        yield GaugeMetricFamily(
            "rizhilu_inbox_backlog", "Updates stored and not yet handled", value=backlog.pending
        )
        family = CounterMetricFamily(
            "rizhilu_scheduled_sent", "Reminders and digests sent", labels=["kind"]
        )
        for kind in sorted({"reminder", "digest", *sent}):
            family.add_metric([kind], sent.get(kind, 0))
        yield family


class Metrics:
    """One registry per running bot (tests run several bots in one process)."""

    def __init__(self, engine: Engine, flood_waits: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "rizhilu_update_seconds",
            "Time to handle one update (handlers and their Bot API calls)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "rizhilu_errors", "Log records at ERROR or worse", ["logger"], registry=self.registry
        )
        self.registry.register(_Journal(engine, flood_waits))
        self._log_handler = _ErrorCounter(self.errors)

    def attach(self) -> None:
        logging.getLogger().addHandler(self._log_handler)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self._log_handler)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def handle(self, request: Request) -> Response:
        if request.method != "GET":
            return Response(405, b"method not allowed")
        # the collectors query the database: off the event loop
        return Response(200, await asyncio.to_thread(self.render), CONTENT_TYPE_LATEST)
