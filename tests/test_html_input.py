"""HTML pages as input: their main text (trafilatura) or the whole page's, from files,
folders and JSONL fields; the cleaned output is text."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

import pytest

from dedup.extract import page_text
from dedup.report.html import embedded
from tests.conftest import FIXTURES
from tests.test_html_report import run

PAGES = FIXTURES / "html"
QUOTE = "“We listened to every neighbourhood before we voted,” said the mayor, Ana Lindqvist."
MENU = "Home | News | Sport | Contact"
FOOTER = "© 2026 Riverside Gazette. All rights reserved. " + (
    "Subscribe to our newsletter for the week’s news."
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(PAGES, tmp_path / "site")
    return tmp_path / "site"


def test_a_page_is_cleaned_as_its_main_text(site: Path) -> None:
    code, out, err = run("clean", "site/news-1.html")
    assert (code, err) == (0, "dedup: site/news-1.html: removed 1 of 7 paragraphs (1 exact)\n")
    lines = out.splitlines()
    assert lines[0] == "Council passes the budget after a long night"
    assert lines.count(QUOTE) == 1  # the pull quote, printed twice, once with straight quotes
    assert not any('"We listened' in line for line in lines)
    assert MENU not in lines and FOOTER not in lines  # boilerplate is not main text
    assert (site / "news-1.html").read_bytes() == (PAGES / "news-1.html").read_bytes()


def test_the_page_encoding_is_the_one_it_declares(site: Path) -> None:
    code, out, _ = run("clean", "site/news-2.html")
    assert code == 0
    assert "Le vieux pont rouvre aux piétons\n" in out
    assert out.count("Après six mois de travaux") == 1


def test_whole_pages_lose_the_boilerplate_they_share(site: Path) -> None:
    code, _, err = run(
        "clean", "--extract", "full", "--scope", "corpus", "--output-dir", "out",
        "--html", "r.html", "site",
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in Path("out").iterdir()) == ["news-1.txt", "news-2.txt"]
    first = Path("out/news-1.txt").read_text(encoding="utf-8").splitlines()
    second = Path("out/news-2.txt").read_text(encoding="utf-8").splitlines()
    assert first[0] == MENU and first[-1] == FOOTER
    assert MENU not in second and FOOTER not in second and "Read also" not in second
    assert second[0] == "Le vieux pont rouvre aux piétons"
    # The report names paragraphs in the extracted text.
    data = embedded(Path("r.html").read_text(encoding="utf-8"))
    full = page_text((site / "news-2.html").read_bytes(), "full").splitlines()
    items = data["items"]
    for n, (text, kept) in enumerate(data["texts"]):
        if data["documents"][items["document"][n]][0] == "site/news-2.html":
            assert text == full[items["index"][n]]
            assert kept is not None


def test_full_text_keeps_the_lines_of_preformatted_text() -> None:
    # A block of code keeps its lines and their indentation (Python reads it): collapsed,
    # its lines would run into one and the indentation would be lost. Elsewhere a line
    # break in the page's source is white space, as a browser shows it: a paragraph
    # wrapped in the source stays one line.
    html = (
        "<html><body><p>Run\n   this,\nthen see:</p>"
        "<pre><code>def f(x):\n    return   x + <b>1</b>\n\n\tprint(f(2))  \n</code></pre>"
        "<p>Done.</p><pre>one\n</pre>two</body></html>"
    )
    assert page_text(html, "full") == (
        "Run this, then see:\ndef f(x):\n    return   x + 1\n\tprint(f(2))\nDone.\none\ntwo\n"
    )


def test_gzip_pages_stay_gzip_and_other_files_stay_text(site: Path) -> None:
    (site / "news-1.html.gz").write_bytes(gzip.compress((site / "news-1.html").read_bytes()))
    (site / "news-1.html").unlink()
    (site / "notes.txt").write_text("<p>A note kept as it is written.</p>\n")
    code, _, err = run("clean", "-q", "--output-dir", "out", "site")
    assert (code, err) == (0, "")
    assert sorted(p.name for p in Path("out").iterdir()) == [
        "news-1.txt.gz", "news-2.txt", "notes.txt"
    ]  # fmt: skip
    assert QUOTE in gzip.decompress(Path("out/news-1.txt.gz").read_bytes()).decode()
    assert Path("out/notes.txt").read_text() == "<p>A note kept as it is written.</p>\n"


def test_extract_none_cleans_the_file_as_text(site: Path) -> None:
    code, out, _ = run("clean", "-q", "--extract", "none", "site/news-1.html")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>\n")


@pytest.mark.parametrize("extract", ["main", "full"])
def test_standard_input_is_a_page_when_extract_is_given(site: Path, extract: str) -> None:
    # A page piped in (curl ... | dedup clean --extract main) has no name to tell it by:
    # --extract on the command line says it is one; by default standard input is text.
    from click.testing import CliRunner

    from dedup.cli import cli

    page = (site / "news-1.html").read_bytes()
    piped = CliRunner().invoke(cli, ["clean", "--extract", extract, "-"], input=page)
    named = run("clean", "--extract", extract, "site/news-1.html")
    assert (piped.exit_code, piped.stdout) == (0, named[1])
    assert piped.stderr == named[2].replace("site/news-1.html", "<stdin>")
    plain = CliRunner().invoke(cli, ["clean", "-q", "-"], input=page)
    assert plain.stdout.startswith("<!DOCTYPE html>\n")


def test_in_place_never_replaces_a_page_with_text(site: Path) -> None:
    before = (site / "news-1.html").read_bytes()
    code, _, err = run("clean", "--in-place", "site")
    assert code == 2
    assert err == (
        "Error: site/news-1.html: --in-place would replace the page with its text; write the "
        "text with --output-dir DIR (or --extract none to clean the file as text)\n"
    )
    assert (site / "news-1.html").read_bytes() == before


def test_jsonl_records_with_html(site: Path) -> None:
    records = [
        {"id": "one", "url": "https://example.org/1", "html": (site / "news-1.html").read_text()},
        {"id": "two", "html": (site / "news-1.html").read_text().replace("Tuesday", "Monday")},
    ]
    Path("pages.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    code, out, err = run(
        "clean", "-q", "--jsonl", "--scope", "corpus", "--html-field", "html", "pages.jsonl"
    )
    assert (code, err) == (0, "")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["html"] == records[0]["html"] and first["url"] == records[0]["url"]
    assert first["text"].splitlines()[0] == "Council passes the budget after a long night"
    assert first["dedup"]["removed"] == 1
    # Every paragraph repeats the first page's but the one with another day: information.
    assert second["text"] == (
        "The town council approved next year’s budget on Monday after a debate that went on "
        "until two in the morning.\n"
    )
    assert [r["kind"] for r in second["dedup"]["removals"]] == ["exact"] * 6
    # Nothing removed: the text field is written all the same.
    Path("one.jsonl").write_text(json.dumps(records[1]) + "\n")
    code, out, _ = run(
        "clean", "-q", "--jsonl", "--html-field", "html", "--extract", "full", "one.jsonl"
    )
    record = json.loads(out)
    assert record["dedup"]["removed"] == 1 and record["text"].startswith(MENU + "\n")


def test_html_field_errors(site: Path) -> None:
    Path("pages.jsonl").write_text('{"id": "a", "text": "no page here"}\n')
    code, _, err = run("clean", "--jsonl", "--html-field", "html", "pages.jsonl")
    assert (code, err) == (2, "Error: pages.jsonl:1: has no 'html' field (--html-field)\n")
    code, _, err = run("clean", "--jsonl", "--html-field", "html", "--extract", "none", "x")
    assert (code, err) == (
        2, "Error: --extract none reads no HTML: to clean that field as text, use --text-field\n"
    )  # fmt: skip
    code, _, err = run("clean", "--html-field", "html", "site/news-1.html")
    assert (code, err) == (
        2,
        "Error: --html-field names a field of JSONL records: it goes with --jsonl\n",
    )


def test_check_reads_pages_too(site: Path) -> None:
    code, out, _ = run("check", "-q", "--format", "json", "--extract", "full", "site")
    assert code == 1
    report = json.loads(out)
    assert report["corpus"]["documents"] == 2 and report["corpus"]["repeated"] >= 6


def test_without_trafilatura_the_error_says_what_to_install(site: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    code, _, err = run("clean", "site/news-1.html")
    assert code == 2
    assert err == (
        "Error: reading HTML needs trafilatura: pip install 'paradedup[html]' "
        "(or --extract none to read it as text)\n"
    )


def test_an_empty_page_is_an_empty_document(site: Path) -> None:
    Path("empty.html").write_text("<html><body></body></html>")
    assert run("clean", "empty.html") == (0, "", "dedup: empty.html: removed 0 of 0 paragraphs\n")


def test_a_page_too_large_is_refused(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dedup.sources

    monkeypatch.setattr(dedup.sources, "MAX_HTML", 1 << 10)
    code, out, err = run("clean", "site/news-1.html")
    assert (code, out) == (2, "")
    assert err == (
        "Error: site/news-1.html: an HTML page larger than 1,024 bytes, too large to extract "
        "(--extract none cleans it as text)\n"
    )
