"""The one entry point every adapter uses: ``check(source) -> list[Finding]``."""

from __future__ import annotations

import ast
import contextlib
import gc
import io
import logging
import os
import re
import sys
import threading
import tokenize
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

import libcst as cst

from . import reuse
from .context import FileContext
from .findings import Finding, ModregError
from .model import FileModel, NodeMemo, build_model
from .positions import node_positions
from .rules import AtLine, Reporter, Rule, all_rules
from .settings import Config

if TYPE_CHECKING:
    from .resolver import Resolver

log = logging.getLogger("flake8_modreg")
T = TypeVar("T")
#: ``(module, nodes) -> {node: CodeRange}``: :func:`~flake8_modreg.positions.node_positions`'s contract
Positions = Callable[[cst.Module, Iterable[cst.CSTNode]], dict]

#: Substrings without which a file cannot hold a torch Module or MindSpore Cell
#: we could recognise (TorchFix's cheap prefilter, before any parse).
_PREFILTER = ("torch", "mindspore", "lightning", "transformers", "mmengine", "mmcv")
#: libcst's parser and visitors recurse; deep nesting that ``ast`` accepts can
#: exhaust the default limit.  This is raised for the duration of a check.
_RECURSION_LIMIT = 8000
#: libcst's native parser recurses on the C stack (about 6 kB per nested
#: bracket: a thread's default 8 MB overflows near 1,250 and the process dies
#: with SIGSEGV).  The parse and the visitors run on a thread with this much
#: stack (address space; only what is touched is ever committed).
_STACK_SIZE = 512 << 20
TOO_DEEP = "too deeply nested to analyse"
#: deeper than this bracket nesting CPython itself refuses the file ("too many nested parentheses")
MAX_BRACKET_DEPTH = 200
_NESTING_MESSAGES = ("too many nested parentheses", "too many levels of indentation", "too complex", "too many statically nested blocks")
_deep = threading.local()
#: with a memo (an editor's document), files of this many top-level statements reuse findings per statement
_REUSE_MIN_STATEMENTS = 8


def on_deep_stack(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` on a thread with a :data:`_STACK_SIZE` C stack (directly when already on one)."""
    if getattr(_deep, "active", False):
        return fn(*args, **kwargs)
    box: list[tuple[bool, Any]] = []

    def target() -> None:
        _deep.active = True
        try:
            box.append((True, fn(*args, **kwargs)))
        except BaseException as e:  # handed to the caller's thread
            box.append((False, e))

    try:
        old = threading.stack_size(_STACK_SIZE)
        try:
            t = threading.Thread(target=target, name="modreg-deep-stack", daemon=True)
            t.start()
        finally:
            threading.stack_size(old)
    except (RuntimeError, ValueError, MemoryError):  # no room for such a thread: run here
        return fn(*args, **kwargs)
    t.join()
    ok, value = box[0]
    if ok:
        return value
    raise value


def _bracket_depth(source: str | bytes) -> int:
    """The deepest bracket nesting, counting brackets in strings and comments too (an upper bound)."""
    pattern = _BRACKETS_B if isinstance(source, bytes) else _BRACKETS
    depth = deepest = 0
    for b in pattern.findall(source):
        if b in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


_BRACKETS = re.compile(r"[()\[\]{}]")
_BRACKETS_B = re.compile(rb"[()\[\]{}]")
_OPENERS = frozenset(["(", "[", "{", b"(", b"[", b"{"])


def check_nesting(source: str | bytes) -> None:
    """Raise ``ModregError(TOO_DEEP)`` for nesting deeper than CPython's own parser accepts.

    ``ast.parse`` (about 0.07x a libcst parse) bounds every kind of nesting
    (brackets: 200; indentation: 100; expression chains such as ``not not
    ... x`` or ``a if b else ...``: CPython's parser stack).  A file it
    rejects for another reason (a syntax error, syntax newer than this
    Python) is bounded by its bracket depth alone.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except (RecursionError, MemoryError):
        raise ModregError(TOO_DEEP) from None
    except SyntaxError as e:
        if any(m in str(e.msg) for m in _NESTING_MESSAGES) or _bracket_depth(source) > MAX_BRACKET_DEPTH:
            raise ModregError(TOO_DEEP) from None
    except ValueError:  # NUL bytes: the parse says so
        pass


def _needles(config: Config, context: FileContext | None = None) -> tuple[str, ...]:
    extra = tuple(b.rsplit(".", 1)[-1] for b in config.module_bases)
    if context is not None:
        extra += tuple(q.rsplit(".", 1)[-1] for q, _ in context.bases)
    return _PREFILTER + extra


def might_contain_modules(source: str | bytes, config: Config, context: FileContext | None = None) -> bool:
    needles = _needles(config, context)
    if isinstance(source, bytes):
        return any(n.encode() in source for n in needles)
    return any(n in source for n in needles)


def decode(source: bytes) -> str:
    """Decode file bytes as Python does (BOM, PEP 263 cookie, else UTF-8); one-line error otherwise."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        text = source.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as e:
        raise ModregError(f"cannot decode source: {' '.join(str(e).split())}") from None
    return text[1:] if text.startswith("\ufeff") else text


_validation_lock = threading.Lock()
_unvalidated_parses = 0
_validate_node = cst.CSTNode.__post_init__


def _no_validation(self: cst.CSTNode) -> None:
    return None


@contextlib.contextmanager
def unvalidated() -> Iterator[None]:
    """libcst's parses in this block skip the per-node ``_validate`` (about 15% of a parse).

    Every libcst node checks its own fields when it is constructed
    (``CSTNode.__post_init__``): a guard for nodes built by hand, which the
    parser's own output always passes (libcst's comment on it: validation
    could move to avoid validating the tree when parsing a file).  The check
    is switched off for the whole process while any such block runs; nodes
    built meanwhile elsewhere (a fix's replacement) are re-parsed before
    anything is written, so nothing unchecked reaches a file.
    """
    global _unvalidated_parses
    with _validation_lock:
        if _unvalidated_parses == 0:
            cst.CSTNode.__post_init__ = _no_validation  # type: ignore[method-assign]
        _unvalidated_parses += 1
    try:
        yield
    finally:
        with _validation_lock:
            _unvalidated_parses -= 1
            if _unvalidated_parses == 0:
                cst.CSTNode.__post_init__ = _validate_node  # type: ignore[method-assign]


def _parse_module(source: str | bytes) -> cst.Module:
    with unvalidated():
        return cst.parse_module(source)


def parse(source: str | bytes, *, python_parsed: bool = False) -> cst.Module:
    """Parse with libcst; any failure becomes one :class:`ModregError`.

    ``python_parsed``: the caller has seen Python's own parser accept this
    very text (flake8 hands the plugin its ``ast``; the CLI's index pass
    parsed the same bytes), so :func:`check_nesting`'s ``ast`` pass is not
    repeated.
    """
    if isinstance(source, str) and source.startswith("\ufeff"):
        source = source[1:]
    if not python_parsed:
        check_nesting(source)
    old = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(old, _RECURSION_LIMIT))
        return on_deep_stack(_parse_module, source)
    except cst.ParserSyntaxError as e:
        python = python_syntax_error(source)
        if python is not None:  # Python's own parser knows where (what flake8's E999 shows)
            raise python from None
        # Python accepts the file (syntax newer than libcst knows): libcst's view is all there is
        detail = next((ln.split(": ", 2)[-1] for ln in str(e).splitlines() if "error at" in ln), "invalid syntax")
        if len(detail) > 100:
            detail = detail[:97] + "..."
        raise ModregError(f"syntax error (libcst): {detail}", line=e.raw_line, col=e.raw_column) from None
    except RecursionError:
        raise ModregError(TOO_DEEP) from None
    except (UnicodeDecodeError, LookupError, SyntaxError) as e:  # bad encoding / coding cookie
        raise ModregError(f"cannot decode source: {e}") from None
    except ValueError as e:  # e.g. NUL bytes
        raise ModregError(f"cannot parse source: {e}") from None
    finally:
        sys.setrecursionlimit(old)


def python_syntax_error(source: str | bytes) -> ModregError | None:
    """The first syntax error as Python's own parser reports it (line, 0-based code-point column), or None."""
    import ast

    if isinstance(source, bytes):
        try:
            source = decode(source)
        except ModregError as e:
            return e
    try:
        compile(source, "<modreg>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        line = e.lineno or 1
        col = max((e.offset or 1) - 1, 0)
        return ModregError(f"syntax error: {e.msg}", line=line, col=col)
    except (ValueError, RecursionError, MemoryError):  # NUL bytes, absurd nesting: not a location to give
        return None
    return None


def _resolver_for(path: str | None, config: Config) -> "Resolver | None":
    if not path:
        return None
    from .resolver import for_file

    return for_file(path, config.module_bases)


def enabled_rules(config: Config) -> list[type[Rule]]:
    return [r for r in all_rules() if config.enabled(r.code, r.default_enabled)]


def analyse(model: FileModel, rules: Iterable[type[Rule]], config: Config) -> Reporter:
    reporter = Reporter()
    strict = config.strict or os.environ.get("MODREG_STRICT") == "1"
    for rule_cls in rules:
        rule = rule_cls()
        rule.config = config
        reporter._rule = rule
        try:
            rule.check(model, reporter)
        except Exception as e:  # one broken rule must not take the others down
            if strict:
                raise
            log.warning("internal error in %s (%s): %s: %s", rule_cls.code, rule_cls.name, type(e).__name__, e)
    return reporter


def check(
    source: str | bytes,
    *,
    path: str | None = None,
    config: Config | None = None,
    python_parsed: bool = False,
) -> list[Finding]:
    """Check one file's source and return its findings, sorted by position.

    ``source`` may be ``bytes`` (the encoding is then read from a BOM or a
    PEP 263 cookie) or ``str``.  Raises :class:`ModregError` (one line) when
    the source cannot be parsed; never anything else.  ``python_parsed``:
    Python's own parser accepted this very source (see :func:`parse`).
    """
    return run(source, path=path, config=config, python_parsed=python_parsed)[2]


def check_module(
    source: str | bytes,
    *,
    path: str | None = None,
    config: Config | None = None,
    context: FileContext | None = None,
    parser: Callable[[str], cst.Module] | None = None,
    positions: Positions | None = None,
    memo: NodeMemo | None = None,
) -> tuple[cst.Module | None, list[Finding]]:
    """Like :func:`check`, also returning the parsed module (``None`` when skipped).

    The findings' fixes refer to nodes of that module by identity.  ``parser``
    replaces :func:`parse` for ``str`` sources (the language server's
    incremental re-parse); it must return what :func:`parse` would.
    ``positions`` replaces :func:`~flake8_modreg.positions.node_positions`
    (the language server's per-statement positions); the same contract.
    ``memo`` carries per-node facts over from the previous analysis of the same document (:class:`~flake8_modreg.model.NodeMemo`).
    """
    module, _model, findings = run(source, path=path, config=config, context=context, parser=parser, positions=positions, memo=memo)
    return module, findings


def run(
    source: str | bytes,
    *,
    path: str | None = None,
    config: Config | None = None,
    context: FileContext | None = None,
    need_model: bool = False,
    parser: Callable[[str], cst.Module] | None = None,
    resolver: "Resolver | None" = None,
    python_parsed: bool = False,
    positions: Positions | None = None,
    memo: NodeMemo | None = None,
) -> tuple[cst.Module | None, FileModel | None, list[Finding]]:
    """The whole pipeline: prefilter, parse, model, rules, positions.

    With a ``path``, names imported from other files are resolved from disk
    (:mod:`flake8_modreg.resolver`); pass ``resolver`` to keep the one used
    (its ``consulted()`` files).  With ``need_model`` the file is parsed and modelled even when the
    prefilter would skip it or no rule is enabled (a project-wide run wants
    the class summary of every file that has classes).  ``python_parsed``:
    Python's own parser accepted this very source (see :func:`parse`).
    """
    config = config or Config()
    rules = enabled_rules(config)
    module, model, findings = _checked(
        source, path, config, context, need_model, parser, resolver, python_parsed, positions, memo, rules
    )
    judges = [r for r in rules if r.judges_findings]
    if judges:
        findings = _judge_findings(source, findings, judges, rules, config)
    return module, model, findings


def _judge_findings(
    source: str | bytes, findings: list[Finding], judges: list[type[Rule]], rules: list[type[Rule]], config: Config
) -> list[Finding]:
    """Add the findings of the rules that judge the others' findings (``unused-noqa``)."""
    try:
        text = decode(source) if isinstance(source, bytes) else source
    except ModregError:  # undecodable bytes the prefilter skipped: nothing to judge
        return findings
    enabled = [r.code for r in rules]
    extra: list[Finding] = []
    for rule_cls in judges:
        rule = rule_cls()
        rule.config = config
        try:
            extra.extend(rule.check_findings(text, findings, enabled))
        except Exception as e:  # one broken rule must not take the others down
            if config.strict or os.environ.get("MODREG_STRICT") == "1":
                raise
            log.warning("internal error in %s (%s): %s: %s", rule_cls.code, rule_cls.name, type(e).__name__, e)
    return sorted([*findings, *extra], key=Finding.sort_key) if extra else findings


def _checked(
    source: str | bytes,
    path: str | None,
    config: Config,
    context: FileContext | None,
    need_model: bool,
    parser: Callable[[str], cst.Module] | None,
    resolver: "Resolver | None",
    python_parsed: bool,
    positions: Positions | None,
    memo: NodeMemo | None,
    rules: list[type[Rule]],
) -> tuple[cst.Module | None, FileModel | None, list[Finding]]:
    if not [r for r in rules if not r.judges_findings] and not need_model:
        return None, None, []
    if not need_model and not might_contain_modules(source, config, context):
        # no framework name in the text: only classes whose bases live in other files can be Modules here
        if not (b"class" in source if isinstance(source, bytes) else "class" in source):
            return None, None, []
        resolver = resolver or _resolver_for(path, config)
        if resolver is None or not resolver.source_defines_modules(source):
            return None, None, []
    resolver = resolver or _resolver_for(path, config)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # libcst builds ~100k nodes per 1,000 lines, no cycles: collections meanwhile cost 10-30% (flake8 keeps gc on)
    try:
        return on_deep_stack(_run, source, config, context, rules, parser, resolver, python_parsed, positions, memo)
    finally:
        if gc_was_enabled:
            gc.enable()


def _model(module: cst.Module, config: Config, ctx: FileContext, memo: NodeMemo | None, **kw: Any) -> FileModel:
    model = build_model(module, config.module_bases, dict(ctx.bases), ctx.module_name, ctx.is_package, **kw)
    model.memo = memo
    return model


def _run(
    source: str | bytes,
    config: Config,
    context: FileContext | None,
    rules: list[type[Rule]],
    parser: Callable[[str], cst.Module] | None,
    resolver: "Resolver | None",
    python_parsed: bool = False,
    positions: Positions | None = None,
    memo: NodeMemo | None = None,
) -> tuple[cst.Module | None, FileModel | None, list[Finding]]:
    module = parser(source) if parser is not None and isinstance(source, str) else parse(source, python_parsed=python_parsed)
    old = sys.getrecursionlimit()
    ctx = context or FileContext()
    try:
        sys.setrecursionlimit(max(old, _RECURSION_LIMIT))
        reports = None
        if memo is not None and len(module.body) >= _REUSE_MIN_STATEMENTS:  # an editor's document: reuse what an edit left alone
            reports = reuse.analyse_reusing(
                module,
                memo,
                lambda sub, **kw: _model(sub, config, ctx, memo, **kw),
                lambda model: analyse(model, rules, config),
                (tuple(rules), config, ctx, resolver is None),
                resolver,
            )
            model = None
        if reports is None:
            model = _model(module, config, ctx, memo, resolver=resolver)
            reports = analyse(model, rules, config).reports
        if not reports:
            return module, model, []
        wanted = {id(r.node): r.node for r in reports}
        for r in reports:
            wanted.update((id(v.node), v.node) for v in r.fmt.values() if isinstance(v, AtLine))
        positions = (positions or node_positions)(module, wanted.values())
    except RecursionError:
        raise ModregError(TOO_DEEP) from None
    finally:
        sys.setrecursionlimit(old)
    seen = set()
    findings = []
    for r in reports:
        rng = positions[r.node]
        rule = r.rule
        fmt = r.fmt  # rendered into a new dict: a reused report keeps its AtLine nodes for the next version
        if any(isinstance(v, AtLine) for v in fmt.values()):
            fmt = {k: v.render(positions[v.node].start.line) if isinstance(v, AtLine) else v for k, v in fmt.items()}
        f = Finding(
            code=rule.code,
            name=rule.name,
            message=rule.message.format(**fmt),
            fix_hint=rule.fix_hint.format(**fmt),
            line=rng.start.line,
            col=rng.start.column,
            end_line=rng.end.line,
            end_col=rng.end.column,
            fix=r.fix,
        )
        key = (f.code, f.line, f.col)
        if key not in seen:
            seen.add(key)
            findings.append(f)
    findings.sort(key=Finding.sort_key)
    return module, model, findings
