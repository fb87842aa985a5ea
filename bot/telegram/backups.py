"""BACKUP_DIR: a verified copy of the SQLite journal every day; the newest BACKUP_KEEP kept."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from typing import Any

from telegram.ext import Application

from bot.telegram.services import Context, Services, db, services
from storage.backup import BackupError, backup_into, last_backup_at

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
FIRST_DELAY = 60.0  # seconds after start when no backup is due sooner: start-up stays light


async def backup_job(context: Context) -> None:
    svc = services(context)
    folder = svc.settings.backup_dir
    assert folder is not None
    try:
        report = await db(
            backup_into, svc.engine, folder, svc.clock.now(), svc.settings.backup_keep
        )
    except (OSError, BackupError, sqlite3.Error) as exc:  # a full disk, a read-only folder
        log.error("BACKUP_DIR: the daily backup failed: %s", exc)
        return
    log.info("BACKUP_DIR: wrote %s (%d notes, integrity ok)", report.path, report.notes)


def schedule_backups(app: Application[Any, Any, Any, Any, Any, Any], svc: Services) -> None:
    """Back up a day after the newest backup in BACKUP_DIR (soon after start when it is older
    or there is none), then every day: restarts neither skip nor multiply backups."""
    folder = svc.settings.backup_dir
    if folder is None:
        return
    if svc.engine.dialect.name != "sqlite":
        log.warning("BACKUP_DIR backs up SQLite journals; for PostgreSQL schedule pg_dump")
        return
    last = last_backup_at(folder)
    due = (last + DAY - svc.clock.now()).total_seconds() if last is not None else 0.0
    jq = app.job_queue
    assert jq is not None
    jq.run_repeating(
        backup_job,
        interval=DAY.total_seconds(),
        first=max(due, FIRST_DELAY),
        name="backup",
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True},
    )
