"""`rizhilu site` in a real browser: Debian's Chromium, headless, through Selenium.

The sample journal's site is opened from disk (file://) and served over HTTP: every page
loads without a console error, the search finds a Chinese word, dark mode and a phone's
width work. Skips cleanly without chromium, chromedriver or selenium. The screenshot is
saved in the test's tmp folder (and into RIZHILU_SCREENSHOT_DIR when that is set: that
is how docs/site.png was made).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.core.journal_doc import parse_journal
from bot.demo import SAMPLE
from bot.settings import load_settings
from bot.site import build_site
from storage import bulk_import
from tests.conftest import migrated_engine

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOW = datetime(2021, 4, 9, 12, tzinfo=UTC)
WORD = "数据"  # in the sample: "ScanNet数据的问题", 2021-4-8

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def wait(driver: Any, until: Callable[[Any], Any]) -> Any:
    """WebDriverWait(driver, 20).until(until), imported when first used: selenium's waits
    import trio (0.2-0.3 s of CPU), which every test process that collects this module paid."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20).until(until)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample journal as a site (the sample has no media; its images are on GitHub)."""
    folder = tmp_path_factory.mktemp("site")
    url = f"sqlite:///{folder / 'journal.db'}"
    engine = migrated_engine(url)
    bulk_import.import_journal(
        engine, 1, parse_journal(SAMPLE.read_text(encoding="utf-8")), NOW, "UTC"
    )
    settings = load_settings(None, database_url=url, media_dir=folder / "media")
    build_site(engine, settings, 1, folder / "out")
    engine.dispose()
    return folder / "out"


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The site over HTTP on 127.0.0.1 (a free port), as a web server would serve it."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1000,900",
        # offline and deterministic: nothing but the loopback server resolves
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the system's chromedriver: selenium-manager must not download a driver
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def remote_images() -> set[str]:
    """The sample's own pictures, hosted on GitHub: offline they cannot load."""
    import re

    return set(re.findall(r"!\[[^\]]*\]\((https://[^)\s]+)\)", SAMPLE.read_text(encoding="utf-8")))


def errors(driver: Any) -> list[str]:
    """Console errors since the last call, except the sample's remote pictures failing to
    load in this offline browser (everything the site itself ships must load)."""
    out = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        message = str(entry["message"])
        url = message.split(" ", 1)[0]
        if entry.get("source") == "network" and url in remote_images():
            continue
        out.append(message)
    return out


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def search_results(driver: Any) -> list[str]:
    wait(driver, lambda d: d.find_element(By.ID, "status").text)
    return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#results li")]


def pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def test_the_site_in_one_browser(site: Path, served: str, browser: Any, tmp_path: Path) -> None:
    """Every check in one test, so one Chromium serves them all: its start and the site's
    build are most of each check's cost, and xdist ran each test in another process, which
    started a browser of its own (xdist_group marks are ignored, pytest-xdist issue #1386)."""
    every_page_loads_from_disk_without_console_errors_and_search_finds_chinese(
        site, browser, tmp_path
    )
    served_the_search_box_finds_what_is_typed(served, browser)
    dark_mode_and_a_phones_width(site, browser)


def every_page_loads_from_disk_without_console_errors_and_search_finds_chinese(
    site: Path, browser: Any, tmp_path: Path
) -> None:
    base = site.as_uri() + "/"
    assert len(pages(site)) > 5
    for page in pages(site):
        open_page(browser, base + page)
        assert errors(browser) == [], page
    open_page(browser, base + "search.html?q=" + WORD)
    found = search_results(browser)
    assert any("ScanNet数据的问题" in text for text in found), found
    assert browser.find_elements(By.CSS_SELECTOR, "#results mark")[0].text == WORD
    assert errors(browser) == []
    browser.find_element(By.CSS_SELECTOR, "#results a.day").click()  # newest first: 2021-4-8
    wait(browser, lambda d: "2021-04.html" in d.current_url)
    assert browser.current_url.endswith("months/2021-04.html#d2021-04-08")
    open_page(browser, base + "index.html")
    shot = tmp_path / "site.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("RIZHILU_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["RIZHILU_SCREENSHOT_DIR"]) / "site.png")


def served_the_search_box_finds_what_is_typed(served: str, browser: Any) -> None:
    open_page(browser, served + "index.html")
    assert errors(browser) == []
    box = browser.find_element(By.CSS_SELECTOR, "header form input[name=q]")
    box.send_keys(WORD)
    box.submit()
    wait(browser, lambda d: "search.html" in d.current_url)
    found = search_results(browser)
    assert any("ScanNet数据的问题" in text for text in found), found
    page = browser.find_element(By.ID, "q")
    page.clear()
    page.send_keys("ScanNet 数据 问题")  # every word must be in the note
    wait(
        browser,
        lambda d: all(
            "ScanNet" in li.text and "数据" in li.text
            for li in d.find_elements(By.CSS_SELECTOR, "#results li")
        ),
    )
    page.clear()
    page.send_keys("没有这个词")
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#results li"))
    assert errors(browser) == []


def dark_mode_and_a_phones_width(site: Path, browser: Any) -> None:
    base = site.as_uri() + "/"

    def background() -> str:
        return str(browser.execute_script("return getComputedStyle(document.body).backgroundColor"))

    open_page(browser, base + "months/2021-04.html")
    assert background() == "rgb(255, 255, 255)"
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        assert background() == "rgb(13, 17, 23)"
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
        )
        for page in ("index.html", "months/2021-04.html", "search.html?q=ScanNet"):
            open_page(browser, base + page)
            # nothing wider than the phone: no sideways scrolling
            width = browser.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, (page, width)
        assert errors(browser) == []
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
