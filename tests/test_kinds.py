"""The pure core of other message kinds: saved names, bullet texts, forwards' origins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from bot import texts
from bot.core.capture import Capture, MessageFacts, Prefs, plan
from bot.core.entities import Entity
from bot.core.kinds import (
    Dice,
    FileFacts,
    Origin,
    Place,
    Thumbnail,
    duration,
    file_extension,
    file_path,
    media_paths,
    size_text,
)

NOON = datetime(2021, 4, 8, 12, tzinfo=UTC)
PREFS = Prefs("UTC", time(4), "media/")


def captured(facts: MessageFacts) -> Capture:
    outcome = plan(facts, PREFS)
    assert isinstance(outcome, Capture)
    return outcome


@pytest.mark.parametrize(
    ("head", "name", "ext"),
    [
        (b"OggS\x00", "voice.oga", ".ogg"),
        (b"ID3\x04", "a.mp3", ".mp3"),
        (b"\xff\xfb\x90", None, ".mp3"),
        (b"fLaC", None, ".flac"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None, ".wav"),
        (b"\x00\x00\x00\x18ftypM4A ", None, ".m4a"),
        (b"\x00\x00\x00\x18ftypqt  ", "clip.mov", ".mov"),
        (b"\x00\x00\x00\x18ftypisom", "x.html", ".mp4"),
        (b"\x1aE\xdf\xa3", "a.mkv", ".mkv"),
        (b"%PDF-1.7", "r.pdf", ".pdf"),
        (b"PK\x03\x04", "notes.docx", ".docx"),
        (b"PK\x03\x04", "evil.html", ".zip"),
        (b"\xff\xd8\xff", "photo.svg", ".jpg"),
        (b"<svg onload=alert(1)>", "pic.svg", ".bin"),
        (b"<!doctype html>", "page.html", ".bin"),
        (b"\xef\xbb\xbf  <html>", "data.csv", ".txt"),
        (b"a,b\n1,2", "data.csv", ".csv"),
        (b"#!/bin/sh", "run.sh", ".bin"),
        (b"", None, ".bin"),
    ],
)
def test_saved_extensions_come_from_the_bytes(head: bytes, name: str | None, ext: str) -> None:
    assert file_extension(head, name) == ext


def test_saved_names_are_safe_and_stable() -> None:
    doc = FileFacts("document", "id", "AgAD/../x", file_name="../../Étude 1.final.PDF")
    assert file_path(replace(doc, extension=".pdf"), date(2021, 4, 8)) == (
        "2021/04/AgADx-tude-1-final.pdf"
    )
    assert file_path(FileFacts("voice", "id", "u1", extension=".ogg"), date(2021, 4, 8)) == (
        "2021/04/u1.ogg"
    )


def test_durations_and_sizes() -> None:
    assert [duration(s) for s in (0, 42, 185, 3723)] == ["0:00", "0:42", "3:05", "1:02:03"]
    assert [size_text(n) for n in (512, 348_160, 1_258_291)] == ["512 B", "340 KB", "1.2 MB"]


def test_a_file_nests_under_its_caption_with_its_thumbnail() -> None:
    video = FileFacts("video", "v", "uv", 10, 12, extension=".mp4",
                      thumbnail=Thumbnail("t", "ut", 5, ".jpg"))  # fmt: skip
    out = captured(MessageFacts(sent_at=NOON, text="demo", file=video))
    (head,) = out.drafts
    assert head.text == "demo"
    (item,) = head.children
    assert item.text == "🎬 [0:12](media/2021/04/uv.mp4)"
    assert [c.text for c in item.children] == ["![](media/2021/04/ut.jpg)"]
    assert out.file_download is not None and out.file_download.path == "2021/04/uv.mp4"
    assert out.thumb_download is not None and out.thumb_download.file_id == "t"


def test_a_file_too_large_or_over_quota_is_named_not_fetched() -> None:
    big = FileFacts("voice", "v", "uv", 21 * 1024 * 1024, 5)
    out = captured(MessageFacts(sent_at=NOON, file=big))
    assert out.file_download is None
    assert out.drafts[0].text == "🎤 0:05 (" + texts.FILE_TOO_LARGE.format(size=" 21.0 MB") + ")"
    small = replace(big, size=10, extension=".ogg")
    out = captured(MessageFacts(sent_at=NOON, file=small, over_quota=True))
    assert out.file_download is None and "quota" in out.drafts[0].text


def test_places_and_dice() -> None:
    venue = Place(1.5, -2.25, "Café [x]", "Main St")
    out = captured(MessageFacts(sent_at=NOON, extra=venue))
    url = "https://www.openstreetmap.org/?mlat=1.50000&mlon=-2.25000#map=17/1.50000/-2.25000"
    assert out.drafts[0].text == f"📍 [Café \\[x\\]]({url}), Main St"
    assert captured(MessageFacts(sent_at=NOON, extra=Dice("🎯", 6))).drafts[0].text == "🎯 6"


def test_a_forward_starts_with_its_origin_in_the_users_zone() -> None:
    late = datetime(2021, 4, 7, 23, tzinfo=UTC)  # already 4/8 in Shanghai
    origin = Origin("channel", late, "Lab *news*", "lab_news", 9)
    out = plan(
        MessageFacts(sent_at=NOON, text="hello", origin=origin, album="A"),
        Prefs("Asia/Shanghai", time(4), "media/"),
    )
    assert isinstance(out, Capture)
    assert out.drafts[0].text == "↪ [Lab \\*news\\*](https://t.me/lab_news/9), 2021-04-08: hello"
    assert out.album is None  # forwards sent together stay apart
    hidden = Origin("hidden", late, "Someone")
    pre = (Entity("pre", 0, 5),)
    code = captured(MessageFacts(sent_at=NOON, text="x = 1", entities=pre, origin=hidden))
    assert code.drafts[0].text == "↪ hidden, 2021-04-07"  # above a code block, not inside it
    assert code.drafts[0].children[0].text.startswith("```")
    odd = Origin("user", late, "Eve", "bad name!")  # not a username: no link
    assert captured(MessageFacts(sent_at=NOON, text="hi", origin=odd)).drafts[0].text == (
        "↪ Eve, 2021-04-07: hi"
    )


def test_the_quota_counts_linked_files_once() -> None:
    notes = [
        "![](media/2021/04/a.jpg)",
        "🎤 [0:42](media/2021/04/b.ogg) and again [x](media/2021/04/b.ogg)",
        "[up](media/../../etc/passwd) [elsewhere](https://x.org/media/c.pdf)",
    ]
    assert media_paths(notes, "media/") == {"2021/04/a.jpg", "2021/04/b.ogg"}
