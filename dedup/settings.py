"""Settings from a project's files: ``[tool.dedup]`` in ``pyproject.toml``, or ``dedup.toml``.

The nearest folder (the current one, then its parents) with a ``dedup.toml`` or a
``pyproject.toml`` that has a ``[tool.dedup]`` table supplies the defaults of every
command-line option; ``dedup.toml`` wins over ``pyproject.toml`` in the same folder. A
command's own table (``[tool.dedup.check]``, ``[check]`` in ``dedup.toml``) adds to the
shared one. Keys are the long option names (``max-ratio`` or ``max_ratio``); an unknown key
is a :class:`~dedup.errors.ConfigError` naming the key and the file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dedup.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def find(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest settings file from ``start`` upwards and its dedup table, or None."""
    for folder in (start, *start.parents):
        own = folder / "dedup.toml"
        if own.is_file():
            return own, _load(own)
        project = folder / "pyproject.toml"
        if project.is_file():
            table = _load(project).get("tool", {}).get("dedup")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{project}: [tool.dedup] must be a table")
                return project, table
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror or error}") from None


def defaults(
    table: dict[str, Any],
    path: Path,
    command: str,
    options: dict[str, str],
    commands: Iterable[str],
) -> dict[str, Any]:
    """The option defaults ``table`` gives ``command``, whose ``options`` map long option
    names (``max_ratio``) to parameter names: its shared keys, then its own table's.
    Shared keys meant for another command are allowed; a key no command knows is an
    error."""
    out: dict[str, Any] = {}
    shared = {k: v for k, v in table.items() if k not in commands}
    own = table.get(command, {})
    for scope, entries in (("", shared), (f"{command}.", own)):
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: [{command}] must be a table")
        for key, value in entries.items():
            name = key.replace("-", "_")
            if name in options:
                out[options[name]] = value
            elif scope or name not in _ALL_OPTIONS:
                raise ConfigError(f"{path}: unknown setting '{scope}{key}'")
    return out


#: Every option of every command, filled in by the CLI (a key for another command is fine
#: in the shared table).
_ALL_OPTIONS: set[str] = set()


def register(options: Iterable[str]) -> None:
    _ALL_OPTIONS.update(options)
