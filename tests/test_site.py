"""`rizhilu site`: the static journal's pages (pure rendering) and the folder a build writes."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from bot.cli import main
from bot.core import site as pages
from bot.core.days import DayRange
from bot.core.journal_doc import parse_journal
from bot.core.notes import NoteDraft
from bot.demo import SAMPLE
from bot.settings import Settings, load_settings
from bot.site import MARKER, SiteError, build_site
from storage import bulk_import
from tests.conftest import migrated_engine
from tests.test_hostile_export import _Html

NOW = datetime(2021, 4, 9, 12, tzinfo=UTC)
APRIL = DayRange.single(date(2021, 4, 8))

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '"><svg onload=alert(3)>',
    "[click](javascript:alert(4))",
    "[entity](&#106;avascript:alert(5))",
    "[colon](javascript&colon;alert(6))",
    "[spaced](java\tscript:alert(7))",
    "![pic](javascript:alert(8))",
    "<javascript:alert(9)>",
    "[ref][r]\n\n[r]: javascript:alert(10)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxMSk8L3NjcmlwdD4=)",
    "{::nomarkdown}<b onclick=alert(12)>x</b>{:/}",
    "[vb](vbscript:msgbox(13))",
    "~~~html\n<script>alert(14)</script>\n~~~",
    "`<script>alert(15)</script>`",
    "[ok](https://example.com/a?b=1&c=2) and www.example.org and mailto:me@example.com",
]


def parsed(html: str) -> _Html:
    tags = _Html()
    tags.feed(html)
    tags.close()
    return tags


def assert_inert(html: str) -> None:
    """No script but the site's own files, no event handler, no script or data link."""
    for tag, pairs in parsed(html).tags:
        attrs = {k: v or "" for k, v in pairs}
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith(("assets/", "../assets/")), attrs
        for name in ("href", "src", "action"):
            value = attrs.get(name, "").replace("\t", "").lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:")), (tag, attrs)
        assert tag not in {"iframe", "object", "embed", "svg", "style", "base", "form"} or (
            tag in {"svg", "form"} and not any(k.startswith("on") for k in attrs)
        )


def render_day(notes: list[NoteDraft], media_url: str = "media/") -> tuple[str, set[str]]:
    found = pages.Rendered()
    html = pages.Markdown(media_url).notes(notes, "../", found)
    return html, found.media


def test_hostile_notes_render_inert_on_every_page() -> None:
    notes = [NoteDraft(text) for text in HOSTILE]
    html, _ = render_day(notes)
    assert "<script" not in html  # every one of them is text, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    month = pages.month_page(
        '<script>"t"</script>',
        (2021, 4),
        [pages.DayHtml(APRIL, html, len(notes))],
        pages.MonthNav(None, None),
        "unpadded",
    )
    tag = pages.tag_page('"><b>', "x<y", [pages.TagItem(APRIL, html)], "unpadded")
    for page in (month, tag):
        assert_inert(page)
        assert "<title>2021-04 · &lt;script&gt;&quot;t&quot;&lt;/script&gt;</title>" in month
    hrefs = [dict(a).get("href") for t, a in parsed(html).tags if t == "a"]
    # the link rule holds on its own too, for markdown that skipped the sanitiser
    raw = "\n\n".join([*HOSTILE, "[p](%6Aavascript:alert(16)) [t](JaVaScRiPt:alert(17))"])
    bare = pages.Markdown("media/").render(raw, "", pages.Rendered())
    assert_inert(bare)
    assert [dict(a).get("href") for t, a in parsed(bare).tags if t == "a"] == hrefs
    assert hrefs == [
        "https://example.com/a?b=1&c=2",
        "http://www.example.org",
        "mailto:me@example.com",
    ]


def test_every_page_is_for_phones_and_both_schemes_and_has_no_inline_code() -> None:
    index = pages.index_page("日知录", {date(2021, 4, 8): 3}, {}, "", [])
    search = pages.search_page("日知录")
    for page in (index, search):
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assert '<meta name="color-scheme" content="light dark">' in page
        assert f'content="{pages.CSP}"' in page
        assert "script-src 'self'" in pages.CSP and "unsafe-inline" not in pages.CSP
        assert "<style" not in page and " style=" not in page
        assert not re.search(r"<script>|<script [^>]*>[^<]", page)  # scripts only by src
        assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in page  # nothing from the network
    css = (Path(pages.__file__).parents[1] / "data" / "site" / "site.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css
    assert "@media (max-width: 480px)" in css
    assert '<script src="assets/search-index.js"></script>' in search


def test_media_links_point_at_the_sites_copy_and_nothing_escapes_media_dir() -> None:
    notes = [
        NoteDraft("a photo", children=[NoteDraft("![](media/2021/04/AgAD.jpg)")]),
        NoteDraft("[voice](media/2021/04/v_x.ogg) [spaced](media/2021/04/v%20x.ogg)"),
        NoteDraft("![](media/../secret.jpg) ![](media/.incoming/x.part) ![](/etc/passwd)"),
        NoteDraft("![](https://github.com/x/y.png)"),
        NoteDraft("![shot](C:\\Users\\me\\AppData\\Typora\\image-2021.png)"),
    ]
    html, media = render_day(notes)
    assert media == {"2021/04/AgAD.jpg", "2021/04/v_x.ogg"}
    assert '<img src="../media/2021/04/AgAD.jpg" alt="" loading="lazy" />' in html
    assert 'href="../media/2021/04/v_x.ogg"' in html
    assert (
        '<img src="https://github.com/x/y.png" alt="" loading="lazy" referrerpolicy="no-referrer" />'
        in html
    )
    assert "[image on another computer: image-2021.png]" in html
    assert "Users" not in html  # the other machine's path is not shown or requested
    # MEDIA_URL as a site path (`/assets/rizhilu/`) works the same
    _, media = render_day([NoteDraft("![](/assets/rizhilu/2021/04/b.png)")], "/assets/rizhilu/")
    assert media == {"2021/04/b.png"}


def test_search_index_holds_every_note_as_plain_text_with_its_day() -> None:
    notes = [
        NoteDraft(
            "ScanNet数据的问题: **重要** [链接](https://x.org) `code`",
            ordered=True,
            children=[NoteDraft("![](https://x.org/a.png)"), NoteDraft("读代码，理解 \\*star\\*")],
        )
    ]
    entries = pages.note_entries("months/2021-04.html#d2021-04-08", "2021-4-8", notes)
    assert [e.text for e in entries] == ["ScanNet数据的问题: 重要 链接 code", "读代码，理解 *star*"]
    script = pages.search_index_js(entries)
    prefix = "window.RIZHILU_SEARCH = "
    assert script.startswith(prefix) and script.endswith(";\n")
    data = json.loads(script[len(prefix) : -2])
    assert data["days"] == [["months/2021-04.html#d2021-04-08", "2021-4-8"]]
    assert data["notes"] == [[0, "ScanNet数据的问题: 重要 链接 code"], [0, "读代码，理解 *star*"]]


def test_heatmap_is_an_svg_year_whose_logged_days_link_to_their_place() -> None:
    entries = [(date(2021, 3, 31), date(2021, 4, 4), 2), (date(2021, 4, 8), None, 5)]
    counts = {date(2021, 3, 31): 2, date(2021, 4, 1): 0, date(2021, 4, 8): 5}
    links = pages.day_links(entries)
    svg = pages.heatmap_svg(2021, counts, links)
    assert svg.count("<rect ") == 365
    assert '<a href="months/2021-04.html#d2021-04-08"><rect class="l4"' in svg
    # a day inside an imported range links to the range's heading
    assert '<a href="months/2021-03.html#d2021-03-31"><rect class="l1"' in svg
    assert svg.count("<a ") == 3
    assert "<title>2021-04-08: 5</title>" in svg


def test_tags_get_one_page_per_key_whatever_the_spelling() -> None:
    counts = pages.tag_counts(["#ScanNet a", "#scannet b", "#日知录", "C# and #1"])
    assert [(t.name, t.key, t.notes) for t in counts] == [
        ("ScanNet", "scannet", 2),
        ("日知录", "日知录", 1),
    ]
    assert pages.tag_file("日知录") == "tags/日知录.html"
    assert pages.tag_href("日知录") == "tags/%E6%97%A5%E7%9F%A5%E5%BD%95.html"
    long = pages.tag_file("字" * 64)
    assert len(long.encode()) < 120 and long == pages.tag_file("字" * 64)


def test_a_notes_tags_link_to_their_pages_where_tags_are_read_as_tags() -> None:
    text = "看 #ScanNet 今天#论文 C#x #1 `#code` [#in](https://x.org/#f) https://x.org/a#f &#35;e"
    html, _ = render_day([NoteDraft(text)])
    links = re.findall(r'<a class="tag" href="([^"]+)">([^<]+)</a>', html)
    assert links == [
        ("../tags/scannet.html", "#ScanNet"),
        ("../tags/%E8%AE%BA%E6%96%87.html", "#论文"),
    ]
    assert "C#x #1 <code>#code</code>" in html and "#e</li>" in html


# --- the folder a build writes ---------------------------------------------------------

JOURNAL = """\
# 日知录

> 前言：每天学到的东西

### TODO

* 整理 loader

## 2021-4-8

* 看 #ScanNet 的数据
  * ![](media/2021/04/AgAD.jpg)
* <script>alert(1)</script> [x](javascript:alert(2))

## 2021-3-30

* 读代码，理解 #scannet
"""


def settings_for(tmp_path: Path, url: str) -> Settings:
    return load_settings(None, database_url=url, media_dir=tmp_path / "media")


def journal(tmp_path: Path, text: str = JOURNAL) -> tuple[object, Settings]:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    engine = migrated_engine(url)
    bulk_import.import_journal(engine, 1, parse_journal(text), NOW, "UTC")
    media = tmp_path / "media" / "2021" / "04"
    media.mkdir(parents=True)
    (media / "AgAD.jpg").write_bytes(b"\xff\xd8 a photo")
    (media / "unlinked.jpg").write_bytes(b"\xff\xd8 not in any note")
    return engine, settings_for(tmp_path, url)


def local_targets(out: Path) -> list[tuple[Path, str]]:
    """(page, target file) of every link, image and script that stays inside the site."""
    found = []
    for page in out.rglob("*.html"):
        for _, pairs in parsed(page.read_text(encoding="utf-8")).tags:
            for name in ("href", "src", "action"):
                value = dict(pairs).get(name)
                if value is None or urlsplit(value).scheme or value.startswith("#"):
                    continue
                found.append((page, unquote(urlsplit(value).path)))
    return found


def test_a_build_writes_linked_pages_and_copies_only_the_linked_media(tmp_path: Path) -> None:
    engine, settings = journal(tmp_path)
    out = tmp_path / "site"
    result = build_site(engine, settings, 1, out)  # type: ignore[arg-type]
    assert (result.days, result.notes, result.media_copied) == (2, 4, 1)
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert files == {
        MARKER,
        "index.html",
        "search.html",
        "assets/site.css",
        "assets/search.js",
        "assets/favicon.svg",
        "assets/search-index.js",
        "months/2021-04.html",
        "months/2021-03.html",
        "tags/scannet.html",
        "media/2021/04/AgAD.jpg",
    }
    assert (out / "media/2021/04/AgAD.jpg").read_bytes() == b"\xff\xd8 a photo"
    targets = local_targets(out)
    assert len(targets) > 10
    for page, target in targets:
        assert (page.parent / target).resolve().is_file(), (page, target)
    for page in out.rglob("*.html"):
        assert_inert(page.read_text(encoding="utf-8"))
    tag = (out / "tags/scannet.html").read_text(encoding="utf-8")
    assert "#ScanNet · 2 notes" in tag and "读代码" in tag and "../media/2021/04/AgAD.jpg" in tag
    april = (out / "months/2021-04.html").read_text(encoding="utf-8")
    assert '看 <a class="tag" href="../tags/scannet.html">#ScanNet</a> 的数据' in april
    assert 'id="d2021-04-08"' in april and 'rel="prev" href="../months/2021-03.html"' in april
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="months/2021-04.html#d2021-04-08">' in index
    # the named sections: on the calendar page, and searched like the days
    assert "<blockquote>\n<p>前言：每天学到的东西</p>" in index
    assert re.search(r'<section class="named" id="s(\d)">\n<h2>TODO</h2>', index)
    search = (out / pages.SEARCH_INDEX).read_text(encoding="utf-8")
    for place in ('["index.html#s1","日知录"]', '["index.html#s2","TODO"]'):
        assert place in search
    assert '"整理 loader"' in search and '"读代码，理解 #scannet"' in search


def test_a_rebuild_copies_nothing_unchanged_and_removes_only_its_own_stale_files(
    tmp_path: Path,
) -> None:
    engine, settings = journal(tmp_path)
    out = tmp_path / "site"
    build_site(engine, settings, 1, out)  # type: ignore[arg-type]
    (out / "mine.txt").write_text("the user's own file")
    again = build_site(engine, settings, 1, out)  # type: ignore[arg-type]
    assert (again.media_copied, again.media_kept) == (0, 1)
    # the photo's note and the only March day go: their page, tag page and copy go too
    other = tmp_path / "other"
    other.mkdir()
    engine2, settings2 = journal(other, "# 日知录\n\n## 2021-4-9\n\n* 新的一天\n")
    build_site(engine2, settings2, 1, out)  # type: ignore[arg-type]
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "months/2021-03.html" not in files and "tags/scannet.html" not in files
    assert not (out / "media").exists() and not (out / "tags").exists()
    assert "mine.txt" in files and "months/2021-04.html" in files


def test_a_folder_that_is_not_a_site_is_refused(tmp_path: Path) -> None:
    engine, settings = journal(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(SiteError, match="not empty and was not written by `rizhilu site`"):
        build_site(engine, settings, 1, home)  # type: ignore[arg-type]
    assert [p.name for p in home.iterdir()] == ["thesis.tex"]
    with pytest.raises(SiteError, match="no journal for user 2"):
        build_site(engine, settings, 2, tmp_path / "new")  # type: ignore[arg-type]


def test_the_command_builds_the_sample_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    engine = migrated_engine(url)
    bulk_import.import_journal(
        engine, 1, parse_journal(SAMPLE.read_text(encoding="utf-8")), NOW, "UTC"
    )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    out = tmp_path / "site"
    assert main(["--env-file", os.devnull, "site", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(r"wrote \d+ pages \(59 days, 575 notes\)", err), err
    assert "ScanNet数据的问题" in (out / pages.SEARCH_INDEX).read_text(encoding="utf-8")
    assert main(["--env-file", os.devnull, "site", str(tmp_path / "journal.db")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_journal_without_days_is_a_calendar_that_says_so(tmp_path: Path) -> None:
    engine, settings = journal(tmp_path, "# 日知录\n\n> 前言\n")
    result = build_site(engine, settings, 1, tmp_path / "site")  # type: ignore[arg-type]
    assert (result.pages, result.days, result.notes) == (2, 0, 0)
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "Nothing logged yet." in index and "前言" in index
