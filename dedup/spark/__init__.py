"""The batch engine past one machine: a corpus cleaned by Apache Spark with the removals
``dedup clean --scope corpus`` makes on the same documents in the same order, byte for byte.

:func:`clean_dataframe` cleans a DataFrame's text column; :func:`clean_jsonl` cleans JSON
Lines files as ``dedup clean --jsonl --scope corpus`` does, into a folder of part files
(what ``dedup spark`` runs). How the decisions are worked out in steps that need no order,
and why they are the one-machine run's: :mod:`dedup.spark.plan`; the RDD operations:
:mod:`dedup.spark.job`. Needs the ``spark`` extra (``pip install 'paradedup[spark]'``) and
Java.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dedup.config import Config
from dedup.errors import ConfigError, InputError
from dedup.spark.job import Stats, clean, zipped

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["Stats", "clean_dataframe", "clean_jsonl", "jsonl_inputs", "running", "session"]


def session(
    master: str | None = None, app: str = "dedup", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """The Spark session: the one running (under ``spark-submit``, with its master), or a
    new one on ``master`` (default ``local[*]``; a local one with a 4 GB heap), compressing
    what it shuffles with zstd (level 3) unless told otherwise; ``conf`` (Spark settings, as
    ``spark-submit --conf`` takes them) goes over these and spark-submit's. Executors run
    this Python unless ``PYSPARK_PYTHON`` says otherwise."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            "dedup spark needs PySpark: pip install 'paradedup[spark]' (and Java)"
        ) from None
    from pyspark import SparkConf, SparkContext
    from pyspark.serializers import PickleSerializer

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = _settings(master, app, dict(conf or {}), _submitted())
    # The job's records (tuples, numpy arrays, NamedTuples of its modules) pickled as they
    # are: PySpark's default, cloudpickle, calls back into Python for every object it
    # writes. A context running already (ValueError) keeps its own.
    with contextlib.suppress(ValueError):
        SparkContext(conf=SparkConf().setAll(list(settings.items())), serializer=PickleSerializer())
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@contextlib.contextmanager
def running(
    master: str | None = None, conf: Mapping[str, str] | None = None
) -> Iterator[SparkSession]:
    """:func:`session`, stopped at the end of the block if the block started it."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    spark = session(master, conf=conf)
    try:
        yield spark
    finally:
        if active is None:
            spark.stop()


def _settings(
    master: str | None, app: str, conf: dict[str, str], submitted: dict[str, str]
) -> dict[str, str]:
    """What :func:`session` sets: its own defaults where neither ``conf`` nor spark-submit
    (``submitted``) chose, then ``conf``; ``master``, when given, over both."""
    chosen = {**submitted, **conf}
    settings = {"spark.app.name": app, "spark.ui.showConsoleProgress": "false"}
    if "spark.master" not in chosen:
        settings["spark.master"] = "local[*]"
    if (master or chosen.get("spark.master") or "local").startswith("local") and (
        "spark.driver.memory" not in chosen
    ):
        # On a local master the driver's JVM runs the tasks too: Spark's 1 GB heap could
        # not read back the persisted partitions of a million lines.
        settings["spark.driver.memory"] = "4g"
    if "spark.io.compression.codec" not in chosen:
        # What the job shuffles (keys, pairs, fingerprints) zstd made a quarter smaller
        # than Spark's default lz4 (100k lines, local[2], one run each by hand: 1,318 ->
        # 981 bytes a line, 54 s and 56 s).
        settings["spark.io.compression.codec"] = "zstd"
    if "spark.io.compression.zstd.level" not in chosen:
        # Level 3, not Spark's 1: 268 -> 241 bytes a line shuffled at 100k lines for about
        # 3% more executor time (level 6: 227 bytes, 9% more; one run each, local[2]).
        settings["spark.io.compression.zstd.level"] = "3"
    settings.update(conf)
    if master is not None:
        settings["spark.master"] = master
    return settings


def _submitted() -> dict[str, str]:
    """The settings ``spark-submit`` passed to this process, if it started it."""
    from pyspark import SparkConf

    return dict(SparkConf().getAll())


def clean_dataframe(
    df: DataFrame,
    text: str = "text",
    id: str | None = "id",
    order: str | Sequence[str] | None = None,
    partitions: int | None = None,
    config: Config | None = None,
    **options: Any,
) -> DataFrame:
    """``df`` with its ``text`` column cleaned as one corpus, and a ``dedup`` column: the
    ``removed`` count and the ``removals`` (the fields of the JSONL output's ``dedup``
    field). Documents are taken in the order of the columns ``order`` (then as they come),
    else as the DataFrame lists them; a document is named by its ``id`` column (unique),
    else ``#1``, ``#2``, ... in that order, as the report names them. ``options`` are the
    :class:`~dedup.config.Config` fields; the result is the one ``dedup clean --scope
    corpus`` gives, whatever the partitions (``partitions`` sets how many the work uses;
    default: enough for the text, at least Spark's parallelism)."""
    from pyspark.sql import Row

    config = Config.make(config, **options)
    if text not in df.columns:
        raise ConfigError(f"no column {text!r} (text=...)")
    kind = df.schema[text].dataType
    if kind.typeName() != "string":  # else each task would fail, far from the cause
        raise ConfigError(f"column {text!r} holds {kind.simpleString()}, not text (text=...)")
    if id is not None and id not in df.columns:
        raise ConfigError(f"no column {id!r} (id=...; None names documents by their place)")
    ordered = df.orderBy(*([order] if isinstance(order, str) else order)) if order else df
    rows = ordered.rdd.zipWithIndex().map(lambda item: (item[1], item[0])).persist()
    docs = rows.map(lambda item: (item[0], _name(item[1], id, item[0]), item[1][text] or ""))
    _unique(docs, lambda doc: f"row {doc + 1}", "id=...")
    cuts, _ = clean(docs, config, partitions)
    columns = [*df.columns, "dedup"]

    def build(item: tuple[tuple[int, Any], Any]) -> Any:
        (_, row), done = item
        values = row.asDict()
        if done.removals:
            values[text] = done.text
        values["dedup"] = Row(removed=len(done.removals), removals=_removals(done.removals))
        return Row(**{name: values[name] for name in columns})

    out = zipped(rows, cuts).map(build)
    return df.sparkSession.createDataFrame(out, _schema(df, text))


def _name(row: Any, id: str | None, doc: int) -> str:
    value = row[id] if id is not None else None
    return f"#{doc + 1}" if value is None else str(value)


def _unique(docs: Any, where: Callable[[int], str], hint: str) -> None:
    """Refuse two documents with one name (a removal names the document it repeats): the
    first document, in the order, whose name an earlier one has, ``where`` it is."""
    twice = (
        docs.map(lambda doc: (doc[1], [doc[0]]))
        .reduceByKey(lambda a, b: sorted(a + b)[:2])
        .filter(lambda item: len(item[1]) == 2)
        .map(lambda item: (item[1][1], item[0]))
    )
    found = twice.takeOrdered(1)
    if found:
        doc, name = found[0]
        raise InputError(
            where(doc), f"id {name!r} names an earlier document too; ids must be unique ({hint})"
        )


def _removals(removals: Sequence[Any]) -> list[Any]:
    from pyspark.sql import Row

    out = []
    for removal in removals:
        fields = removal.to_dict()
        fields.setdefault("duplicate_of_document", None)
        fields["also_repeats"] = [
            Row(document=document, index=index) for document, index in removal.also_repeats
        ]
        out.append(Row(**{name: fields[name] for name in _REMOVAL}))
    return out


_REMOVAL = (
    "index",
    "line",
    "duplicate_of",
    "duplicate_of_document",
    "kind",
    "similarity",
    "reason",
    "text",
    "start",
    "end",
    "cut_start",
    "cut_end",
    "before",
    "after",
    "also_repeats",
)


def _schema(df: DataFrame, text: str) -> Any:
    from pyspark.sql import types as t

    number, string = t.LongType(), t.StringType()
    removal = t.StructType(
        [
            t.StructField("index", number, False),
            t.StructField("line", number, False),
            t.StructField("duplicate_of", number, False),
            t.StructField("duplicate_of_document", string, True),
            t.StructField("kind", string, False),
            t.StructField("similarity", t.DoubleType(), False),
            t.StructField("reason", string, False),
            t.StructField("text", string, False),
            t.StructField("start", number, False),
            t.StructField("end", number, False),
            t.StructField("cut_start", number, False),
            t.StructField("cut_end", number, False),
            t.StructField("before", string, False),
            t.StructField("after", string, False),
            t.StructField(
                "also_repeats",
                t.ArrayType(
                    t.StructType(
                        [
                            t.StructField("document", string, True),
                            t.StructField("index", number, False),
                        ]
                    )
                ),
                False,
            ),
        ]
    )
    dedup = t.StructType(
        [
            t.StructField("removed", number, False),
            t.StructField("removals", t.ArrayType(removal), False),
        ]
    )
    return t.StructType([*df.schema.fields, t.StructField("dedup", dedup, False)])


def jsonl_inputs(
    paths: Sequence[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    note: Callable[[str], None] = lambda message: None,
) -> list[tuple[str, str]]:
    """The JSON Lines files ``paths`` name, ``(name, path)``, in the order ``dedup clean``
    reads them (folders walked in sorted order, ``include`` and ``exclude`` as it takes
    them, a file reached twice once, with a ``note``); a URL (``hdfs://``, ``s3a://``) as it
    is, for Spark to list."""
    from dedup.sources import find

    files: list[tuple[str, str]] = []
    taken: dict[str, str] = {}
    for path in paths:
        if "://" in path:
            files.append((path, path))
        else:
            files += [
                (s.name, str(s.path)) for s in find([path], include, exclude, note, once=taken)
            ]
    for name, file in files:
        try:
            file.encode("utf-8")
        except UnicodeEncodeError:  # a byte Python holds as a lone surrogate
            problem = "its name is not UTF-8, which Spark cannot open: rename it"
            raise InputError(name, problem) from None
    return files


def clean_jsonl(
    spark: SparkSession,
    inputs: Sequence[tuple[str, str]],
    output: str,
    config: Config,
    text_field: str = "text",
    id_field: str | None = "id",
    partitions: int | None = None,
) -> Stats:
    """JSON Lines files ``(name, path)`` cleaned as one corpus, in that order, into the
    folder ``output`` (part files, in order): each record's line as ``dedup clean --jsonl
    --scope corpus`` writes it, byte for byte. A bad line is an
    :class:`~dedup.errors.InputError` naming it (the first in the order), as the command
    names it."""
    from dedup.spark.job import read_jsonl

    records = read_jsonl(spark, inputs, text_field, id_field).persist()
    bad = records.filter(lambda item: item[1][0] == "error").takeOrdered(1)
    if bad:
        _, (_, place, problem, _) = bad[0]
        raise InputError(place, problem)
    docs = records.map(lambda item: (item[0], item[1][1], item[1][2]))

    def where(doc: int) -> str:
        return f"{inputs[doc >> 40][0]}:{(doc & ((1 << 40) - 1)) + 1}"

    _unique(docs, where, "--id-field")
    cuts, stats = clean(docs, config, partitions)
    from dedup.jsonl import cleaned_line, parse_record

    def line(item: tuple[tuple[int, Any], Any]) -> tuple[str, int]:
        (_, (_, _, _, raw)), done = item
        return cleaned_line(parse_record(raw), done.removals, done.text, text_field), len(
            done.removals
        )

    lines = zipped(records, cuts).map(line).persist()
    removed = lines.map(lambda item: item[1]).sum()
    lines.map(lambda item: item[0]).saveAsTextFile(output)
    return stats._replace(removed=int(removed))
