"""EXPORT_PATH: the blog post rewritten by itself, every EXPORT_EVERY_MINUTES, when it changed.

With EXPORT_MEDIA_DIR, the images it links to are copied there (only those that changed).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.exporting import ExportError, ExportRequest, write_export
from bot.telegram.services import KEY, Context, Services, db

log = logging.getLogger(__name__)


def targets(svc: Services) -> dict[int, Path]:
    """Which user's journal goes to which file. Blocking (reads the users)."""
    template = svc.settings.export_path
    users = [u.id for u in svc.users.all() if svc.settings.allowed_user_ids.allows(u.id)]
    if "{user}" in template:
        return {uid: Path(template.replace("{user}", str(uid))) for uid in users}
    if len(users) > 1:
        log.warning("EXPORT_PATH has no {user} and there are %d users: not exporting", len(users))
        return {}
    return {uid: Path(template) for uid in users}


def refresh(svc: Services) -> int:
    """Rewrite each target whose export changed; returns how many files were written.

    The new text goes to a temporary file beside the target and replaces it in one step,
    so Jekyll (or git) never sees half a post; an unchanged export leaves the file alone.
    """
    written = 0
    for user_id, path in targets(svc).items():
        # one user's folder or journal must not stop the others' exports
        try:
            written += _refresh_one(svc, user_id, path)
        except ExportError:
            raise  # the settings' fault (a bad template): every user's export, the job reports it
        except OSError as exc:  # this user's file: a read-only folder, a directory in the way
            log.error("EXPORT_PATH: could not write the export of user %s: %s", user_id, exc)
        except Exception:
            log.exception("EXPORT_PATH: could not write the export of user %s", user_id)
    return written


def _refresh_one(svc: Services, user_id: int, path: Path) -> int:
    """Rewrite one user's export if it changed; 1 when the file was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".rizhilu-", suffix=".md")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        media = svc.settings.export_media_dir
        result = write_export(
            svc.engine, svc.settings, ExportRequest(user_id, media_out=media), tmp
        )
        new = tmp.read_bytes()
        if result.days == 0 or (path.exists() and path.read_bytes() == new):
            return 1 if result.media_copied else 0
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return 1
    finally:
        tmp.unlink(missing_ok=True)


async def export_job(context: Context) -> None:
    svc = context.application.bot_data[KEY]
    assert isinstance(svc, Services)
    try:
        written = await db(refresh, svc)
    except (OSError, ExportError) as exc:  # a full disk, a read-only folder, a bad template
        log.error("EXPORT_PATH: could not write the export: %s", exc)
        return
    if written:
        log.info("EXPORT_PATH: rewrote %d file(s)", written)


def schedule_autoexport(app: Application[Any, Any, Any, Any, Any, Any], svc: Services) -> None:
    """Start the repeating export job when EXPORT_PATH is set (first run shortly after start)."""
    if not svc.settings.export_path:
        return
    jq = app.job_queue
    assert jq is not None
    jq.run_repeating(
        export_job,
        interval=svc.settings.export_every_minutes * 60,
        first=5,
        name="autoexport",
        job_kwargs={"misfire_grace_time": 300, "coalesce": True},
    )
