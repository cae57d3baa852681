"""Cross-file Module bases: a project-wide class index built in the same run.

The flake8 plugin sees one file at a time, so ``class Head(BaseHead)`` with
``BaseHead(nn.Module)`` in another file is a Module there only on evidence
(the class defines ``forward`` and assigns layers) or through the configured
``module-bases``.  ``modreg check`` sees every file it is given and resolves
such bases itself:

1. a cheap :func:`ast_summary` of every file (Python's own ``ast``, about
   0.07x a libcst parse): its dotted module name, its top-level classes with
   their bases as absolute qualified names, and its imports (which is what
   ``__init__.py`` re-exports are made of);
2. :class:`ProjectIndex` resolves, to a fixpoint, which classes derive from
   a Module/Cell through any chain of files (relative and absolute imports,
   re-exports through ``__init__.py``, files without any framework import);
3. every file is then checked once, with the bases other files define
   (:meth:`ProjectIndex.context_for`): one libcst parse per file, as in a
   per-file run.
"""

from __future__ import annotations

import ast
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import known
from .context import FileContext
from .findings import Finding, ModregError
from .settings import Config

_MAX_HOPS = 16


def module_name_for(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """``(dotted module name, is_package)`` of a file, from the ``__init__.py`` files above it."""
    p = Path(path).resolve()
    is_package = p.name == "__init__.py"
    parts = [] if is_package else [p.stem]
    d = p.parent
    while (d / "__init__.py").exists() and d.name.isidentifier():
        parts.append(d.name)
        if d.parent == d:
            break
        d = d.parent
    if not parts:  # a top-level __init__.py outside any package
        parts = [p.parent.name]
    return ".".join(reversed(parts)), is_package


@dataclass
class ClassSummary:
    qualname: str
    bases: list[str]  # absolute qualified names ("" when a base is not a name)
    framework: str | None  # known from this file alone (framework or configured bases)


@dataclass
class FileSummary:
    path: str
    module: str
    is_package: bool
    classes: list[ClassSummary] = field(default_factory=list)
    #: imported names of the module: local name -> absolute qualified name (re-exports)
    exports: dict[str, str] = field(default_factory=dict)


class ProjectIndex:
    """Which classes of the project are Modules/Cells, across files."""

    def __init__(self, summaries: Iterable[FileSummary]) -> None:
        # a file without classes matters only as a package's re-exports
        self.files = {s.path: s for s in summaries if s.classes or s.is_package}
        self.classes: dict[str, ClassSummary] = {}
        self.aliases: dict[str, str] = {}
        for s in self.files.values():
            for c in s.classes:
                self.classes[c.qualname] = c
            for local, target in s.exports.items():
                alias = f"{s.module}.{local}"
                if alias != target:
                    self.aliases[alias] = target
        self.frameworks: dict[str, str] = {q: c.framework for q, c in self.classes.items() if c.framework}
        self._resolve()

    def resolve(self, name: str) -> str:
        """Follow re-exports (``pkg.Head`` -> ``pkg.heads.base.Head``) to a class of the index, if any."""
        for _ in range(_MAX_HOPS):
            if name in self.classes or name not in self.aliases:
                return name
            name = self.aliases[name]
        return name

    def _resolve(self) -> None:
        changed = True
        while changed:
            changed = False
            for q, c in self.classes.items():
                if q in self.frameworks:
                    continue
                for b in c.bases:
                    fw = self.frameworks.get(self.resolve(b)) if b else None
                    if fw:
                        self.frameworks[q] = fw
                        changed = True
                        break

    def framework_of(self, name: str) -> str | None:
        return self.frameworks.get(self.resolve(name))

    def context_for(self, path: str) -> FileContext | None:
        """The extra knowledge a second check of ``path`` needs, or ``None`` if it would change nothing."""
        s = self.files.get(path)
        if s is None:
            return None
        bases: dict[str, str] = {}
        for c in s.classes:
            if c.framework is not None:
                continue
            for b in c.bases:
                if not b or b.startswith(s.module + "."):
                    continue  # same-file bases are resolved by the file's own model
                fw = self.framework_of(b)
                if fw:
                    bases[b] = fw
        if not bases:
            return None
        return FileContext(s.module, s.is_package, tuple(sorted(bases.items())))

    def module_classes(self) -> set[str]:
        return set(self.frameworks)


def _bind_imports(body: list[ast.stmt], table: dict[str, str], module: str, is_package: bool) -> None:
    from .model import absolutize  # not at the top: a warm CLI run (no summary to make) must not import libcst

    for node in body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    table[a.asname] = a.name
                else:
                    head = a.name.split(".", 1)[0]
                    table[head] = head
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for a in node.names:
                if a.name == "*":
                    continue
                sep = "" if base.endswith(".") else "."
                q = f"{base}{sep}{a.name}" if base else a.name
                table[a.asname or a.name] = absolutize(q, module, is_package)
        elif isinstance(node, (ast.If, ast.Try)):
            _bind_imports(node.body, table, module, is_package)
            _bind_imports(node.orelse, table, module, is_package)
            for h in getattr(node, "handlers", []):
                _bind_imports(h.body, table, module, is_package)
            _bind_imports(getattr(node, "finalbody", []), table, module, is_package)


def _classes(body: list[ast.stmt]) -> Iterable[ast.ClassDef]:
    for node in body:
        if isinstance(node, ast.ClassDef):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            yield from _classes(node.body)
            yield from _classes(node.orelse)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Subscript):
        node = node.value
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def ast_summary(path: str, source: bytes, module_bases: tuple[str, ...] = ()) -> FileSummary | None:
    """The classes and imports of one file, from Python's ``ast`` (``None`` if it does not parse)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    module, is_package = module_name_for(path)
    out = FileSummary(path, module, is_package)
    _bind_imports(tree.body, out.exports, module, is_package)
    classes = list(_classes(tree.body))
    local = {c.name for c in classes}
    for c in classes:
        bases = []
        framework = None
        for b in c.bases:
            dotted = _dotted(b)
            if not dotted:
                bases.append("")
                continue
            head, sep, rest = dotted.partition(".")
            if head in local and head not in out.exports:
                q = f"{module}.{dotted}"
            elif head in out.exports:
                q = known.normalize(out.exports[head] + sep + rest)
            else:
                q = dotted
            bases.append(q)
            fw = known.framework_of_class(q)
            if fw is None and (dotted in module_bases or q in module_bases):
                fw = "torch"
            framework = framework or fw
        out.classes.append(ClassSummary(f"{module}.{c.name}", bases, framework))
    return out


def summaries(paths: Iterable[str], read: Callable[[str], bytes], module_bases: tuple[str, ...] = ()) -> list[FileSummary]:
    out = []
    for p in paths:
        try:
            s = ast_summary(p, read(p), module_bases)
        except OSError:
            s = None
        if s is not None:
            out.append(s)
    return out


@dataclass
class FileOutcome:
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # one line: why the file could not be checked


def check_file(path: str, source: bytes, config: Config, context: FileContext | None) -> FileOutcome:
    """Check one file of a project run (``context`` from :meth:`ProjectIndex.context_for`)."""
    from .core import run

    try:
        return FileOutcome(path, run(source, path=path, config=config, context=context or _own_context(path))[2])
    except ModregError as e:
        return FileOutcome(path, error=str(e))


def _own_context(path: str) -> FileContext:
    module, is_package = module_name_for(path)
    return FileContext(module, is_package)


def check_project(
    paths: Iterable[str],
    config: Config | None = None,
    *,
    read: Callable[[str], bytes] = lambda p: Path(p).read_bytes(),
) -> dict[str, FileOutcome]:
    """Check ``paths`` as one project (serially): the reference the CLI's parallel run must equal."""
    config = config or Config()
    paths = list(paths)
    index = ProjectIndex(summaries(paths, read, config.module_bases))
    return {p: check_file(p, read(p), config, index.context_for(p)) for p in paths}
