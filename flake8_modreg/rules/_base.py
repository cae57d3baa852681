"""The rule protocol: one class per rule, self-documenting and self-testing.

A rule declares its code, kebab-case name, message and fix hint, a docstring
in ruff's sections, and its own VALID and INVALID examples.  The examples are
its tests (``tests/test_rule_examples.py`` runs every one), its docs
(``python -m flake8_modreg.docs --write``) and, with a ``probe``, its runtime
proof (``tests/test_runtime_truth.py`` runs them under real PyTorch).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

import libcst as cst

from ..findings import Applicability, Fix

if TYPE_CHECKING:
    from ..model import FileModel

_CODE = re.compile(r"^MRG\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")
_REGISTRY: dict[str, type["Rule"]] = {}


def _clean(code: str) -> str:
    return textwrap.dedent(code).strip("\n") + "\n"


@dataclass(frozen=True)
class Probe:
    """Runtime proof of a registration rule, run under real PyTorch.

    ``cls`` is instantiated with no arguments from the example; the state held
    by attribute ``attr`` must be missing from ``parameters()``/``state_dict()``.
    The same holds, inverted, for ``twin``: the registered version of the
    example, which must be present there (and which the linter must accept).
    """

    cls: str
    attr: str
    twin: str
    #: which collection must (not) contain the state: "parameters" or "state_dict"
    #: (MindSpore: "parameters" is get_parameters(), "state_dict" the keys save_checkpoint(cell) writes)
    where: tuple[str, ...] = ("parameters", "state_dict")
    #: the framework that runs the probe: "torch" (tests/test_runtime_truth.py) or "mindspore"
    #: (tests/test_mindspore_truth.py, run by CI in its MindSpore venv)
    framework: str = "torch"

    def __post_init__(self) -> None:
        object.__setattr__(self, "twin", _clean(self.twin))


@dataclass(frozen=True)
class Valid:
    """A look-alike that must stay silent, and why."""

    code: str
    why: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _clean(self.code))


@dataclass(frozen=True)
class Invalid:
    """Code on which the rule must report exactly at ``at`` (1-based line, 0-based column).

    ``also`` lists findings of other rules the example is allowed (and
    required) to produce, as ``(code, line, col)``.
    """

    code: str
    at: tuple[tuple[int, int], ...]
    also: tuple[tuple[str, int, int], ...] = ()
    probe: Probe | None = None
    fixed: str | None = None
    title: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _clean(self.code))
        object.__setattr__(self, "at", tuple(tuple(p) for p in self.at))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", _clean(self.fixed))


@dataclass(frozen=True)
class AtLine:
    """A message part that quotes the line of another node: ``AtLine("used in forward() at line {line}", node)``.

    The line is resolved with the reported nodes' positions, after all rules ran.
    """

    text: str
    node: cst.CSTNode

    def render(self, line: int) -> str:
        return self.text.format(line=line)


@dataclass
class Report:
    rule: "Rule"
    node: cst.CSTNode
    fmt: dict[str, Any] = field(default_factory=dict)
    fix: Fix | None = None


class Reporter:
    """Collects (rule, node) pairs; positions are resolved once, afterwards."""

    def __init__(self) -> None:
        self.reports: list[Report] = []
        self._rule: Rule | None = None

    def __call__(self, node: cst.CSTNode, *, fix: Fix | None = None, **fmt: Any) -> None:
        """Report ``node`` for the running rule; ``fmt`` fills its message and hint."""
        assert self._rule is not None
        self.reports.append(Report(self._rule, node, fmt, fix))


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    #: one line for tables: what the rule finds
    summary: ClassVar[str]
    message: ClassVar[str]
    fix_hint: ClassVar[str]
    #: the remedy in general terms, for tables (defaults to ``fix_hint``, which may have placeholders)
    fix_summary: ClassVar[str | None] = None
    fix_safety: ClassVar[Applicability] = Applicability.NONE
    frameworks: ClassVar[frozenset[str]] = frozenset({"torch", "mindspore"})
    default_enabled: ClassVar[bool] = True
    #: the run's settings (:class:`~flake8_modreg.settings.Config`), set before :meth:`check`; None outside a run
    config: Any = None
    valid: ClassVar[tuple[Valid, ...]]
    invalid: ClassVar[tuple[Invalid, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        where = f"{cls.__module__}.{cls.__qualname__}"
        for attr in ("code", "name", "summary", "message", "fix_hint", "valid", "invalid"):
            if not hasattr(cls, attr):
                raise TypeError(f"{where}: rule lacks {attr!r}")
        if not _CODE.match(cls.code):
            raise TypeError(f"{where}: code {cls.code!r} does not match MRG###")
        if not _NAME.match(cls.name):
            raise TypeError(f"{where}: name {cls.name!r} is not kebab-case")
        if cls.code in _REGISTRY and _REGISTRY[cls.code].__qualname__ != cls.__qualname__:
            raise TypeError(f"{where}: code {cls.code} is already used by {_REGISTRY[cls.code].__qualname__}")
        doc = cls.__doc__ or ""
        for section in REQUIRED_SECTIONS:
            if f"## {section}" not in doc:
                raise TypeError(f"{where}: docstring lacks the section '## {section}'")
        if "{" in cls.fix_hint and not cls.fix_summary:
            raise TypeError(f"{where}: a fix_hint with placeholders needs a plain fix_summary for the docs")
        if not cls.valid or not cls.invalid:
            raise TypeError(f"{where}: needs at least one valid and one invalid example")
        has_fixed = any(i.fixed is not None for i in cls.invalid)
        if has_fixed != (cls.fix_safety is not Applicability.NONE):
            raise TypeError(f"{where}: fix_safety must be NONE exactly when no invalid example has `fixed`")
        if cls.code.startswith("MRG9") and cls.default_enabled:
            raise TypeError(f"{where}: MRG9xx codes are opinionated and must be off by default")
        _REGISTRY[cls.code] = cls

    #: a rule about the other rules' findings (``unused-noqa``): :meth:`check_findings` runs after them
    judges_findings: ClassVar[bool] = False

    def check(self, model: "FileModel", report: Reporter) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_findings(self, source: str, findings: list[Any], enabled: Iterable[str]) -> list[Any]:
        """For a rule with ``judges_findings``: its findings, given the file's text, the other enabled rules'
        findings (before ``noqa``) and the enabled codes. Runs on every checked file, parsed or not."""
        return []

    # -- helpers for rules -------------------------------------------------
    @classmethod
    def doc(cls) -> str:
        return textwrap.dedent(cls.__doc__ or "").strip()


def registry() -> dict[str, type[Rule]]:
    return dict(_REGISTRY)
