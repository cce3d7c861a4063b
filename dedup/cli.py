"""The ``dedup`` command: a thin layer that builds a config, calls the library, renders.

Exit codes: 0 success; 1 a check failed; 2 a usage error or an input that cannot be read;
3 a worker process died (killed, out of memory); 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM): every file is then left as it was.
"""

from __future__ import annotations

import _thread
import contextlib
import io
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

import click
from click.core import ParameterSource

from dedup import settings
from dedup.collector import collect_less
from dedup.config import PRESETS, SPLIT_MODES, Config
from dedup.corpus import SCOPES, Outcome, clean_documents
from dedup.errors import DedupError, WorkerError
from dedup.extract import EXTRACT_MODES
from dedup.files import Staged, atomic_writer, is_regular_or_missing, remove_own, write_atomic
from dedup.index import Index, check_settings, open_index
from dedup.malloc import return_freed_memory
from dedup.native import COMPILED
from dedup.outputs import STDOUT, Outputs, refuse_inputs, written_by_dedup
from dedup.result import CloseCall, Removal, ReportWriter, unified_diff
from dedup.sources import Document, Source, documents, find
from dedup.verify import KINDS

if TYPE_CHECKING:
    from dedup.check import CheckReport
    from dedup.report.html import HtmlReport

EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_WORKER = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

#: Standard streams the caller closed (``<&-``, ``>&-``, ``2>&-``): see _guard_streams.
_CLOSED: set[int] = set()


class Failure(click.ClickException):
    """A usage or input error: one line on stderr, exit code 2."""

    exit_code = EXIT_USAGE


class _Terminated(BaseException):
    """SIGTERM arrived: stop as Ctrl-C does (temporary files go, workers end)."""


def _terminate(signum: int, frame: Any) -> None:
    _arm("terminated", EXIT_TERMINATED)
    raise _Terminated


def _interrupt(signum: int, frame: Any) -> None:
    _arm("interrupted", EXIT_INTERRUPTED)
    raise KeyboardInterrupt


#: Seconds a stopped run has to clean up before it ends regardless (see _arm).
GRACE = 10.0
_armed: list[bool] = []


def _arm(how: str, code: int) -> None:
    """A signal stopped the run: if its way out has not ended it within :data:`GRACE`
    seconds, end it from another thread. The signal's exception can land anywhere, inside
    a library's critical section too (a lock taken, the ``try`` that releases it not yet
    entered), and what waits for that lock on the way out waits for good; a ``close``
    that does not wait for the worker pool avoids the one such hang seen, this ends any
    other: the run's temporary files go as a later run would remove them were it killed
    (a ``.bak`` stays where its input was already replaced), and it leaves at once."""
    if _armed:
        return
    _armed.append(True)
    # A thread without threading's own locks: the signal may have caught one of them.
    _thread.start_new_thread(_end_stuck_run, (how, code))


def _end_stuck_run(how: str, code: int) -> None:
    time.sleep(GRACE)
    left = remove_own()
    if left:
        _stop(
            f"dedup: {how} while files were put in place; the originals of those replaced "
            f"are kept: {', '.join(left)}",
            code,
            stuck=True,
        )
    _stop(_ALL_KEPT.format(how), code, stuck=True)


def _guard_streams() -> None:
    """Open a standard stream the caller closed on the null device, so that no file this run
    opens takes its number (and, for stdout, receives what was meant for it). Reading
    standard input or writing standard output is then an error; stderr says nothing."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            _CLOSED.add(fd)
            os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)  # the lowest: fd
    if sys.stdin is None:
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def _say(message: str) -> None:
    """One line on stderr, if anyone can read it."""
    with contextlib.suppress(OSError, ValueError):
        click.echo(message, err=True)


#: The line of a run stopped before its end whose files are all as they were.
_ALL_KEPT = "dedup: {}; every file is as it was"
_LEAVING = _thread.allocate_lock()


def _stop(message: str, code: int, *, stuck: bool = False) -> NoReturn:
    """End a run that a signal stopped or a dead worker process broke, once its files are
    cleaned up (the ``finally`` blocks on the way here did that): say so and leave at once. The exit
    handlers are skipped: a worker pool interrupted mid-call can leave the interpreter's
    own exit waiting for it forever (seen once under load); the workers end with their
    parent. From the thread that ends a ``stuck`` run (see :func:`_arm`), the line goes
    straight to the descriptor (the stuck thread may hold the stream's lock) and nothing
    is flushed. Whichever of the two comes here first says its line; the other waits."""
    if not _LEAVING.acquire(blocking=False):
        time.sleep(GRACE + 60)  # the other one is leaving
    if stuck:
        with contextlib.suppress(OSError):
            os.write(2, f"{message}\n".encode())
        os._exit(code)
    _say(message)
    for stream in (sys.stdout, sys.stderr):  # what the exit would have flushed
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        _guard_streams()
        return_freed_memory()
        collect_less()
        previous = signal.signal(signal.SIGTERM, _terminate)
        # Ctrl-C as before, armed (see _arm); ignored where it was (a shell's background job)
        previous_int = signal.getsignal(signal.SIGINT)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt)
        try:
            return super().main(*args, **kwargs)
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WorkerError as error:
            _stop(_ALL_KEPT.format(error), EXIT_WORKER)
        except DedupError as error:
            raise Failure(str(error)) from None
        except BrokenPipeError:
            # The reader went away (`dedup clean big.txt | head`): not an error of ours;
            # a check still exits with its verdict. Point stdout at the null device so that
            # the interpreter's final flush stays quiet.
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(ctx.meta.get("verdict", 0))
        except KeyboardInterrupt:
            _stop(_ALL_KEPT.format("interrupted"), EXIT_INTERRUPTED)
        except _Terminated:
            _stop(_ALL_KEPT.format("terminated"), EXIT_TERMINATED)


def _setup_logging(verbose: int, quiet: bool) -> None:
    """Messages logged by a library that ``dedup`` uses (redis-py, for an index in Redis)
    are printed as dedup's own, or not at all with ``--quiet``. Set up only where an index
    is opened: dedup logs nothing itself, and ``logging`` takes ~10 ms to import."""
    import logging

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
    for line in diff.split("\n")[:-1]:  # each line ends with LF (see unified_diff)
        style = next((style for prefix, style in _DIFF_STYLES if line.startswith(prefix)), "")
        console.print(Text(line, style=style))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _summary(name: str, paragraphs: int, kinds: Counter[str]) -> str:
    detail = ", ".join(f"{kinds[kind]} {kind}" for kind in KINDS if kinds[kind])
    return f"{name}: removed {sum(kinds.values())} of {_plural(paragraphs, 'paragraph')}" + (
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
                TextColumn("{task.fields[documents]}"),
                TextColumn("{task.fields[paragraphs]:,} paragraphs"),
                TextColumn("{task.fields[rate]:,.0f} paragraphs/s"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                auto_refresh=False,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(
                "", total=self._total, documents="", paragraphs=0, rate=0
            )
        rate = paragraphs / (now - self._start)
        self._bar.update(
            self._task,
            completed=done,
            documents=_plural(documents, "document"),
            paragraphs=paragraphs,
            rate=rate,
        )
        self._bar.refresh()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


class _Fraction(click.FloatRange):
    """A float in a range, which NaN is not (click's range check lets it through: every
    comparison with NaN is false, so a check with --max-ratio nan passed every corpus)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


def _fail(message: str) -> NoReturn:
    raise Failure(message)


class _Command(click.Command):
    """A command whose option defaults come from the nearest ``dedup.toml`` or
    ``pyproject.toml`` ``[tool.dedup]`` (see :mod:`dedup.settings`)."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> click.Context:
        found = settings.find(Path.cwd())
        if found is not None:
            path, table = found
            try:
                commands = {name: _option_names(c) for name, c in _commands()}
                extra["default_map"] = defaults = settings.defaults(
                    table, path, self.name or "", commands
                )
            except DedupError as error:
                raise Failure(str(error)) from None
            self._check_values(defaults, path)
        context = super().make_context(info_name, args, parent, **extra)
        context.meta["settings_file"] = found[0] if found else None
        return context

    def _check_values(self, defaults: dict[str, Any], path: Path) -> None:
        """A bad value in a settings file is an error naming the file and the key."""
        scratch = click.Context(self)
        for param in self.params:
            if param.name not in defaults:
                continue
            value = defaults[param.name]
            key = "preset" if param.name == "preset" else _long_name(param)  # type: ignore[arg-type]
            if param.multiple and isinstance(value, str):  # one glob: a list of one
                defaults[param.name] = value = [value]
            try:
                if param.name == "preset":
                    Config.preset(value)
                else:
                    _check_kind(param, value)
                    param.type_cast_value(scratch, value)
            except (click.BadParameter, DedupError) as error:
                problem = error.message if isinstance(error, click.BadParameter) else str(error)
                raise Failure(f"{path}: {key.replace('_', '-')}: {problem}") from None


def _check_kind(param: click.Parameter, value: Any) -> None:
    """Refuse a settings file's value of the wrong TOML kind, which click would take: a
    boolean for a number (Python counts it as 1 or 0), anything but one for a flag."""
    flag = isinstance(param, click.Option) and param.is_flag
    if flag and not isinstance(value, bool):
        raise click.BadParameter(f"{value!r} is not true or false.")
    if param.multiple and not isinstance(value, list):
        one = (param.metavar or "value").lower()
        raise click.BadParameter(f"{value!r} is not a {one} nor a list of them.")
    if not flag and isinstance(value, bool):
        raise click.BadParameter(f"{str(value).lower()} is not a valid {param.type.name}.")


def _version(context: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``: the version, and what runs compiled (worked out only when asked)."""
    if not value or context.resilient_parsing:
        return
    from importlib.metadata import version

    from dedup import compiled

    modules = compiled.running()
    if COMPILED and modules:
        how = f"compiled kernels and {len(modules)} modules compiled"
    elif COMPILED:
        how = "compiled kernels, modules in pure Python (not built, or edited since)"
    else:
        how = "pure Python (compiled kernels and modules not built or off)"
    click.echo(f"{context.find_root().info_name}, version {version('paradedup')}, {how}")
    context.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Find and remove repeated paragraphs in scraped text, and say why.

    Exit codes: 0 success, 1 a check failed, 2 a usage error or unreadable input, 3 a
    worker process died.
    """


#: Which files of a folder are read: the options of every command that walks folders.
_WALKING = [
    click.option(
        "--include",
        multiple=True,
        metavar="GLOB",
        help="In folders, only files matching (as .gitignore reads it).",
    ),
    click.option(
        "--exclude",
        multiple=True,
        metavar="GLOB",
        help="In folders, skip what matches (a folder: all in it).",
    ),
]

#: How paragraphs are compared: the options of every command that cleans.
_COMPARING = [
    click.option("--strict", "preset", flag_value="strict", help="Fewer removals: 0.9."),
    click.option("--lenient", "preset", flag_value="lenient", help="More removals: 0.6."),
    click.option(
        "--split",
        type=click.Choice(SPLIT_MODES),
        help="Paragraphs are blank-line blocks, lines, or whichever the text uses (auto).",
    ),
    click.option(
        "--threshold",
        type=_Fraction(0, 1, min_open=True),
        help="Jaccard for near copies [0.8].",
    ),
    click.option(
        "--containment",
        type=_Fraction(0, 1, min_open=True),
        help="Share contained for cut-off copies [0.8].",
    ),
    click.option("--shingle-size", type=click.IntRange(1), help="Tokens per shingle [3]."),
    click.option(
        "--min-tokens",
        type=click.IntRange(1),
        help="Shorter paragraphs are not compared by shingles [8].",
    ),
    click.option("--num-perm", type=click.IntRange(2), help="MinHash permutations [128]."),
    click.option("--seed", type=click.IntRange(0), help="MinHash seed [1]."),
]


def _apply(
    options: Sequence[Callable[[Any], Any]],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator that adds ``options`` in their order."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``clean`` and ``check`` share: what to read, and how to compare."""
    options = [
        click.argument("paths", nargs=-1, metavar="[PATH|-]..."),
        *_WALKING,
        click.option("--jsonl", is_flag=True, help="Inputs are JSON Lines, a document a line."),
        click.option("--text-field", default="text", show_default=True, help="JSONL text field."),
        click.option("--id-field", default="id", show_default=True, help="JSONL id field."),
        click.option(
            "--html-field",
            metavar="FIELD",
            help="JSONL records hold a page's HTML here: its text is cleaned (and written to "
            "--text-field).",
        ),
        click.option(
            "--extract",
            type=click.Choice(EXTRACT_MODES),
            default="main",
            show_default=True,
            help="The text of HTML pages (.html, .htm, --html-field; standard input when "
            "given here): their main text (trafilatura), the whole page's, or none (read the "
            "file as text).",
        ),
        *_COMPARING,
        click.option(
            "--encoding", default="utf-8", show_default=True, help="Encoding of inputs and outputs."
        ),
        click.option(
            "--index",
            metavar="PATH|URL",
            envvar="DEDUP_INDEX",
            help="An index that outlives the run, in a folder or shared through redis://URL "
            "(made on first use): documents are checked against it, and clean adds what it "
            "keeps once delivered. Implies --scope corpus.",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(1),
            help="Processes that fingerprint and compare paragraphs (default: all cores); "
            "same output.",
        ),
        click.option("-v", "--verbose", count=True, help="Say what was removed and why."),
        click.option("-q", "--quiet", is_flag=True, help="Print no summary or notes."),
        click.option(
            "--show-settings",
            is_flag=True,
            help="Print the settings in force, and where each comes from; then stop.",
        ),
    ]
    return _apply(options)(function)


def _scope(default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--scope",
        type=click.Choice(SCOPES),
        default=default,
        show_default=True,
        help="Repeats within each document, or also across documents (first seen wins).",
    )


_CONFIG_FIELDS = (
    "split",
    "threshold",
    "containment",
    "shingle_size",
    "min_tokens",
    "num_perm",
    "seed",
)


def _show_settings(context: click.Context, config: Config) -> None:
    """Each option's value in force and where it comes from: command line, file, preset
    or default."""
    file = context.meta.get("settings_file")
    preset = context.params.get("preset")
    lines = []
    shown: set[str] = set()
    for param in context.command.params:
        if not isinstance(param, click.Option) or param.name in {"show_settings", "help", *shown}:
            continue
        name = param.name or ""
        shown.add(name)
        source = context.get_parameter_source(name)
        where = (
            "command line"
            if source is ParameterSource.COMMANDLINE
            else str(file)
            if source is ParameterSource.DEFAULT_MAP
            else "default"
        )
        value = context.params.get(name)
        if name == "jobs" and value is None:
            value = os.cpu_count() or 1  # all cores
        if name in _CONFIG_FIELDS:
            value = getattr(config, name)
            if where == "default" and preset and name in PRESETS[preset]:
                where = f"preset {preset}"
        key = "preset" if name == "preset" else _long_name(param)
        lines.append(f"{key.replace('_', '-')} = {value!r}  ({where})")
    click.echo("\n".join(lines))


def _prepare(
    context: click.Context, paths: tuple[str, ...], options: dict[str, Any]
) -> tuple[Config, list[str]]:
    config = Config.preset(
        options.pop("preset") or "default", **{k: options.pop(k) for k in _CONFIG_FIELDS}
    )
    if options.pop("show_settings"):
        _show_settings(context, config)
        context.exit(0)
    return config, list(paths) or ["-"]


def _index(
    context: click.Context, options: dict[str, Any], config: Config, writable: bool = True
) -> Index | None:
    """The index of ``--index`` (closed when the command ends), or None; it makes the
    scope ``corpus``, and refuses an explicit ``--scope document``. Not ``writable``, it
    must exist, and other readers may read it at the same time."""
    url = options.pop("index")
    given = context.get_parameter_source("index")
    if url == "" and given in (ParameterSource.COMMANDLINE, ParameterSource.DEFAULT_MAP):
        _fail("--index is empty: name a folder or a redis:// URL, or leave it out")
    if not url:  # none, or DEDUP_INDEX set to nothing
        return None
    if (
        context.get_parameter_source("scope")
        in (
            ParameterSource.COMMANDLINE,
            ParameterSource.DEFAULT_MAP,
        )
        and options["scope"] != "corpus"
    ):
        _fail("--index holds paragraphs across documents: it goes with --scope corpus")
    options["scope"] = "corpus"
    _setup_logging(options["verbose"], options["quiet"])
    index = open_index(url, config, writable=writable)
    context.call_on_close(index.close)
    check_settings(index, config)
    return index


def _noted(options: dict[str, Any]) -> Callable[[str], None]:
    """What prints a note on standard error (a file skipped, and why), unless ``--quiet``."""

    def note(message: str) -> None:
        if not options["quiet"]:
            click.echo(f"dedup: {message}", err=True)

    return note


def _sources(paths: list[str], options: dict[str, Any]) -> Iterator[Source]:
    if options["html_field"] and not options["jsonl"]:
        _fail("--html-field names a field of JSONL records: it goes with --jsonl")
    if options["html_field"] and options["extract"] == "none":
        _fail("--extract none reads no HTML: to clean that field as text, use --text-field")

    return find(
        paths,
        options["include"],
        options["exclude"],
        _noted(options),
        skip_suffix=options.get("backup"),
        extract=options["extract"],
        # A page piped in has no name to tell it by: --extract given says it is one.
        stdin_page=click.get_current_context().get_parameter_source("extract")
        is ParameterSource.COMMANDLINE,
        once=not options.get("in_place"),  # --in-place refuses a file named twice
        own=_own(options),
    )


#: The files and folders a command writes or reads for itself, by option, and whether
#: the option names a folder: met in a folder the command reads, a folder is no input, nor
#: a file that holds what dedup writes there (a report, a baseline; see
#: :func:`dedup.sources.find`); a file of other content stays an input, which the run then
#: refuses to write over (``--html corpus/a.txt`` is a slip, not a request to replace it).
_OWN = {
    "output_dir": ("this run's output folder (--output-dir)", True),
    "index": ("the index (--index)", True),
    "output": ("this run's output (-o)", False),
    "report": ("this run's report (--report)", False),
    "html": ("this run's HTML report (--html)", False),
    "baseline": ("the baseline (--baseline)", False),
    "write_baseline": ("the baseline this run writes (--write-baseline)", False),
}


def _own(options: dict[str, Any]) -> dict[str, str]:
    """The paths of :data:`_OWN` that ``options`` name (not standard output, not an
    index's URL), and what each is."""
    own = {}
    for option, (what, folder) in _OWN.items():
        path = options.get(option)
        if not path or path == STDOUT or "://" in path:
            continue
        if folder or written_by_dedup(path):
            own[path] = what
    return own


def _documents(sources: Iterable[Source], options: dict[str, Any]) -> Iterator[Document]:
    return documents(
        iter(sources),
        options["encoding"],
        jsonl=options["jsonl"],
        text_field=options["text_field"],
        id_field=options["id_field"] or None,
        stdin=_stdin(),
        html_field=options["html_field"],
        extract=options["extract"],
    )


def _stdin() -> BinaryIO:
    if 0 in _CLOSED:
        closed = io.BytesIO()
        closed.close()
        return closed
    return sys.stdin.buffer


def _need_stdout() -> None:
    if 1 in _CLOSED:
        _fail("standard output is closed; name an output file (-o FILE)")


@cli.command(cls=_Command)
@_common
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the cleaned text here (one input; default: stdout).",
)
@click.option(
    "--output-dir", metavar="DIR", help="Write each cleaned file here, mirroring the inputs' tree."
)
@click.option("--in-place", is_flag=True, help="Rewrite each file, atomically.")
@click.option(
    "--backup", metavar="SUFFIX", help="With --in-place, keep the original as FILE+SUFFIX."
)
@_scope("document")
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print what was removed as a unified diff on stderr."
)
@click.option("--report", metavar="FILE", help="Write a JSON report of every removal to FILE.")
@click.option(
    "--html",
    metavar="FILE",
    help="Write an HTML report to FILE: each removal beside what it repeats, to look at.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also say why paragraphs close to an earlier one were kept (stderr and report).",
)
@click.pass_context
def clean(context: click.Context, /, paths: tuple[str, ...], **options: Any) -> None:
    """Remove repeated paragraphs from the PATHs (files, folders, - for stdin) and write
    the rest.

    The first copy of a paragraph stays; later copies (exact, near, or cut-off) go.
    Kept paragraphs come out byte for byte as they went in.
    """
    config, inputs = _prepare(context, paths, options)
    output, output_dir, in_place = options["output"], options["output_dir"], options["in_place"]
    if sum(map(bool, (output, output_dir, in_place))) > 1:
        _fail("choose one of -o/--output, --output-dir and --in-place")
    if options["backup"] is not None and not in_place:
        _fail("--backup goes with --in-place")
    if in_place and "-" in inputs:
        _fail("--in-place cannot rewrite standard input")
    many = not (output_dir or in_place or options["jsonl"])
    for path in inputs:
        if many and os.path.isdir(path):
            _fail(f"{path}: is a folder: write its files with --output-dir DIR or --in-place")
    sources = list(_sources(inputs, options))
    if many and len(sources) > 1:
        _fail("several inputs: write them with --output-dir DIR or --in-place (or use --jsonl)")
    text_to_stdout = output in (None, STDOUT) and not (output_dir or in_place)
    if text_to_stdout or STDOUT in (options["report"], options["html"]):
        _need_stdout()
    index = _index(context, options, config)
    verbose, quiet, explain, jsonl = (
        options["verbose"],
        options["quiet"],
        options["explain"],
        options["jsonl"],
    )
    close_calls: list[tuple[str, CloseCall]] = []
    diffs: dict[str, tuple[list[str], list[str]]] = {}

    with (
        Outputs(
            sources,
            output=output,
            output_dir=output_dir,
            in_place=in_place,
            backup=options["backup"],
            report=options["report"],
            html=options["html"],
            stdout=sys.stdout.buffer,
        ) as outputs,
        contextlib.ExitStack() as stack,
    ):
        report_writer = (
            ReportWriter(outputs.report, config, explain) if outputs.report is not None else None
        )
        html = stack.enter_context(_html_report(config, sources)) if outputs.html else None
        pieces: list[str] = []

        def writer(document: Document) -> Callable[[str], None]:
            write = outputs.writer(document)
            if report_writer is not None:
                report_writer.start(document.name)
            if html is not None:
                html.start(document.name)
            if jsonl:  # the record is written whole once its document is cleaned
                pieces.clear()
                write = pieces.append
            if not options["show_diff"]:
                return write
            kept = diffs.setdefault(document.name, ([], []))[1]

            def write_and_keep(text: str) -> None:
                write(text)
                kept.append(text)

            return write_and_keep

        def events(document: Document, found: list[Removal | CloseCall]) -> None:
            if report_writer is not None:
                report_writer.add(found)
            if html is not None:
                html.add(e for e in found if explain or isinstance(e, Removal))
            for event in found:
                if isinstance(event, CloseCall):
                    if explain:
                        close_calls.append((document.name, event))
                elif verbose and not quiet:
                    click.echo(
                        f"dedup:   {document.name}: paragraph {event.index} repeats "
                        f"{_ref(event.duplicate_of_document, event.duplicate_of)} "
                        f"({event.kind}, {event.similarity:.2f}): {event.reason}",
                        err=True,
                    )

        progress = _Progress(_total(sources), quiet)
        docs = _documents(sources, options)
        total = Counter[str]()
        paragraphs = 0
        count = [0]  # documents done, for the progress bar
        for outcome in clean_documents(
            _tee(docs, diffs) if options["show_diff"] else docs,
            config,
            scope=options["scope"],
            jobs=options["jobs"] or os.cpu_count() or 1,
            writer=writer,
            # Removals and close calls are made only for someone to see them.
            events=events if report_writer or html or explain or (verbose and not quiet) else None,
            progress=lambda done, seen: progress.update(done, count[0] + 1, seen),
            keep_removals=jsonl,
            index=index,
            texts=None if html is None else lambda document, first, found: html.texts(first, found),
            kinds=not quiet,  # the summary tells them apart
        ):
            document = outcome.document
            count[0] += 1
            paragraphs += outcome.paragraphs
            total.update(outcome.kinds)
            if report_writer is not None:
                report_writer.end(outcome.split, outcome.paragraphs)
            if html is not None:
                html.end(outcome.paragraphs)
            if jsonl:
                assert document.record is not None
                from dedup.jsonl import cleaned_line  # json: only for JSONL

                assert len(outcome.removals) == outcome.removed
                line = cleaned_line(
                    document.record,
                    outcome.removals,
                    "".join(pieces),
                    options["text_field"],
                    extracted=options["html_field"] is not None,
                )
                line += "\n"
                outputs.sink(document.source).write(line.encode("utf-8"))
        progress.stop()
        if report_writer is not None:
            report_writer.close()
        if html is not None:
            assert outputs.html is not None
            html.write(outputs.html)
    sys.stdout.buffer.flush()
    if index is not None:  # every output is delivered: what they keep enters the index
        index.commit()
    for name, (original, cleaned) in diffs.items():
        _print_diff(unified_diff("".join(original), "".join(cleaned), name))
    if not quiet:
        for name, call in close_calls:
            click.echo(
                f"dedup:   {name}: paragraph {call.index} kept, close to "
                f"{_ref(call.candidate_document, call.candidate)} "
                f"({call.similarity:.2f}): {call.reason}",
                err=True,
            )
        label = sources[0].name if count[0] == 1 else f"{count[0]} documents"
        click.echo(f"dedup: {_summary(label, paragraphs, total)}", err=True)


def _html_report(config: Config, sources: Sequence[Source]) -> HtmlReport:
    """The HTML report of a run over ``sources``, titled after them."""
    from dedup.report.html import HtmlReport  # only when one is written

    named = sources[0].name if len(sources) == 1 else f"{len(sources)} inputs"
    return HtmlReport(config, title=f"dedup report: {named}")


def _ref(document: str | None, index: int) -> str:
    """A paragraph: its index, with its document's name when it is another document."""
    return str(index) if document is None else f"{document}:{index}"


def _tee(
    docs: Iterator[Document], diffs: dict[str, tuple[list[str], list[str]]]
) -> Iterator[Document]:
    """Keep each document's original text for the diff."""
    for document in docs:
        original, _ = diffs.setdefault(document.name, ([], []))

        def pieces(
            chunks: Iterator[tuple[str, int]] = document.chunks, keep: list[str] = original
        ) -> Iterator[tuple[str, int]]:
            for text, done in chunks:
                keep.append(text)
                yield text, done

        document.chunks = pieces()
        yield document


def _total(sources: list[Source]) -> int | None:
    if len(sources) != 1 or sources[0].path is None:
        return None
    try:
        return os.path.getsize(sources[0].path)
    except OSError:
        return None


@cli.command(cls=_Command)
@_common
@_scope("corpus")
@click.option(
    "--max-ratio",
    type=_Fraction(0, 1),
    default=0.0,
    show_default=True,
    help="Fail when more than this share of all paragraphs are repeats.",
)
@click.option(
    "--max-doc-ratio",
    type=_Fraction(0, 1),
    help="Fail when a document has more than this share of repeats.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "json", "github", "html")),
    default="text",
    show_default=True,
    help="A table, a JSON report (schema: dedup/schemas/check.schema.json), GitHub "
    "annotations, or an HTML report of every repeat beside what it repeats.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the JSON, GitHub or HTML report to FILE (written whole, or not at all).",
)
@click.option("--baseline", metavar="FILE", help="Count only repeats not recorded in FILE.")
@click.option("--write-baseline", metavar="FILE", help="Record today's repeats in FILE; pass.")
@click.pass_context
def check(context: click.Context, /, paths: tuple[str, ...], **options: Any) -> None:
    """Report repeated paragraphs in the PATHs; clean nothing, write nothing but the
    report asked for (-o) or the baseline.

    Exit codes: 0 the check passed, 1 it failed (too many repeats), 2 a usage error or an
    unreadable input.
    """
    from dedup.check import CheckReport, read_baseline

    config, inputs = _prepare(context, paths, options)
    if options["output"] == STDOUT:  # as "-" is stdin for an input
        options["output"] = None
    fmt, output = options["output_format"], options["output"]
    if output and fmt == "text":
        _fail("-o/--output takes --format json, github or html; the table is for the terminal")
    if output and options["write_baseline"]:
        _fail("--write-baseline writes the baseline and no report: drop -o/--output")
    # A new baseline records every repeat: the old one (maybe not made yet) is not read.
    wanted = options["baseline"] and not options["write_baseline"]
    baseline = read_baseline(options["baseline"]) if wanted else None
    for target in (output, options["write_baseline"]):
        _can_write(target)  # now, not after a corpus was read
    sources = list(_sources(inputs, options))
    if output:
        refuse_inputs(output, "the report", sources)
    index = _index(context, options, config, writable=False)  # check writes nothing
    progress = _Progress(_total(sources), options["quiet"])
    seen = [0]
    with contextlib.ExitStack() as stack:
        html = None
        if fmt == "html" and not options["write_baseline"]:  # a baseline writes no report
            html = stack.enter_context(_html_report(config, sources))

        def removals(found: list[Removal | CloseCall]) -> Iterator[Removal]:
            return (event for event in found if isinstance(event, Removal))

        def start(document: Document) -> Callable[[str], None]:
            if html is not None:
                html.start(document.name)
            return lambda text: None

        outcomes = clean_documents(
            _documents(sources, options),
            config,
            scope=options["scope"],
            jobs=options["jobs"] or os.cpu_count() or 1,
            writer=start,
            events=None if html is None else lambda document, found: html.add(removals(found)),
            progress=lambda done, paragraphs: progress.update(done, seen[0] + 1, paragraphs),
            keep_removals=True,
            index=index,
            texts=None if html is None else lambda document, first, found: html.texts(first, found),
        )

        def counted(items: Iterator[Outcome]) -> Iterator[Outcome]:
            for item in items:
                seen[0] += 1
                if html is not None:
                    html.end(item.paragraphs)
                yield item

        result = CheckReport.build(
            counted(outcomes), options["max_ratio"], options["max_doc_ratio"], baseline
        )
        progress.stop()
        failures = result.failures()
        if html is not None:
            if output:
                with atomic_writer(output) as handle:
                    html.write(handle, failures)
            else:
                _need_stdout()
                html.write(sys.stdout.buffer, failures)
    _check_verdict(context, result, failures, sources, options)


def _check_verdict(
    context: click.Context,
    result: CheckReport,
    failures: list[str],
    sources: list[Source],
    options: dict[str, Any],
) -> None:
    """``dedup check``'s baseline, output (the HTML report is written already) and exit
    code."""
    from dedup.check import write_baseline

    context.meta["verdict"] = EXIT_CHECK_FAILED if failures else 0
    if options["write_baseline"]:
        refuse_inputs(options["write_baseline"], "the baseline", sources)
        write_atomic(options["write_baseline"], write_baseline(result))
        if not options["quiet"]:
            known = sum(len(d.repeats) for d in result.documents)
            click.echo(
                f"dedup: {options['write_baseline']}: {_plural(known, 'known repeat')}", err=True
            )
        return
    fmt, output = options["output_format"], options["output"]
    lines: list[str] = []
    if fmt == "json":
        import json

        lines.append(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif fmt == "github":
        for document in result.documents:
            for r in document.counted():
                lines.append(
                    _annotation(
                        {"file": r.file, "line": str(r.line), "title": "dedup"},
                        f"paragraph {r.index} of {r.document} repeats paragraph {r.of_index} "
                        f"of {r.of_document} ({r.kind}, {r.similarity:.2f})",
                    )
                )
        lines.extend(_annotation({"title": "dedup check failed"}, f) for f in failures)
    # A lone surrogate (a file name's byte that is not UTF-8): a JSON \u escape.
    data = "".join(line + "\n" for line in lines).encode("utf-8", "backslashreplace")
    if output and fmt != "html":
        write_atomic(output, data)
    elif fmt == "text":
        _need_stdout()
        _print_check(result, options["verbose"])
    elif fmt != "html":
        _need_stdout()
        click.echo(data, nl=False)
    sys.stdout.flush()  # here, where a reader gone away keeps the verdict
    if failures:
        if fmt != "github" and not options["quiet"]:
            for failure in failures:
                click.echo(f"dedup: check failed: {failure}", err=True)
        context.exit(EXIT_CHECK_FAILED)


def _can_write(path: str | None) -> None:
    """Fail now, not at the end, where a file the command writes at the end cannot be
    written (no such folder, no permission): a temporary file is made beside it and
    removed. A device or a FIFO is not opened twice."""
    if path and is_regular_or_missing(path):
        Staged(path).discard()


def _annotation(properties: dict[str, str], message: str) -> str:
    """A GitHub workflow command ``::error``, escaped as GitHub documents: ``%``, CR and LF
    in the message; those and ``:`` and ``,`` in property values. No text of a user's can
    end the command or start another.

    >>> _annotation({"file": "a,b:c.txt"}, "50% of\\n::warning::x")
    '::error file=a%2Cb%3Ac.txt::50%25 of%0A::warning::x'
    """

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def value(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    fields = ",".join(f"{key}={value(text)}" for key, text in properties.items())
    return f"::error {fields}::{data(message)}"


def _spark_settings(given: Sequence[str]) -> dict[str, str]:
    """``--conf`` values (``KEY=VALUE``) as Spark settings; one of another form is refused.

    >>> _spark_settings(["spark.driver.memory=16g", "spark.a=b=c"])
    {'spark.driver.memory': '16g', 'spark.a': 'b=c'}
    """
    settings = {}
    for item in given:
        key, equals, value = item.partition("=")
        if not equals or not key.strip() or key != key.strip():
            _fail(f"--conf {item}: give a Spark setting as KEY=VALUE")
        settings[key] = value
    return settings


@contextlib.contextmanager
def _spark_errors(kind: type[Exception]) -> Iterator[None]:
    """What Spark refuses (a path it cannot read, a column it cannot find): one line."""
    try:
        yield
    except kind as error:
        _fail(f"spark: {str(error).strip().splitlines()[0]}")


@cli.command("spark", cls=_Command)
@click.argument("paths", nargs=-1, required=True, metavar="INPUT... OUTPUT")
@_apply(_WALKING)
@click.option(
    "--format",
    "kind",
    type=click.Choice(["jsonl", "parquet"]),
    default="jsonl",
    show_default=True,
    help="Inputs and output: JSON Lines (as clean --jsonl writes them) or Parquet.",
)
@click.option("--text-field", default="text", show_default=True, help="Text field or column.")
@click.option("--id-field", default="id", show_default=True, help="Id field or column.")
@click.option(
    "--order",
    multiple=True,
    metavar="COLUMN",
    help="Parquet: take documents in the order of these columns (default: as read).",
)
@_apply(_COMPARING)
@click.option(
    "--master",
    metavar="URL",
    help="Spark master (default: spark-submit's, else local[*]).",
)
@click.option(
    "--partitions",
    type=click.IntRange(1),
    help="Partitions of the work (default: Spark's parallelism, or more for a large input).",
)
@click.option(
    "--conf",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Spark setting, as spark-submit's --conf (spark.driver.memory=16g; repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print no summary.")
@click.option("--show-settings", is_flag=True, help="Print the settings in force; then stop.")
@click.pass_context
def spark_command(context: click.Context, /, paths: tuple[str, ...], **options: Any) -> None:
    """Clean the INPUTs as one corpus on Apache Spark into the new folder OUTPUT (part
    files): the removals and cleaned text of `dedup clean --jsonl --scope corpus` on the
    same documents in the same order, byte for byte. Folders are read in sorted order;
    Parquet inputs keep their columns and gain a `dedup` column. Needs the spark extra
    and Java."""
    if len(paths) < 2:
        _fail("name the inputs, then the output folder")
    *given, output = paths
    config, inputs = _prepare(context, tuple(given), options)
    conf = _spark_settings(options["conf"])
    from dedup.spark import clean_dataframe, clean_jsonl, jsonl_inputs, running

    if "://" not in output and os.path.lexists(output):
        _fail(f"{output}: exists; name a new folder for the output")
    if options["kind"] == "parquet" and (options["include"] or options["exclude"]):
        _fail("--include and --exclude choose files in JSON Lines folders, not Parquet")
    if options["kind"] == "jsonl" and options["order"]:
        _fail("--order goes with --format parquet: JSON Lines are taken in file order")
    files = (
        jsonl_inputs(inputs, options["include"], options["exclude"], _noted(options))
        if options["kind"] == "jsonl"
        else []
    )
    summary: tuple[int, int | None, str]
    try:
        from pyspark.errors import PySparkException
    except ImportError:
        _fail("dedup spark needs PySpark: pip install 'paradedup[spark]' (and Java)")
    with running(options["master"], conf) as spark, _spark_errors(PySparkException):
        if options["kind"] == "jsonl":
            stats = clean_jsonl(
                spark,
                files,
                output,
                config,
                options["text_field"],
                options["id_field"] or None,
                options["partitions"],
            )
            summary = (stats.removed, stats.paragraphs, f", {stats.rounds} rounds")
        else:
            # Spark reads a folder of part files itself (skipping _SUCCESS and the like).
            frame = spark.read.parquet(*inputs)
            id_field = options["id_field"] if options["id_field"] in frame.columns else None
            cleaned = clean_dataframe(
                frame,
                options["text_field"],
                id_field,
                list(options["order"]) or None,
                options["partitions"],
                config,
            )
            cleaned.write.parquet(output)
            total = spark.read.parquet(output).selectExpr("sum(dedup.removed)").first()
            summary = (int(total[0] or 0) if total else 0, None, "")
    if not options["quiet"]:
        removed, paragraphs, rounds = summary
        of = "" if paragraphs is None else f" of {paragraphs}"
        click.echo(f"dedup: {output}: removed {removed}{of} paragraphs{rounds}", err=True)


@cli.group("index")
def index_group() -> None:
    """Build, inspect and delete an index (--index PATH|URL, or DEDUP_INDEX)."""


def _index_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index",
        metavar="PATH|URL",
        envvar="DEDUP_INDEX",
        help="The index: a folder, or a redis:// URL.",
    )(function)


@index_group.command("add", cls=_Command)
@_common
@click.pass_context
def index_add(context: click.Context, /, paths: tuple[str, ...], **options: Any) -> None:
    """Add the paragraphs of the PATHs to the index without cleaning them (a site's
    archive before a crawl starts); a repeat of what the index holds is not added twice."""
    config, inputs = _prepare(context, paths, options)
    url = options["index"]
    if not url:
        _fail("which index? name it with --index PATH|URL (or DEDUP_INDEX)")
    sources = list(_sources(inputs, options))  # before the index is made: none of its files
    index = _index(context, options, config)
    assert index is not None
    held = len(index)
    paragraphs = documents_done = 0
    for outcome in clean_documents(
        _documents(sources, options),
        config,
        scope="corpus",
        jobs=options["jobs"] or os.cpu_count() or 1,
        writer=lambda document: lambda text: None,
        index=index,
    ):
        documents_done += 1
        paragraphs += outcome.paragraphs
    index.commit()
    if not options["quiet"]:
        added = len(index) - held  # a paragraph without a word is never indexed
        click.echo(
            f"dedup: {url}: added {added} of {_plural(paragraphs, 'paragraph')} "
            f"from {_plural(documents_done, 'document')}",
            err=True,
        )


def _named_index(given: str | None) -> str:
    """The index given (--index or DEDUP_INDEX), else the settings file's ``index``."""
    try:
        found = given or settings.shared(Path.cwd(), "index")
    except DedupError as error:
        raise Failure(str(error)) from None
    if not found or not isinstance(found, str):
        _fail("which index? name it with --index PATH|URL (or DEDUP_INDEX)")
    return found


@index_group.command("info")
@_index_option
def index_info(index: str | None) -> None:
    """Print the index's settings, paragraphs, documents, size and when it was made."""
    index = _named_index(index)
    opened = open_index(index, Config(), writable=False)  # any settings: it says them
    try:
        info = opened.info()
    finally:
        opened.close()
    for key, value in info.items():
        click.echo(f"{key}: {value}")


@index_group.command("drop")
@_index_option
@click.option("--yes", is_flag=True, help="Do not ask for a confirmation.")
def index_drop(index: str | None, yes: bool) -> None:
    """Delete the index (after a confirmation, unless --yes)."""
    index = _named_index(index)
    opened = open_index(index, Config(), create=False)  # an index, nobody writing it
    shown = opened.info()["index"]  # without a password
    question = f"Delete the index {shown} ({_plural(opened.info()['paragraphs'], 'paragraph')})?"
    try:
        sure = yes or click.confirm(question, err=True)
    except click.Abort:  # no answer (standard input ended)
        sure = False
    if not sure:
        opened.close()
        _fail(f"{shown}: not deleted (answer y, or give --yes)")
    left = opened.drop()
    kept = f"; left what the index did not write: {', '.join(left)}" if left else ""
    click.echo(f"dedup: {shown}: deleted{kept}", err=True)


def _print_check(result: CheckReport, verbose: int) -> None:
    """The text format: totals, the worst documents, the most repeated paragraphs."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text  # user text is never markup: `[/quote]` is text

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich's own exits 1: the verdict is ours
            raise BrokenPipeError

    console = _Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 100)
    counted = result.counted()
    kinds = Counter(r.kind for r in counted)
    detail = ", ".join(f"{kinds[k]} {k}" for k in KINDS if kinds[k])
    known = sum(len(d.repeats) for d in result.documents) - len(counted)
    console.print(
        f"{_plural(len(result.documents), 'document')}, "
        f"{_plural(result.paragraphs, 'paragraph')}, "
        f"{len(counted)} repeated ({result.ratio:.2%})"
        + (f": {detail}" if detail else "")
        + (f"; {known} known from the baseline" if known else ""),
        markup=False,
    )
    worst = result.worst(None if verbose else 10)
    if worst:
        table = Table("document", "paragraphs", "repeated", "exact", "near", "contained", "ratio")
        for d in worst:
            c = Counter(r.kind for r in d.counted())
            table.add_row(
                Text(d.name),
                str(d.paragraphs),
                str(len(d.counted())),
                str(c["exact"]),
                str(c["near"]),
                str(c["contained"]),
                f"{d.ratio:.1%}",
            )
        console.print(table)
    repeated = result.most_repeated()
    if repeated:
        table = Table("repeats", "paragraph", "kept in", "repeated in")
        for document, index, text, reps in repeated:
            where = ", ".join(f"{r.document}:{r.line}" for r in reps[:3])
            more = f" and {len(reps) - 3} more" if len(reps) > 3 else ""
            preview = text if len(text) <= 60 else text[:57] + "..."
            table.add_row(
                str(len(reps)), Text(preview), Text(f"{document} #{index}"), Text(where + more)
            )
        console.print(table)


def _commands() -> Iterator[tuple[str, click.Command]]:
    """Every command that takes settings, with a group's commands by their own name."""
    for name, command in cli.commands.items():
        if isinstance(command, click.Group):
            yield from command.commands.items()
        else:
            yield name, command


def _option_names(command: click.Command) -> dict[str, str]:
    """Long option names (``max_ratio``) to parameter names (``--format`` is
    ``output_format``); the arguments and ``--show-settings`` are not settings."""
    out = {"preset": "preset"}  # preset = "strict" (the flags --strict and --lenient)
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in {None, "show_settings", "preset"}:
            out[_long_name(param)] = param.name or ""
    return out


def _long_name(param: click.Option) -> str:
    return next(o[2:] for o in param.opts if o.startswith("--")).replace("-", "_")
