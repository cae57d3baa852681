"""Cross-file Module bases: a project-wide class index built in the same run.

The flake8 plugin sees one file at a time, so ``class Head(BaseHead)`` with
``BaseHead(nn.Module)`` in another file is a Module there only on evidence
(the class defines ``forward`` and assigns layers) or through the configured
``module-bases``.  ``modreg check`` sees every file it is given and resolves
such bases itself:

1. every file is checked as usual; the run also keeps a small
   :class:`FileSummary` per file (its dotted module name, its classes with
   their bases as absolute qualified names, and its imports, which are what
   ``__init__.py`` re-exports are made of);
2. :class:`ProjectIndex` resolves, to a fixpoint, which classes derive from
   a Module/Cell through any chain of files (relative and absolute imports,
   re-exports through ``__init__.py``);
3. files holding a class that only now turns out to be a Module (or was one
   only by the evidence guess) are checked again with those bases known
   (:meth:`ProjectIndex.context_for`).  Usually a small fraction of files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .core import FileContext, might_contain_modules, run
from .findings import Finding, ModregError
from .model import FileModel
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
    framework: str | None  # known from this file alone (not by the evidence guess)
    guessed: str | None = None  # the evidence guess, if any


@dataclass
class FileSummary:
    path: str
    module: str
    is_package: bool
    classes: list[ClassSummary] = field(default_factory=list)
    #: imported names of the module: local name -> absolute qualified name (re-exports)
    exports: dict[str, str] = field(default_factory=dict)


def summarize(model: FileModel, path: str, module: str, is_package: bool) -> FileSummary:
    out = FileSummary(path, module, is_package)
    local_names = {c.name for c in model.classes}
    for local, q in model.imports.names().items():
        out.exports[local] = model.absolute(q)
    for c in model.classes:
        if c.parent is not None:
            continue  # nested classes are not importable by a plain name
        bases = []
        for b in c.bases:
            if b and b in local_names and b not in model.imports:
                bases.append(f"{module}.{b}")
            else:
                q = model.imports.qualify(b) if b else None
                bases.append(model.absolute(q) if q else "")
        known = c.framework if not c.evidence else None
        out.classes.append(ClassSummary(f"{module}.{c.name}", bases, known, c.framework if c.evidence else None))
    return out


class ProjectIndex:
    """Which classes of the project are Modules/Cells, across files."""

    def __init__(self, summaries: Iterable[FileSummary]) -> None:
        self.files = {s.path: s for s in summaries}
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
                if fw and fw != c.guessed:  # a right evidence guess needs no second look
                    bases[b] = fw
        if not bases:
            return None
        return FileContext(s.module, s.is_package, tuple(sorted(bases.items())))

    def module_classes(self) -> set[str]:
        return set(self.frameworks)


#: a class statement with something in its parentheses: a file without one cannot
#: hold a class that derives from another file's Module
_CLASS_WITH_BASES = re.compile(rb"^[ \t]*class\s+\w+\s*\(\s*[^)\s]", re.M)


@dataclass
class FileOutcome:
    path: str
    findings: list[Finding] = field(default_factory=list)
    summary: FileSummary | None = None
    error: str | None = None  # one line: why the file could not be checked


def first_pass(path: str, source: bytes, config: Config) -> FileOutcome:
    """Check one file and keep its class summary (for :class:`ProjectIndex`)."""
    try:
        if might_contain_modules(source, config):
            _module, model, findings = run(source, path=path, config=config, context=_own_context(path), need_model=True)
        elif _CLASS_WITH_BASES.search(source) or (path.endswith("__init__.py") and b"import" in source):
            _module, model, findings = run(source, path=path, config=config, context=_own_context(path), need_model=True)
        else:
            return FileOutcome(path)
    except ModregError as e:
        return FileOutcome(path, error=str(e))
    summary = None
    if model is not None and (model.classes or model.is_package):
        module, is_package = module_name_for(path)
        summary = summarize(model, path, module, is_package)
    return FileOutcome(path, findings, summary)


def second_pass(path: str, source: bytes, config: Config, context: FileContext) -> FileOutcome:
    """Check a file again with the bases other files define."""
    try:
        return FileOutcome(path, run(source, path=path, config=config, context=context)[2])
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
    sources = {p: read(p) for p in paths}
    outcomes = {p: first_pass(p, sources[p], config) for p in paths}
    index = ProjectIndex(o.summary for o in outcomes.values() if o.summary is not None)
    for p in paths:
        ctx = index.context_for(p)
        if ctx is not None:
            outcomes[p] = second_pass(p, sources[p], config, ctx)
    return outcomes
