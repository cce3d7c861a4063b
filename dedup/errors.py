"""The exceptions ``dedup`` raises on purpose: one base class, a few precise kinds."""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error raised by dedup itself."""


class ConfigError(DedupError, ValueError):
    """A setting is unknown or out of range."""


class InputError(DedupError):
    """An input cannot be read as text."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class IndexAccessError(DedupError):
    """An index cannot be opened, read or written."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class IndexMismatchError(DedupError):
    """An index was built with other settings than the ones in force."""


class WorkerError(DedupError):
    """A worker process (``jobs`` > 1) ended before its work was done: killed, or out of
    memory."""


class ReportError(DedupError, ValueError):
    """A report does not fit the text it is applied to."""
