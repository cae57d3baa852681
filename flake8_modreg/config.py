"""``[tool.modreg]`` in ``pyproject.toml``: the project configuration of the CLI, editor and flake8 plugin.

```toml
[tool.modreg]
select = ["MRG"]                 # codes or prefixes (default: every default-on rule)
ignore = ["MRG306"]
extend-select = ["MRG901"]
exclude = ["third_party/", "*_pb2.py"]   # gitignore-style patterns, relative to this file
module-bases = ["mylib.BaseModel"]       # extra classes that count as torch Modules
per-file-ignores = { "tests/*" = ["MRG2"] }
```

An unknown key, or a value of the wrong type, is a :class:`ConfigError` with
one line that names it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .settings import Config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {"select", "ignore", "extend-select", "exclude", "module-bases", "per-file-ignores"}


class ConfigError(Exception):
    """A configuration problem, as one line."""


@dataclass
class ProjectConfig:
    """What ``[tool.modreg]`` says, with where it was found (``root`` is the directory of the file)."""

    root: Path
    path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    module_bases: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def config(self, **overrides: Any) -> Config:
        """A :class:`Config` from this file, command-line ``overrides`` (not None) winning."""
        kw: dict[str, Any] = {
            "select": self.select,
            "ignore": self.ignore,
            "extend_select": self.extend_select,
            "module_bases": self.module_bases,
        }
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return Config.make(**kw)


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.modreg]`` table, from ``start`` upwards."""
    start = start.resolve()
    for d in [start, *start.parents] if start.is_dir() else list(start.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
                raise ConfigError(f"{candidate}: cannot read: {' '.join(str(e).split())}") from None
            if "modreg" in data.get("tool", {}):
                return candidate
    return None


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.modreg] {key} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def load(path: Path) -> ProjectConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {' '.join(str(e).split())}") from None
    table = data.get("tool", {}).get("modreg", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.modreg] must be a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key in [tool.modreg]: {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    out = ProjectConfig(root=path.parent, path=path)
    if "select" in table:
        out.select = _strings(path, "select", table["select"])
    for key in ("ignore", "extend-select", "exclude", "module-bases"):
        if key in table:
            setattr(out, key.replace("-", "_"), _strings(path, key, table[key]))
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: [tool.modreg] per-file-ignores must be a table of pattern = [codes]")
    out.per_file_ignores = {pattern: _strings(path, f"per-file-ignores.{pattern!r}", codes) for pattern, codes in pfi.items()}
    for codes in [out.select or (), out.ignore, out.extend_select, *out.per_file_ignores.values()]:
        for c in codes:
            if c != "ALL" and not (c.upper().startswith("MRG") and c[3:].isdigit() and len(c) <= 6):
                raise ConfigError(f"{path}: [tool.modreg] {c!r} is not a code or prefix like 'MRG1' or 'MRG101'")
    return out


def discover(start: Path) -> ProjectConfig:
    """The project configuration for paths under ``start`` (defaults when there is none)."""
    found = find_pyproject(start)
    if found is None:
        return ProjectConfig(root=(start if start.is_dir() else start.parent).resolve())
    return load(found)
