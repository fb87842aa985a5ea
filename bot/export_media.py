"""An export's media copied out of MEDIA_DIR: only the files it links to, only when changed.

A link counts when its target is MEDIA_URL followed by a safe path (bot.core.media); the
file it names is copied only if, symlinks resolved, it is a regular file inside MEDIA_DIR.
A file already at the destination with the same size and modification time, or the same
bytes, is left alone, so a site's watcher and `git status` stay quiet. A link whose file
is missing (or refused) is left as it was and counted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from bot.core.media import embed, flat_name, references, relink, site_url
from bot.core.notes import NoteDraft

log = logging.getLogger(__name__)

DEFAULT_URL = "/assets/journal"


@dataclass(frozen=True)
class MediaOut:
    """Where an export's media go and how its links name them.

    url: the prefix of the rewritten links ("" → paths relative to the markdown).
    obsidian: attachments side by side with the notes (2021-04-x.jpg), shown as `![[…]]`.
    """

    folder: Path
    url: str = DEFAULT_URL
    obsidian: bool = False


class MediaCopier:
    """Rewrites notes' media links for one export, copying each file the first time it is met."""

    def __init__(self, media_dir: Path, media_url: str, out: MediaOut) -> None:
        self.root = os.path.realpath(media_dir)
        self.media_url = media_url
        self.out = out
        self._placed: dict[str, Path | None] = {}
        self.copied = 0  # files written by this export (new or changed)

    @property
    def files(self) -> list[Path]:
        """Every file the export links to, where it now is."""
        return [p for p in self._placed.values() if p is not None]

    @property
    def missing(self) -> int:
        """Links whose file is not in MEDIA_DIR (or not allowed out of it): left unchanged."""
        return sum(p is None for p in self._placed.values())

    def notes(self, notes: list[NoteDraft]) -> None:
        """Point the media links of these notes (and their children) at the copies."""
        for root in notes:
            for note in root.walk():
                for rel in references(note.text, self.media_url):
                    dest = self.place(rel)
                    if dest is None:
                        continue
                    if self.out.obsidian:
                        note.text = embed(note.text, self.media_url, rel, dest.name)
                    else:
                        note.text = relink(
                            note.text, self.media_url, rel, site_url(self.out.url, rel)
                        )

    def place(self, rel: str) -> Path | None:
        """Copy one file (a path under MEDIA_DIR) unless done already or unchanged there;
        where it is now, or None when it is missing or not allowed out of MEDIA_DIR."""
        if rel not in self._placed:
            self._placed[rel] = self._copy(rel)
        return self._placed[rel]

    def _copy(self, rel: str) -> Path | None:
        source = os.path.realpath(os.path.join(self.root, rel))
        if not source.startswith(self.root + os.sep):
            log.warning("export: %s leads out of MEDIA_DIR: not copied", rel)
            return None
        try:
            st = os.stat(source)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        dest = self.out.folder / (flat_name(rel) if self.out.obsidian else rel)
        if not _same(source, st, dest):
            _copy_file(source, st, dest)
            self.copied += 1
        return dest


def _same(source: str, st: os.stat_result, dest: Path) -> bool:
    """Whether `dest` is already a regular file with `source`'s bytes (size+mtime, else hash)."""
    try:
        there = dest.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(there.st_mode) or there.st_size != st.st_size:
        return False
    return there.st_mtime_ns == st.st_mtime_ns or _digest(source) == _digest(str(dest))


def _digest(path: str) -> bytes:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()


def _copy_file(source: str, st: os.stat_result, dest: Path) -> None:
    """Copy whole or not at all (a temporary name beside it, then one rename), keeping mtime."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.part"
    try:
        shutil.copyfile(source, tmp)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
