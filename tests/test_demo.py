"""`rizhilu demo`: a scripted session through a pipe, as a new user would try it."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import SAMPLE, BadLine, Edit, Forward, Press, Say, Spot, Upload, parse_line
from bot.terminal import show_html

ROOT = Path(__file__).resolve().parents[1]


def demo(cwd: Path, lines: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "EXPORT_PATH"}}
    env["TZ"] = "UTC"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", *args],
        input=lines,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )


Demo = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def demo_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Demo:
    """`rizhilu demo` in this process, the lines on its standard input (not a terminal).

    One test runs it as a real process through a pipe; the rest spare the interpreter start
    and the imports (about 2 s of CPU each).
    """

    def run(cwd: Path, lines: str, *args: str) -> subprocess.CompletedProcess[str]:
        for name in ("DATABASE_URL", "EXPORT_PATH"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("TZ", "UTC")
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
        capsys.readouterr()
        code = main(["demo", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["demo", *args], code, out, err)

    return run


def test_a_piped_session_shows_the_day_with_the_note(tmp_path: Path) -> None:
    done = demo(tmp_path, "hello\n/today\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[1] you> hello" in out
    assert "bot reacted" in out and "to [1]" in out
    today = out.split("[2] you> /today", 1)[1]
    assert "bot> " in today and "hello" in today
    assert "\x1b[" not in out  # no terminal styles into a pipe
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("*.db")), "the throw-away journal stays out of the folder"


def test_replies_edits_files_buttons_and_bad_lines(tmp_path: Path, demo_here: Demo) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    journal = tmp_path / "old.md"
    journal.write_text("# 日知录\n\n## 2021-4-8\n\n1. imported note\n", encoding="utf-8")
    script = "\n".join(
        [
            "TODO read the paper",  # [1]
            "edit 1: TODO read the ScanNet paper",
            "reply 1: /done",  # [2]
            f"photo {picture} a cat",  # [3]
            "press 7",
            "reply 9: /done",
            "edit 1 forgot the colon",
            "photo missing.png",
            "press",
            "\\press on",  # [4]: sent as it is
            f"file {journal}",  # [5]: offered for import, with buttons
            "press 1",
            "/day 2021-4-8",  # [6]
            "/export",  # [7]
            "/today",  # [8]
        ]
    )
    done = demo_here(tmp_path, script + "\n", "--tz", "UTC")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Traceback" not in done.stderr and "Traceback" not in out
    assert "[1] you (edited)> TODO read the ScanNet paper" in out
    assert "demo: there is no button 7 (no buttons yet)" in out
    assert "demo: there is no message [9] (yours are [1]…[3])" in out
    assert "demo: write `edit N: text`" in out
    assert "demo: cannot read missing.png: No such file or directory" in out
    assert "demo: write `press N`" in out
    assert "[4] you> \\press on" in out
    assert "[press 1]" in out and "you pressed [press 1]" in out
    day = out.split("[6] you> /day 2021-4-8", 1)[1].split("[7] you>", 1)[0]
    assert "imported note" in day
    saved = sorted((tmp_path / "rizhilu-demo-files").iterdir())
    assert saved, out
    # the journal holds a photo: /export sends the post and the picture as one zip (#14)
    assert saved[0].name == "rizhilu-all.zip"
    with zipfile.ZipFile(saved[0]) as zf:
        exported = zf.read("rizhilu-all.md").decode("utf-8")
        pictures = [name for name in zf.namelist() if name.startswith("media/")]
        assert [zf.read(name) for name in pictures] == [picture.read_bytes()]
    assert "read the ScanNet paper" in exported and "imported note" in exported
    assert f"![]({pictures[0]})" in exported
    assert f"saved as rizhilu-demo-files/{saved[0].name}" in out
    today = out.split("[8] you> /today", 1)[1]
    assert "ScanNet" in today and "a cat" in today
    assert "to [3]" in out  # the photo was stored and acknowledged


def test_voice_notes_places_and_forwards(tmp_path: Path, demo_here: Demo) -> None:
    voice = tmp_path / "memo.ogg"
    voice.write_bytes(b"OggS" + b"\0" * 168_000)
    script = "\n".join(
        [
            f"voice {voice} standup",  # [1]
            "place 48.8584,2.2945 Tour Eiffel",  # [2]
            "place 91,0",
            "forward Grace: read this",  # [3]
            "forward nobody",
            "/today",  # [4]
        ]
    )
    done = demo_here(tmp_path, script + "\n", "--tz", "UTC")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[1] you sent a voice> " in out and "[2] you sent a place> " in out
    assert "demo: write `place LAT,LON [name]`" in out
    assert "demo: write `forward NAME: text`" in out
    today = out.split("[4] you> /today", 1)[1]
    assert "standup" in today and "🎤 0:42" in today
    assert "📍 Tour Eiffel" in today and "↪ Grace, " in today and "read this" in today


def test_import_sample_preloads_the_sample_journal(tmp_path: Path, demo_here: Demo) -> None:
    assert SAMPLE.is_file()
    done = demo_here(tmp_path, "/day 2021-4-8\n", "--import", "sample", "--db", "kept.db")
    assert done.returncode == 0, done.stderr
    assert re.match(r"imported \d+ days \(\d+ new\)", done.stdout), done.stdout[:200]
    assert "ScanNet" in done.stdout.split("you> /day 2021-4-8", 1)[1]
    assert (tmp_path / "kept.db").exists()


@pytest.mark.parametrize(
    ("line", "action"),
    [
        ("hello", Say("hello")),
        ("reply 2: /done", Say("/done", reply_to=2)),
        ("reply soon", Say("reply soon")),
        ("edit 3:fixed", Edit(3, "fixed")),
        ("photo cat.png a cat", Upload("photo", Path("cat.png"), "a cat")),
        ('file "my notes.md"', Upload("file", Path("my notes.md"), "")),
        ("press 2", Press(2)),
        ("voice memo.ogg hi", Upload("voice", Path("memo.ogg"), "hi")),
        ("place 1.5, -2 Café", Spot(1.5, -2.0, "Café")),
        ("forward Grace H: read: this", Forward("Grace H", "read: this")),
        ("\\photo of the day", Say("photo of the day")),
        ("   ", None),
    ],
)
def test_lines(line: str, action: object) -> None:
    assert parse_line(line) == action


@pytest.mark.parametrize(
    "line",
    ["edit 1", "reply 2:", "photo", "press x", 'file "a.md', "place x", "forward : hi", "voice"],
)
def test_bad_lines_say_how_to_write_them(line: str) -> None:
    with pytest.raises(BadLine):
        parse_line(line)


def test_html_shows_as_terminal_styles_or_plain_text() -> None:
    html = '<b>Thu 2021-4-8</b>\n• a <i>b</i> <code>c</code> <a href="https://x.org">x</a> &lt;'
    assert show_html(html, color=False) == "Thu 2021-4-8\n• a b c x (https://x.org) <"
    styled = show_html(html, color=True)
    assert "\x1b[1mThu 2021-4-8\x1b[0m" in styled
    assert styled.endswith("\x1b[0m")


def test_a_journal_that_cannot_be_opened_is_one_line(tmp_path: Path, demo_here: Demo) -> None:
    (tmp_path / "bad.db").write_bytes(b"not a database" * 100)
    (tmp_path / "file").write_text("")
    for db, why in [("bad.db", "file is not a database"), ("file/x.db", "cannot use --db")]:
        done = demo_here(tmp_path, "hello\n", "--db", db)
        assert done.returncode == 2, done.stderr
        assert why in done.stderr and "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1
