"""EXPORT_GIT / --git: the post and its media committed in the blog's repository and pushed.

Against real git: a bare repository in a temporary folder is the blog's remote.
"""

from __future__ import annotations

import logging
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import texts
from bot.blog_git import publish, redact
from bot.cli import main
from bot.core.changes import commit_subject
from bot.core.days import journal_day, zone
from bot.doctor import check_git
from bot.emulator import FakeBotAPI
from bot.settings import Settings, load_settings
from tests.conftest import USER
from tests.test_e2e_reminders import fire
from tests.test_export_media import journal

__all__ = ["journal"]  # the imported journal with its media, a fixture here too

# the bot's notes are filed on the real journal day (before 04:00 UTC, the day before)
_DEFAULTS = Settings()
TODAY = journal_day(datetime.now(UTC), zone(_DEFAULTS.timezone), _DEFAULTS.day_starts_at)
DAY, MONTH = f"{TODAY.year}-{TODAY.month}-{TODAY.day}", f"{TODAY:%Y/%m}"
ME = ("-c", "user.name=Ada", "-c", "user.email=ada@example.org")


@pytest.fixture(autouse=True)
def _no_machine_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """git reads no user or system configuration: no identity, no hooks, no defaults."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *ME, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def subjects(repo: Path, ref: str = "HEAD") -> list[str]:
    return git(repo, "log", "--format=%s", ref).splitlines()


@pytest.fixture
def blog(tmp_path: Path) -> tuple[Path, Path]:
    """A blog checked out from its remote (a bare repository), with one commit pushed."""
    remote, site = tmp_path / "remote.git", tmp_path / "blog"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(site))
    (site / "_config.yml").write_text("title: blog\n", encoding="utf-8")
    git(site, "add", "_config.yml")
    git(site, "commit", "-q", "-m", "the blog")
    git(site, "push", "-q", "-u", "origin", "main")
    return site, remote


def test_the_commit_says_what_changed() -> None:
    old = "# j\n\n## 2021-4-8\n\n* one\n* two\n  * sub\n"
    new = "# j\n\n## 2021-4-9\n\n* new\n  * also new\n\n## 2021-4-8\n\n* one\n* two!\n  * sub\n"
    assert commit_subject(old, new) == (
        "journal: 2 new notes on 2021-4-9; 1 note changed on 2021-4-8"
    )
    assert commit_subject(new, old, media=1) == (
        "journal: 1 note changed on 2021-4-8; 2 notes removed on 2021-4-9; 1 media file"
    )
    assert commit_subject("", "## 2026-11-29\n\n* a\n* b\n* c\n") == (
        "journal: 3 new notes on 2026-11-29"
    )
    many = "".join(f"## 2021-4-{d}\n\n* n\n\n" for d in range(1, 7))
    assert commit_subject("", many) == (
        "journal: 6 new notes on 2021-4-1, 2021-4-2, 2021-4-3 and 3 more days"
    )
    assert commit_subject(old, old) == "journal: updated"


def test_cli_commits_only_the_post_and_its_media_then_pushes(
    journal: list[str],
    blog: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site, remote = blog
    # the owner's own work in progress stays out of the journal's commits
    (site / "_config.yml").write_text("title: my blog\n", encoding="utf-8")
    (site / "draft.md").write_text("not yet\n", encoding="utf-8")
    git(site, "add", "draft.md")
    post = site / "_posts" / "2021-04-08-journal.md"
    export = [*journal, "export", "--out", str(post), "--media-out", str(site / "assets/j")]
    capsys.readouterr()
    assert main([*export, "--git", "commit"]) == 0
    subject = "journal: 8 new notes on 2021-4-8, 2021-4-7; 3 media files"
    assert f"git: committed: {subject}" in capsys.readouterr().err
    assert subjects(site) == [subject, "the blog"]
    committed = git(site, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == [
        "_posts/2021-04-08-journal.md", "assets/j/2021/04/a.png", "assets/j/2021/04/b.jpg",
        "assets/j/doc/x.pdf",
    ]  # fmt: skip
    assert git(site, "status", "--porcelain").splitlines() == [" M _config.yml", "A  draft.md"]
    assert main([*export, "--git", "commit"]) == 0
    assert "git: nothing changed" in capsys.readouterr().err
    assert subjects(remote, "main") == ["the blog"]
    assert main([*export, "--git", "push"]) == 0  # the commit of the earlier run goes out
    assert "git: pushed: earlier commits" in capsys.readouterr().err
    assert subjects(remote, "main") == [subject, "the blog"]
    assert main([*export, "--git", "push"]) == 0
    assert "git: nothing changed" in capsys.readouterr().err
    git(site, "update-ref", "-d", "refs/remotes/origin/main")  # no tracking branch: git tells
    assert main([*export, "--git", "push"]) == 0
    assert "git: nothing changed" in capsys.readouterr().err
    # not a repository: exit 2 with what to fix
    elsewhere = [*journal, "export", "--out", str(tmp_path / "loose" / "post.md")]
    assert main([*elsewhere, "--git", "commit"]) == 2
    assert "error: git: not a git repository" in capsys.readouterr().err
    assert main([*journal, "export", "--split", "month", "--out", str(site), "--git", "push"]) == 2
    assert "--git commits one post" in capsys.readouterr().err


def test_a_push_that_fails_never_shows_the_password(
    tmp_path: Path, blog: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    site, _remote = blog
    git(site, "remote", "set-url", "origin", "http://ada:s3cret-token@127.0.0.1:9/blog.git")
    post = site / "_posts" / "2021-04-08-journal.md"
    post.parent.mkdir()
    post.write_text("## 2021-4-8\n\n* a note\n", encoding="utf-8")
    with caplog.at_level(logging.DEBUG):
        outcome = publish(post, [], "push")
    assert outcome.kind == "failed" and outcome.trouble
    assert outcome.detail.startswith("push: ") and "127.0.0.1" in outcome.detail
    assert "s3cret" not in str(outcome) and "s3cret" not in caplog.text
    assert subjects(site)[0] == "journal: 1 new note on 2021-4-8"  # committed all the same
    assert (
        redact("fatal: 'https://u:p@h/x' and ssh://git@h/y") == "fatal: 'https://h/x' and ssh://h/y"
    )


async def test_a_note_sent_to_the_bot_reaches_the_blogs_remote(
    fake: FakeBotAPI, start_bot: Any, blog: tuple[Path, Path]
) -> None:
    site, remote = blog
    post = site / "_posts" / "2021-01-01-journal.md"
    bot = await start_bot(
        export_path=str(post), export_media_dir=str(site / "assets/journal"), export_git="push"
    )
    await fire(bot, "autoexport")  # its first run, with no journal yet: nothing to publish
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    photo = [{"file_id": "ph1", "file_unique_id": "AgADbig", "width": 9, "height": 9}]
    fake.send(USER, None, extra={"photo": photo, "caption": "whiteboard"})
    fake.send(USER, "read the ScanNet paper")
    await bot.reacted(2)
    await fire(bot, "autoexport")
    subject = f"journal: 3 new notes on {DAY}; 1 media file"
    assert subjects(remote, "main") == [subject, "the blog"]
    shown = git(remote, "show", "main:_posts/2021-01-01-journal.md")
    assert "* read the ScanNet paper\n" in shown
    assert f"  * ![](/assets/journal/{MONTH}/AgADbig.jpg)\n" in shown
    assert git(remote, "cat-file", "-s", f"main:assets/journal/{MONTH}/AgADbig.jpg") == "10\n"
    await fire(bot, "autoexport")  # nothing changed: no new commit
    assert subjects(remote, "main") == [subject, "the blog"]
    assert not fake.sent_texts(USER)  # the owner heard nothing: all went well


async def test_a_rejected_push_keeps_the_commit_and_tells_the_owner_once(
    fake: FakeBotAPI, start_bot: Any, blog: tuple[Path, Path], tmp_path: Path
) -> None:
    site, remote = blog
    post = site / "_posts" / "2021-01-01-journal.md"
    bot = await start_bot(export_path=str(post), export_git="push")
    await fire(bot, "autoexport")
    # someone else pushed to the blog meanwhile: the remote has diverged
    other = tmp_path / "laptop"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "about.md").write_text("about me\n", encoding="utf-8")
    git(other, "add", "about.md")
    git(other, "commit", "-q", "-m", "about page")
    git(other, "push", "-q", "origin", "main")
    fake.send(USER, "first note")
    await bot.reacted(1)
    await fire(bot, "autoexport")
    assert subjects(site)[:2] == [f"journal: 1 new note on {DAY}", "the blog"]
    assert subjects(remote, "main") == ["about page", "the blog"]
    (told,) = fake.sent_texts(USER)
    assert told.startswith(texts.EXPORT_GIT_TROUBLE.split("{why}")[0])
    assert "push rejected (the commit is kept and pushed next time)" in told
    fake.send(USER, "second note")
    await bot.reacted(2)
    await fire(bot, "autoexport")  # committed, rejected again: the owner is not told twice
    assert subjects(site)[:2] == [f"journal: 1 new note on {DAY}"] * 2
    assert len(fake.sent_texts(USER)) == 1
    # the owner brings the blog up to date; the next run pushes both commits
    git(site, "pull", "-q", "--rebase", "origin", "main")
    await fire(bot, "autoexport")
    assert subjects(remote, "main")[:3] == [
        f"journal: 1 new note on {DAY}", f"journal: 1 new note on {DAY}", "about page"
    ]  # fmt: skip
    assert "* first note\n* second note\n" in git(
        remote, "show", "main:" + post.relative_to(site).as_posix()
    )
    assert bot.exposed["services"].git_told == set()


def test_doctor_says_where_the_journal_will_be_committed(
    blog: tuple[Path, Path], tmp_path: Path
) -> None:
    site, _remote = blog
    post = str(site / "_posts" / "journal-{user}.md")  # the folder need not exist yet

    def check(**values: str) -> tuple[bool, str]:
        result = check_git(load_settings(None, **values))
        return result.ok, result.detail

    assert check() == (True, "off (EXPORT_GIT)")
    assert check(export_git="commit", export_path=post) == (True, f"commits in {site}")
    git(site, "remote", "set-url", "origin", "https://ada:s3cret@example.org/blog.git")
    assert check(export_git="push", export_path=post) == (
        True, f"commits in {site}, pushes main to origin (https://example.org/blog.git)"
    )  # fmt: skip
    git(site, "remote", "remove", "origin")
    ok, detail = check(export_git="push", export_path=post)
    assert not ok and "has no remote origin to push main to" in detail
    ok, detail = check(export_git="commit", export_path=str(tmp_path / "loose" / "post.md"))
    assert not ok and "is not in a git repository" in detail
    assert check(export_git="push") == (
        False, "EXPORT_GIT is set but EXPORT_PATH is empty: nothing to commit"
    )  # fmt: skip
