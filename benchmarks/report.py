"""What the HTML report costs (issue 15): the time writing it adds to a run, and how fast the
page is in a browser, on 2,000 real pages and on a report of about 80,000 removals.

    python -m benchmarks.report [--pages 2000] [--lines 200000] [--rounds 5] [--write]

Runs are whole ``dedup clean`` processes, with and without ``--html`` (and with the JSON
``--report`` for comparison), interleaved, median. The page is opened in headless Chromium
(Debian's ``chromium``, driven by Playwright) three times: first contentful paint, the
moment its list is drawn, a filter by each kind, a search, the next page (median).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

from benchmarks.results import write_section

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def pages(count: int, folder: Path) -> Path:
    """The first ``count`` whole pages (variant ``full``: boilerplate and all) as JSONL."""
    path = folder / "pages.jsonl"
    with gzip.open(DATA / "pages.jsonl.gz", "rt", encoding="utf-8") as source:
        full = (line for line in source if json.loads(line)["variant"] == "full")
        path.write_text("".join(islice(full, count)), encoding="utf-8")
    return path


def lines(count: int, folder: Path) -> Path:
    """The first ``count`` paragraphs of the scale corpus, one a line, as one text."""
    path = folder / "lines.txt"
    with gzip.open(DATA / "scale-paragraphs.txt.gz", "rt", encoding="utf-8") as source:
        path.write_text("".join(islice(source, count)), encoding="utf-8")
    return path


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def overhead(source: Path, options: list[str], rounds: int, folder: Path) -> dict[str, float]:
    """Median seconds of ``clean`` alone, with ``--html`` and with ``--report``."""
    base = [sys.executable, "-m", "dedup", "clean", "-q", *options, str(source)]
    base += ["-o", str(folder / "out")]
    variants = {
        "plain": base,
        "html": [*base, "--html", str(folder / "r.html")],
        "json": [*base, "--report", str(folder / "r.json")],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, command in variants.items():
            times[name].append(_timed(command))
    return {name: statistics.median(values) for name, values in times.items()}


def browse(report: Path, opens: int = 3) -> dict[str, Any]:
    """Timings of the report in headless Chromium, median of ``opens`` opens (ms)."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(opens):
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("body[data-ready]", state="attached", timeout=120_000)
            paint = page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0].startTime"
            )
            found.setdefault("first contentful paint", []).append(paint)
            found.setdefault("list drawn", []).append(page.evaluate("window.dedupTimings.first"))
            kinds = page.eval_on_selector_all("#f-kind option", "os => os.map(o => o.value)")
            for kind in [*kinds[1:], ""]:
                page.select_option("#f-kind", kind)
                found.setdefault("filter by kind", []).append(
                    page.evaluate("window.dedupTimings.filter.at(-1)")
                )
            done = len(page.evaluate("window.dedupTimings.filter"))
            page.fill("#f-q", "the")
            while len(page.evaluate("window.dedupTimings.filter")) <= done:
                time.sleep(0.02)
            found.setdefault("search (first: parses every text)", []).append(
                page.evaluate("window.dedupTimings.filter.at(-1)")
            )
            page.fill("#f-q", "")
            started = time.perf_counter()
            page.click("#next")
            page.wait_for_selector("#list .item")
            found.setdefault("next page (from the test)", []).append(
                (time.perf_counter() - started) * 1000
            )
            page.close()
        browser.close()
    return {name: statistics.median(values) for name, values in found.items()}


def _items(report: Path) -> int:
    from dedup.report.html import embedded

    return len(embedded(report.read_text(encoding="utf-8"))["texts"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="into benchmarks/RESULTS.md")
    args = parser.parse_args()
    rows, browsing = [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        cases = [
            (f"{args.pages:,} pages, --jsonl --scope corpus", pages(args.pages, folder),
             ["--jsonl", "--scope", "corpus"]),
            (f"{args.lines:,} lines of the scale corpus, --split lines",
             lines(args.lines, folder), ["--split", "lines"]),
        ]  # fmt: skip
        for name, source, options in cases:
            median = overhead(source, options, args.rounds, folder)
            report = folder / "r.html"
            rows.append(
                f"| {name} | {_items(report):,} | {report.stat().st_size / 1e6:.1f} "
                f"| {median['plain']:.1f} | {median['html']:.1f} "
                f"| {median['html'] / median['plain'] - 1:+.0%} "
                f"| {median['json'] / median['plain'] - 1:+.0%} |"
            )
            timings = browse(report)
            browsing.append(
                f"| {name} | " + " | ".join(f"{value:,.0f}" for value in timings.values()) + " |"
            )
            heads = list(timings)
    body = (
        f"`python -m benchmarks.report --pages {args.pages} --lines {args.lines} --rounds "
        f"{args.rounds}`: whole `dedup clean` processes, interleaved, median.\n\n"
        "| input | removals in the report | report MB | clean: s | with --html: s "
        "| --html adds | --report (JSON) adds |\n|---|---:|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + "\n\nIn headless Chromium (ms, median of 3 opens):\n\n| input | "
        + " | ".join(heads)
        + " |\n|---|"
        + "---:|" * len(heads)
        + "\n"
        + "\n".join(browsing)
        + "\n"
    )
    print(body)
    if args.write:
        write_section("HTML report (issue 15)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
