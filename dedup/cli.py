"""The ``dedup`` command: a thin layer that builds a config, calls the library, renders.

Exit codes: 0 success; 1 a check failed; 2 a usage error or an input that cannot be read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections import Counter
from typing import Any, NoReturn

import click

from dedup.config import SPLIT_MODES, Config
from dedup.deduplicator import Deduplicator
from dedup.errors import DedupError
from dedup.files import atomic_writer, read_chunks, same_file
from dedup.result import CloseCall, Removal, ReportWriter, unified_diff

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


def _summary(name: str, paragraphs: int, kinds: Counter[str]) -> str:
    detail = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    return f"{name}: removed {sum(kinds.values())} of {paragraphs} paragraphs" + (
        f" ({detail})" if detail else ""
    )


class _Progress:
    """A rich progress bar on stderr for long runs (after a second), when stderr is a
    terminal and not ``quiet``; else nothing. Refreshed by hand, so that no thread runs
    while worker processes are forked."""

    def __init__(self, total: int | None, quiet: bool) -> None:
        self._on = not quiet and sys.stderr.isatty()
        self._total = total
        self._start = time.monotonic()
        self._shown = 0.0
        self._bar: Any = None

    def update(self, done: int, documents: int, paragraphs: int) -> None:
        if not self._on:
            return
        now = time.monotonic()
        if now - self._start < 1.0 or now - self._shown < 0.1:
            return
        self._shown = now
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[documents]:,} documents"),
                TextColumn("{task.fields[paragraphs]:,} paragraphs"),
                TextColumn("{task.fields[rate]:,.0f} paragraphs/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                auto_refresh=False,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(
                "", total=self._total, documents=0, paragraphs=0, rate=0
            )
        rate = paragraphs / (now - self._start)
        self._bar.update(
            self._task, completed=done, documents=documents, paragraphs=paragraphs, rate=rate
        )
        self._bar.refresh()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


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
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1),
    help="Processes that fingerprint paragraphs (default: all cores). Same output for any N.",
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
    jobs: int | None,
    **options: Any,
) -> None:
    """Remove repeated paragraphs from PATH (or standard input) and print the rest.

    The first copy of a paragraph stays; later copies (exact, near, or cut-off) go.
    Kept paragraphs come out byte for byte as they went in.
    """
    _setup_logging(verbose, quiet)
    config = Config.preset(preset or "default", **options)
    if output != "-" and path != "-" and same_file(path, output):
        _fail(f"{output}: refusing to overwrite the input with the output")
    name = "<stdin>" if path == "-" else path
    total = None if path == "-" else _size(path)
    original: list[str] = []  # kept only to show the diff
    cleaned: list[str] = []
    close_calls: list[CloseCall] = []
    report_writer: ReportWriter | None = None

    def handle(events: list[Removal | CloseCall]) -> None:
        if report_writer is not None:
            report_writer.add(events)
        for event in events:
            if isinstance(event, CloseCall):
                if explain:
                    close_calls.append(event)
            elif verbose and not quiet:
                click.echo(
                    f"dedup:   paragraph {event.index} repeats {event.duplicate_of} "
                    f"({event.kind}, {event.similarity:.2f}): {event.reason}",
                    err=True,
                )

    progress = _Progress(total, quiet)
    with contextlib.ExitStack() as stack:
        dedup = stack.enter_context(Deduplicator(config, jobs=jobs or os.cpu_count() or 1))
        sink = sys.stdout.buffer if output == "-" else stack.enter_context(atomic_writer(output))
        report_writer = (
            ReportWriter(stack.enter_context(atomic_writer(report)), config, explain)
            if report
            else None
        )

        def write(text: str) -> None:
            sink.write(text.encode(encoding))
            if show_diff:
                cleaned.append(text)

        cleaner = dedup.cleaner(name, write)
        if report_writer is not None:
            report_writer.start(name)
        stdin = sys.stdin.buffer if path == "-" else None
        for text, done in read_chunks(None if path == "-" else path, encoding, stream=stdin):
            if show_diff:
                original.append(text)
            handle(cleaner.feed(text))
            progress.update(done, 0, cleaner.paragraphs)
        handle(cleaner.close())
        progress.stop()
        if report_writer is not None:
            assert cleaner.split is not None
            report_writer.end(cleaner.split, cleaner.paragraphs)
            report_writer.close()
    if output == "-":
        sys.stdout.buffer.flush()
    if show_diff:
        _print_diff(unified_diff("".join(original), "".join(cleaned), name))
    if not quiet:
        if explain:
            for call in close_calls:
                click.echo(
                    f"dedup:   paragraph {call.index} kept, close to {call.candidate} "
                    f"({call.similarity:.2f}): {call.reason}",
                    err=True,
                )
        click.echo(f"dedup: {_summary(name, cleaner.paragraphs, cleaner.removed)}", err=True)


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None
