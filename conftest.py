"""pytest collects the doctests of ``dedup``'s modules by importing each from its source
file, and refuses a module that runs compiled (its ``__file__`` is the compiled build
beside the source): those modules' doctests are run from the compiled modules themselves
by ``tests/test_tooling.py``, and from their sources in the pure-Python run."""

from dedup import compiled

collect_ignore = [compiled.source_path(name) for name in compiled.running()]
