"""``dedup check``: how repeated a corpus is, per document and in all, and whether that
passes a gate; baselines of known repeats, so a gate can be adopted on a corpus as it is.

The JSON form (:meth:`CheckReport.to_dict`) follows ``dedup/schemas/check.schema.json``
(``"version": 1``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dedup.corpus import Outcome
from dedup.errors import InputError
from dedup.normalize import normalize

CHECK_VERSION = 1
BASELINE_VERSION = 1
KINDS = ("exact", "near", "contained")


@dataclass(frozen=True)
class Repeat:
    """A repeated paragraph: where it is and which kept paragraph it repeats."""

    document: str
    file: str
    line: int
    index: int
    kind: str
    similarity: float
    of_document: str
    of_index: int
    text: str
    known: bool = False

    @property
    def key(self) -> str:
        """What a baseline remembers: the document and the normalized text."""
        digest = hashlib.sha256(normalize(self.text).encode("utf-8", "surrogatepass"))
        return f"{self.document}#{digest.hexdigest()[:32]}"


@dataclass
class DocumentCheck:
    name: str
    file: str
    paragraphs: int
    repeats: list[Repeat] = field(default_factory=list)

    def counted(self) -> list[Repeat]:
        """The repeats that count against the gate: those not in the baseline."""
        return [r for r in self.repeats if not r.known]

    @property
    def ratio(self) -> float:
        return len(self.counted()) / self.paragraphs if self.paragraphs else 0.0


def _repeats(outcome: Outcome) -> list[Repeat]:
    doc = outcome.document
    file = doc.source.name
    out = []
    for r in outcome.removals:
        line = doc.line if doc.record is not None else r.line
        out.append(
            Repeat(
                document=doc.name,
                file=file,
                line=line,
                index=r.index,
                kind=r.kind,
                similarity=r.similarity,
                of_document=r.duplicate_of_document or doc.name,
                of_index=r.duplicate_of,
                text=r.text,
            )
        )
    return out


@dataclass
class CheckReport:
    """Counts per document and for the corpus, and the gate's verdict."""

    documents: list[DocumentCheck]
    max_ratio: float
    max_doc_ratio: float | None
    baseline: set[str] | None = None

    @classmethod
    def build(
        cls,
        outcomes: Iterable[Outcome],
        max_ratio: float,
        max_doc_ratio: float | None,
        baseline: set[str] | None = None,
    ) -> CheckReport:
        documents = []
        for outcome in outcomes:
            repeats = _repeats(outcome)
            if baseline is not None:
                repeats = [dataclasses.replace(r, known=r.key in baseline) for r in repeats]
            documents.append(
                DocumentCheck(
                    outcome.document.name, outcome.document.source.name, outcome.paragraphs, repeats
                )
            )
        return cls(documents, max_ratio, max_doc_ratio, baseline)

    @property
    def paragraphs(self) -> int:
        return sum(d.paragraphs for d in self.documents)

    def counted(self) -> list[Repeat]:
        return [r for d in self.documents for r in d.counted()]

    @property
    def ratio(self) -> float:
        return len(self.counted()) / self.paragraphs if self.paragraphs else 0.0

    def failures(self) -> list[str]:
        """Why the gate fails; empty when it passes."""
        out = []
        if self.ratio > self.max_ratio:
            out.append(
                f"{len(self.counted())} of {self.paragraphs} paragraphs are repeats "
                f"({self.ratio:.2%}), above --max-ratio {self.max_ratio:g}"
            )
        if self.max_doc_ratio is not None:
            for d in self.documents:
                if d.ratio > self.max_doc_ratio:
                    out.append(
                        f"{d.name}: {len(d.counted())} of {d.paragraphs} paragraphs are "
                        f"repeats ({d.ratio:.2%}), above --max-doc-ratio {self.max_doc_ratio:g}"
                    )
        return out

    def worst(self, limit: int | None = 10) -> list[DocumentCheck]:
        ranked = [d for d in self.documents if d.counted()]
        ranked.sort(key=lambda d: (-d.ratio, -len(d.counted()), d.name))
        return ranked[:limit]

    def most_repeated(self, limit: int = 10) -> list[tuple[str, int, str, list[Repeat]]]:
        """Kept paragraphs repeated most: (document, index, text of a copy, its repeats)."""
        groups: dict[tuple[str, int], list[Repeat]] = {}
        for r in self.counted():
            groups.setdefault((r.of_document, r.of_index), []).append(r)
        ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
        return [(doc, index, reps[0].text, reps) for (doc, index), reps in ranked[:limit]]

    def to_dict(self) -> dict[str, Any]:
        def counts(repeats: list[Repeat]) -> dict[str, int]:
            return {kind: sum(r.kind == kind for r in repeats) for kind in KINDS}

        counted = self.counted()
        failures = self.failures()
        return {
            "version": CHECK_VERSION,
            "passed": not failures,
            "failures": failures,
            "thresholds": {"max_ratio": self.max_ratio, "max_doc_ratio": self.max_doc_ratio},
            "baseline": self.baseline is not None,
            "corpus": {
                "documents": len(self.documents),
                "paragraphs": self.paragraphs,
                "repeated": len(counted),
                "known": sum(len(d.repeats) - len(d.counted()) for d in self.documents),
                **counts(counted),
                "ratio": round(self.ratio, 6),
            },
            "documents": [
                {
                    "document": d.name,
                    "file": d.file,
                    "paragraphs": d.paragraphs,
                    "repeated": len(d.counted()),
                    **counts(d.counted()),
                    "ratio": round(d.ratio, 6),
                    "repeats": [
                        {
                            "line": r.line,
                            "index": r.index,
                            "kind": r.kind,
                            "similarity": round(r.similarity, 4),
                            "of_document": r.of_document,
                            "of_index": r.of_index,
                            "known": r.known,
                        }
                        for r in d.repeats
                    ],
                }
                for d in self.documents
            ],
            "most_repeated": [
                {
                    "document": doc,
                    "index": index,
                    "text": text,
                    "count": len(reps),
                    "occurrences": [
                        {"document": r.document, "file": r.file, "line": r.line} for r in reps
                    ],
                }
                for doc, index, text, reps in self.most_repeated()
            ],
        }


def write_baseline(report: CheckReport) -> bytes:
    """The baseline file's content: every repeat found now, as known."""
    keys = sorted({r.key for d in report.documents for r in d.repeats})
    return (json.dumps({"version": BASELINE_VERSION, "repeats": keys}, indent=1) + "\n").encode()


def read_baseline(path: str) -> set[str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such baseline file (make one with --write-baseline)") from None
    except (OSError, ValueError) as error:
        raise InputError(path, f"not a dedup baseline: {error}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise InputError(path, f"not a dedup baseline of version {BASELINE_VERSION}")
    repeats = data.get("repeats")
    if not isinstance(repeats, list) or not all(isinstance(k, str) for k in repeats):
        raise InputError(path, "not a dedup baseline: 'repeats' must be a list of strings")
    return set(repeats)
