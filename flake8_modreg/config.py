"""``[tool.modreg]`` in ``pyproject.toml``: the project configuration of the CLI, editor and flake8 plugin.

```toml
[tool.modreg]
select = ["MRG"]                 # codes or prefixes (default: every default-on rule)
ignore = ["MRG306"]
extend-select = ["MRG9"]
extend-ignore = ["MRG205"]
exclude = ["third_party/", "*_pb2.py"]   # gitignore-style patterns, relative to this file
module-bases = ["mylib.BaseModel"]       # extra classes that count as torch Modules
torch-version = "2.13"                   # the releases MRG502 / MRG501 judge methods by
mindspore-version = "2.10"               # (default: the newest with a table)
per-file-ignores = { "tests/*" = ["MRG2"] }
```

An unknown key, a value of the wrong type, or a code modreg does not know
(checked by :func:`flake8_modreg.settings.check_codes`, the validator every
surface shares) is a :class:`ConfigError` with one line that names it.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .settings import VERSION_SETTINGS, Config, ConfigError, check_codes, check_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {
    "select", "ignore", "extend-select", "extend-ignore", "exclude", "module-bases", "per-file-ignores",
    "torch-version", "mindspore-version",
}  # fmt: skip
__all__ = ["ConfigError", "ProjectConfig", "discover", "find_pyproject", "load"]


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
    torch_version: str | None = None
    mindspore_version: str | None = None

    def config(self, **overrides: Any) -> Config:
        """A :class:`Config` from this file, command-line ``overrides`` (not None) winning."""
        kw: dict[str, Any] = {
            "select": self.select,
            "ignore": self.ignore,
            "extend_select": self.extend_select,
            "module_bases": self.module_bases,
            "torch_version": self.torch_version,
            "mindspore_version": self.mindspore_version,
        }
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return Config.make(**kw)

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the configuration's directory (posix), or as given when outside it."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError):
            return Path(path).as_posix()

    def excluded(self, path: str | Path) -> bool:
        """Whether ``exclude`` (gitignore-style, relative to :attr:`root`) matches ``path`` or a folder above it."""
        if not self.exclude:
            return False
        spec = _spec(tuple(self.exclude))
        rel = self.relative(path)
        parts = rel.split("/")
        return spec.match_file(rel) or any(spec.match_file("/".join(parts[:i]) + "/") for i in range(1, len(parts)))

    def per_file_ignored(self, path: str | Path, code: str) -> bool:
        """Whether ``per-file-ignores`` silences ``code`` in ``path`` (patterns match the relative path or the name)."""
        if not self.per_file_ignores:
            return False
        import fnmatch

        rel, name = self.relative(path), Path(path).name
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern):
                if code.startswith(tuple(codes)):
                    return True
        return False


@functools.lru_cache(maxsize=64)
def _spec(patterns: tuple[str, ...]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def has_modreg_table(candidate: Path) -> bool:
    """Whether the ``pyproject.toml`` at ``candidate`` has a ``[tool.modreg]`` table (False if there is no file)."""
    if not candidate.is_file():
        return False
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{candidate}: cannot read: {' '.join(str(e).split())}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{candidate}: 'tool' must be a table ([tool.modreg])")
    return "modreg" in tool


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.modreg]`` table, from ``start`` upwards."""
    start = start.resolve()
    for d in [start, *start.parents] if start.is_dir() else list(start.parents):
        if has_modreg_table(d / "pyproject.toml"):
            return d / "pyproject.toml"
    return None


_CODE_KEYS = {"select", "ignore", "extend-select", "extend-ignore"}


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    table = "[tool.modreg] " if path.name == "pyproject.toml" else ""
    if isinstance(value, str):
        value = value.rstrip(", ").split(",") if value.strip() else [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {table}{key} must be a list of strings")
    if key in _CODE_KEYS or key.startswith("per-file-ignores"):
        # an empty code is a mistake to report, not to drop (it would silently select nothing)
        return check_codes(value, f"{path}: {table}{key}")
    return tuple(v.strip() for v in value if v.strip())


def load(path: Path) -> ProjectConfig:
    """The settings of ``path``: ``[tool.modreg]`` of a ``pyproject.toml``, or the top level of any other TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {' '.join(str(e).split())}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: 'tool' must be a table ([tool.modreg])")
        table = tool.get("modreg", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.modreg] must be a table")
    else:
        table = data
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key in [tool.modreg]: {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    out = ProjectConfig(root=path.parent, path=path)
    if "select" in table:
        out.select = _strings(path, "select", table["select"])
    for key in ("ignore", "extend-select", "exclude", "module-bases"):
        if key in table:
            setattr(out, key.replace("-", "_"), _strings(path, key, table[key]))
    if "extend-ignore" in table:
        out.ignore += _strings(path, "extend-ignore", table["extend-ignore"])
    for key in VERSION_SETTINGS:
        if key in table:
            table_name = "[tool.modreg] " if path.name == "pyproject.toml" else ""
            setattr(out, key.replace("-", "_"), check_version(table[key], f"{path}: {table_name}{key}", key))
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{path}: [tool.modreg] per-file-ignores must be a table of pattern = [codes]")
    out.per_file_ignores = {pattern: _strings(path, f"per-file-ignores {pattern!r}", codes) for pattern, codes in pfi.items()}
    return out


def discover(start: Path) -> ProjectConfig:
    """The project configuration for paths under ``start`` (defaults when there is none)."""
    found = find_pyproject(start)
    if found is None:
        return ProjectConfig(root=(start if start.is_dir() else start.parent).resolve())
    return load(found)
