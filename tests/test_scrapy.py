"""A real crawl with Scrapy's own engine against pages served on 127.0.0.1 that repeat
paragraphs across pages and within one: the pipeline removes the repeats, keeps the rest,
counts them in Scrapy's stats, and fills an index on disk (issue 11)."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("scrapy", reason="the scrapy extra is not installed")

BOILERPLATE = "Subscribe to our newsletter for the latest news and offers every week."
QUOTE = "The minister said the bridge would reopen to traffic before the winter."
PAGES = {
    "a.html": [f"Page a opens with its own story about the harbour, {n}." for n in range(3)]
    + [QUOTE, "A paragraph only page a has, long enough to count here.", QUOTE, BOILERPLATE],
    "b.html": ["Page b tells another story about the railway station today.", BOILERPLATE],
    "c.html": ["Page c has a third story about the market square this morning.", BOILERPLATE],
}

SPIDER = """
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess

class Site(scrapy.Spider):
    name = "site"
    start_urls = [sys.argv[1] + "/index.html"]

    def parse(self, response):
        if response.url.endswith("index.html"):
            yield from response.follow_all(css="a", callback=self.parse)
            return
        paragraphs = response.css("p::text").getall()
        yield {"url": response.url, "body": "\\n".join(paragraphs), "paragraphs": paragraphs}

settings = {
    "ITEM_PIPELINES": {"dedup.contrib.scrapy.DedupPipeline": 800},
    "DEDUP_FIELDS": [sys.argv[4]],
    "DEDUP_INDEX": sys.argv[3],
    "FEEDS": {sys.argv[2]: {"format": "jsonlines"}},
    "CONCURRENT_REQUESTS": 1,
    "LOG_LEVEL": "ERROR",
    "TELNETCONSOLE_ENABLED": False,
}
process = CrawlerProcess(settings)
crawler = process.create_crawler(Site)
process.crawl(crawler)
process.start()
print(json.dumps({k: v for k, v in crawler.stats.get_stats().items() if k.startswith("dedup")}))
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    links = "".join(f'<a href="{name}">{name}</a>' for name in PAGES)
    (root / "index.html").write_text(f"<html><body>{links}</body></html>")
    for name, paragraphs in PAGES.items():
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        (root / name).write_text(f"<html><body>{body}</body></html>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _crawl(
    site: str, folder: Path, index: str, field: str
) -> tuple[list[dict[str, object]], dict[str, int]]:
    out = folder / "items.jsonl"
    out.unlink(missing_ok=True)
    script = folder / "crawl.py"
    script.write_text(SPIDER)
    done = subprocess.run(
        [sys.executable, str(script), site, str(out), index, field],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    assert done.returncode == 0, done.stderr
    items = [json.loads(line) for line in out.read_text().splitlines()]
    return items, json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("field", ["body", "paragraphs"])
def test_a_crawl_keeps_one_copy_of_every_paragraph(site: str, tmp_path: Path, field: str) -> None:
    index = str(tmp_path / "site.dedup")
    items, stats = _crawl(site, tmp_path, index, field)
    assert len(items) == 3

    def paragraphs(item: dict[str, object]) -> list[str]:
        value = item[field]
        return value.split("\n") if isinstance(value, str) else value  # type: ignore[return-value]

    kept = Counter(p for item in items for p in paragraphs(item))
    assert set(kept) == {
        p for paragraphs in PAGES.values() for p in paragraphs
    }  # only repeats went
    assert set(kept.values()) == {1}  # and every repeat did
    a = next(item for item in items if str(item["url"]).endswith("a.html"))
    removed = a["dedup"]["removals"][field]  # type: ignore[index]
    assert [(r["text"], r["kind"]) for r in removed if r["text"] == QUOTE] == [(QUOTE, "exact")]
    # 11 paragraphs, 3 repeats: the quote once, the boilerplate twice
    assert stats == {
        "dedup/items": 3,
        "dedup/paragraphs": 11,
        "dedup/removed": 3,
        "dedup/removed/exact": 3,
    }
    info = subprocess.run(
        [sys.executable, "-m", "dedup", "index", "info", "--index", index],
        capture_output=True,
        text=True,
    )
    assert "paragraphs: 8\n" in info.stdout  # what the items kept, committed as they passed
    # Tomorrow's crawl of the same pages: no page is a repeat of itself.
    again, _ = _crawl(site, tmp_path, index, field)
    assert sorted(map(paragraphs, again)) == sorted(map(paragraphs, items))


def test_an_item_whose_id_came_before_is_cleaned_under_a_name_of_its_own() -> None:
    """A page crawled twice (or two items with one id) is no error: items are never
    dropped, and the later one's repeats name the earlier one."""
    from dedup.config import Config
    from dedup.contrib.scrapy import DedupPipeline

    pipeline = DedupPipeline(Config(), fields=["body", "lines"])
    pipeline.open_spider()
    first = {"url": "u", "body": f"One story.\n{BOILERPLATE}", "lines": [QUOTE]}
    again = {"url": "u", "body": f"Another story.\n{BOILERPLATE}", "lines": [QUOTE]}
    named = {"url": "u (2)", "body": BOILERPLATE, "lines": []}
    assert pipeline.process_item(first)["body"] == f"One story.\n{BOILERPLATE}"
    assert pipeline.process_item(again)["body"] == "Another story."
    assert pipeline.process_item(named)["body"] == ""
    (removal,) = again["dedup"]["removals"]["body"]  # type: ignore[index]
    assert removal["duplicate_of_document"] == "u#body"
    assert again["lines"] == [] and again["dedup"]["removed"] == 2  # type: ignore[index]
    (removal,) = named["dedup"]["removals"]["body"]  # type: ignore[index]
    assert removal["duplicate_of_document"] == "u#body"
    pipeline.close_spider()


def test_an_item_dropped_after_the_pipeline_is_told(caplog: pytest.LogCaptureFixture) -> None:
    """Its kept paragraphs stay in the index (later copies go): a pipeline that drops items
    belongs before this one, and a crawl that has one after it is told so, once."""
    from dedup.config import Config
    from dedup.contrib.scrapy import DedupPipeline

    pipeline = DedupPipeline(Config(), fields=["body"])
    pipeline.open_spider()
    early = {"url": "e", "body": QUOTE}  # dropped before it came here: nothing to say
    pipeline.item_dropped(item=early, response=None, exception=None, spider=None)
    items = [{"url": f"u{n}", "body": f"Story {n}.\n{BOILERPLATE}"} for n in range(3)]
    for item in items:
        pipeline.process_item(item)
    pipeline.item_scraped(items[0])
    assert caplog.records == []
    for item in items[1:]:  # dropped by a pipeline after this one
        pipeline.item_dropped(item=item, response=None, exception=None, spider=None)
    (record,) = caplog.records
    assert record.getMessage().startswith("dedup: a pipeline after DedupPipeline dropped an item")
    assert not pipeline._passing
    pipeline.close_spider()


def test_an_item_a_later_pipeline_failed_on_is_told(caplog: pytest.LogCaptureFixture) -> None:
    """An error raised by a pipeline after this one (``item_error``) loses the item as a
    drop does, and is told once too; an error on an item before it came here is not."""
    from dedup.config import Config
    from dedup.contrib.scrapy import DedupPipeline

    pipeline = DedupPipeline(Config(), fields=["body"])
    pipeline.open_spider()
    early = {"url": "e", "body": QUOTE}
    pipeline.item_error(item=early, response=None, spider=None, failure=None)
    items = [{"url": f"u{n}", "body": f"Story {n}.\n{BOILERPLATE}"} for n in range(3)]
    for item in items:
        pipeline.process_item(item)
    for item in items:
        pipeline.item_error(item=item, response=None, spider=None, failure=None)
    (record,) = caplog.records
    assert record.getMessage().startswith(
        "dedup: a pipeline after DedupPipeline failed on an item it had cleaned"
    )
    assert not pipeline._passing  # (ids of items gone, which another item may take)
    pipeline.close_spider()
