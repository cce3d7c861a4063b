"""The README's screenshots of the HTML report, made again:

    python docs/screenshots.py

``docs/report-seed.png``: the removals of the seed article (``fixtures/``).
``docs/report-crawl.png``: the top of the report on 2,000 whole pages of the evaluation
data (``../shared/data``, ``--scope corpus``): only the summary's figures, chart and the
documents' ids are shown, no text of those pages (the data is licensed to be read from
where it lies, not copied here).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _report(arguments: list[str], report: Path, where: Path = ROOT) -> None:
    command = [sys.executable, "-m", "dedup", "clean", "-q", "--html", str(report), *arguments]
    subprocess.run(command, check=True, cwd=where, stdout=subprocess.DEVNULL)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        folder = Path(scratch)
        seed = folder / "seed.html"
        _report(["fixtures/000_65b17c22fac51871.txt", "-o", str(folder / "x")], seed)
        pages = folder / "pages.jsonl"
        with gzip.open(DATA / "pages.jsonl.gz", "rt", encoding="utf-8") as source:
            full = (line for line in source if json.loads(line)["variant"] == "full")
            pages.write_text("".join(islice(full, 2000)), encoding="utf-8")
        crawl = folder / "crawl.html"
        options = ["--jsonl", "--scope", "corpus", "pages.jsonl", "-o", "cleaned.jsonl"]
        _report(options, crawl, folder)
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1250})
        page.goto(seed.as_uri())
        page.wait_for_selector("body[data-ready]", state="attached")
        page.locator("#removals").screenshot(path=str(ROOT / "docs" / "report-seed.png"))
        page.goto(crawl.as_uri())
        page.wait_for_selector("body[data-ready]", state="attached")
        top = page.locator("header").bounding_box()
        table = page.locator("#summary table").first.bounding_box()
        assert top is not None and table is not None
        page.screenshot(
            path=str(ROOT / "docs" / "report-crawl.png"),
            clip={"x": 0, "y": 0, "width": 1100, "height": table["y"] + table["height"] + 10},
        )
        browser.close()


if __name__ == "__main__":
    main()
