"""The HTML report's data, its escaping and its policy, without a browser (the browser
tests are in test_html_browser.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import cli
from dedup.report.html import CHUNK, embedded
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "data" / "report.json"

#: A repeat inside a.txt, one across files that differs by typography, a close call.
A = (
    "The council approved the new budget for the coming year after a long debate.\n"
    "Read also: “Ten things to do in town this weekend” and more news.\n"
    "The council approved the new budget for the coming year after a long debate.\n"
)
B = (
    'Read also: "Ten things to do in town this weekend" and more news.\n'
    "A different paragraph that says something new about the weather today.\n"
    "The council approved the new budget for the coming year after a short debate.\n"
)

#: What scraped text may hold to break out of its place in the page.
HOSTILE = [
    "<script>alert(1)</script> is a script tag written in a paragraph of text.",
    "</script><script>alert(2)</script> closes the data block, or tries to.",
    '<img src=x onerror="alert(3)"> an image that runs code when it fails to load.',
    '<a href="javascript:alert(4)">click here</a> a link that runs code when followed.',
    "<!-- a comment <script> opener \u2028 and a line separator in the middle -->",
]
HOSTILE_NAME = '"><img src=x onerror=alert(5)>.txt'


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(A)
    (folder / "b.txt").write_text(B)
    return folder


def test_the_report_data_is_what_the_golden_file_holds(corpus: Path) -> None:
    code, _, err = run(
        "clean", "--scope", "corpus", "--explain", "-q", "--html", "r.html",
        "--output-dir", "out", "corpus",
    )  # fmt: skip
    assert (code, err) == (0, "")
    data = embedded(Path("r.html").read_text(encoding="utf-8"))
    del data["dedup"]  # the version: not what is tested here
    assert data == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_removals_and_kept_texts_line_up(corpus: Path) -> None:
    """Each item's text is its paragraph, and the kept text the paragraph it repeats."""
    code, _, _ = run(
        "clean", "--scope", "corpus", "-q", "--html", "r.html", "--output-dir", "out", "corpus"
    )
    assert code == 0
    data = embedded(Path("r.html").read_text(encoding="utf-8"))
    paragraphs = {"corpus/a.txt": A.splitlines(), "corpus/b.txt": B.splitlines()}
    names = [d[0] for d in data["documents"]]
    items = data["items"]
    assert len(data["texts"]) == len(items["index"]) == 2
    for n, (text, kept) in enumerate(data["texts"]):
        document = names[items["document"][n]]
        assert text == paragraphs[document][items["index"][n]]
        of = names[items["of_document"][n]]
        assert kept == paragraphs[of][items["of_index"][n]]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in, self._attrs = tag, dict(attrs)

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append((self._attrs, data))
        elif self._in == "style":
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_scraped_text_and_names_are_data_never_markup(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "".join(f"{line}\n" for line in HOSTILE)
    (tmp_path / HOSTILE_NAME).write_text(text + text)  # every line repeated: removed
    code, _, err = run("clean", "-q", "--html", "r.html", "-o", "out.txt", HOSTILE_NAME)
    assert (code, err) == (0, "")
    page = Path("r.html").read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    allowed = {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
        "main", "section", "dl", "div", "dt", "dd", "figure", "svg", "rect", "text", "figcaption",
        "span", "table", "thead", "tr", "th", "tbody", "td", "a", "noscript", "form", "label",
        "select", "option", "input", "datalist", "ins", "del", "mark", "nav", "button", "script",
    }  # fmt: skip
    assert {tag for tag, _ in parser.tags} <= allowed
    for tag, attrs in parser.tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert not (attrs.get("href") or "#").lower().startswith("javascript"), (tag, attrs)
    # One script runs (the page's own); the others are JSON data, one of them a chunk.
    running = [body for attrs, body in parser.scripts if "type" not in attrs]
    assert len(running) == 1
    assert [a.get("type") for a, _ in parser.scripts].count("application/json") == 2
    # The policy allows exactly that script and that style, and nothing from anywhere.
    policy = next(
        a["content"] for t, a in parser.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert policy == (
        f"default-src 'none'; script-src '{_digest(running[0])}'; "
        f"style-src '{_digest(parser.styles[0])}'; img-src 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
    # The texts and the name come back whole from the data.
    data = embedded(page)
    assert [d[0] for d in data["documents"]] == [HOSTILE_NAME]
    assert [t for t, _ in data["texts"]] == HOSTILE
    assert [k for _, k in data["texts"]] == HOSTILE
    assert "</script><script>" not in page.split("<script>", 1)[0]
    assert page.count("</script>") == 3  # the two data blocks and the page's script


def test_texts_travel_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = [
        f"Line number {n} of a long list that repeats itself word for word."
        for n in range(CHUNK + 7)
    ]
    Path("a.txt").write_text("".join(f"{line}\n" for line in lines * 2))
    code, _, _ = run("clean", "-q", "--html", "r.html", "-o", "out.txt", "a.txt")
    assert code == 0
    page = Path("r.html").read_text(encoding="utf-8")
    assert page.count('class="dedup-texts"') == 2
    data = embedded(page)
    assert [t for t, _ in data["texts"]] == lines
    assert data["items"]["of_index"] == list(range(CHUNK + 7))


def test_a_report_of_nothing_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text("One line.\nAnother line.\n")
    code, _, _ = run("clean", "-q", "--html", "r.html", "-o", "out.txt", "a.txt")
    assert code == 0
    data = embedded(Path("r.html").read_text(encoding="utf-8"))
    assert data["texts"] == [] and data["documents"] == [["a.txt", 2, 0]]


def test_a_kept_paragraph_of_an_earlier_run_is_named(tmp_path: Path, monkeypatch) -> None:
    """With a persistent index, a removal may repeat a paragraph this run never read."""
    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text(A.splitlines()[0] + "\n")
    Path("b.txt").write_text(A)
    assert run("index", "add", "--index", "idx", "a.txt")[0] == 0
    code, _, err = run(
        "clean", "-q", "--scope", "corpus", "--index", "idx", "--html", "r.html",
        "-o", "out.txt", "b.txt",
    )  # fmt: skip
    assert (code, err) == (0, "")
    data = embedded(Path("r.html").read_text(encoding="utf-8"))
    assert data["items"]["of_document"] == [-1, -1]
    assert data["items"]["of_name"] == {"0": "a.txt", "1": "a.txt"}
    assert data["texts"] == [[A.splitlines()[0], None], [A.splitlines()[2], None]]


def test_the_report_is_never_written_over_an_input(corpus: Path) -> None:
    before = (corpus / "a.txt").read_bytes()
    code, _, err = run("clean", "--html", "corpus/a.txt", "--output-dir", "out", "corpus")
    assert code == 2
    assert (
        err
        == "Error: corpus/a.txt: refusing to write the HTML report over the input corpus/a.txt\n"
    )
    assert (corpus / "a.txt").read_bytes() == before
    assert not Path("out").exists()


def test_check_writes_its_html_report(corpus: Path) -> None:
    code, out, err = run("check", "-q", "--format", "html", "-o", "r.html", "corpus")
    assert (code, out, err) == (1, "", "")
    page = Path("r.html").read_text(encoding="utf-8")
    assert '<div class="verdict failed"><p>Check failed</p>' in page
    assert len(embedded(page)["texts"]) == 2  # check shows no close calls
    code, out, _ = run("check", "-q", "--format", "json", "-o", "r.json", "corpus")
    assert (code, out) == (1, "")
    assert json.loads(Path("r.json").read_text())["corpus"]["repeated"] == 2


def test_check_refuses_output_for_its_table_and_over_an_input(corpus: Path) -> None:
    code, _, err = run("check", "-o", "r.txt", "corpus")
    assert (code, err) == (
        2, "Error: -o/--output takes --format json, github or html; the table is for the terminal\n"
    )  # fmt: skip
    code, _, err = run("check", "--format", "json", "-o", "r.json", "--write-baseline", "b.json")
    assert (code, err) == (
        2, "Error: --write-baseline writes the baseline and no report: drop -o/--output\n"
    )  # fmt: skip
    before = (corpus / "b.txt").read_bytes()
    code, _, err = run("check", "--format", "html", "-o", "corpus/b.txt", "corpus")
    assert code == 2
    assert re.match(r"Error: corpus/b.txt: refusing to write the report over the input", err)
    assert (corpus / "b.txt").read_bytes() == before


def test_a_settings_file_names_the_report_from_its_own_folder(corpus: Path) -> None:
    Path("dedup.toml").write_text('[tool.dedup.clean]\nhtml = "report.html"\n')
    Path("sub").mkdir()
    os.chdir("sub")
    code, _, err = run("clean", "-q", "-o", "out.txt", "../corpus/a.txt")
    assert (code, err) == (0, "")
    assert len(embedded((corpus.parent / "report.html").read_text(encoding="utf-8"))["texts"]) == 1


def test_lone_surrogates_survive_the_report(tmp_path: Path, monkeypatch) -> None:
    """JSON can carry half a surrogate pair ("\\ud800"); the report carries it back."""
    monkeypatch.chdir(tmp_path)
    line = "A paragraph with half of a pair \ud800 in it, long enough to count."
    Path("a.jsonl").write_text(json.dumps({"id": "x", "text": f"{line}\n{line}"}) + "\n")
    code, _, err = run("clean", "-q", "--jsonl", "--html", "r.html", "-o", "out.jsonl", "a.jsonl")
    assert (code, err) == (0, "")
    assert embedded(Path("r.html").read_text(encoding="utf-8"))["texts"] == [[line, line]]
