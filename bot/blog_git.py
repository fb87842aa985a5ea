"""EXPORT_GIT: the exported post and its media committed in the blog's repository, then pushed.

Only those files are committed (`git commit --only`), whatever else is staged or changed in
the repository, with a subject that says what changed (bot.core.changes). `git` runs as a
plain subprocess (no shell) in its own session with a time limit: with no terminal, a
missing credential fails instead of waiting for a password. Push uses the machine's own
credentials (SSH keys, a credential helper) to the branch's remote (`origin` by default).
A rejected push keeps the commit; the next run pushes it, once the branch is no longer
behind. Whatever git prints is stripped of `user:password@` before it is shown or logged.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core.changes import commit_subject

log = logging.getLogger(__name__)

GitMode = Literal["commit", "push"]
Kind = Literal[
    "not_repository", "nothing_changed", "committed", "pushed", "push_rejected", "failed"
]
TIMEOUT = 120.0  # seconds for one git command (a push over a slow network included)
IDENTITY = ("-c", "user.name=rizhilu", "-c", "user.email=rizhilu@localhost")


@dataclass(frozen=True)
class GitOutcome:
    """What happened in the blog's repository; `detail` is the commit subject, or why not."""

    kind: Kind
    detail: str = ""

    @property
    def trouble(self) -> bool:
        """Whether the owner should hear of it: the post did not get where it should."""
        return self.kind in ("not_repository", "push_rejected", "failed")

    def __str__(self) -> str:
        said = {
            "not_repository": "not a git repository",
            "nothing_changed": "nothing changed",
            "committed": "committed",
            "pushed": "pushed",
            "push_rejected": "push rejected (the commit is kept and pushed next time)",
            "failed": "failed",
        }[self.kind]
        return f"{said}: {self.detail}" if self.detail else said


class GitFailed(Exception):
    """A git command failed or took too long; the message is safe to show."""


_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str) -> str:
    """Git's words without credentials: `https://user:token@host` → `https://host`."""
    return _USERINFO.sub(r"\1", text)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in redact(text).splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


class Git:
    """`git -C repo …` with no shell, no terminal and a time limit."""

    def __init__(self, repo: Path, timeout: float = TIMEOUT) -> None:
        self.repo = repo
        self.timeout = timeout

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        exe = shutil.which("git")
        if exe is None:
            raise GitFailed("git is not installed")
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
        with subprocess.Popen(  # noqa: S603 - git itself, arguments as a list, no shell
            [exe, "-C", str(self.repo), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # no terminal to ask on; killed as a group on timeout
        ) as proc:
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise GitFailed(f"git {args[0]} took over {self.timeout:.0f} s") from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def check(self, *args: str) -> str:
        done = self.run(*args)
        if done.returncode != 0:
            why = _last_line(done.stderr) or _last_line(done.stdout) or f"exit {done.returncode}"
            raise GitFailed(f"git {args[0]}: {why}")
        return done.stdout

    def value(self, *args: str) -> str | None:
        done = self.run(*args)
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def publish(
    post: Path, media: Sequence[Path], mode: GitMode, timeout: float = TIMEOUT
) -> GitOutcome:
    """Commit the post and its media where they changed, and push when `mode` is push."""
    try:
        return _publish(post, media, mode, timeout)
    except GitFailed as exc:
        return GitOutcome("failed", str(exc))
    except OSError as exc:  # no git installed, the folder gone
        return GitOutcome("failed", redact(str(exc)))


def _publish(post: Path, media: Sequence[Path], mode: GitMode, timeout: float) -> GitOutcome:
    folder = post.parent
    if not folder.is_dir():
        return GitOutcome("not_repository", f"{folder} does not exist")
    top = Git(folder, timeout).value("rev-parse", "--show-toplevel")
    if top is None:
        return GitOutcome("not_repository", str(folder))
    git = Git(Path(top), timeout)
    root = Path(os.path.realpath(top))
    real_post = Path(os.path.realpath(post))
    if not real_post.is_relative_to(root):  # a symlink to a file elsewhere
        return GitOutcome("not_repository", f"{real_post} is outside {root}")
    paths = [real_post.relative_to(root).as_posix()]
    for path in media:
        real = Path(os.path.realpath(path))
        if real.is_relative_to(root):
            paths.append(real.relative_to(root).as_posix())
        else:
            log.warning("EXPORT_GIT: %s is outside the blog's repository: not committed", path)
    subject = _commit(git, paths, post)
    if mode == "commit":
        return GitOutcome("committed", subject) if subject else GitOutcome("nothing_changed")
    return _push(git, subject)


def _changed(git: Git, paths: list[str]) -> set[str]:
    out = git.check("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
    entries = out.split("\0")
    changed = set()
    for i, entry in enumerate(entries):
        if len(entry) > 3 and (i == 0 or not entries[i - 1].startswith("R")):
            changed.add(entry[3:])
    return changed


def _commit(git: Git, paths: list[str], post: Path) -> str | None:
    """Commit what changed among `paths`; the subject, or None when nothing had."""
    changed = _changed(git, paths)
    if not changed:
        return None
    old = git.run("show", f"HEAD:{paths[0]}")
    before = old.stdout if old.returncode == 0 else ""
    subject = commit_subject(before, post.read_text(encoding="utf-8"), len(changed - {paths[0]}))
    files = sorted(changed)
    git.check("add", "--", *files)
    known = git.value("config", "user.email") or os.environ.get("GIT_COMMITTER_EMAIL")
    who = () if known else IDENTITY  # a machine with no git identity still commits
    git.check(*who, "commit", "--quiet", "--only", "-m", subject, "--", *files)
    return subject


def _push(git: Git, subject: str | None) -> GitOutcome:
    branch = git.value("symbolic-ref", "--quiet", "--short", "HEAD")
    if branch is None:
        return GitOutcome("failed", "the blog's repository is not on a branch")
    remote = git.value("config", f"branch.{branch}.remote") or "origin"
    dest = git.value("config", f"branch.{branch}.merge") or f"refs/heads/{branch}"
    if subject is None:  # nothing new: push only commits an earlier run could not
        tracking = f"refs/remotes/{remote}/{dest.removeprefix('refs/heads/')}"
        if git.value("rev-list", "--count", f"{tracking}..HEAD") == "0":
            return GitOutcome("nothing_changed")
    done = git.run("push", "--porcelain", remote, f"HEAD:{dest}")
    what = subject or "earlier commits"
    refs = [line for line in done.stdout.splitlines() if line[:2] in ("=\t", "!\t", " \t", "+\t")]
    if done.returncode == 0 and subject is None and refs and all(r[0] == "=" for r in refs):
        return GitOutcome("nothing_changed")  # no tracking branch to tell; it was up to date
    if done.returncode == 0:
        return GitOutcome("pushed", what)
    refused = [line for line in refs if line.startswith("!")]
    if refused:
        return GitOutcome("push_rejected", f"{what}; {_last_line(refused[-1])}")
    why = _last_line(done.stderr) or f"git push exited {done.returncode}"
    return GitOutcome("failed", f"push: {why}")


def describe_repository(folder: Path, mode: GitMode, timeout: float = TIMEOUT) -> str:
    """Where EXPORT_GIT will commit (and push) for a post in `folder`; GitFailed if nowhere."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    top = Git(probe, timeout).value("rev-parse", "--show-toplevel")
    if top is None:
        raise GitFailed(f"{folder} is not in a git repository")
    if mode == "commit":
        return f"commits in {top}"
    git = Git(Path(top), timeout)
    branch = git.value("symbolic-ref", "--quiet", "--short", "HEAD")
    if branch is None:
        raise GitFailed(f"{top} is not on a branch")
    remote = git.value("config", f"branch.{branch}.remote") or "origin"
    url = git.value("remote", "get-url", remote)
    if url is None:
        raise GitFailed(f"{top} has no remote {remote} to push {branch} to")
    return f"commits in {top}, pushes {branch} to {remote} ({redact(url)})"
