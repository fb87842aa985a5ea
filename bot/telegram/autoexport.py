"""EXPORT_PATH: the blog post rewritten by itself, every EXPORT_EVERY_MINUTES, when it changed.

With EXPORT_MEDIA_DIR, the images it links to are copied there (only those that changed).
With EXPORT_GIT, the post and its media are then committed (and pushed) in the blog's
repository (bot.blog_git); a failure is logged each time and told to the owner once, until
it works again.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot import texts
from bot.blog_git import GitOutcome, publish
from bot.exporting import ExportError, ExportRequest, ExportResult, write_export
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


@dataclass
class Refreshed:
    """What a run did: files written, and each user's outcome in the blog's repository."""

    written: int = 0
    git: dict[int, GitOutcome] = field(default_factory=dict)


def refresh(svc: Services) -> int:
    """Rewrite each target whose export changed; returns how many files were written."""
    return refresh_all(svc).written


def refresh_all(svc: Services) -> Refreshed:
    """Rewrite each target whose export changed, then commit (and push) it with EXPORT_GIT.

    The new text goes to a temporary file beside the target and replaces it in one step,
    so Jekyll (or git) never sees half a post; an unchanged export leaves the file alone.
    """
    done = Refreshed()
    for user_id, path in targets(svc).items():
        # one user's folder or journal must not stop the others' exports
        try:
            written, result = _refresh_one(svc, user_id, path)
            done.written += written
            mode = svc.settings.export_git
            if mode != "off" and result.days:
                done.git[user_id] = outcome = publish(path, result.media, mode)
                _log_git(user_id, outcome)
        except ExportError:
            raise  # the settings' fault (a bad template): every user's export, the job reports it
        except OSError as exc:  # this user's file: a read-only folder, a directory in the way
            log.error("EXPORT_PATH: could not write the export of user %s: %s", user_id, exc)
        except Exception:
            log.exception("EXPORT_PATH: could not write the export of user %s", user_id)
    return done


def _log_git(user_id: int, outcome: GitOutcome) -> None:
    if outcome.trouble:
        log.warning("EXPORT_GIT: user %s: %s", user_id, outcome)
    elif outcome.kind == "nothing_changed":
        log.debug("EXPORT_GIT: user %s: %s", user_id, outcome)
    else:
        log.info("EXPORT_GIT: user %s: %s", user_id, outcome)


def _refresh_one(svc: Services, user_id: int, path: Path) -> tuple[int, ExportResult]:
    """Rewrite one user's export if it changed; 1 when the file (or a media file) was written."""
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
            return (1 if result.media_copied else 0), result
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return 1, result
    finally:
        tmp.unlink(missing_ok=True)


async def tell_git_trouble(context: Context, svc: Services, done: Refreshed) -> None:
    """Tell each owner once that publishing fails; once it works, a new failure is told again."""
    for user_id, outcome in done.git.items():
        if not outcome.trouble:
            svc.git_told.discard(user_id)
            continue
        if user_id in svc.git_told:
            continue
        try:
            await context.bot.send_message(
                user_id, texts.EXPORT_GIT_TROUBLE.format(why=str(outcome)[:500])
            )
        except TelegramError as exc:
            log.warning("EXPORT_GIT: could not tell user %s: %s", user_id, exc)
            continue
        svc.git_told.add(user_id)


async def export_job(context: Context) -> None:
    svc = context.application.bot_data[KEY]
    assert isinstance(svc, Services)
    try:
        done = await db(refresh_all, svc)
    except (OSError, ExportError) as exc:  # a full disk, a read-only folder, a bad template
        log.error("EXPORT_PATH: could not write the export: %s", exc)
        return
    if done.written:
        log.info("EXPORT_PATH: rewrote %d file(s)", done.written)
    await tell_git_trouble(context, svc, done)


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
