"""Mutation harness: inject one registration bug per copy into real library code, score recall.

Not part of the default test run (it downloads wheels).  From the repository
root, in the venv where flake8-modreg is installed:

    python tests/realworld/mutate.py timm                 # transformers, mindcv, mindyolo, mindocr likewise
    python tests/realworld/mutate.py timm --notes /tmp/m.md --write-doc

For each corpus (a wheel fetched with ``pip download --no-deps``, as
``sweep.py`` does, unpacked under ``tests/realworld/.cache/mutate/``):

1. An ``ast`` index of the whole corpus says which classes are torch Modules
   or MindSpore Cells (bases followed across files, relative imports and
   ``__init__`` re-exports) -- the harness's own truth, independent of modreg.
2. Every place where a kind of bug can be injected is listed (see ``KINDS``),
   with the *evidence* that makes the mutant a bug (``nn-layer``: a torch.nn /
   mindspore.nn layer; ``class-same-file`` / ``class-other-file``: a Module
   class of the corpus; ``factory-param``: a parameter whose default or
   annotation is a layer class; ``ifexp`` ...).  Candidates whose mutant would
   not be a bug are excluded and counted (rule below).
3. A seeded sample (``--per-kind``, default 40; at most two per file while
   others remain) is mutated one at a time and checked in two views:

   * **flake8**: the flake8 plugin class itself, on the mutated text, with the
     file's real path (the default rule set, as ``flake8`` runs it);
   * **CLI** (``modreg check``'s project view): the mutated file checked in the
     context of the whole corpus, the corpus index built once and the mutated
     file's entry rebuilt (``--verify N`` checks on N mutants that this equals
     a whole-tree ``modreg check`` of a copy of the corpus).

   A mutant is **found** when a new finding of the kind's code(s) is on the
   mutated statement's lines (``def`` line for renames and removed
   ``super().__init__()``).  **Collateral** is every other new finding in the
   mutated file (positions mapped back through the edit).

Not-a-bug rule (buffers and Parameters): the injected plain tensor must be
*used* -- read by a method other than ``__init__`` / ``*init*`` / ``reset*`` /
``load*`` / ``set_*`` / ``*state_dict*`` / ``extra_repr``, for more than its
metadata (``.device``, ``.shape``, ``.new_empty(...)``), other than as the receiver of a
move to the input's device (``.to(x.device)``, ``.to(x)``, ``.to(device=d)``,
``.type_as(x)``; a cast alone such as ``.to(torch.float32)`` does not move it)
and other than as a subscript's index (``t[self.idx]``,
``t[self.idx.view(-1)]``) -- and must not be a 0-d constant
(``torch.tensor(<number>)``, ``torch.scalar_tensor``, ``torch.zeros(())``); a
tensor that is only moved to the input's device at use, only indexes, or is a
0-d constant (which mixes with any device) behaves the same registered or not,
so such mutants are not bugs; in MindSpore code a ``Parameter(...,
requires_grad=False)`` that no method but ``__init__`` updates is a constant
either way.  Nor is a plain tensor assigned outside
``__init__`` to a name another method registers (assignment keeps a buffer a
buffer; for a Parameter it raises).
"""

from __future__ import annotations

import argparse
import ast
import collections
import copy
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = HERE / ".cache"
DOC = REPO / "docs" / "accuracy.md"

CORPORA = {
    "timm": "timm==1.0.31",
    "transformers": "transformers==5.24.0",
    "mindcv": "mindcv==0.3.0",
    "mindyolo": "mindyolo==0.5.0",
    # never tuned on: a held-out check that the recall work did not overfit timm/transformers
    "open_clip": "open_clip_torch==3.3.0",
    "mindocr": "mindocr==0.5.0",  # not used to tune the rules: the check against overfitting
}

#: kind -> (framework, codes that count as finding it, one-line description)
KINDS = {
    "list": ("torch", ("MRG101",), "`nn.ModuleList([...])` / `nn.Sequential(...)` -> plain list"),
    "buffer": ("torch", ("MRG201", "MRG202", "MRG204"), '`self.register_buffer("x", t)` / `self.x = nn.Buffer(t)` -> `self.x = t`'),
    "param": ("torch", ("MRG201", "MRG202", "MRG204"), "`nn.Parameter(t)` -> `t`"),
    "fwdcall": ("torch", ("MRG306",), "`self.m(x)` -> `self.m.forward(x)`"),
    "rename": ("torch", ("MRG301", "MRG307"), "`def forward` -> `def construct`"),
    "nosuper": ("torch", ("MRG401",), "`super().__init__()` removed"),
    "inforward": ("torch", ("MRG403",), "a layer moved from `__init__` into `forward`"),
    "ms-list": ("mindspore", ("MRG101",), "`nn.CellList([...])` / `nn.SequentialCell([...])` -> plain list"),
    "ms-param": ("mindspore", ("MRG201", "MRG202", "MRG203", "MRG204"), "`Parameter(initializer(...))` -> `initializer(...)`"),
    "ms-constructcall": ("mindspore", ("MRG306",), "`self.m(x)` -> `self.m.construct(x)`"),
    "ms-rename": ("mindspore", ("MRG302", "MRG307"), "`def construct` -> `def forward`"),
    "ms-nosuper": ("mindspore", ("MRG401",), "`super().__init__()` removed"),
    "ms-inconstruct": ("mindspore", ("MRG403",), "a layer moved from `__init__` into `construct`"),
}

ENTRY = {"torch": "forward", "mindspore": "construct"}
CONTAINERS = {
    "torch": {"torch.nn.ModuleList", "torch.nn.Sequential"},
    "mindspore": {"mindspore.nn.CellList", "mindspore.nn.SequentialCell"},
}
UNCALLABLE = {"torch.nn.ModuleList", "torch.nn.ModuleDict", "torch.nn.ParameterList", "torch.nn.ParameterDict",
              "mindspore.nn.CellList", "mindspore.nn.CellDict"}
PARAMETER = {"torch": {"torch.nn.Parameter"}, "mindspore": {"mindspore.Parameter"}}
BUFFER = {"torch.nn.Buffer"}
#: methods whose reads of an attribute are not uses "with inputs" (construction, reset, (de)serialisation, repr)
_NOT_RUNTIME = re.compile(r"^__init__$|init|^_?reset|^_?load|^_?set_|state_dict|^extra_repr$|^__repr__$|^__setstate__$")
#: reads of a tensor's metadata only (or a new tensor of its kind): not a use of its values
_METADATA = {"device", "dtype", "shape", "size", "ndim", "dim", "numel", "new_empty", "new_zeros", "new_ones", "new_full",
             "new_tensor", "is_meta"}

#: tensor methods that only reshape or retype an index
_RESHAPES = {"view", "reshape", "flatten", "long", "int", "contiguous", "squeeze", "unsqueeze", "expand", "t"}

# --------------------------------------------------------------------------------------------------
# text edits and line mapping (pure)


@dataclass(frozen=True)
class Edit:
    start: int  # character offsets into the original text
    end: int
    text: str


def offset(lines: list[str], line: int, col_bytes: int) -> int:
    """Character offset of an ``ast`` position (1-based line, UTF-8 byte column)."""
    head = sum(len(x) for x in lines[: line - 1])
    return head + len(lines[line - 1].encode()[:col_bytes].decode(errors="replace"))


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < pos:
            raise ValueError("overlapping edits")
        out += [text[pos : e.start], e.text]
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


class LineMap:
    """Maps lines between a text and its edited copy."""

    def __init__(self, text: str, edits: Iterable[Edit]) -> None:
        self.spans = []  # (orig_first, orig_last, new_first, new_last)
        shift = 0
        for e in sorted(edits, key=lambda e: e.start):
            of = text.count("\n", 0, e.start) + 1
            ol = of + text.count("\n", e.start, e.end)
            nf = of + shift
            nl = nf + e.text.count("\n")
            self.spans.append((of, ol, nf, nl))
            shift += (nl - nf) - (ol - of)

    def to_new(self, line: int) -> int:
        shift = 0
        for of, ol, nf, nl in self.spans:
            if line < of:
                break
            if line <= ol:
                return nf + min(line - of, nl - nf)
            shift = nl - ol
        return line + shift

    def to_orig(self, line: int) -> int:
        shift = 0
        for of, ol, nf, nl in self.spans:
            if line < nf:
                break
            if line <= nl:
                return of + min(line - nf, ol - of)
            shift = nl - ol
        return line - shift


# --------------------------------------------------------------------------------------------------
# the corpus index: which classes are Modules / Cells (pure over sources)


def module_name(rel: str) -> tuple[str, bool]:
    """Dotted module name of a path relative to the corpus root (``timm/layers/mlp.py``)."""
    parts = list(Path(rel).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def absolutize(name: str, level: int, module: str, is_package: bool) -> str:
    if not level:
        return name
    pkg = module.split(".") if is_package else module.split(".")[:-1]
    pkg = pkg[: len(pkg) - (level - 1)] if level > 1 else pkg
    return ".".join([*pkg, name] if name else pkg)


def import_table(body: list[ast.stmt], module: str, is_package: bool, table: dict[str, str] | None = None) -> dict[str, str]:
    table = {} if table is None else table
    for node in body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    table[a.asname] = a.name
                else:
                    table[a.name.split(".", 1)[0]] = a.name.split(".", 1)[0]
        elif isinstance(node, ast.ImportFrom):
            base = absolutize(node.module or "", node.level, module, is_package)
            for a in node.names:
                if a.name != "*":
                    table[a.asname or a.name] = f"{base}.{a.name}" if base else a.name
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for sub in ("body", "orelse", "finalbody"):
                import_table(getattr(node, sub, []) or [], module, is_package, table)
            for h in getattr(node, "handlers", []):
                import_table(h.body, module, is_package, table)
    return table


def dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def top_classes(body: list[ast.stmt]) -> Iterator[ast.ClassDef]:
    for node in body:
        if isinstance(node, ast.ClassDef):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            yield from top_classes(node.body)
            yield from top_classes(node.orelse)
            for h in getattr(node, "handlers", []):
                yield from top_classes(h.body)


def framework_of_name(q: str) -> str | None:
    from flake8_modreg import known

    return known.framework_of_class(known.normalize(q))


def normalize(q: str) -> str:
    from flake8_modreg import known

    q = known.normalize(q)
    return {"mindspore.nn.Cell": "mindspore.nn.Cell", "mindspore.nn.cell.Cell": "mindspore.nn.Cell",
            "mindspore.common.initializer.initializer": "mindspore.common.initializer.initializer"}.get(q, q)


class FileInfo:
    def __init__(self, rel: str, tree: ast.Module) -> None:
        self.rel = rel
        self.module, self.is_package = module_name(rel)
        self.imports = import_table(tree.body, self.module, self.is_package)
        classes = list(top_classes(tree.body))
        self.classes = {c.name: [b for b in c.bases] for c in classes}
        self.class_bases = {c: [self.qualify(b) for b in bs] for c, bs in self.classes.items()}
        self.functions = {f.name for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
        #: class -> (holds a Parameter/buffer itself?, qualified names of what it builds, of what it stores on self)
        self.state: dict[str, tuple[bool, set[str], set[str]]] = {c.name: self._state(c) for c in classes}
        self.methods = {c.name: {m.name for m in c.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))} for c in classes}

    def _state(self, cls: ast.ClassDef) -> tuple[bool, set[str], set[str]]:
        direct, built, stored = False, set(), set()
        for n in ast.walk(cls):
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and any(_is_self_attr(t) for t in n.targets):
                stored.add(self.qualify(n.value.func) or "?")
            if isinstance(n, ast.Call):
                q = self.qualify(n.func) or ""
                if q.rsplit(".", 1)[-1] in ("Parameter", "register_buffer", "register_parameter", "Buffer"):
                    direct = True
                elif q:
                    built.add(q)
                if q.endswith("partial") and n.args:
                    built.add(self.qualify(n.args[0]) or "")
            elif isinstance(n, ast.arguments):
                built |= {self.qualify(d) or "" for d in n.defaults + [k for k in n.kw_defaults if k is not None]
                          if isinstance(d, (ast.Name, ast.Attribute))}
        return direct, built, stored

    def qualify(self, node: ast.expr | str | None) -> str | None:
        d = node if isinstance(node, str) else dotted(node) if node is not None else None
        if d is None:
            if isinstance(node, ast.Subscript):
                return self.qualify(node.value)
            return None
        head, sep, rest = d.partition(".")
        if head in self.classes and head not in self.imports:
            return f"{self.module}.{d}"
        if head in self.imports:
            return normalize(self.imports[head] + sep + rest)
        return normalize(d)


class Index:
    """Module/Cell classes of a corpus, bases followed across files (the harness's own truth)."""

    def __init__(self, files: dict[str, FileInfo]) -> None:
        self.files = files
        self.aliases = {}
        self.bases: dict[str, list[str | None]] = {}
        self.home: dict[str, str] = {}
        for f in files.values():
            for local, target in f.imports.items():
                if f"{f.module}.{local}" != target:
                    self.aliases[f"{f.module}.{local}"] = target
            for c, bases in f.class_bases.items():
                self.bases[f"{f.module}.{c}"] = bases
                self.home[f"{f.module}.{c}"] = f.rel
        self.fw: dict[str, str] = {}
        changed = True
        while changed:
            changed = False
            for q, bases in self.bases.items():
                if q in self.fw:
                    continue
                for b in bases:
                    fw = b and (framework_of_name(b) or self.fw.get(self.resolve(b)))
                    if fw:
                        self.fw[q] = fw
                        changed = True
                        break

    def inherits_entry(self, info: FileInfo, cls: str, entry: str) -> bool:
        """Does a base of ``cls`` define ``entry`` (a layer's forward, or a Module class of the corpus that has one)?"""
        todo, seen = list(info.class_bases.get(cls, [])), set()
        while todo:
            b = todo.pop()
            if not b or b in seen:
                continue
            seen.add(b)
            if framework_of_name(b):
                if b not in ("torch.nn.Module", "mindspore.nn.Cell"):
                    return True
                continue
            q = self.resolve(b)
            home = self.home.get(q)
            if home is None:
                continue
            name = q.rsplit(".", 1)[-1]
            if entry in self.files[home].methods.get(name, ()):
                return True
            todo += self.bases.get(q, [])
        return False

    def stateful(self, q: str | None, _seen: set | None = None) -> bool | None:
        """Does an instance of class ``q`` hold parameters or buffers (its own or its layers')? None: unknown."""
        from flake8_modreg import known

        if not q:
            return None
        if framework_of_name(q):
            return known.layer_state(q)[0]
        q = self.resolve(q)
        home = self.home.get(q)
        if home is None:
            return None
        seen = _seen if _seen is not None else set()
        if q in seen:
            return False
        seen.add(q)
        info = self.files[home]
        name = q.rsplit(".", 1)[-1]
        direct, built, stored = info.state.get(name, (False, set(), set()))
        if direct:
            return True
        for b in [*built, *(x for x in self.bases.get(q, []) if x)]:
            if self.framework(b) and self.stateful(b, seen):
                return True
        # it stores what helper functions return: unknown
        return None if any(not self.framework(x) for x in stored) else False

    def direct_weights(self, q: str | None) -> bool:
        """Does class ``q`` of the corpus hold a Parameter/buffer or a torch.nn/mindspore.nn layer with weights itself?"""
        from flake8_modreg import known

        home = self.home.get(self.resolve(q or ""))
        if home is None:
            return False
        direct, built, _stored = self.files[home].state.get(self.resolve(q).rsplit(".", 1)[-1], (False, set(), set()))
        return direct or any(framework_of_name(b) and known.layer_state(b)[0] for b in built)

    def resolve(self, q: str) -> str:
        for _ in range(16):
            if q in self.bases or q not in self.aliases:
                return q
            q = self.aliases[q]
        return q

    def framework(self, q: str | None) -> str | None:
        if not q:
            return None
        return framework_of_name(q) or self.fw.get(self.resolve(q))

    def class_origin(self, q: str, rel: str) -> str:
        """How a Module class named ``q`` in file ``rel`` is known: nn-layer / class-same-file / class-other-file."""
        if framework_of_name(q):
            return "nn-layer"
        home = self.home.get(self.resolve(q))
        return "class-same-file" if home == rel else "class-other-file"

    def base_origin(self, info: FileInfo, cls: str) -> str:
        """Where a class's Module-ness comes from: base-nn, base-same-file or base-other-file (first Module base)."""
        for b in info.class_bases.get(cls, []):
            if b and framework_of_name(b):
                return "base-nn"
            if b and self.fw.get(self.resolve(b)):
                home = self.home.get(self.resolve(b))
                return "base-same-file" if home == info.rel else "base-other-file"
        return "base-unknown"


# --------------------------------------------------------------------------------------------------
# candidates (pure: a file's source + the index -> mutants)


@dataclass
class Mutant:
    kind: str
    file: str
    line: int  # original line of the mutated statement (or def)
    edits: list[Edit]
    expect: tuple[int, int]  # line range in the MUTATED text where the finding must be
    evidence: str  # why this is a bug / how the value is known (diagnosis of a miss)
    excluded: str | None = None  # "not a bug" reason, if any
    original: str = ""  # the original source line(s)
    mutated: str = ""  # the mutated line(s)


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def _is_self_attr(node: ast.AST, attr: str | None = None) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
            and (attr is None or node.attr == attr))


def _methods(cls: ast.ClassDef) -> list[ast.FunctionDef]:
    return [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _stmts(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a function body, nested blocks included, nested defs/classes excluded."""
    for s in body:
        yield s
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for sub in ("body", "orelse", "finalbody"):
            yield from _stmts(getattr(s, sub, []) or [])
        for h in getattr(s, "handlers", []) or []:
            yield from _stmts(h.body)
        for c in getattr(s, "cases", []) or []:
            yield from _stmts(c.body)


def _walk_fn(fn: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function, nested defs excluded."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield n
        todo.extend(ast.iter_child_nodes(n))


def _scalar_param(fn: ast.AST | None, name: str) -> bool:
    """``name`` is a parameter of ``fn`` annotated ``float``/``int``/``bool`` or with a number as its default."""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    a = fn.args
    pos = [*a.posonlyargs, *a.args]
    defaults = dict(zip([p.arg for p in pos][len(pos) - len(a.defaults):], a.defaults))
    defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
    for p in (*pos, *a.kwonlyargs):
        if p.arg != name:
            continue
        if isinstance(p.annotation, ast.Name):
            return p.annotation.id in ("float", "int", "bool")
        d = defaults.get(name)
        return p.annotation is None and isinstance(d, ast.Constant) and type(d.value) in (int, float, bool)
    return False


def _zero_d(node: ast.expr, info: FileInfo, fn: ast.AST | None = None) -> bool:
    """A 0-d constant: ``torch.tensor(1.0)``, ``torch.scalar_tensor(x)``, ``torch.zeros(())``, or
    ``torch.tensor(r)`` with ``r: float`` (or ``r=10.0``) a parameter of the method that makes it."""
    if not isinstance(node, ast.Call):
        return False
    q = info.qualify(node.func) or ""
    name = q.rsplit(".", 1)[-1]
    if name == "scalar_tensor":
        return True
    if name in ("tensor", "as_tensor", "Tensor") and node.args:
        a = node.args[0]
        while isinstance(a, (ast.UnaryOp, ast.BinOp)):
            a = a.operand if isinstance(a, ast.UnaryOp) else a.left
        if name != "Tensor" and isinstance(a, ast.Name) and _scalar_param(fn, a.id):
            return True
        return isinstance(a, ast.Constant) and isinstance(a.value, (int, float, bool))
    if name in ("zeros", "ones", "empty", "full") and node.args:
        a = node.args[0]
        return isinstance(a, (ast.Tuple, ast.List)) and not a.elts
    return False


class FileCandidates:
    """Every mutant of one file (pure: source text, its FileInfo and the corpus index)."""

    def __init__(self, text: str, info: FileInfo, index: Index) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.info = info
        self.index = index
        self.tree = ast.parse(text)
        self.parents = _parents(self.tree)
        self._locals: dict[int, dict[str, list[ast.expr]]] = {}
        self._reads: dict[int, collections.Counter] = {}
        self._evidence: dict[int, str | None] = {}

    def local_values(self, fn: ast.AST) -> dict[str, list[ast.expr]]:
        """Local name -> the values it is given (``x = v``, ``x.append(v)``, ``x += [v]``, list items)."""
        if id(fn) not in self._locals:
            out = collections.defaultdict(list)
            for n in _walk_fn(fn):
                if isinstance(n, ast.Assign):
                    for t in n.targets:
                        if isinstance(t, ast.Name):
                            out[t.id].append(n.value)
                elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                    out[n.target.id].append(n.value)
                elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend", "insert")
                      and isinstance(n.func.value, ast.Name) and n.args):
                    out[n.func.value.id].append(ast.List(elts=[n.args[-1]]) if n.func.attr != "extend" else n.args[0])
            self._locals[id(fn)] = out
        return self._locals[id(fn)]

    # -- helpers ----------------------------------------------------------------------------------
    def span(self, node: ast.AST) -> tuple[int, int]:
        return (offset(self.lines, node.lineno, node.col_offset), offset(self.lines, node.end_lineno, node.end_col_offset))

    def src(self, node: ast.AST) -> str:
        a, b = self.span(node)
        return self.text[a:b]

    def stmt_of(self, node: ast.AST) -> ast.stmt:
        while not isinstance(node, ast.stmt):
            node = self.parents[id(node)]
        return node

    def qualify(self, node: ast.expr) -> str | None:
        return self.info.qualify(node)

    def fn_of(self, node: ast.AST) -> ast.AST | None:
        while id(node) in self.parents:
            node = self.parents[id(node)]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None

    def layer_evidence(self, node: ast.expr | None, fn: ast.AST | None, depth: int = 0) -> str | None:
        """How we know ``node`` evaluates to a Module/Cell instance (a tag), or None when we do not."""
        if node is None or depth > 3:
            return None
        if isinstance(node, ast.IfExp):
            tags = []
            for b in (node.body, node.orelse):
                if isinstance(b, ast.Constant) and b.value is None:
                    continue
                t = self.layer_evidence(b, fn, depth + 1)
                if t is None:
                    return None
                tags.append(t)
            return "ifexp" if tags else None
        if isinstance(node, ast.Name) and fn is not None:
            values = self.local_values(fn).get(node.id, [])
            if len(values) == 1 and not isinstance(values[0], (ast.List, ast.ListComp)):
                t = self.layer_evidence(values[0], fn, depth + 1)
                return t and "local-var"
            items = []
            for v in values:
                if isinstance(v, ast.List):
                    items += v.elts
                elif isinstance(v, ast.ListComp):
                    items.append(v.elt)
                else:
                    return None
            tags = [self.layer_evidence(i, fn, depth + 1) for i in items]
            return "local-list" if tags and None not in tags else None
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Name) and fn is not None:
            arg = self.param_of(fn, func.id)
            if arg is not None:
                return self.factory_evidence(*arg)
        q = self.qualify(func)
        if q and self.index.framework(q):
            return self.index.class_origin(q, self.info.rel)
        return None

    def evidence_of(self, node: ast.expr, fn: ast.AST) -> str | None:
        if id(node) not in self._evidence:
            self._evidence[id(node)] = self.layer_evidence(node, fn)
        return self._evidence[id(node)]

    def param_of(self, fn: ast.AST, name: str):
        args = fn.args
        pos = args.posonlyargs + args.args
        defaults = [None] * (len(pos) - len(args.defaults)) + list(args.defaults)
        for a, d in zip(pos, defaults):
            if a.arg == name:
                return a, d
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            if a.arg == name:
                return a, d
        return None

    def factory_evidence(self, arg: ast.arg, default: ast.expr | None) -> str | None:
        d = default
        if isinstance(d, ast.Call) and (self.qualify(d.func) or "").endswith("partial") and d.args:
            if self.index.framework(self.qualify(d.args[0])):
                return "factory-param-partial"
        if d is not None and not isinstance(d, ast.Call) and self.index.framework(self.qualify(d)):
            return "factory-param"
        ann = ast.unparse(arg.annotation) if arg.annotation is not None else ""
        if re.search(r"\b(Module|Cell|LayerType)\b", ann):
            return "factory-param-annotation"
        return None

    def class_of(self, node: ast.AST) -> ast.ClassDef | None:
        while id(node) in self.parents:
            node = self.parents[id(node)]
            if isinstance(node, ast.ClassDef):
                return node
        return None

    def module_classes(self, fw: str) -> Iterator[ast.ClassDef]:
        for c in top_classes(self.tree.body):
            if self.index.framework(f"{self.info.module}.{c.name}") == fw:
                yield c

    def line_text(self, first: int, last: int) -> str:
        return "".join(self.lines[first - 1 : last]).rstrip("\n")

    def mutant(self, kind: str, node: ast.AST, edits: list[Edit], evidence: str, excluded: str | None = None,
               expect: tuple[int, int] | None = None) -> Mutant | None:
        """A mutant of ``node``'s statement; the finding is expected on ``expect`` (original lines, default the node's)."""
        new = apply_edits(self.text, edits)  # whether it parses is checked for the sampled ones only (see sample)
        lm = LineMap(self.text, edits)
        first, last = expect or (node.lineno, node.end_lineno)
        expect_new = (lm.to_new(first), lm.to_new(last))
        new_lines = new.splitlines()
        return Mutant(kind, self.info.rel, node.lineno, edits, expect_new, evidence, excluded,
                      original=self.line_text(node.lineno, node.lineno if isinstance(node, ast.FunctionDef) else node.end_lineno),
                      mutated="\n".join(new_lines[expect_new[0] - 1 : expect_new[1]]))

    def used(self, cls: ast.ClassDef, attr: str) -> str | None:
        """None when ``self.attr`` is read with inputs at run time; else why not (not-a-bug reason)."""
        if id(cls) not in self._reads:
            reads, index = collections.Counter(), collections.Counter()
            for m in _methods(cls):
                if _NOT_RUNTIME.search(m.name):
                    continue
                for n in _walk_fn(m):
                    if _is_self_attr(n) and isinstance(n.ctx, ast.Load):
                        p = self.parents.get(id(n))
                        if self.moved_at_use(n) or (isinstance(p, ast.Attribute) and p.attr in _METADATA):
                            continue
                        reads[n.attr] += 1
                        index[n.attr] += self.index_use(n)
            self._reads[id(cls)] = (reads, index)
        reads, index = self._reads[id(cls)]
        if not reads[attr]:
            return "only read via .to(<device>) or never read at run time"
        if reads[attr] == index[attr]:
            return "only used as an index (a CPU index works on any device)"
        return None

    def updated(self, cls: ast.ClassDef, attr: str) -> bool:
        """Does a method other than ``__init__`` write ``self.attr`` (assign, augmented assign, item or ``assign(self.attr, ..)``)?"""
        for m in _methods(cls):
            if m.name == "__init__":
                continue
            for n in _walk_fn(m):
                if isinstance(n, (ast.Assign, ast.AugAssign)):
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                        t = t.value if isinstance(t, ast.Subscript) else t
                        if _is_self_attr(t, attr):
                            return True
                if (isinstance(n, ast.Call) and n.args and _is_self_attr(n.args[0], attr)
                        and (dotted(n.func) or "").rsplit(".", 1)[-1].lower() in ("assign", "assign_add", "assign_sub")):
                    return True
        return False

    def moved_at_use(self, node: ast.AST) -> bool:
        """``self.x.to(x.device)`` / ``.to(x)`` / ``.to(device=d)``: moved to the input's device where it is read.

        A cast alone (``.to(torch.float32)``, ``.to(dtype=...)``, ``.to(input_dtype)``) does not move it. Also
        moved: a read bound to a local (through slices, ``.clone()``-like calls and a conditional's branch) every
        later use of which is such a move (``ids = self.position_ids[:, :n].clone()`` ... ``emb(ids.to(x.device))``).
        """
        return self._moved_here(node) or self._moved_via_local(node)

    def _moved_via_local(self, node: ast.AST) -> bool:
        cur = node
        while True:
            p = self.parents.get(id(cur))
            if isinstance(p, ast.Subscript) and p.value is cur:
                cur = p
            elif isinstance(p, ast.Attribute) and p.value is cur and p.attr in ("clone", "detach", "contiguous"):
                g = self.parents.get(id(p))
                if not (isinstance(g, ast.Call) and g.func is p):
                    return False
                cur = g
            elif isinstance(p, ast.IfExp) and p.test is not cur:
                cur = p
            else:
                break
        if not (isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name) and p.value is cur):
            return False
        name = p.targets[0].id
        fn = p
        while fn is not None and not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fn = self.parents.get(id(fn))
        if fn is None:
            return False
        # up to the name's next rebinding (``b = self.b`` ... ``b = b.to(x.device)``: what the later uses read is
        # the moved value); the rebinding's own value still reads this one
        rebinds = [(n.end_lineno, n.end_col_offset) for n in ast.walk(fn) if isinstance(n, ast.Assign) and n is not p
                   and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.targets[0].id == name
                   and (n.lineno, n.col_offset) > (p.lineno, p.col_offset)]
        until = min(rebinds, default=(float("inf"), 0))
        uses = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                and (p.lineno, p.col_offset) < (n.lineno, n.col_offset) < until]
        return bool(uses) and all(self._moved_here(u) for u in uses)

    def _moved_here(self, node: ast.AST) -> bool:
        p = self.parents.get(id(node))
        while isinstance(p, ast.Subscript) and p.value is node:  # self.freq[None].to(t.device)
            node, p = p, self.parents.get(id(p))
        g = self.parents.get(id(p)) if p is not None else None
        if not (isinstance(p, ast.Attribute) and p.attr in ("to", "type_as") and isinstance(g, ast.Call) and g.func is p):
            return False
        if p.attr == "type_as" or any(k.arg == "device" for k in g.keywords):
            return True
        if not g.args:
            return False
        a = g.args[0]
        text = ast.unparse(a)
        if "device" in text:
            return True
        return isinstance(a, ast.Name) and not re.search(r"dtype|type", a.id)

    def index_use(self, node: ast.AST) -> bool:
        """``t[self.idx]`` / ``t[self.idx.view(-1)]``: the read is (a reshape of) a subscript's index."""
        cur = node
        while True:
            p = self.parents.get(id(cur))
            g = self.parents.get(id(p)) if p is not None else None
            if isinstance(p, ast.Attribute) and isinstance(g, ast.Call) and g.func is p and p.attr in _RESHAPES:
                cur = g
                continue
            if isinstance(p, ast.Tuple) and isinstance(g, ast.Subscript) and g.slice is p:
                return True
            return isinstance(p, ast.Subscript) and p.slice is cur

    # -- kinds --------------------------------------------------------------------------------------
    def all(self) -> list[Mutant]:
        out = []
        for fw in ("torch", "mindspore"):
            classes = list(self.module_classes(fw))
            if not classes:
                continue
            p = "" if fw == "torch" else "ms-"
            for cls in classes:
                found = []
                for gen, kind in ((self.lists, "list"), (self.params, "param"), (self.calls, "fwdcall" if fw == "torch" else "constructcall"),
                                  (self.renames, "rename"), (self.nosupers, "nosuper"), (self.moves, "inforward" if fw == "torch" else "inconstruct")):
                    kind = p + kind if not kind.startswith("ms-") else kind
                    found += [m for m in gen(cls, fw, kind) if m is not None]
                if fw == "torch":
                    found += [m for m in self.buffers(cls, fw, "buffer") if m is not None]
                    found += [m for m in self.params(cls, fw, "buffer", BUFFER) if m is not None]
                tags = self.class_tags(cls)
                for m in found:
                    m.evidence = ",".join([m.evidence, *(t for t in tags if t not in m.evidence.split(","))])
                out += found
        return out

    def class_tags(self, cls: ast.ClassDef) -> list[str]:
        """What about the class itself may hide a bug from a linter."""
        tags = []
        origin = self.index.base_origin(self.info, cls.name)
        if origin != "base-nn":
            tags.append(origin)
        if cls.decorator_list:
            tags.append("decorated-class")
        for n in ast.walk(cls):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr" and len(n.args) >= 2
                    and isinstance(n.args[0], ast.Name) and n.args[0].id == "self" and not isinstance(n.args[1], ast.Constant)):
                tags.append("dynamic-setattr")
                break
        return tags

    def registered_elsewhere(self, cls: ast.ClassDef, fn: ast.AST, name: str) -> bool:
        """Is ``name`` registered (buffer or Parameter) by another method of the class than ``fn``, or by a method
        of a subclass in the same file (``if hasattr(self, name): self.name = ...`` in a base's method runs on the
        subclass that registered it)?"""
        subclasses = [c for c in ast.walk(self.tree) if isinstance(c, ast.ClassDef)
                      and any(isinstance(b, ast.Name) and b.id == cls.name for b in c.bases)]
        for m in [*_methods(cls), *(m for c in subclasses for m in _methods(c))]:
            if m is fn:
                continue
            for n in _walk_fn(m):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("register_buffer", "register_parameter")
                        and n.args and isinstance(n.args[0], ast.Constant) and n.args[0].value == name):
                    return True
                if (isinstance(n, ast.Assign) and any(_is_self_attr(t, name) for t in n.targets) and isinstance(n.value, ast.Call)
                        and (self.qualify(n.value.func) or "").rsplit(".", 1)[-1] in ("Parameter", "Buffer")):
                    return True
        return False

    def _self_assigns(self, cls: ast.ClassDef) -> Iterator[tuple[ast.FunctionDef, ast.stmt, str]]:
        for m in _methods(cls):
            for s in _stmts(m.body):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target] if isinstance(s, ast.AnnAssign) and s.value else []
                for t in targets:
                    if _is_self_attr(t):
                        yield m, s, t.attr

    def shape(self, stmt: ast.stmt, fn: ast.AST) -> list[str]:
        tags = []
        cls = self.class_of(stmt)
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        attrs = {t.attr for t in targets if t is not None and _is_self_attr(t)}
        if cls is not None and attrs and any(a in attrs and s is not stmt for _f, s, a in self._self_assigns(cls)):
            tags.append("attr-assigned-elsewhere")
        if isinstance(stmt, ast.Assign) and len(stmt.targets) > 1:
            tags.append("chained-assign")
        if isinstance(stmt, ast.AnnAssign):
            tags.append("annotated-assign")
        if fn.name != "__init__":
            tags.append(f"in-{fn.name}")
        p = self.parents.get(id(stmt))
        if isinstance(p, (ast.If, ast.Try)):
            tags.append("in-branch")
        if isinstance(p, (ast.For, ast.While)):
            tags.append("in-loop")
        return tags

    def lists(self, cls, fw, kind):
        for fn, stmt, attr in self._self_assigns(cls):
            values = [stmt.value] if not isinstance(stmt.value, ast.IfExp) else [stmt.value.body, stmt.value.orelse]
            for v in values:
                if not isinstance(v, ast.Call) or (self.qualify(v.func) or "") not in CONTAINERS[fw]:
                    continue
                q = self.qualify(v.func)
                rep, elems, form = self.list_replacement(v, q)
                if rep is None or (form == "local-name" and self.dict_local(elems[0], fn)):
                    continue  # nn.Sequential(an OrderedDict): its plain form is a dict, not a list
                if not elems:
                    elems = [a.args[0] for a in _walk_fn(cls) if isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute)
                             and a.func.attr in ("append", "insert", "extend") and _is_self_attr(a.func.value, attr) and a.args]
                    if not elems:
                        continue  # an empty container that nothing fills: a plain list is harmless
                    form = "empty+append"
                tags = [self.layer_evidence(e, fn) or "unknown-value" for e in elems]
                worst = min(tags, key=lambda t: ORDER.get(t, -1))
                excluded = None
                if fn.name != "__init__" and any(
                        a == attr and f is not fn and isinstance(x.value, ast.Call) and self.index.framework(self.qualify(x.value.func))
                        for f, x, a in self._self_assigns(cls)):
                    excluded = "a sub-module of that name is registered in another method (assigning a list raises)"
                nested = any(isinstance(e, ast.Call) and (self.qualify(e.func) or "") in CONTAINERS[fw] for e in elems)
                ev = ",".join([form, worst, *self.shape(stmt, fn)] + (["ifexp-value"] if len(values) > 1 else [])
                              + (["elements-are-containers"] if nested else []))
                a, b = self.span(v)
                yield self.mutant(kind, stmt, [Edit(a, b, rep)], ev, excluded)

    def dict_local(self, name: ast.expr, fn: ast.AST) -> bool:
        vals = self.local_values(fn).get(name.id, []) if isinstance(name, ast.Name) else []
        return any(isinstance(v, (ast.Dict, ast.DictComp)) or (isinstance(v, ast.Call) and (self.qualify(v.func) or "").rsplit(".", 1)[-1]
                   in ("OrderedDict", "dict")) for v in vals)

    def list_replacement(self, call: ast.Call, q: str) -> tuple[str | None, list, str]:
        args = call.args
        if call.keywords:
            return None, [], ""
        sequential = q.endswith("Sequential") or q.endswith("SequentialCell")
        if not args:
            return "[]", [], "empty"
        if len(args) == 1 and not isinstance(args[0], ast.Starred):
            a = args[0]
            if isinstance(a, ast.List):
                return self.src(a), list(a.elts), "list-display"
            if isinstance(a, ast.ListComp):
                return self.src(a), [a.elt], "list-comprehension"
            if isinstance(a, ast.GeneratorExp):
                s = self.src(a)
                return (s if s.startswith("[") else f"[{s}]"), [a.elt], "generator"
            if isinstance(a, (ast.Call, ast.Dict)) and sequential and "OrderedDict" in (ast.unparse(a)[:20]):
                return None, [], ""
            if isinstance(a, ast.Name):
                return a.id, [a], "local-name"
            if sequential and isinstance(a, ast.Call):  # nn.Sequential(layer(...)): a one-element Sequential
                return f"[{self.src(a)}]", [a], "sequential-args"
            return f"list({self.src(a)})", [a], "list-of-expr"
        if len(args) == 1 and isinstance(args[0], ast.Starred):
            inner = args[0].value
            if isinstance(inner, ast.List):
                return self.src(inner), list(inner.elts), "list-display"
            if isinstance(inner, ast.ListComp):
                return self.src(inner), [inner.elt], "list-comprehension"
            return f"list({self.src(inner)})", [inner], "starred-name" if isinstance(inner, ast.Name) else "starred-expr"
        a, b = self.span(args[0])[0], self.span(args[-1])[1]
        return f"[{self.text[a:b]}]", [x.value if isinstance(x, ast.Starred) else x for x in args], "sequential-args"

    def params(self, cls, fw, kind, wrappers=None):
        """``self.x = nn.Parameter(t)`` -> ``self.x = t`` (``wrappers=BUFFER``: ``nn.Buffer(t)``)."""
        for fn, stmt, attr in self._self_assigns(cls):
            values = [stmt.value] if not isinstance(stmt.value, ast.IfExp) else [stmt.value.body, stmt.value.orelse]
            for v in values:
                if not isinstance(v, ast.Call) or (self.qualify(v.func) or "") not in (wrappers or PARAMETER[fw]):
                    continue
                data = v.args[0] if v.args else next((k.value for k in v.keywords if k.arg in ("data", "default_input")), None)
                if data is None or isinstance(data, ast.Starred):
                    continue
                form = self.tensor_form(data, fn)
                excluded = "0-d constant" if _zero_d(data, self.info, fn) else self.used(cls, attr)
                excluded = self.cannot_run(stmt, fn, data) or excluded
                if fn.name != "__init__" and self.registered_elsewhere(cls, fn, attr):
                    excluded = "registered in another method (assigning keeps a buffer, raises for a Parameter)"
                frozen = any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is False
                             for k in v.keywords)
                if fw == "mindspore" and frozen and not excluded and not self.updated(cls, attr):
                    # MindSpore places tensors itself: a frozen Parameter that nothing updates is a constant either way
                    excluded = "MindSpore constant: Parameter(..., requires_grad=False) that no method updates"
                ev = ",".join([form, *self.shape(stmt, fn)] + (["ifexp-value"] if len(values) > 1 else [])
                              + (["**kwargs"] if any(k.arg is None for k in getattr(data, "keywords", [])) else [])
                              + (["device-kwarg"] if any(k.arg == "device" for k in getattr(data, "keywords", [])) else []))
                a, b = self.span(v)
                yield self.mutant(kind, stmt, [Edit(a, b, self.src(data))], ev, excluded)

    def cannot_run(self, stmt: ast.stmt, fn: ast.AST, value: ast.expr) -> str | None:
        """Why the original statement can never run to completion (a mutant there changes nothing), else None:
        it sits under ``if <flag>:`` / ``if self.<flag>:`` after ``__init__`` raised for that flag (``if use_past:
        raise ValueError(...)`` earlier in the same or an enclosing block), or its value calls ``np.zeros``/``ones``/
        ``empty`` with an int as the third positional argument (numpy's ``order``: a ``TypeError`` before anything)."""
        for n in ast.walk(value):
            if (isinstance(n, ast.Call) and (self.qualify(n.func) or "") in ("numpy.zeros", "numpy.ones", "numpy.empty")
                    and len(n.args) >= 3 and self._int_value(n.args[2], fn)):
                return "the original call raises (numpy's third positional parameter is order, given an int)"
        if not isinstance(fn, ast.FunctionDef) or fn.name != "__init__":
            return None
        flags = {}  # self.<attr> -> the parameter __init__ stored there
        for st in _stmts(fn.body):
            if (isinstance(st, ast.Assign) and len(st.targets) == 1 and _is_self_attr(st.targets[0])
                    and isinstance(st.value, ast.Name) and self.param_of(fn, st.value.id)):
                flags[st.targets[0].attr] = st.value.id

        def flag_of(test: ast.expr) -> str | None:
            if isinstance(test, ast.Name) and self.param_of(fn, test.id):
                return test.id
            if _is_self_attr(test) and test.attr in flags:
                return flags[test.attr]
            return None

        node: ast.AST = stmt
        guards: set[str] = set()
        while id(node) in self.parents and node is not fn:
            parent = self.parents[id(node)]
            if isinstance(parent, ast.If) and node in parent.body and flag_of(parent.test):
                guards.add(flag_of(parent.test))
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and node in block:
                    for before in block[: block.index(node)]:
                        if (isinstance(before, ast.If) and not before.orelse and flag_of(before.test) in guards
                                and before.body and isinstance(before.body[0], ast.Raise)):
                            return "dead code: __init__ raised earlier for the flag that guards it"
            node = parent
        return None

    def _int_value(self, e: ast.expr, fn: ast.AST) -> bool:
        """An int literal, or a parameter of ``fn`` annotated ``int`` or defaulting to an int."""
        if isinstance(e, ast.Constant):
            return type(e.value) is int
        if isinstance(e, ast.Name):
            got = self.param_of(fn, e.id)
            if got is not None:
                arg, default = got
                return ((isinstance(arg.annotation, ast.Name) and arg.annotation.id == "int")
                        or (isinstance(default, ast.Constant) and type(default.value) is int))
        return False

    def tensor_form(self, node: ast.expr, fn) -> str:
        if isinstance(node, ast.Name):
            return "param-tensor" if self.param_of(fn, node.id) else "local-var"
        if isinstance(node, ast.Call):
            q = self.qualify(node.func) or ""
            if q.startswith("torch.") or q.startswith("mindspore.") or q.startswith("numpy."):
                return "call:" + q.rsplit(".", 1)[-1]
            if isinstance(node.func, ast.Attribute) and not q.startswith(("torch", "mindspore")):
                return "method-call:" + node.func.attr
            return "helper-call:" + (q.rsplit(".", 1)[-1] if q else "?")
        if isinstance(node, ast.BinOp):
            return "arithmetic"
        if isinstance(node, ast.Attribute):
            return "attribute"
        return type(node).__name__.lower()

    def buffers(self, cls, fw, kind):
        for fn in _methods(cls):
            for s in _stmts(fn.body):
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)):
                    continue
                c = s.value
                if not (isinstance(c.func, ast.Attribute) and c.func.attr == "register_buffer"
                        and isinstance(c.func.value, ast.Name) and c.func.value.id == "self"):
                    continue
                args = list(c.args) + [k.value for k in c.keywords if k.arg in ("name", "tensor")]
                if len(args) < 2 or not (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
                    continue
                name, value = args[0].value, args[1]
                if isinstance(value, ast.Constant) and value.value is None or not name.isidentifier():
                    continue
                excluded = "0-d constant" if _zero_d(value, self.info, fn) else self.used(cls, name)
                if fn.name != "__init__" and self.registered_elsewhere(cls, fn, name):
                    excluded = "registered in another method (assigning keeps a buffer, raises for a Parameter)"
                ev = ",".join([self.tensor_form(value, fn), *self.shape(s, fn)]
                              + (["**kwargs"] if any(k.arg is None for k in getattr(value, "keywords", [])) else [])
                              + (["device-kwarg"] if any(k.arg == "device" for k in getattr(value, "keywords", [])) else []))
                a, b = self.span(s)
                yield self.mutant(kind, s, [Edit(a, b, f"self.{name} = {self.src(value)}")], ev, excluded)

    def attr_values(self, cls) -> dict[str, list[tuple[ast.expr, ast.AST]]]:
        out = collections.defaultdict(list)
        for fn, stmt, attr in self._self_assigns(cls):
            out[attr].append((stmt.value, fn))
        return out

    def calls(self, cls, fw, kind):
        entry = ENTRY[fw]
        values = self.attr_values(cls)
        for m in _methods(cls):
            if m.name == "__init__":
                continue
            for n in _walk_fn(m):
                if not (isinstance(n, ast.Call) and _is_self_attr(n.func) and n.func.attr in values):
                    continue
                vals = [(v, f) for v, f in values[n.func.attr] if not (isinstance(v, ast.Constant) and v.value is None)]
                if not vals or any(isinstance(v, ast.Call) and (self.qualify(v.func) or "") in UNCALLABLE for v, _ in vals):
                    continue
                tags = [self.evidence_of(v, f) for v, f in vals]
                if None in tags:
                    continue
                worst = min(tags, key=lambda t: ORDER.get(t, -1))
                ev = ",".join([worst] + ([f"in-{m.name}"] if m.name != entry else []) + (["multi-assign"] if len(vals) > 1 else []))
                end = self.span(n.func)[1]
                yield self.mutant(kind, n, [Edit(end, end, f".{entry}")], ev)

    def renames(self, cls, fw, kind):
        names = {m.name for m in _methods(cls)}
        old, new = ("forward", "construct") if fw == "torch" else ("construct", "forward")
        if old not in names or new in names:
            return
        m = next(m for m in _methods(cls) if m.name == old)
        i = offset(self.lines, m.lineno, m.col_offset)
        j = self.text.index(old, i)
        ev = self.index.base_origin(self.info, cls.name)
        if self.index.inherits_entry(self.info, cls.name, old):
            ev += ",base-defines-" + old
        yield self.mutant(kind, m, [Edit(j, j + len(old), new)], ev, expect=(m.lineno, m.lineno))

    def nosupers(self, cls, fw, kind):
        init = next((m for m in _methods(cls) if m.name == "__init__"), None)
        if init is None:
            return
        for s in init.body:
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
                    and s.value.func.attr == "__init__"):
                continue
            recv = s.value.func.value
            is_super = isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super"
            is_base = self.index.framework(self.qualify(recv)) is not None and s.value.args and \
                isinstance(s.value.args[0], ast.Name) and s.value.args[0].id == "self"
            if not (is_super or is_base):
                continue
            a, b = self.span(s)
            others = [x for x in init.body if x is not s]
            assigns = any(isinstance(x, (ast.Assign, ast.AnnAssign, ast.AugAssign)) for x in _stmts(others))
            ev = ",".join([self.index.base_origin(self.info, cls.name)] + (["explicit-base-init"] if is_base else [])
                          + ([] if assigns else ["init-assigns-nothing"]))
            yield self.mutant(kind, s, [Edit(a, b, "pass")], ev, expect=(init.lineno, init.lineno))
            return

    def stateful_value(self, call: ast.Call, fn: ast.AST) -> bool | None:
        """Does the layer ``call`` builds hold weights?  None when the harness cannot tell."""
        from flake8_modreg import known

        q = None
        if isinstance(call.func, ast.Name) and self.param_of(fn, call.func.id):
            _a, d = self.param_of(fn, call.func.id)
            if isinstance(d, ast.Call) and (self.qualify(d.func) or "").endswith("partial") and d.args:
                d = d.args[0]
            q = self.qualify(d) if d is not None and not isinstance(d, ast.Call) else None
        else:
            q = self.qualify(call.func)
        state = self.index.stateful(q)
        if state and framework_of_name(q or ""):
            switches = {w for ws in known.layer_state(q)[1] for w in ws}
            keys = set()
            for k in call.keywords:
                if k.arg is not None:
                    keys.add(k.arg)
                    continue
                # **dd: a local dict display with constant keys (timm's {'device': ..., 'dtype': ...})
                vals = self.local_values(fn).get(k.value.id, []) if isinstance(k.value, ast.Name) else []
                if len(vals) != 1 or not isinstance(vals[0], ast.Dict) or not all(isinstance(x, ast.Constant) for x in vals[0].keys):
                    return None
                keys |= {x.value for x in vals[0].keys}
            if keys & switches:
                return None  # a flag may switch its state off
        return state

    def moves(self, cls, fw, kind):
        """``self.m = Layer(...)`` in ``__init__`` becomes ``m = Layer(...)`` at the top of forward, ``self.m`` -> ``m`` there."""
        entry = ENTRY[fw]
        init = next((m for m in _methods(cls) if m.name == "__init__"), None)
        fwd = next((m for m in _methods(cls) if m.name == entry), None)
        if init is None or fwd is None:
            return
        uses = collections.defaultdict(list)
        names = set(self.local_values(fwd)) | {a.arg for a in ast.walk(fwd.args) if isinstance(a, ast.arg)}
        names |= {n.id for n in _walk_fn(fwd) if isinstance(n, ast.Name)}
        for n in _walk_fn(fwd):
            if _is_self_attr(n):
                uses[n.attr].append(n)
        init_names = set(self.local_values(init)) | {a.arg for a in ast.walk(init.args) if isinstance(a, ast.arg)}
        fwd_bound = set(self.local_values(fwd)) | {a.arg for a in ast.walk(fwd.args) if isinstance(a, ast.arg)}
        body = fwd.body
        first = body[1] if (len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                            and isinstance(body[0].value.value, str)) else body[0]
        if first.lineno == fwd.lineno or first.col_offset == 0:
            return
        for s in init.body:
            if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and _is_self_attr(s.targets[0])
                    and isinstance(s.value, ast.Call)):
                continue
            attr = s.targets[0].attr
            calls = [n for n in uses.get(attr, []) if isinstance(self.parents.get(id(n)), ast.Call) and self.parents[id(n)].func is n]
            if not calls or attr in names or any(not isinstance(n.ctx, ast.Load) for n in uses[attr]):
                continue
            ev = self.layer_evidence(s.value, init)
            if ev is None:
                continue
            state = self.stateful_value(s.value, init)
            if any(k.arg is None for k in s.value.keywords):
                ev += ",**kwargs"
            # names of __init__ (its parameters and locals) that forward does not bind: moved as they are, the
            # text would raise NameError before any layer is built. As a developer moving the layer would, keep
            # each on self in __init__ (``self._mut_dim = dim``) and read it from there in forward.
            carried = sorted({n.id for n in ast.walk(s.value) if isinstance(n, ast.Name)} & (init_names - fwd_bound))
            if carried:
                ev += ",init-names"
            if state and ev.startswith("class-") and not self.index.direct_weights(self.qualify(s.value.func)):
                ev += ",weights-only-in-sub-modules"
            excluded = None if state else ("a layer without weights" if state is False else "weights unknown (flag or factory)")
            a, b = self.span(s)
            ins = offset(self.lines, first.lineno, 0)
            indent = self.lines[first.lineno - 1][: len(self.lines[first.lineno - 1]) - len(self.lines[first.lineno - 1].lstrip())]
            value_src = self.src(s.value)
            if carried:
                value_src = ast.unparse(_CarryNames(set(carried)).visit(copy.deepcopy(s.value)))
            text = f"{indent}{attr} = {value_src}\n"
            keep = "; ".join(f"self._mut_{n} = {n}" for n in carried)
            edits = [Edit(a, b, keep or "pass"), Edit(ins, ins, text)]
            for n in uses[attr]:
                x, y = self.span(n)
                edits.append(Edit(x, y, attr))
            # the inserted statement takes the place of forward's first statement (LineMap maps that line onto it)
            m = self.mutant(kind, s, edits, ev, excluded, expect=(first.lineno, first.lineno))
            if m is not None:
                yield m


class _CarryNames(ast.NodeTransformer):
    """``norm_layer(dim)`` -> ``self._mut_norm_layer(self._mut_dim)``: names of ``__init__`` read from ``self``."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Attribute(ast.Name("self", ast.Load()), f"_mut_{node.id}", ast.Load()), node)
        return node


#: evidence tags from the weakest (least knowable for a linter) to the strongest
ORDER = {"unknown-value": 0, "local-list": 1, "local-var": 1, "factory-param-annotation": 2, "factory-param-partial": 3,
         "factory-param": 4, "ifexp": 5, "class-other-file": 6, "class-same-file": 7, "nn-layer": 8}


def sample(cands: list[Mutant], n: int, seed: int, kind: str, per_file: int = 2, ok=lambda m: True) -> list[Mutant]:
    """A deterministic sample of ``n`` bugs (excluded ones never), at most ``per_file`` per file while others remain.

    ``ok`` rejects a mutant (its text does not parse) when it would be picked.
    """
    pool = sorted((m for m in cands if m.excluded is None), key=lambda m: (m.file, m.line, m.evidence))
    random.Random(f"{seed}:{kind}").shuffle(pool)
    picked, rest, count = [], [], collections.Counter()
    for m in pool:
        if count[m.file] < per_file and len(picked) < n:
            if not ok(m):
                continue
            picked.append(m)
            count[m.file] += 1
        else:
            rest.append(m)
    return picked + list(itertools.islice((m for m in rest if ok(m)), max(0, n - len(picked))))


# --------------------------------------------------------------------------------------------------
# scoring (pure)


def score(m: Mutant, baseline: list[tuple[str, int]], found: list[tuple[str, int]], text: str) -> tuple[bool, list[tuple[str, int]]]:
    """(found?, collateral) of a mutant: findings are (code, line); ``found`` is on the mutated text."""
    lm = LineMap(text, m.edits)
    new = collections.Counter((c, lm.to_orig(line)) for c, line in found) - collections.Counter(baseline)
    codes = KINDS[m.kind][1]
    hit = None
    for c, line in found:
        if c in codes and m.expect[0] <= line <= m.expect[1] and new[(c, lm.to_orig(line))] > 0:
            hit = (c, lm.to_orig(line))
            break
    if hit:
        new[hit] -= 1
    return hit is not None, sorted(new.elements())


# --------------------------------------------------------------------------------------------------
# the two views (impure: they run modreg)


def default_codes() -> list[str]:
    from flake8_modreg.rules import all_rules

    return [r.code for r in all_rules() if r.default_enabled]


class Flake8View:
    """What flake8 reports: the plugin class itself, one file, the default rule set."""

    name = "flake8"

    def __init__(self, root: Path) -> None:
        from flake8_modreg.plugin import Plugin
        from flake8_modreg.settings import Config

        Plugin._config = Config.make(select=default_codes())
        self.plugin = Plugin

    def check(self, path: Path, text: str) -> list[tuple[str, int]]:
        lines = text.splitlines(keepends=True)
        p = self.plugin(ast.parse(text), lines, str(path))
        return [(msg.split(" ", 1)[0], line) for line, _col, msg, _t in p.run()]


class ProjectView:
    """What ``modreg check`` on the whole corpus reports for one file: the index built once, the file's entry rebuilt."""

    name = "CLI"

    def __init__(self, root: Path, paths: list[Path]) -> None:
        from flake8_modreg.project import summaries
        from flake8_modreg.settings import Config

        self.config = Config()
        self.summaries = {s.path: s for s in summaries([str(p) for p in paths], lambda p: Path(p).read_bytes())}

    def check(self, path: Path, text: str) -> list[tuple[str, int]]:
        from flake8_modreg.core import run
        from flake8_modreg.findings import ModregError
        from flake8_modreg.project import ProjectIndex, _own_context, ast_summary

        sums = dict(self.summaries)
        s = ast_summary(str(path), text.encode())
        if s is None:
            sums.pop(str(path), None)
        else:
            sums[str(path)] = s
        index = ProjectIndex(sums.values())
        ctx = index.context_for(str(path)) or _own_context(str(path))
        try:
            return [(f.code, f.line) for f in run(text, path=str(path), config=self.config, context=ctx)[2]]
        except ModregError:
            return []


FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>MRG\d{3})\b", re.M)


def whole_tree(root: Path, rel: str, text: str) -> list[tuple[str, int]]:
    """``modreg check`` over a copy of the corpus with one file replaced: that file's findings."""
    with tempfile.TemporaryDirectory(prefix="modreg-mutate-") as tmp:
        copy = Path(tmp) / "tree"
        shutil.copytree(root, copy)
        (copy / rel).write_text(text, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run([sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "-q", "-j1", "."],
                              cwd=copy, capture_output=True, text=True, env=env)  # this checkout's modreg
        out = []
        for m in FINDING.finditer(proc.stdout):
            if os.path.normpath(m["path"]) == os.path.normpath(rel):
                out.append((m["code"], int(m["line"])))
        return sorted(out)


# --------------------------------------------------------------------------------------------------
# the run


def corpus(label: str) -> tuple[Path, list[Path]]:
    sys.path.insert(0, str(HERE))
    from sweep import fetch  # noqa: E402  (tests/realworld is not a package)

    wheel = fetch(CORPORA[label])
    root = CACHE / "mutate" / wheel.stem
    if not root.exists():
        tmp = root.with_name(root.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        with zipfile.ZipFile(wheel) as z:
            for n in z.namelist():
                if n.endswith(".py") and ".dist-info/" not in n:
                    z.extract(n, tmp)
        tmp.rename(root)
    return root, sorted(root.rglob("*.py"))


def build(root: Path, paths: list[Path]) -> tuple[Index, dict[str, str]]:
    files, texts = {}, {}
    for p in paths:
        rel = p.relative_to(root).as_posix()
        try:
            text = p.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        files[rel] = FileInfo(rel, tree)
        texts[rel] = text
    return Index(files), texts


DIAGNOSIS = {
    "unknown-value": "value the harness itself cannot type (helper call, attribute)",
    "local-var": "layer held in a local variable first",
    "local-list": "layers collected in a local list first",
    "factory-param": "layer factory passed as a parameter (default is a layer class)",
    "factory-param-partial": "layer factory parameter with a `partial(nn.X, ...)` default",
    "factory-param-annotation": "layer factory parameter known only from its annotation",
    "ifexp": "conditional expression (`X(...) if c else nn.Identity()`)",
    "class-other-file": "layer class imported from another file",
    "class-same-file": "layer class defined in the same file",
    "nn-layer": "a torch.nn / mindspore.nn layer",
    "base-other-file": "class's Module base is in another file",
    "base-same-file": "class's Module base is in the same file",
    "base-nn": "class derives from nn.Module / nn.Cell directly",
    "chained-assign": "chained assignment",
    "elements-are-containers": "the items are themselves nn.Sequential / SequentialCell containers",
    "annotated-assign": "annotated assignment",
    "in-branch": "assigned inside if/try",
    "attr-assigned-elsewhere": "the attribute is assigned elsewhere too (e.g. a registered value in the other branch)",
    "in-loop": "assigned inside a loop",
    "ifexp-value": "inside a conditional expression",
    "param-tensor": "tensor passed in as a parameter",
    "decorated-class": "the class has a decorator (`@use_kernel_forward_from_hub(...)`, a registry)",
    "dynamic-setattr": "the class calls setattr(self, <computed name>, ...) somewhere",
    "**kwargs": "the call passes **kwargs (timm's **dd)",
    "device-kwarg": "the tensor factory gets `device=` (the constructor's argument, None by default)",
    "base-defines-forward": "a base class defines forward (the rename silently uses it)",
    "base-defines-construct": "a base class defines construct (the rename silently uses it)",
    "init-assigns-nothing": "__init__ assigns nothing else to self",
    "weights-only-in-sub-modules": "the class's weights are all in its own sub-modules (nested)",
    "explicit-base-init": "Base.__init__(self) form",
    "init-names": "the moved text uses names only __init__ binds: kept on self there (`self._mut_dim = dim`) and read from self in forward",
}


def diagnose(ev: str) -> str:
    parts = ev.split(",")
    words = [DIAGNOSIS.get(p, p) for p in parts]
    return "; ".join(words)


def parses(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except SyntaxError:
        return False


def run_corpus(label: str, per_kind: int, seed: int, verify: int, kinds: list[str] | None, log=print) -> dict:
    t0 = time.time()
    commit = _commit()  # before the run: the sources it measures
    root, paths = corpus(label)
    index, texts = build(root, paths)
    cands: dict[str, list[Mutant]] = collections.defaultdict(list)
    for rel, text in texts.items():
        if "torch" not in text and "mindspore" not in text:
            continue
        try:
            for m in FileCandidates(text, index.files[rel], index).all():
                cands[m.kind].append(m)
        except Exception as e:  # a harness bug must not stop the whole run; report it
            log(f"[mutate] {rel}: candidate error {type(e).__name__}: {e}")
    log(f"[mutate] {label}: {len(texts)} files, {sum(map(len, cands.values()))} candidates "
        f"({time.time() - t0:.0f}s)")
    views = [Flake8View(root), ProjectView(root, paths)]
    base_cache: dict[tuple[str, str], list] = {}
    results = []
    for kind in KINDS:
        if kinds and kind not in kinds:
            continue
        picked = sample(cands.get(kind, []), per_kind, seed, kind, ok=lambda m: parses(apply_edits(texts[m.file], m.edits)))
        for m in picked:
            text = texts[m.file]
            new = apply_edits(text, m.edits)
            row = {**{k: v for k, v in asdict(m).items() if k != "edits"}, "views": {}}
            for v in views:
                key = (v.name, m.file)
                if key not in base_cache:
                    base_cache[key] = v.check(root / m.file, text)
                found, collateral = score(m, base_cache[key], v.check(root / m.file, new), text)
                row["views"][v.name] = {"found": found, "collateral": collateral}
            results.append(row)
        log(f"[mutate] {label}: {kind}: {len(picked)} mutants ({time.time() - t0:.0f}s)")
    verified = []
    if verify:
        rng = random.Random(seed)
        pool = [r for r in results]
        for row in rng.sample(pool, min(verify, len(pool))):
            m = next(x for x in cands[row["kind"]] if x.file == row["file"] and x.line == row["line"] and x.evidence == row["evidence"])
            new = apply_edits(texts[m.file], m.edits)
            tree_findings = whole_tree(root, m.file, new)
            ours = sorted(views[1].check(root / m.file, new))
            verified.append({"file": m.file, "kind": m.kind, "line": m.line, "equal": tree_findings == ours,
                             "tree": tree_findings, "ours": ours})
            log(f"[mutate] verify {m.file}:{m.line} {m.kind}: {'equal' if tree_findings == ours else 'DIFFERENT'}")
    counts = {k: {"candidates": len(v), "excluded": collections.Counter(m.excluded for m in v if m.excluded)} for k, v in cands.items()}
    return {"label": label, "wheel": root.name, "results": results, "counts": counts, "verified": verified,
            "seconds": time.time() - t0, "commit": commit}


def _commit() -> str:
    c = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "flake8_modreg"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return c + (" (+ uncommitted changes)" if dirty else "")


def table(data: dict) -> list[str]:
    out = [f"{data['wheel']}, measured on commit `{data['commit']}`; seed {data.get('seed', 0)}.", "",
           "| kind | bug injected | candidates | not a bug (excluded) | mutants | flake8 found | flake8 recall | "
           "CLI found | CLI recall | collateral (flake8 / CLI) |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    by = collections.defaultdict(list)
    for r in data["results"]:
        by[r["kind"]].append(r)
    for kind, (fw, _codes, desc) in KINDS.items():
        rows = by.get(kind, [])
        c = data["counts"].get(kind, {"candidates": 0, "excluded": {}})
        if not rows and not c["candidates"]:
            continue
        n = len(rows)
        f = sum(r["views"]["flake8"]["found"] for r in rows)
        p = sum(r["views"]["CLI"]["found"] for r in rows)
        cf = sum(len(r["views"]["flake8"]["collateral"]) for r in rows)
        cp = sum(len(r["views"]["CLI"]["collateral"]) for r in rows)
        rec = (lambda k: f"{k / n:.2f}" if n else "-")
        out.append(f"| {kind} | {desc} | {c['candidates']} | {sum(c['excluded'].values())} | {n} | {f} | {rec(f)} | "
                   f"{p} | {rec(p)} | {cf} / {cp} |")
    if data.get("verified"):
        eq = sum(v["equal"] for v in data["verified"])
        out += ["", f"CLI view checked against a whole-tree `modreg check` on {len(data['verified'])} mutants: "
                    f"{eq} equal."]
    return out


def misses(data: dict) -> list[str]:
    out = []
    for r in data["results"]:
        miss = [v for v in ("flake8", "CLI") if not r["views"][v]["found"]]
        if not miss:
            continue
        line = r["mutated"].strip().splitlines()[0] if r["mutated"].strip() else ""
        out.append(f"- `{r['file']}:{r['line']}` {r['kind']} (missed by {' and '.join(miss)}): `{line[:140]}` "
                   f"-- {diagnose(r['evidence'])}")
    return out


def causes(data: dict) -> list[str]:
    """How often each evidence tag appears among the mutants a view misses, per kind (the flake8 view)."""
    out = []
    by = collections.defaultdict(collections.Counter)
    for r in data["results"]:
        if not r["views"]["flake8"]["found"]:
            by[r["kind"]].update(t for t in r["evidence"].split(",") if t)
    for kind, c in by.items():
        out.append(f"- {kind}: " + ", ".join(f"{t} {k}" for t, k in c.most_common()))
    return out


def collateral(data: dict) -> list[str]:
    out = []
    for r in data["results"]:
        for v in ("flake8", "CLI"):
            for code, line in r["views"][v]["collateral"]:
                out.append(f"- {v}: `{r['file']}:{line}` {code} after {r['kind']} at line {r['line']}")
    return out


def report(data: dict) -> str:
    out = [f"# Mutation recall: {data['label']}", ""] + table(data)
    out += ["", "## Evidence tags among the mutants flake8 misses", ""] + (causes(data) or ["(none)"])
    out += ["", "## Missed mutants", ""] + (misses(data) or ["(none)"])
    out += ["", "## Collateral findings", ""] + (collateral(data) or ["(none)"])
    out += ["", "## Excluded (not a bug)", ""]
    for kind, c in data["counts"].items():
        for why, k in c["excluded"].items():
            out.append(f"- {kind}: {k} x {why}")
    if data.get("verified"):
        out += ["", "## Whole-tree verification", ""]
        out += [f"- `{v['file']}:{v['line']}` {v['kind']}: {'equal' if v['equal'] else 'DIFFERENT: tree ' + str(v['tree']) + ' ours ' + str(v['ours'])}"
                for v in data["verified"]]
    return "\n".join(out) + "\n"


def write_doc(data: dict, doc: Path = DOC) -> None:
    text = doc.read_text()
    section = "## Mutation recall"
    start, end = f"<!-- mutation-{data['label']}:start -->", f"<!-- mutation-{data['label']}:end -->"
    tags = causes(data)
    block = f"{start}\n" + "\n".join(table(data) + ((["", "Evidence tags among the mutants flake8 misses:", ""] + tags) if tags else [])) + f"\n{end}"
    if start in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        doc.write_text(f"{head}{block}{tail}")
        return
    if section not in text:
        text = text.rstrip("\n") + "\n\n" + MUTATION_INTRO
    head, rest = text.split(section, 1)
    nxt = rest.find("\n## ")
    body, tail = (rest, "") if nxt < 0 else (rest[:nxt], rest[nxt:])
    body = body.rstrip("\n") + f"\n\n### {data['label']}\n\n{block}\n"
    doc.write_text(f"{head}{section}{body}{tail}")


MUTATION_INTRO = """## Mutation recall

Bugs injected one at a time into real library code (`tests/realworld/mutate.py`; the full rules
are in `tests/realworld/README.md`): a seeded sample of 40 per kind (fewer where the library has
fewer), each mutant checked as flake8 sees it (the plugin, one file) and as `modreg check` sees it
(the mutated file in the context of the whole library; checked against whole-tree runs). A mutant
is *found* when a new finding of the kind's code is on the mutated statement (the `def` line for
renames and a removed `super().__init__()`); *collateral* counts every other new finding in the
mutated file. Only bugs are sampled: a plain tensor that is a 0-d constant, only moved to the
input's device where it is read (`.to(x.device)`), only used as an index, or never read at run
time is *not a bug* (it behaves the same registered or not), nor is a layer without weights built in
`forward`, nor a frozen MindSpore Parameter that nothing updates; such candidates are counted as
excluded. Under each table: the harness's evidence tags among the mutants flake8 misses (why the
harness knows they are bugs, i.e. what the model has to know: `class-other-file`, `factory-param`,
`**kwargs`, `base-defines-forward`, ...).

```bash
python tests/realworld/mutate.py timm --write-doc    # transformers, mindcv, mindyolo likewise
```
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="*", help=f"one or more of {', '.join(sorted(CORPORA))}")
    ap.add_argument("--per-kind", type=int, default=40, help="mutants per kind (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", nargs="*", help="only these kinds")
    ap.add_argument("--verify", type=int, default=0, help="check N mutants against a whole-tree modreg check")
    ap.add_argument("--notes", help="write the full report (table, misses, collateral) to this file")
    ap.add_argument("--json", help="write every mutant's result to this file")
    ap.add_argument("--write-doc", action="store_true", help="update the 'Mutation recall' section of docs/accuracy.md")
    ap.add_argument("--from-json", nargs="*", default=[], help="report (and --write-doc) saved --json results instead of running")
    args = ap.parse_args(argv)
    if not args.corpus and not args.from_json:
        ap.error("name a corpus (or --from-json)")
    for c in args.corpus:
        if c not in CORPORA:
            ap.error(f"unknown corpus {c!r} (choose from {', '.join(sorted(CORPORA))})")
    sys.path.insert(0, str(REPO))
    texts = []
    runs = [("run", label) for label in args.corpus] + [("json", p) for p in args.from_json]
    for how, what in runs:
        if how == "json":
            data = json.loads(Path(what).read_text())
        else:
            data = run_corpus(what, args.per_kind, args.seed, args.verify, args.kinds,
                              log=lambda s: print(s, file=sys.stderr, flush=True))
            data["seed"] = args.seed
        text = report(data)
        print(text)
        texts.append(text)
        if args.json and how == "run":
            out = Path(args.json)
            if len(args.corpus) > 1:  # one file per corpus
                out = out.with_name(f"{out.stem}-{data['label']}{out.suffix}")
            out.write_text(json.dumps(data, indent=1, default=list))
        if args.write_doc:
            write_doc(data)
    if args.notes:
        Path(args.notes).write_text("\n".join(texts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
