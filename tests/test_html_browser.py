"""The HTML report in a real browser (headless Chromium, driven by Playwright): filters,
search, pages, shared links, keyboard and print, and that nothing in it runs or leaves the
page. Screenshots and the measured timings go to ``test-artifacts/`` (``DEDUP_ARTIFACTS``).

Needs Debian's ``chromium`` and the ``playwright`` package (the test extra); without them
the tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dedup.cli import cli
from tests.conftest import DATA, ROOT, need_data
from tests.test_html_report import HOSTILE, HOSTILE_NAME

ARTIFACTS = Path(os.environ.get("DEDUP_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM = os.environ.get("DEDUP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Chromium as the machine's probe starts it: no sandbox (root), nothing in the background.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (.ci/run installs it)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        _missing("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


class Opened:
    """A report open in a page, with what it asked of the network and of the user."""

    def __init__(self, browser: Any, path: Path, fragment: str = "") -> None:
        self.url = path.resolve().as_uri()
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.goto(self.url + fragment)

    def _route(self, route: Any) -> None:
        if route.request.url.split("#")[0] == self.url:
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ready(self) -> Opened:
        self.page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
        return self

    def badges(self) -> list[str]:
        return [text for text in self.page.locator("#list .badge").all_inner_texts()]

    def status(self) -> str:
        return str(self.page.inner_text("#status"))

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=False)

    def close(self) -> None:
        self.context.close()


def until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Wait until ``expression`` is true in the page (polled from here: the page's policy
    forbids the eval that ``wait_for_function`` uses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.02)


def run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output


def _line(n: int, word: str = "") -> str:
    return f"Item {n} of the weekly market report lists prices {word}for apples and pears."


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three documents, 81 removals (exact and near) and 99 close calls: four pages."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    lines = [_line(n) for n in range(60)]
    first = lines + [f"{line} Read more" for line in lines[:20]]  # contained
    Path("corpus/one.txt").write_text("".join(f"{x}\n" for x in first + lines[:30]))  # exact
    second = [_line(n, "and costs ") for n in range(40)] + lines[30:60]
    Path("corpus/two.txt").write_text("".join(f"{x}\n" for x in second))
    Path("corpus/three.txt").write_text(
        "“Quoted” text — with dashes — that is written twice, once plainly.\n"
        '"Quoted" text - with dashes - that is written twice, once plainly.\n'
    )
    run(
        "clean", "-q", "--scope", "corpus", "--explain", "--html", "r.html",
        "--output-dir", "out", "corpus",
    )  # fmt: skip
    return tmp_path / "r.html"


def test_filters_search_pages_and_shared_links(browser: Any, report: Path) -> None:
    opened = Opened(browser, report).ready()
    page = opened.page
    status = opened.status()
    assert status.startswith("Showing 1–50 of ")
    total = int(status.split(" of ")[1].replace(",", ""))
    assert total > 100
    opened.shot("report-first-page.png")
    # By kind: only that kind is listed.
    page.select_option("#f-kind", "near")
    assert set(opened.badges()) == {"near"}
    assert len(opened.badges()) == 20
    assert "kind=near" in page.evaluate("location.hash")
    page.select_option("#f-kind", "")
    # A search: the items whose text holds the words, in either paragraph.
    page.fill("#f-q", "Item 7 of")
    until(page, "document.getElementById('status').textContent.includes('(of ')")
    found = page.locator("#list .item").all_inner_texts()
    assert 0 < len(found) < 10 and all("Item 7 of" in t for t in found)
    page.fill("#f-q", "")
    until(page, "!document.getElementById('status').textContent.includes('(of ')")
    # Pages: the next button, and back.
    page.click("#next")
    assert opened.status().startswith("Showing 51–100 of ")
    page.click("#prev")
    assert opened.status().startswith("Showing 1–50 of ")
    # A shared link opens the page that holds the paragraph, and shows it.
    other = Opened(browser, report, "#doc=corpus%2Ftwo.txt&para=65").ready()
    target = other.page.locator(".item.target")
    assert target.count() == 1
    assert "Paragraph 65" in target.locator("h4").inner_text()
    assert target.is_visible() and other.page.evaluate(
        "document.querySelector('.item.target').getBoundingClientRect().top < innerHeight"
    )
    assert set(other.page.locator("#list h3.document").all_inner_texts()) == {
        "corpus/two.txt 30 removed of 70 paragraphs"
    }  # the link filters by its document
    other.shot("report-shared-link.png")
    # Each item's link is such a link.
    href = other.page.locator(".item.target a.permalink").get_attribute("href")
    assert href == "#doc=corpus%2Ftwo.txt&para=65"
    # The document filter and the summary's links to a document.
    page.click("#summary table a >> nth=0")
    first = page.locator("#list h3.document").all_inner_texts()
    assert len(set(first)) == 1
    for each in (opened, other):
        assert (each.requests, each.dialogs, each.errors) == ([], [], [])
        each.close()


def test_differences_are_marked_word_by_word(browser: Any, report: Path) -> None:
    opened = Opened(browser, report, "#doc=corpus%2Fthree.txt&para=1").ready()
    item = opened.page.locator(".item.target")
    # The copy differs only by typography: quotes and dashes are shown as such.
    assert item.locator(".copy mark.typo").all_inner_texts() == ['"', '"', "-", "-"]
    assert item.locator(".kept mark.typo").all_inner_texts() == ["“", "”", "—", "—"]
    assert item.locator("ins, del, mark.changed").count() == 0
    # A word added in a copy that is kept as a close call ("and costs").
    opened.page.goto(opened.url + "#kind=close%20call&doc=corpus%2Ftwo.txt")
    until(opened.page, "document.querySelector('#list .item.close')")
    assert "and costs" in opened.page.locator("#list .item.close ins").all_inner_texts()[0]
    opened.shot("report-close-calls.png")
    assert (opened.requests, opened.dialogs, opened.errors) == ([], [], [])
    opened.close()


def test_keyboard_and_print(browser: Any, report: Path) -> None:
    opened = Opened(browser, report).ready()
    page = opened.page
    page.focus("#f-kind")
    page.keyboard.press("ArrowDown")  # the first kind, chosen from the keyboard
    kind = page.eval_on_selector("#f-kind", "node => node.value")
    assert kind == "close call" and set(opened.badges()) == {"kept, close call"}
    page.select_option("#f-kind", "")
    page.focus("#next")
    page.keyboard.press("Enter")  # the next page, from the keyboard
    assert opened.status().startswith("Showing 51–100 of ")
    page.emulate_media(media="print")
    assert not page.is_visible("#filters")
    assert page.is_visible("#summary") and page.is_visible("#list .item >> nth=0")
    opened.close()


def test_scraped_markup_runs_nothing_and_loads_nothing(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = "".join(f"{line}\n" for line in HOSTILE)
    (tmp_path / HOSTILE_NAME).write_text(text + text)
    run("clean", "-q", "--html", "r.html", "-o", "out.txt", HOSTILE_NAME)
    opened = Opened(browser, tmp_path / "r.html").ready()
    page = opened.page
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.querySelectorAll('#list a:not(.permalink)').length") == 0
    shown = page.locator("#list .item .copy .text").all_inner_texts()
    assert [t.replace("\u2028", "") for t in shown] == [t.replace("\u2028", "") for t in HOSTILE]
    assert HOSTILE_NAME in page.locator("#list h3.document").inner_text()
    opened.shot("report-hostile.png")
    assert (opened.requests, opened.dialogs, opened.errors) == ([], [], [])
    opened.close()
    # Had an escape been missed, the policy would still let nothing run or load.
    page_text = (tmp_path / "r.html").read_text(encoding="utf-8")
    broken = page_text.replace(
        "<main>",
        '<main><script>alert("ran")</script><img src="http://example.invalid/x" '
        'onerror="alert(1)"><a id="go" href="javascript:alert(2)">go</a>',
        1,
    )
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    opened = Opened(browser, tmp_path / "broken.html").ready()
    opened.page.click("#go")
    opened.page.wait_for_timeout(200)
    assert opened.dialogs == []
    assert opened.requests == []  # the image was refused by the policy, before any request
    assert any("Content Security Policy" in line for line in opened.console)
    opened.close()


def test_two_thousand_pages_open_fast(browser: Any, tmp_path: Path, monkeypatch) -> None:
    """Issue 15's target, measured in the browser and reported (not asserted): first paint
    under 2 s, filtering under 200 ms, for 2,000 pages (``full``) cleaned with --scope
    corpus."""
    need_data()
    monkeypatch.chdir(tmp_path)
    with gzip.open(DATA / "pages.jsonl.gz", "rt", encoding="utf-8") as pages:
        # Whole pages, boilerplate and all, as a crawl holds them (an id once each).
        full = (line for line in pages if json.loads(line)["variant"] == "full")
        Path("pages.jsonl").write_text("".join(islice(full, 2000)), encoding="utf-8")
    run(
        "clean", "-q", "--jsonl", "--scope", "corpus", "--html", "r.html",
        "-o", "out.jsonl", "pages.jsonl",
    )  # fmt: skip
    opened = Opened(browser, tmp_path / "r.html").ready()
    page = opened.page
    paint = page.evaluate(
        "performance.getEntriesByName('first-contentful-paint').map(e => e.startTime)[0]"
    )
    ready = page.evaluate("window.dedupTimings.first")
    filters = []
    for kind in page.eval_on_selector_all("#f-kind option", "os => os.map(o => o.value)")[1:]:
        page.select_option("#f-kind", kind)
        filters.append(page.evaluate("window.dedupTimings.filter.at(-1)"))
    page.select_option("#f-kind", "")
    page.fill("#f-q", "cookies")
    until(page, f"window.dedupTimings.filter.length > {len(filters) + 2}")
    search = page.evaluate("window.dedupTimings.filter.at(-1)")
    measured = {
        "report_bytes": (tmp_path / "r.html").stat().st_size,
        "removals": page.evaluate(
            "JSON.parse(document.getElementById('dedup-data').textContent).items.index.length"
        ),
        "first_contentful_paint_ms": round(paint, 1),
        "ready_ms": round(ready, 1),
        "filter_by_kind_ms": [round(f, 1) for f in filters],
        "first_search_ms": round(search, 1),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-2000-pages.json").write_text(json.dumps(measured, indent=2) + "\n")
    print(measured)
    opened.shot("report-2000-pages.png")
    assert (opened.requests, opened.dialogs, opened.errors) == ([], [], [])
    opened.close()
