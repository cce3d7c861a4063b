"""The ``dedup`` command: a thin layer that builds a config, calls the library, renders.

Exit codes: 0 success; 1 a check failed; 2 a usage error or an input that cannot be read.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from typing import Any, NoReturn

import click

from dedup.config import SPLIT_MODES, Config
from dedup.deduplicator import clean as clean_text
from dedup.errors import DedupError
from dedup.files import read_stream, read_text, same_file, write_atomic
from dedup.result import CleanResult
from dedup.result import report as make_report

EXIT_USAGE = 2


class Failure(click.ClickException):
    """A usage or input error: one line on stderr, exit code 2."""

    exit_code = EXIT_USAGE


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DedupError as error:
            raise Failure(str(error)) from None
        except BrokenPipeError:
            # The reader went away (`dedup clean big.txt | head`): not an error of ours.
            # Point stdout at devnull so that the interpreter's final flush stays quiet.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return None


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="dedup: %(message)s", stream=sys.stderr)


def _color(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and bool(getattr(stream, "isatty", lambda: False)())


# First match wins: file headers before removed and added lines.
_DIFF_STYLES = (("---", "bold"), ("+++", "bold"), ("@@", "cyan"), ("-", "red"), ("+", "green"))


def _print_diff(diff: str) -> None:
    """The unified diff on stderr: coloured with rich on a terminal, plain otherwise."""
    if not _color(sys.stderr):
        click.echo(diff, err=True, nl=False)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, force_terminal=True, highlight=False, soft_wrap=True)
    for line in diff.splitlines():
        style = next((style for prefix, style in _DIFF_STYLES if line.startswith(prefix)), "")
        console.print(Text(line, style=style))


def _summary(result: CleanResult, name: str) -> str:
    kinds: dict[str, int] = {}
    for removal in result.removed:
        kinds[removal.kind] = kinds.get(removal.kind, 0) + 1
    detail = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    return f"{name}: removed {len(result.removed)} of {len(result.paragraphs)} paragraphs" + (
        f" ({detail})" if detail else ""
    )


def _fail(message: str) -> NoReturn:
    raise Failure(message)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dedup")
def cli() -> None:
    """Find and remove repeated paragraphs in scraped text, and say why.

    Exit codes: 0 success, 1 a check failed, 2 a usage error or unreadable input.
    """


@cli.command()
@click.argument("path", default="-", metavar="[PATH|-]")
@click.option(
    "-o",
    "--output",
    default="-",
    metavar="FILE",
    help="Write the cleaned text here (default: standard output).",
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print what was removed as a unified diff on stderr."
)
@click.option("--report", metavar="FILE", help="Write a JSON report of every removal to FILE.")
@click.option(
    "--strict",
    "preset",
    flag_value="strict",
    help="Fewer removals: threshold and containment 0.9.",
)
@click.option(
    "--lenient",
    "preset",
    flag_value="lenient",
    help="More removals: threshold and containment 0.6.",
)
@click.option(
    "--split",
    type=click.Choice(SPLIT_MODES),
    help="Paragraphs are blank-line blocks, lines, or whichever the text uses (auto, default).",
)
@click.option(
    "--threshold", type=click.FloatRange(0, 1, min_open=True), help="Jaccard for near copies [0.8]."
)
@click.option(
    "--containment",
    type=click.FloatRange(0, 1, min_open=True),
    help="Share contained for cut-off copies [0.8].",
)
@click.option("--shingle-size", type=click.IntRange(1), help="Tokens per shingle [3].")
@click.option(
    "--min-tokens",
    type=click.IntRange(1),
    help="Shorter paragraphs are not compared by shingles [8].",
)
@click.option("--num-perm", type=click.IntRange(2), help="MinHash permutations [128].")
@click.option("--seed", type=click.IntRange(0), help="MinHash seed [1].")
@click.option(
    "--encoding", default="utf-8", show_default=True, help="Encoding of the input and output."
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also say why paragraphs close to an earlier one were kept (stderr and report).",
)
@click.option("-v", "--verbose", count=True, help="Say what was removed and why.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but the cleaned text.")
def clean(
    path: str,
    output: str,
    show_diff: bool,
    report: str | None,
    explain: bool,
    preset: str | None,
    encoding: str,
    verbose: int,
    quiet: bool,
    **options: Any,
) -> None:
    """Remove repeated paragraphs from PATH (or standard input) and print the rest.

    The first copy of a paragraph stays; later copies (exact, near, or cut-off) go.
    Kept paragraphs come out byte for byte as they went in.
    """
    _setup_logging(verbose, quiet)
    config = Config.preset(preset or "default", **options)
    text = read_stream(sys.stdin.buffer) if path == "-" else read_text(path, encoding)
    if output != "-" and path != "-" and same_file(path, output):
        _fail(f"{output}: refusing to overwrite the input with the output")
    name = "<stdin>" if path == "-" else path
    result = dataclasses.replace(clean_text(text, config), document=name)

    if report:
        body = json.dumps(make_report([result], config, explain), ensure_ascii=False, indent=2)
        write_atomic(report, (body + "\n").encode())
    data = result.text.encode(encoding)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomic(output, data)
    if show_diff:
        _print_diff(result.diff())
    if not quiet:
        click.echo(f"dedup: {_summary(result, name)}", err=True)
        if verbose:
            for removal in result.removed:
                click.echo(
                    f"dedup:   paragraph {removal.index} repeats {removal.duplicate_of} "
                    f"({removal.kind}, {removal.similarity:.2f}): {removal.reason}",
                    err=True,
                )
        if explain:
            for call in result.close:
                click.echo(
                    f"dedup:   paragraph {call.index} kept, close to {call.candidate} "
                    f"({call.similarity:.2f}): {call.reason}",
                    err=True,
                )
