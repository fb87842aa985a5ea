"""Images travel with the export: only the files it links to, only when changed, links rewritten."""

from __future__ import annotations

import asyncio
import html.parser
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.core.media import embed, path_under_media, references, relink
from bot.emulator import FakeBotAPI
from bot.telegram.autoexport import refresh
from tests.conftest import USER, on_a_fixed_day

PNG = b"\x89PNG\r\n\x1a\n" + b"a" * 40
JPG = b"\xff\xd8" + b"j" * 30

JOURNAL = """\
# 日知录

## 2021-4-8

* whiteboard
  * ![](media/2021/04/a.png)
* the notes as a file: [notes](media/doc/x.pdf "the notes")
* again ![](media/2021/04/a.png) and `![](media/2021/04/in-code.png)`
* gone: ![](media/2021/04/missing.jpg)
* out: ![](media/2021/04/evil.png) ![](media/../secret.png) ![](media/.incoming/p.part)
* elsewhere ![](https://example.org/media/2021/04/a.png)

## 2021-4-7

* ![](media/2021/04/b.jpg)
"""


def test_only_real_links_into_media_dir_count() -> None:
    text = "a ![](media/2021/04/a.png) `![](media/2021/04/c.png)` [x](media/d/x.pdf) media/e.png"
    assert references(text, "media/") == ["2021/04/a.png", "d/x.pdf"]
    for url in ["media/../x.png", "media/.incoming/x", "media/a b.png", "media/", "/media/x.png"]:
        assert path_under_media(url, "media/") is None, url
    assert path_under_media("media/2021/04/-AgAD_x.jpg", "media/") == "2021/04/-AgAD_x.jpg"
    titled = '![](media/2021/04/a.png "a title") and ![alt](<media/2021/04/a.png>)'
    assert relink(titled, "media/", "2021/04/a.png", "/assets/j/2021/04/a.png") == (
        '![](/assets/j/2021/04/a.png "a title") and ![alt](</assets/j/2021/04/a.png>)'
    )
    assert embed(titled, "media/", "2021/04/a.png", "2021-04-a.png") == (
        "![[2021-04-a.png]] and ![[2021-04-a.png]]"
    )
    # a longer file name sharing the prefix is another file
    assert relink("![](media/a.png.bak)", "media/", "a.png", "X") == "![](media/a.png.bak)"


@pytest.fixture
def journal(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The journal above imported; MEDIA_DIR holds its images, other files and a bad symlink."""
    media = tmp_path / "media"
    (media / "2021" / "04").mkdir(parents=True)
    (media / "doc").mkdir()
    (media / ".incoming").mkdir()
    (media / "2021" / "04" / "a.png").write_bytes(PNG)
    (media / "2021" / "04" / "b.jpg").write_bytes(JPG)
    (media / "2021" / "04" / "c.png").write_bytes(PNG)  # not linked: never copied
    (media / "2021" / "04" / "in-code.png").write_bytes(PNG)  # only inside code
    (media / "doc" / "x.pdf").write_bytes(b"%PDF-1.4")
    (media / ".incoming" / "p.part").write_bytes(b"half")
    (tmp_path / "secret.png").write_bytes(b"not yours")
    (media / "2021" / "04" / "evil.png").symlink_to(tmp_path / "secret.png")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("MEDIA_DIR", str(media))
    env = ["--env-file", str(tmp_path / "absent.env")]
    source = tmp_path / "journal.md"
    source.write_text(JOURNAL, encoding="utf-8")
    assert main([*env, "import", str(source), "--user", str(USER)]) == 0
    return env


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_media_out_copies_exactly_the_linked_files(
    journal: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    post = site / "_posts" / "2021-04-08-journal.md"
    assets = site / "assets" / "journal"
    args = [*journal, "export", "--out", str(post), "--media-out", str(assets)]
    capsys.readouterr()
    assert main(args) == 0
    assert files(assets) == {"2021/04/a.png", "2021/04/b.jpg", "doc/x.pdf"}
    assert (assets / "2021/04/a.png").read_bytes() == PNG
    err = capsys.readouterr().err
    assert "media: 3 files linked, 3 copied, 2 missing from MEDIA_DIR" in err
    text = post.read_text(encoding="utf-8")
    for shown in [
        "  * ![](/assets/journal/2021/04/a.png)\n",
        "* again ![](/assets/journal/2021/04/a.png) and `![](media/2021/04/in-code.png)`",
        '[notes](/assets/journal/doc/x.pdf "the notes")',
        "![](/assets/journal/2021/04/b.jpg)",
        # missing, leading out of MEDIA_DIR, or elsewhere: left as they were
        "gone: ![](media/2021/04/missing.jpg)",
        "![](media/2021/04/evil.png) ![](media/../secret.png)",
        "![](https://example.org/media/2021/04/a.png)",
    ]:
        assert shown in text, shown
    # only what changed: the same bytes are not written again, even with a newer mtime
    stamps = {p: p.stat().st_mtime_ns for p in assets.rglob("*") if p.is_file()}
    os.utime(tmp_path / "media" / "2021/04/a.png", ns=(1, 10**18))
    assert main(args) == 0
    assert "3 files linked, 0 copied" in capsys.readouterr().err
    assert stamps == {p: p.stat().st_mtime_ns for p in assets.rglob("*") if p.is_file()}
    # changed bytes of the same size are
    (tmp_path / "media" / "2021/04/b.jpg").write_bytes(JPG.replace(b"j", b"k"))
    assert main(args) == 0
    assert "3 files linked, 1 copied" in capsys.readouterr().err
    assert (assets / "2021/04/b.jpg").read_bytes() == JPG.replace(b"j", b"k")
    assert not [p for p in assets.rglob(".*")]  # no temporary files left


def test_obsidian_embeds_attachments_beside_the_notes(
    journal: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = tmp_path / "vault"
    assert main([*journal, "export", "--format", "obsidian", "--out", str(vault)]) == 0
    assert files(vault) == {
        "2021-04-08.md", "2021-04-07.md", "2021-04-a.png", "2021-04-b.jpg", "doc-x.pdf"
    }  # fmt: skip
    note = (vault / "2021-04-08.md").read_text(encoding="utf-8")
    assert "* whiteboard\n  * ![[2021-04-a.png]]\n" in note
    assert "[notes](doc-x.pdf" in note and "gone: ![](media/2021/04/missing.jpg)" in note
    assert (vault / "2021-04-07.md").read_text(encoding="utf-8") == "* ![[2021-04-b.jpg]]\n"
    packed = tmp_path / "vault.zip"
    assert main([*journal, "export", "--format", "obsidian", "--out", str(packed)]) == 0
    with zipfile.ZipFile(packed) as zf:
        assert set(zf.namelist()) == files(vault)
        assert zf.read("2021-04-a.png") == PNG
    capsys.readouterr()
    refused = [*journal, "export", "--format", "obsidian", "--media-out", str(tmp_path / "m")]
    assert main(refused) == 2
    assert "obsidian keeps images beside notes" in capsys.readouterr().err


class _Sources(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.srcs += [v for k, v in attrs if k == "src" and v]


def test_a_jekyll_site_built_from_the_export_shows_its_images(
    journal: list[str], tmp_path: Path
) -> None:
    if shutil.which("jekyll") is None:
        pytest.skip("jekyll is not installed (CI installs it)")
    site = tmp_path / "site"
    (site / "_layouts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: blog\nmarkdown: kramdown\n", encoding="utf-8")
    (site / "_layouts" / "post.html").write_text("<html><body>{{ content }}</body></html>\n")
    post = site / "_posts" / "2021-04-08-journal.md"
    args = [*journal, "export", "--out", str(post), "--media-out", str(site / "assets/journal")]
    assert main(args) == 0
    out = tmp_path / "_site"
    run = subprocess.run(
        ["jekyll", "build", "-s", str(site), "-d", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (page,) = out.rglob("journal.html")
    found = _Sources()
    found.feed(page.read_text(encoding="utf-8"))
    local = [src for src in found.srcs if src.startswith("/")]
    assert local.count("/assets/journal/2021/04/a.png") == 2
    assert "/assets/journal/2021/04/b.jpg" in local
    for src in local:  # every site link resolves to a file in _site (the missing one excepted)
        assert (out / src.lstrip("/")).is_file(), src
    assert (out / "assets/journal/2021/04/a.png").read_bytes() == PNG
    assert not (out / "assets/journal/2021/04/c.png").exists()


async def test_export_sends_a_zip_with_the_photos(
    fake: FakeBotAPI, start_bot: Any, tmp_path: Path
) -> None:
    site = tmp_path / "blog"
    post = site / "_posts" / "2021-01-01-rizhilu.md"
    bot = await start_bot(
        clock=on_a_fixed_day(fake),
        export_path=str(post),
        export_media_dir=str(site / "assets/journal"),
    )
    fake.add_file("ph1", b"\xff\xd8jpegdata")
    photo = [{"file_id": "ph1", "file_unique_id": "AgADbig", "width": 9, "height": 9}]
    fake.send(USER, None, extra={"photo": photo, "caption": "whiteboard"})
    await bot.reacted(1)
    fake.command(USER, "/export")
    await bot.until(lambda: len(fake.calls_to("sendDocument")) == 1)
    doc = fake.calls_to("sendDocument")[0].params["document"]
    assert doc["filename"] == "rizhilu-all.zip"
    with zipfile.ZipFile(io.BytesIO(doc["data"])) as zf:
        assert zf.namelist() == ["media/2021/04/AgADbig.jpg", "rizhilu-all.md"]
        assert zf.read("media/2021/04/AgADbig.jpg") == b"\xff\xd8jpegdata"
        assert "* whiteboard\n  * ![](media/2021/04/AgADbig.jpg)\n" in zf.read(
            "rizhilu-all.md"
        ).decode("utf-8")
    fake.command(USER, "/export obsidian")
    await bot.until(lambda: len(fake.calls_to("sendDocument")) == 2)
    doc = fake.calls_to("sendDocument")[1].params["document"]
    with zipfile.ZipFile(io.BytesIO(doc["data"])) as zf:
        assert zf.namelist() == ["2021-04-08.md", "2021-04-AgADbig.jpg"]
        assert zf.read("2021-04-08.md") == b"* whiteboard\n  * ![[2021-04-AgADbig.jpg]]\n"
    # EXPORT_PATH with EXPORT_MEDIA_DIR: the post links the site's copy
    svc = bot.exposed["services"]
    assert await asyncio.to_thread(refresh, svc) == 1
    assert "  * ![](/assets/journal/2021/04/AgADbig.jpg)\n" in post.read_text(encoding="utf-8")
    assert (site / "assets/journal/2021/04/AgADbig.jpg").read_bytes() == b"\xff\xd8jpegdata"
    assert await asyncio.to_thread(refresh, svc) == 0  # nothing changed, nothing written
