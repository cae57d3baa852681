"""Reuse each top-level statement's findings from one version of a document to the next.

The language server re-parses only the top-level statements an edit touched
(:mod:`flake8_modreg.incremental`); every other statement of the new module
is the very node object of the previous version.  A keystroke inside one
class of a 5,000-line file would still pay for the model and the rules of the
whole file; this module makes it pay for that class and what it depends on.

**What a statement's findings can depend on.**  Rules read a
:class:`~flake8_modreg.model.FileModel`; across top-level statements the model
connects only through names, plus a few file-wide facts.  Per statement (a
superset of what the model sees: every ``Name`` node, and every word of its
strings, since a string annotation names a class too):

* ``mentions``: those names;
* ``binds``: what it can bind for the rest of the file.  A ``class``/``def``:
  its own name and every class name defined anywhere inside it (the model
  finds classes by name wherever they are defined).  A line of plain
  assignments and expressions (``LAYERS = [...]``, ``x.append(...)``): the
  names in its targets, plus the receivers of its calls (``layers.append(...)``
  changes ``layers``) and its ``:=`` targets where an assignment binds them.
  Anything else (an ``if``/``try``/``for`` block, ``del``, ``global``, an
  import): *every* name it mentions;
* ``classes``: the class names defined in it, and ``bases``: the names in
  their base lists;
* ``everywhere``: read by every statement: it holds an ``import`` (the import
  table, and which framework the file uses, are file-wide, and imports inside
  functions count) or mentions a method of
  :data:`~flake8_modreg.model.FILE_WIDE_METHODS` (``_apply`` overrides, whose
  ``m.<attr>`` the tensor rules read for every class).

``T`` *reads* ``S`` when ``T`` mentions a name ``S`` binds.  A statement's
findings depend on what it reads, transitively (its bases, the classes it
instantiates, the helpers it calls), on the classes *below* it (a subclass's
methods are read by the rules of its bases: ``descendants``, ``family``) and
on the ``everywhere`` statements for what their own text says (an import
binds what it binds whatever the rest of the file is, so what they read is
not read with them).  So the neighbourhood of ``T`` is
``N(T) = reads*(below*(T)) + everywhere``, ``below*(T)`` being ``T`` and every
statement with a class whose bases name a class defined in ``T``,
transitively.  For a class ``Block7(nn.Module)`` that no class derives from,
``N`` is the class, the imports and what it reads.  (Bit sets over the
strongly connected components of "reads": linear in the edges.)

Three facts are file-wide rather than named, and are checked by *replaying*
what the rules asked: the membership questions put to
``FileModel.attr_names`` (every attribute name of the file: ``x.forwrad``
anywhere silences a misspelled ``forwrad``) are answered from every
statement's own attribute names (kept per statement) and recorded; every
question to the cross-file resolver is recorded with its answer and asked
again of the current resolver; a read of the whole file's code
(``FileModel.source_code``, a fix checking a name is free) makes the
findings of that run never reused.

**The cache.**  Entries live in the :class:`~flake8_modreg.model.NodeMemo`
the language server carries from version to version, keyed by statement
identity (so by the statement's source text: nodes are immutable and a
re-parsed statement is a new node).  An entry holds the reports the rules made
inside the statement, the nodes of its neighbourhood, the run's settings
(rules, config, project context) and the recorded questions.  It is reused
when its neighbourhood is the very same statements, the settings are equal
and every recorded question gets the same answer.  The other statements
("dirty") are analysed together: the model and the rules run over a module of
the statements in their neighbourhoods only (a valid Python file: every name
they need is bound in it), and each report is kept for the dirty statement
it points into.  Positions are then computed on the whole module as usual.

Why this gives a full check's findings: a dirty statement's neighbourhood is
the same set of statements in the sub-module as in the whole file (every
statement below it, and everything those read, is in the sub-module), and
its findings are a function of that neighbourhood and the replayed facts.
``tests/test_incremental.py`` checks equality with a full check (messages
and fixes included) after random edit sequences that change bases, imports,
subclassed and instantiated classes, helpers, module-level lists, attribute
names read file-wide, ``_apply`` overrides, and add and remove classes; and
that a changed file on disk, or a fix that read the whole text, is not
reused.  It is used only where a memo is given (``check_module(...,
memo=...)``: the language server) on files of at least
``core._REUSE_MIN_STATEMENTS`` statements; a file too connected for it
(:data:`_BUDGET`) is analysed whole.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import libcst as cst

from .model import FILE_WIDE_METHODS, FileModel, NodeMemo, node_children

if TYPE_CHECKING:
    from .rules import Reporter
    from .resolver import Resolver

_WORD = re.compile(r"[^\W\d]\w*")
#: "reads" edges per statement beyond which a file is analysed whole (too connected for reuse to pay)
_BUDGET = 400


@dataclass(frozen=True)
class Facts:
    """What one top-level statement can contribute to, or take from, the rest of the file (see the module docs)."""

    mentions: frozenset[str]
    binds: frozenset[str]
    #: names its calls may change (``layers.append(x)``, ``nn.Linear(...)``: a call's receiver) and ``:=`` binds;
    #: bound by it where an assignment binds them too
    changes: frozenset[str]
    classes: frozenset[str]
    #: the names in the base lists of the classes defined in it (``class Head(Base)``: Base)
    bases: frozenset[str]
    everywhere: bool
    #: its ``binds`` are assignments (not an import, a ``def`` or a ``class``)
    assigns: bool


def statement_facts(stmt: cst.CSTNode) -> Facts:
    """A statement's names: every ``Name`` in it and every word of its strings (string annotations count)."""
    words: set[str] = set()
    classes: set[str] = set()
    bases: set[str] = set()
    changed: set[str] = set()  # what calls may change (``layers.append(...)``: layers) and ``:=`` binds
    everywhere = False
    stack = [stmt]
    while stack:
        node = stack.pop()
        t = node.__class__
        if t is cst.Name:
            words.add(node.value)
            continue
        if t is cst.SimpleString or t is cst.FormattedStringText:
            words.update(_WORD.findall(node.value))
            continue
        if t is cst.ClassDef:
            classes.add(node.name.value)
            for arg in node.bases:
                bases.update(n.value for n in _names_in(arg.value))
        elif t is cst.Import or t is cst.ImportFrom:
            everywhere = True
        elif t is cst.Call or t is cst.NamedExpr:
            head = node.func if t is cst.Call else node.target
            while isinstance(head, (cst.Attribute, cst.Subscript, cst.Call)):
                head = head.func if isinstance(head, cst.Call) else head.value
            if isinstance(head, cst.Name):
                changed.add(head.value)
        stack.extend(node_children(node))
    everywhere = everywhere or not words.isdisjoint(FILE_WIDE_METHODS)
    simple = isinstance(stmt, cst.SimpleStatementLine)
    if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
        binds = frozenset(classes | {stmt.name.value})
    elif simple and all(isinstance(s, _PLAIN) for s in stmt.body):
        binds = frozenset(classes | {n for s in stmt.body for n in _target_names(s)})
    else:  # a block, an import, ``del``, ``global``...: whatever it mentions
        binds = frozenset(words)
    assigns = not isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and not (
        simple and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)
    )
    return Facts(frozenset(words), binds, frozenset(changed), frozenset(classes), frozenset(bases), everywhere, assigns)


#: small statements that bind only their targets (and what their calls change)
_PLAIN = (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Expr, cst.Pass)


def _target_names(small: cst.CSTNode) -> set[str]:
    """Every name in the targets of an assignment (``a.b[c] = v``: a, b and c)."""
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        targets = [small.target]
    else:
        return set()
    return {n.value for t in targets for n in _names_in(t)}


def _names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node
        else:
            stack.extend(node_children(node))


def neighbourhoods(facts: Sequence[Facts]) -> list[tuple[int, ...]] | None:
    """``N(T)`` (indices, in order) for every statement; None when the file is too connected to be worth it."""
    n = len(facts)
    binders: dict[str, list[int]] = {}
    definers: dict[str, list[int]] = {}
    for i, f in enumerate(facts):
        for w in f.binds:
            binders.setdefault(w, []).append(i)
        for w in f.classes:
            definers.setdefault(w, []).append(i)
    # a module-level call changes a name's value only where an assignment (not an import, a def or a class) binds it
    assigned = {w for f in facts if f.assigns for w in f.binds}
    for i, f in enumerate(facts):
        for w in f.changes & assigned:
            if i not in binders[w]:
                binders[w].append(i)
    reads: list[set[int]] = []
    below: list[set[int]] = [set() for _ in range(n)]  # i -> the statements with a class whose base i defines
    for i, f in enumerate(facts):
        out = set()
        for w in f.mentions:
            out.update(binders.get(w, ()))
        out.discard(i)
        reads.append(out)
        for w in f.bases:
            for j in definers.get(w, ()):
                below[j].add(i)
    if sum(map(len, reads)) > _BUDGET * n:
        return None
    # read by every statement for what their own text says (imports, _apply): what *they* read is not read with them
    everywhere = [i for i, f in enumerate(facts) if f.everywhere]
    common = sum(1 << i for i in everywhere)
    onward = [set() if f.everywhere else out for f, out in zip(facts, reads)]
    reach = _reach(onward)
    hoods = []
    for i in range(n):
        start, stack = {i}, [i]
        while stack:  # the statements below, transitively (subclasses, theirs...)
            for j in below[stack.pop()]:
                if j not in start:
                    start.add(j)
                    stack.append(j)
        bits = common
        for j in start:
            bits |= 1 << j
            for k in reads[j]:
                bits |= reach[k]
        hoods.append(tuple(_members(bits)))
    return hoods


def _members(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


def _reach(edges: list[set[int]]) -> list[int]:
    """For every node, the nodes it reaches (itself included) as a bit set: Tarjan's components, in reverse
    topological order, each one's set the union of its members and of what its successors reach."""
    n = len(edges)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    reach = [0] * n
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, it = work[-1]
            for w in it:
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, iter(edges[w])))
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:  # v roots a component: every successor outside it is done
                    members = []
                    while True:
                        w = stack.pop()
                        on_stack[w] = False
                        members.append(w)
                        if w == v:
                            break
                    bits = sum(1 << w for w in members)
                    for w in members:
                        for x in edges[w]:
                            if not on_stack[x]:
                                bits |= reach[x]
                    for w in members:
                        reach[w] = bits
    return reach


class _AttrNames:
    """``FileModel.attr_names`` for a model of part of a file: the whole file's answers, each question recorded."""

    def __init__(self, names: set[str], asked: dict[str, bool]) -> None:
        self._names = names
        self._asked = asked

    def __contains__(self, name: object) -> bool:
        got = name in self._names
        self._asked[name] = got  # type: ignore[index]
        return got


class _RecordingResolver:
    """A resolver whose every answer is recorded, to be asked again of the next version's resolver."""

    def __init__(self, inner: "Resolver", asked: list[tuple[Any, ...]]) -> None:
        self._inner = inner
        self._asked = asked

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value):
            self._asked.append((name, None, None, value))
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            got = value(*args, **kwargs)
            self._asked.append((name, args, kwargs, got))
            return got

        return call


@dataclass
class _Questions:
    """What one analysis asked outside the named statements it read (shared by the entries it made)."""

    attrs: dict[str, bool] = dataclasses.field(default_factory=dict)
    resolver: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    whole_text: bool = False

    def same_answers(self, attr_names: set[str], resolver: "Resolver | None") -> bool:
        if self.whole_text:
            return False
        if any((name in attr_names) != got for name, got in self.attrs.items()):
            return False
        for name, args, kwargs, got in self.resolver:
            if resolver is None:
                return False
            value = getattr(resolver, name)
            if (value if args is None else value(*args, **kwargs)) != got:
                return False
        return True


@dataclass(frozen=True)
class _Entry:
    hood: tuple[cst.CSTNode, ...]
    settings: tuple[Any, ...]
    questions: _Questions
    #: (rule index, report) in the order the rules made them
    reports: tuple[tuple[int, Any], ...]


class _Owners:
    """Which of ``statements`` (indices into ``body``) a node is in; each statement's nodes are listed when first needed."""

    def __init__(self, body: Sequence[cst.CSTNode], statements: Iterable[int], every_field: bool = False) -> None:
        self._body, self._left, self._every_field = body, iter(statements), every_field
        self._owner: dict[int, int] = {}

    def of(self, node: cst.CSTNode) -> int | None:
        key = id(node)
        while key not in self._owner:
            i = next(self._left, None)
            if i is None:
                return None
            self._owner.update(dict.fromkeys(_node_ids(self._body[i], self._every_field), i))
        return self._owner[key]


def _node_ids(stmt: cst.CSTNode, every_field: bool = False) -> set[int]:
    """The ids of the nodes of ``stmt``: those that carry code, or (``every_field``) all, whitespace included."""
    out = set()
    stack = [stmt]
    while stack:
        node = stack.pop()
        out.add(id(node))
        if not every_field:
            stack.extend(node_children(node))
            continue
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            if isinstance(v, cst.CSTNode):
                stack.append(v)
            elif isinstance(v, (tuple, list)):
                stack.extend(x for x in v if isinstance(x, cst.CSTNode))
    return out


def analyse_reusing(
    module: cst.Module,
    memo: NodeMemo,
    build: Callable[..., FileModel],
    run_rules: Callable[[FileModel], "Reporter"],
    settings: tuple[Any, ...],
    resolver: "Resolver | None",
) -> list[Any] | None:
    """The rules' reports over ``module``, reusing ``memo``'s per-statement entries; None to analyse it whole.

    ``build(sub_module, resolver=..., whole=..., statement_attrs=...)`` is
    :func:`~flake8_modreg.model.build_model` with the run's other arguments;
    ``run_rules(model)`` runs the rules; ``settings`` is everything else the
    findings depend on (the rules, in order, first; the config and the project
    context), compared with ``==``.  The reports come in the order a whole
    analysis makes them: rule by rule, statement by statement.
    """
    body = module.body
    facts = []
    for stmt in body:
        f = memo.get("statement-facts", stmt)
        if f is None:
            f = statement_facts(stmt)
            memo.put("statement-facts", stmt, f)
        facts.append(f)
    hoods = neighbourhoods(facts)
    if hoods is None:
        return None
    attrs: dict[int, set[str]] = {}
    for stmt in body:
        got = memo.get("statement-attrs", stmt)
        if got is not None:
            attrs[id(stmt)] = got
    kept: dict[int, _Entry] = {}
    dirty: list[int] = []
    for i, stmt in enumerate(body):
        entry = memo.get("statement-findings", stmt)
        if (
            entry is not None
            and entry.settings == settings
            and len(entry.hood) == len(hoods[i])
            and all(a is body[j] for a, j in zip(entry.hood, hoods[i]))
        ):
            kept[i] = entry
        else:
            dirty.append(i)
    replayed: dict[int, bool] = {}
    while True:
        # the dirty statements' neighbourhoods, and statements whose attribute names are not known yet
        wanted = sorted({j for i in dirty for j in hoods[i]} | {j for j, stmt in enumerate(body) if id(stmt) not in attrs})
        sub = module if len(wanted) == len(body) else module.with_changes(body=[body[j] for j in wanted])
        questions = _Questions()
        recording = _RecordingResolver(resolver, questions.resolver) if resolver is not None else None
        fresh: dict[int, set[str]] = {}
        model = build(sub, resolver=recording, whole=module, statement_attrs=fresh)
        attrs.update(fresh)
        every_attr = set().union(*attrs.values())
        stale = []
        for i, entry in kept.items():
            q = entry.questions  # shared by the entries of one analysis: asked once
            if id(q) not in replayed:
                replayed[id(q)] = q.same_answers(every_attr, resolver)
            if not replayed[id(q)]:
                stale.append(i)
        if not stale:
            break
        for i in stale:  # an attribute name or a resolver answer changed under them: analyse them too
            del kept[i]
        dirty = sorted([*dirty, *stale])
    model.attr_names = _AttrNames(every_attr, questions.attrs)  # type: ignore[assignment]
    whole_text = model.source_code

    def source_code() -> str:
        questions.whole_text = True
        return whole_text()

    model.source_code = source_code  # type: ignore[method-assign]
    reporter = run_rules(model)
    for stmt in body:
        memo.put("statement-attrs", stmt, attrs[id(stmt)])
    rank = {rule: k for k, rule in enumerate(settings[0])}
    owner = _Owners(body, dirty)
    anywhere = _Owners(body, wanted, every_field=True)  # for nodes in whitespace fields, and reports of kept statements
    mine: dict[int, list[tuple[int, Any]]] = {i: [] for i in dirty}
    for r in reporter.reports:
        i = owner.of(r.node)
        if i is None:
            i = anywhere.of(r.node)
            if i is None:
                return None  # a report outside every statement: only a whole analysis knows where it goes
            if i not in mine:
                continue  # inside a statement whose entry is kept
        mine[i].append((rank[type(r.rule)], r))
    for i in dirty:
        entry = _Entry(tuple(body[j] for j in hoods[i]), settings, questions, tuple(mine[i]))
        memo.put("statement-findings", body[i], entry)
    for i, entry in kept.items():
        memo.put("statement-findings", body[i], entry)
    merged = []
    for i in range(len(body)):
        entry = kept.get(i)
        merged.extend(entry.reports if entry is not None else mine[i])
    merged.sort(key=lambda pair: pair[0])  # stable: per rule, in statement order, as the rules made them
    return [r for _, r in merged]
