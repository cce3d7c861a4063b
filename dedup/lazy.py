"""Patterns compiled on first use.

The rules hold some fifty patterns, most of them for cases a short run (one article at the
command line) never reaches; compiling them all at import took some 30 ms of such a run's
start-up (of about 300). A lazy pattern has the compiled one's methods and ``pattern``;
the first method asked for compiles it, and every method is then one attribute of the
object, as fast to reach as the compiled pattern's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import regex


class _Lazy:
    def __init__(self, compile: Callable[[str, int], Any], pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._compile = compile
        self._flags = flags

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like ask for these: not a method
            raise AttributeError(name)
        method = getattr(self._compile(self.pattern, self._flags), name)
        setattr(self, name, method)
        return method

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r})"


def lazy_regex(pattern: str, flags: int = 0) -> regex.Pattern[str]:
    """``regex.compile(pattern, flags)``, done when the pattern is first used: the regex
    module itself is imported then (text in Latin letters never needs it)."""
    return cast("regex.Pattern[str]", _Lazy(_regex_compile, pattern, flags))


def _regex_compile(pattern: str, flags: int) -> Any:
    import regex

    return regex.compile(pattern, flags)


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)`` (the stdlib's engine), done when first used."""
    return cast("re.Pattern[str]", _Lazy(re.compile, pattern, flags))
