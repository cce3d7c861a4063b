"""Many documents: folders, JSONL, scopes, outputs, `dedup check`, baselines, settings files."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dedup.cli import cli
from dedup.sources import find
from tests.conftest import SEED

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "data" / "pages.jsonl.gz"
SCHEMA = ROOT / "dedup" / "schemas" / "check.schema.json"
NEWS = "Subscribe to our newsletter for the latest news and offers."


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small corpus: a repeat within a.txt, and across files (one of them gzip)."""
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / ".git").mkdir()
    (corpus / ".git" / "x.txt").write_text(f"{NEWS}\n{NEWS}\n")
    (corpus / "a.txt").write_text(f"{NEWS}\nFirst story here.\n{NEWS}\n")
    (corpus / "sub" / "b.txt").write_text(f"Second story text.\n{NEWS[:-1]}!\n")
    (corpus / "sub" / "g.txt.gz").write_bytes(gzip.compress(f"{NEWS}\nGz story.\n".encode()))
    (corpus / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    return corpus


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_folders_are_walked_in_order_skipping_hidden_and_binary_files(tree: Path) -> None:
    code, out, err = run("clean", "corpus", "--output-dir", "out")
    assert (code, out) == (0, "")
    assert err.splitlines() == [
        "dedup: corpus/.git: skipped, hidden",
        "dedup: corpus/logo.png: skipped, binary",
        "dedup: 3 documents: removed 1 of 7 paragraphs (1 exact)",
    ]
    files = sorted(p.relative_to("out").as_posix() for p in Path("out").rglob("*") if p.is_file())
    assert files == ["a.txt", "sub/b.txt", "sub/g.txt.gz"]
    assert Path("out/a.txt").read_text() == f"{NEWS}\nFirst story here.\n"
    assert gzip.decompress(Path("out/sub/g.txt.gz").read_bytes()).decode() == f"{NEWS}\nGz story.\n"


def test_corpus_scope_removes_repeats_of_earlier_documents(tree: Path) -> None:
    code, _, err = run("clean", "-v", "--scope", "corpus", "corpus", "--output-dir", "out")
    assert code == 0
    assert err.splitlines()[2:] == [
        "dedup:   corpus/a.txt: paragraph 2 repeats 0 (exact, 1.00): equal after normalization",
        "dedup:   corpus/sub/b.txt: paragraph 1 repeats corpus/a.txt:0 (near, 1.00): "
        "same words, other punctuation",
        "dedup:   corpus/sub/g.txt.gz: paragraph 0 repeats corpus/a.txt:0 (exact, 1.00): "
        "equal after normalization",
        "dedup: 3 documents: removed 3 of 7 paragraphs (2 exact, 1 near)",
    ]
    assert Path("out/sub/b.txt").read_text() == "Second story text.\n"


def test_include_and_exclude_globs(tree: Path) -> None:
    options = ["--include", "*.txt", "--exclude", "sub/*", "--output-dir", "out"]
    code, _, err = run("clean", "-q", "corpus", *options)
    assert (code, err) == (0, "")
    assert [p.name for p in Path("out").rglob("*")] == ["a.txt"]


@pytest.mark.parametrize(
    ("include", "exclude", "taken"),
    [
        ([], [], ["a.txt", "sub/b.txt", "sub/deep/c.txt", "sub/g.txt.gz"]),
        (["*.txt"], [], ["a.txt", "sub/b.txt", "sub/deep/c.txt"]),
        (["**/*.txt"], [], ["a.txt", "sub/b.txt", "sub/deep/c.txt"]),  # **/: none or more
        (["sub/**/*.txt"], [], ["sub/b.txt", "sub/deep/c.txt"]),
        (["sub"], [], ["sub/b.txt", "sub/deep/c.txt", "sub/g.txt.gz"]),  # a folder: all in it
        ([], ["sub"], ["a.txt"]),
        ([], ["sub/"], ["a.txt"]),
        ([], ["deep"], ["a.txt", "sub/b.txt", "sub/g.txt.gz"]),
        ([], ["**/deep"], ["a.txt", "sub/b.txt", "sub/g.txt.gz"]),
        ([], ["a.txt/"], ["a.txt", "sub/b.txt", "sub/deep/c.txt", "sub/g.txt.gz"]),  # folders only
        (["*.txt"], ["sub/deep/"], ["a.txt", "sub/b.txt"]),
    ],
)
def test_include_and_exclude_read_globs_as_gitignore_does(
    tree: Path, include: list[str], exclude: list[str], taken: list[str]
) -> None:
    (tree / "sub" / "deep").mkdir()
    (tree / "sub" / "deep" / "c.txt").write_text("Third story.\n")
    found = find([str(tree)], include, exclude)
    assert [s.relative.as_posix() for s in found] == taken


def test_an_empty_index_option_is_refused_and_an_empty_variable_is_none(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = "Error: --index is empty: name a folder or a redis:// URL, or leave it out\n"
    assert run("clean", "-q", "--index", "", "corpus/a.txt")[::2] == (2, error)
    Path("dedup.toml").write_text('index = ""\n')
    assert run("clean", "-q", "corpus/a.txt")[::2] == (2, error)
    Path("dedup.toml").unlink()
    monkeypatch.setenv("DEDUP_INDEX", "")
    assert run("clean", "-q", "corpus/a.txt")[::2] == (0, "")


def test_a_folder_with_no_file_to_read_is_told(tree: Path) -> None:
    Path("empty").mkdir()
    assert run("check", "empty") == (
        0,
        "0 documents, 0 paragraphs, 0 repeated (0.00%)\n",
        "dedup: empty: no file to read in it\n",
    )
    code, _, err = run("check", "--include", "*.md", "corpus")
    assert (code, err.splitlines()[-1]) == (
        0,
        "dedup: corpus: no file to read in it that --include/--exclude choose",
    )


def test_a_file_reached_twice_is_one_document(tree: Path) -> None:
    # Overlapping arguments (a file and its folder, 'docs/*.md docs', './a.txt'): each file
    # is read once, not counted as a repeat of itself.
    alone = run("check", "-q", "corpus/sub")
    assert alone[1].startswith("2 documents, 4 paragraphs, 1 repeated")
    code, out, err = run("check", "corpus/sub", "corpus/sub/b.txt", "./corpus/sub//b.txt")
    assert (code, out) == alone[:2]
    assert err.splitlines()[:2] == [
        "dedup: corpus/sub/b.txt: skipped, the same file as corpus/sub/b.txt",
        "dedup: ./corpus/sub//b.txt: skipped, the same file as corpus/sub/b.txt",
    ]
    code, _, err = run("clean", "--output-dir", "out", "corpus/sub/b.txt", "corpus/sub")
    assert (code, err.splitlines()[0]) == (
        0,
        "dedup: corpus/sub/b.txt: skipped, the same file as corpus/sub/b.txt",
    )
    assert sorted(p.name for p in Path("out").iterdir()) == ["b.txt", "g.txt.gz"]
    piped = CliRunner().invoke(cli, ["check", "-", "-"], input=f"{NEWS}\n")
    assert (piped.exit_code, piped.stdout, piped.stderr) == (
        0,
        "1 document, 1 paragraph, 0 repeated (0.00%)\n",
        "dedup: <stdin>: skipped, the same file as <stdin>\n",
    )
    # A hard link is another document of the corpus, as a reader of it would count it.
    os.link("corpus/sub/b.txt", "corpus/sub/c.txt")
    assert run("check", "-q", "corpus/sub")[1].startswith("3 documents, 6 paragraphs, 3 repeated")


def test_in_place_with_backup(tree: Path) -> None:
    original = (tree / "a.txt").read_bytes()
    code, _, _ = run("clean", "-q", "--in-place", "--backup", ".orig", "corpus/a.txt")
    assert code == 0
    assert (tree / "a.txt").read_text() == f"{NEWS}\nFirst story here.\n"
    assert (tree / "a.txt.orig").read_bytes() == original


def test_in_place_keeps_the_original_when_the_run_fails_midway(tmp_path: Path) -> None:
    # The first megabyte is cleaned and written to the temporary file, then a byte
    # that is not UTF-8 stops the run: the file must stay as it was, with nothing beside it.
    path = tmp_path / "big.txt"
    line = f"{NEWS} Line {{}} of a long file.\n"
    body = "".join(line.format(n % 1000) for n in range(40000)).encode()
    path.write_bytes(body + b"caf\xe9\n")
    before = path.read_bytes()
    code, _, err = run("clean", "--in-place", str(path))
    assert code == 2
    assert err.startswith(f"Error: {path}: not valid UTF-8 (byte 0xe9 at offset {len(body) + 3}")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]


def test_in_place_keeps_the_original_when_anything_fails(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dedup.stream

    before = (tree / "a.txt").read_bytes()

    def boom(self: object, *args: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(dedup.stream.Cleaner, "close", boom)
    result = CliRunner().invoke(cli, ["clean", "--in-place", "corpus/a.txt"])
    assert isinstance(result.exception, RuntimeError)
    assert (tree / "a.txt").read_bytes() == before
    assert sorted(p.name for p in tree.iterdir()) == [".git", "a.txt", "logo.png", "sub"]


def test_jsonl_in_gives_jsonl_out_with_other_fields_untouched(tmp_path: Path) -> None:
    records = [
        {"id": "r1", "text": f"{NEWS}\nOne.", "url": "u1", "meta": {"n": 1}},
        {"id": "r2", "text": f"Two.\n{NEWS}", "url": "u2"},
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    code, out, err = run("clean", "--jsonl", "--scope", "corpus", str(path))
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {**records[0], "dedup": {"removed": 0, "removals": []}}
    assert {k: second[k] for k in ("id", "text", "url")} == {
        "id": "r2",
        "text": "Two.",
        "url": "u2",
    }
    (removal,) = second["dedup"]["removals"]
    assert (removal["duplicate_of_document"], removal["duplicate_of"]) == ("r1", 0)
    assert err == "dedup: 2 documents: removed 1 of 4 paragraphs (1 exact)\n"


def test_a_jsonl_file_with_a_bom_is_read_and_keeps_it(tmp_path: Path) -> None:
    # As Windows tools write it (PowerShell's Out-File, Notepad), one a file, and two once
    # such files were concatenated; CRLF line breaks with them.
    one = json.dumps({"id": "r1", "text": f"{NEWS}\nOne."})
    two = json.dumps({"id": "r2", "text": f"Two.\n{NEWS}"})
    path = tmp_path / "docs.jsonl"
    path.write_bytes(f"\ufeff{one}\r\n\ufeff{two}\r\n\ufeff\r\n".encode())  # and one empty
    result = CliRunner().invoke(cli, ["clean", "-q", "--jsonl", "--scope", "corpus", str(path)])
    assert (result.exit_code, result.stderr) == (0, "")
    first, second, end = result.stdout_bytes.decode().split("\r\n")
    assert end == ""
    assert first == f'\ufeff{one[:-1]}, "dedup": {{"removed": 0, "removals": []}}}}'
    assert second.startswith('\ufeff{"id": "r2", "text": "Two.", "dedup": {"removed": 1')
    assert json.loads(second[1:])["dedup"]["removals"][0]["duplicate_of_document"] == "r1"


def test_a_bad_jsonl_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"text": "fine"}\n{"body": "no text field"}\n')
    code, _, err = run("clean", "--jsonl", str(path))
    assert code == 2
    assert err == f"Error: {path}:2: has no 'text' field (--text-field)\n"


def test_jsonl_ids_must_be_unique(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "x", "text": "a"}\n{"id": "x", "text": "b"}\n')
    code, _, err = run("check", "--jsonl", str(path))
    assert code == 2
    assert err == (
        f"Error: {path}:2: id 'x' names an earlier document too; ids must be unique (--id-field)\n"
    )


def test_several_plain_inputs_need_an_output_folder(tree: Path) -> None:
    code, _, err = run("clean", "corpus/a.txt", "corpus/sub/b.txt")
    assert code == 2
    assert err == (
        "Error: several inputs: write them with --output-dir DIR or --in-place (or use --jsonl)\n"
    )


# --- dedup check -----------------------------------------------------------------------


def test_check_passes_on_a_clean_corpus_and_fails_on_repeats(tree: Path) -> None:
    code, out, err = run("check", "-q", "corpus/sub/b.txt")
    assert (code, out, err) == (0, "1 document, 2 paragraphs, 0 repeated (0.00%)\n", "")
    code, out, err = run("check", "-q", "corpus")
    assert code == 1
    assert out.splitlines()[0] == "3 documents, 7 paragraphs, 3 repeated (42.86%): 2 exact, 1 near"
    assert err == ""


def test_check_text_format(tree: Path) -> None:
    code, out, err = run("check", "corpus", "--max-ratio", "0.5")
    assert code == 0
    assert out == (ROOT / "tests" / "data" / "check.txt").read_text()
    assert err.splitlines() == [
        "dedup: corpus/.git: skipped, hidden",
        "dedup: corpus/logo.png: skipped, binary",
    ]


def test_check_github_format_points_at_each_repeat(tree: Path) -> None:
    code, out, _ = run("check", "-q", "--format", "github", "corpus")
    assert code == 1
    assert out.splitlines() == [
        "::error file=corpus/a.txt,line=3,title=dedup::paragraph 2 of corpus/a.txt repeats "
        "paragraph 0 of corpus/a.txt (exact, 1.00)",
        "::error file=corpus/sub/b.txt,line=2,title=dedup::paragraph 1 of corpus/sub/b.txt "
        "repeats paragraph 0 of corpus/a.txt (near, 1.00)",
        "::error file=corpus/sub/g.txt.gz,line=1,title=dedup::paragraph 0 of "
        "corpus/sub/g.txt.gz repeats paragraph 0 of corpus/a.txt (exact, 1.00)",
        "::error title=dedup check failed::3 of 7 paragraphs are repeats (42.86%25), "
        "above --max-ratio 0",
    ]


def test_check_json_format(tree: Path) -> None:
    code, out, err = run("check", "-q", "--format", "json", "corpus")
    assert (code, err) == (1, "")
    assert out == (ROOT / "tests" / "data" / "check.json").read_text()


def test_check_json_format_and_max_doc_ratio(tree: Path) -> None:
    import jsonschema

    code, out, err = run(
        "check", "-q", "--format", "json", "--max-ratio", "1", "--max-doc-ratio", "0.4", "corpus"
    )
    assert (code, err) == (1, "")
    report = json.loads(out)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["failures"] == [
        "corpus/sub/b.txt: 1 of 2 paragraphs are repeats (50.00%), above --max-doc-ratio 0.4",
        "corpus/sub/g.txt.gz: 1 of 2 paragraphs are repeats (50.00%), above --max-doc-ratio 0.4",
    ]
    assert report["corpus"] == {
        "documents": 3,
        "paragraphs": 7,
        "repeated": 3,
        "known": 0,
        "exact": 2,
        "near": 1,
        "contained": 0,
        "ratio": 0.428571,
    }
    (top,) = report["most_repeated"]
    assert (top["document"], top["index"], top["count"]) == ("corpus/a.txt", 0, 3)


def test_a_baseline_fails_only_on_new_repeats(tree: Path) -> None:
    code, out, err = run("check", "corpus", "--write-baseline", "base.json")
    assert (code, out) == (0, "")
    assert err.splitlines()[-1] == "dedup: base.json: 3 known repeats"
    assert run("check", "-q", "corpus", "--baseline", "base.json")[0] == 0
    (tree / "c.txt").write_text(f"A new story.\n{NEWS}\n")
    code, out, _ = run("check", "-q", "--format", "github", "corpus", "--baseline", "base.json")
    assert code == 1
    assert out.splitlines()[0].startswith("::error file=corpus/c.txt,line=2,")
    code, _, err = run("check", "corpus", "--baseline", "missing.json")
    assert (code, err) == (
        2,
        "Error: missing.json: no such baseline file (make one with --write-baseline)\n",
    )


def test_bad_options_exit_2(tree: Path) -> None:
    code, _, err = run("check", "--max-ratio", "2", "corpus")
    assert code == 2 and "Invalid value for '--max-ratio'" in err
    code, _, err = run("clean", "--backup", ".b", "corpus/a.txt")
    assert (code, err) == (2, "Error: --backup goes with --in-place\n")


# --- settings files ---------------------------------------------------------------------


def test_settings_come_from_pyproject_and_the_command_line_wins(tree: Path) -> None:
    Path("pyproject.toml").write_text(
        '[tool.dedup]\nthreshold = 0.9\nmax-ratio = 0.5\n\n[tool.dedup.check]\nformat = "github"\n'
    )
    code, out, _ = run("check", "--show-settings", "--threshold", "0.85", "corpus")
    assert code == 0
    shown = [line for line in out.splitlines() if not line.endswith("(default)")]
    here = Path.cwd() / "pyproject.toml"
    assert shown == [
        "threshold = 0.85  (command line)",
        f"max-ratio = 0.5  ({here})",
        f"format = 'github'  ({here})",
    ]
    code, out, _ = run("check", "-q", "corpus")
    assert code == 0 and out.startswith("::error file=corpus/a.txt")


def test_dedup_toml_wins_and_unknown_keys_are_named(tree: Path) -> None:
    Path("pyproject.toml").write_text("[tool.dedup]\nthreshold = 0.9\n")
    Path("dedup.toml").write_text("treshold = 0.9\n")
    code, _, err = run("check", "corpus")
    assert (code, err) == (
        2,
        f"Error: {Path.cwd() / 'dedup.toml'}: unknown setting 'treshold' "
        "(did you mean 'threshold'?)\n",
    )
    Path("dedup.toml").write_text("max-ratios = 0.1\n")
    code, _, err = run("check", "corpus")
    assert err.endswith("unknown setting 'max-ratios' (did you mean 'max-ratio'?)\n")
    Path("dedup.toml").write_text("[check]\nbackup = '.b'\n")
    code, _, err = run("check", "corpus")
    assert (code, err) == (
        2,
        f"Error: {Path.cwd() / 'dedup.toml'}: unknown setting 'check.backup'\n",
    )


def test_a_broken_settings_file_is_named_and_another_tools_is_left_alone(tree: Path) -> None:
    without = run("check", "corpus")
    Path("pyproject.toml").write_text("[tool.black\nline-length = 99\n")
    assert run("check", "corpus") == without  # not dedup's: neither read nor judged
    Path("pyproject.toml").write_text("[tool.dedup\nthreshold = 0.9\n")
    code, _, err = run("check", "corpus")
    assert code == 2
    assert err.startswith(f"Error: {Path.cwd() / 'pyproject.toml'}: not valid TOML: ")
    Path("pyproject.toml").write_bytes(b"[tool.dedup]\nthreshold = 0.9 # \xff\n")
    code, _, err = run("check", "corpus")
    assert (code, err.split(": not UTF-8")[0]) == (
        2,
        f"Error: {Path.cwd() / 'pyproject.toml'}: not valid TOML",
    )


# --- clean and check agree on a corpus ---------------------------------------------------


def _jsonl_folder(folder: Path, count: int = 1000) -> None:
    """``count`` JSONL documents in ten files, from the labelled pages (or the fixtures)."""
    texts: list[str] = []
    if PAGES.exists():
        with gzip.open(PAGES, "rt", encoding="utf-8") as pages:
            for line in pages:
                texts.append(json.loads(line)["text"])
                if len(texts) == count:
                    break
    while len(texts) < count:  # without the data: the seed article, cut and shifted
        words = SEED.read_text(encoding="utf-8").splitlines()
        k = len(texts)
        texts.append("\n".join(words[k % 5 :] + words[: k % 5]))
    folder.mkdir()
    for part in range(10):
        with (folder / f"part-{part}.jsonl").open("w", encoding="utf-8") as out:
            for n in range(part * count // 10, (part + 1) * count // 10):
                out.write(json.dumps({"id": f"doc-{n}", "text": texts[n], "n": n}) + "\n")


def test_clean_and_check_agree_on_a_thousand_jsonl_documents(tmp_path: Path) -> None:
    import jsonschema

    folder = tmp_path / "jsonl"
    _jsonl_folder(folder)
    common = ["--jsonl", "--scope", "corpus", "--split", "lines", "-q", "-j", "1", str(folder)]
    code, out, _ = run("clean", *common)
    assert code == 0
    cleaned = [json.loads(line) for line in out.splitlines()]
    assert len(cleaned) == 1000
    code, out, _ = run("check", "--format", "json", "--max-ratio", "1", *common)
    assert code == 0
    report = json.loads(out)
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert [d["document"] for d in report["documents"]] == [r["id"] for r in cleaned]
    for record, document in zip(cleaned, report["documents"], strict=True):
        kinds = [r["kind"] for r in record["dedup"]["removals"]]
        assert record["dedup"]["removed"] == document["repeated"] == len(kinds)
        assert [kinds.count(k) for k in ("exact", "near", "contained")] == [
            document["exact"],
            document["near"],
            document["contained"],
        ]
    assert report["corpus"]["repeated"] == sum(r["dedup"]["removed"] for r in cleaned) > 0


# --- pre-commit ----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_pre_commit_hook_fails_on_repeats_and_passes_on_clean_files(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)

    git("init", "-q")
    (repo / "clean.txt").write_text("One story.\nAnother story, told once.\n")
    (repo / "repeats.txt").write_text(f"{NEWS}\nA story.\n{NEWS}\n")
    git("add", ".")

    def hook(name: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "dedup-check"]
        return subprocess.run(
            [*command, "--files", name], cwd=repo, capture_output=True, text=True, env=env
        )

    passed = hook("clean.txt")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    failed = hook("repeats.txt")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "dedup check (repeated paragraphs)" in failed.stdout
    assert "Failed" in failed.stdout


def test_a_bad_value_in_a_settings_file_names_the_file_and_key(tree: Path) -> None:
    here = Path.cwd() / "pyproject.toml"
    for line, problem in [
        ('threshold = "abc"', "threshold: 'abc' is not a valid float range."),
        ('preset = "loose"', "preset: unknown preset 'loose'; presets: strict, default, lenient"),
        ("max-ratio = 3", "max-ratio: 3.0 is not in the range 0<=x<=1."),
        ("max-ratio = true", "max-ratio: true is not a valid float range."),
        ("jobs = false", "jobs: false is not a valid integer range."),
        ('quiet = "yes"', "quiet: 'yes' is not true or false."),
        ("include = 3", "include: 3 is not a glob nor a list of them."),
    ]:
        here.write_text(f"[tool.dedup]\n{line}\n")
        assert run("check", "corpus") == (2, "", f"Error: {here}: {problem}\n")
    here.write_text('[tool.dedup]\ninclude = "a.*"\n')  # one glob, as a list of one
    assert run("check", "-q", "corpus")[1].startswith("1 document,")
