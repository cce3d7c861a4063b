"""Settings from a project's files: ``[tool.dedup]`` in ``pyproject.toml``, or ``dedup.toml``.

The nearest folder (the current one, then its parents) with a ``dedup.toml`` or a
``pyproject.toml`` that has a ``[tool.dedup]`` table supplies the defaults of every
command-line option; ``dedup.toml`` wins over ``pyproject.toml`` in the same folder. A
command's own table (``[tool.dedup.check]``, ``[check]`` in ``dedup.toml``) adds to the
shared one. Keys are the long option names (``max-ratio`` or ``max_ratio``); an unknown key
is a :class:`~dedup.errors.ConfigError` naming the key and the file. A ``dedup.toml`` may
hold its keys at the top or under ``[tool.dedup]``, as ``pyproject.toml`` does (not both).
Paths (``baseline``, ``report``, ...) are relative to the folder of the file that names them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dedup.errors import ConfigError

#: Settings that name files: relative to the settings file's folder.
PATHS = frozenset({"baseline", "write_baseline", "report", "html", "output", "output_dir", "index"})


def find(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest settings file from ``start`` upwards and its dedup table, or None."""
    for folder in (start, *start.parents):
        own = folder / "dedup.toml"
        if own.is_file():
            data = _load(own)
            tool = data.get("tool")
            nested = tool.get("dedup") if isinstance(tool, dict) else None
            if nested is None:
                return own, data
            if not isinstance(nested, dict) or len(data) > 1 or len(data["tool"]) > 1:
                raise ConfigError(
                    f"{own}: put the settings either at the top or under [tool.dedup], not both"
                )
            return own, nested
        project = folder / "pyproject.toml"
        if project.is_file():
            table = _load(project, naming=b"dedup").get("tool", {}).get("dedup")
            if table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"{project}: [tool.dedup] must be a table")
                return project, table
    return None


def _load(path: Path, naming: bytes = b"") -> dict[str, Any]:
    """The TOML file's tables; none when it does not contain ``naming`` (a project's
    file that does not name dedup is neither parsed nor held to being valid TOML)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror or error}") from None
    if naming not in data:
        return {}
    if sys.version_info >= (3, 11):
        import tomllib  # here, not at the top: most runs parse no settings file
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 ({error.reason})") from None


def defaults(
    table: dict[str, Any], path: Path, command: str, commands: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The option defaults ``table`` gives ``command``: its shared keys, then its own
    table's. ``commands`` maps each command to its options (long option names such as
    ``max_ratio`` to parameter names). Shared keys meant for another command are allowed;
    a key no command knows is an error."""
    options = commands[command]
    known = {name for names in commands.values() for name in names}
    out: dict[str, Any] = {}
    shared = {k: v for k, v in table.items() if k not in commands}
    own = table.get(command, {})
    for scope, entries in (("", shared), (f"{command}.", own)):
        if not isinstance(entries, dict):
            raise ConfigError(f"{path}: [{command}] must be a table")
        for key, value in entries.items():
            name = key.replace("-", "_")
            if name in options:
                out[options[name]] = _resolved(path, name, value)
            elif scope or name not in known:
                raise ConfigError(f"{path}: unknown setting '{scope}{key}'{_meant(name, options)}")
    return out


def _meant(name: str, options: dict[str, str]) -> str:
    """A hint naming the option ``name`` is closest to (a typo), if one is close."""
    import difflib

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.75)
    return f" (did you mean '{close[0].replace('_', '-')}'?)" if close else ""


def _resolved(path: Path, name: str, value: Any) -> Any:
    """A path setting relative to the folder of the file ``path`` (an absolute path, or a
    URL, stays as it is)."""
    if name in PATHS and isinstance(value, str) and value and "://" not in value:
        return str(path.parent / value)
    return value


def shared(start: Path, name: str) -> Any:
    """The value the nearest settings file gives ``name`` for every command (``index``, for
    ``dedup index info``), resolved as :func:`defaults` does; None when none does."""
    found = find(start)
    if found is None:
        return None
    path, table = found
    value = table.get(name, table.get(name.replace("_", "-")))
    return None if value is None else _resolved(path, name, value)
