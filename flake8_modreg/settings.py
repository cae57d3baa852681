"""Which rules run, and which extra classes count as Module bases.

:func:`check_codes` is the one validator of rule codes and prefixes that every
surface uses (the CLI's options, ``[tool.modreg]``, the flake8 plugin, the
language server), so a selection is accepted or rejected the same way everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable

#: the published code ranges (STYLE.md): a one-digit prefix of one of them is valid even when
#: no rule of the range ships yet (``MRG9``, the opinionated range, is advertised as off by default)
RANGES = ("MRG1", "MRG2", "MRG3", "MRG4", "MRG5", "MRG9")
_SHAPE = re.compile(r"MRG\d{0,3}")


class ConfigError(Exception):
    """A configuration problem, as one line."""


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a rule code or prefix modreg knows (``None`` when it is one).

    Valid: ``ALL``, ``MRG``, a range prefix (``MRG1`` ... ``MRG5``, ``MRG9``), and any
    prefix of a shipped rule's code (``MRG10``, ``MRG101``).  Case is ignored (``mrg101``).
    """
    from ._codes import CODES  # the generated table: no rule (nor libcst) is imported to validate

    c = code.strip().upper()
    if c == "":
        return "an empty code (expected MRG, MRG1 or a rule code like MRG101)"
    if c in ("ALL", "MRG") or c in RANGES:
        return None
    if not _SHAPE.fullmatch(c):
        return f"{code!r} is not a modreg code or prefix (expected MRG, MRG1 or a rule code like MRG101)"
    if any(known.startswith(c) for known in CODES):
        return None
    if len(c) == 6:
        return f"{code!r} is not a modreg rule (`modreg rules` lists them)"
    return f"{code!r}: no modreg rule code starts with it (`modreg rules` lists them)"


def check_codes(values: Iterable[str] | str | None, where: str) -> tuple[str, ...]:
    """``values`` split on commas, upper-cased and validated; :class:`ConfigError` names the first bad one.

    ``where`` says where they come from (``--select``, ``[tool.modreg] ignore``).
    """
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        parts = str(v).split(",")
        for p in parts:
            if not p.strip() and len(parts) > 1 and p is parts[-1]:
                continue  # a trailing comma ("MRG1,") is harmless
            problem = code_problem(p)
            if problem is not None:
                raise ConfigError(f"{where}: {problem}")
            out.append(p.strip().upper())
    return tuple(out)


#: the settings that pick a framework release, and the framework each one names
VERSION_SETTINGS = {"torch-version": "torch", "mindspore-version": "MindSpore"}


def known_versions(setting: str) -> tuple[str, ...]:
    """The releases (``major.minor``) that ``setting`` accepts: the ones ``_api_versions`` has tables for, oldest first."""
    from . import _api_versions  # generated data only

    table = _api_versions.TORCH_MODULE if setting == "torch-version" else _api_versions.MINDSPORE_CELL
    return tuple(sorted(table, key=lambda v: tuple(int(x) for x in v.split("."))))


def check_version(value: Any, where: str, setting: str) -> str:
    """``value`` (``"2.10"``, ``"2.10.0"``) as the ``major.minor`` release of the table that judges it
    (:func:`table_release`: ``"2.5"`` is MindSpore's ``"2.7"``); :class:`ConfigError` outside the tables.

    ``setting`` is ``torch-version`` or ``mindspore-version``; ``where`` says where the value comes from.
    """
    known = known_versions(setting)
    listed = ", ".join(known)
    if not isinstance(value, str):
        raise ConfigError(f'{where}: must be a string such as "{known[-1]}" (a number like 2.10 reads as 2.1)')
    m = re.fullmatch(r"\s*(\d+)\.(\d+)(?:\.\d+)?(?:[.+-]?\w+)*\s*", value)
    if m is None:
        raise ConfigError(f"{where}: {value!r} is not a version (expected major.minor, one of {listed})")
    minor = f"{int(m.group(1))}.{int(m.group(2))}"
    table = table_release(minor, known)
    if table is None:
        framework = VERSION_SETTINGS[setting]
        raise ConfigError(f"{where}: no API table for {framework} {minor} (known: {listed})")
    return table


def _key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def table_release(minor: str, tables: Iterable[str]) -> str | None:
    """The table that judges release ``minor``: its own; for a release between two tables (MindSpore 2.1 -- 2.6,
    which PyPI lacks) the nearest newer one -- its names are a superset more often than not, so a name added in
    between goes unreported rather than a real one being reported; None outside the tables' span."""
    ordered = sorted(tables, key=_key)
    if minor in ordered:
        return minor
    newer = [t for t in ordered if _key(t) > _key(minor)]
    if not newer or not ordered or _key(minor) < _key(ordered[0]):
        return None
    return newer[0]


def _codes(values: Iterable[str] | None) -> tuple[str, ...]:
    if not values:
        return ()
    out = []
    for v in values:
        out.extend(p.strip().upper() for p in str(v).split(",") if p.strip())
    return tuple(out)


@dataclass(frozen=True)
class Config:
    """Settings shared by every adapter.

    ``select``/``ignore``/``extend_select`` take codes or prefixes (``MRG1``)
    and follow flake8's rule: the longest matching prefix decides.  A rule
    that is off by default (MRG9xx) behaves as if ``MRG9`` were ignored, so
    ``MRG`` does not switch it on but ``MRG9`` or ``MRG901`` does.
    ``select=None`` means the default set; ``("ALL",)`` means every rule.
    """

    module_bases: tuple[str, ...] = ()
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    #: re-raise exceptions from rules instead of logging them (tests use it)
    strict: bool = False
    #: the releases MRG501/MRG502 judge method names against (``major.minor``; None: the newest table)
    torch_version: str | None = None
    mindspore_version: str | None = None

    @classmethod
    def make(cls, **kw: Any) -> "Config":
        for key in ("select", "ignore", "extend_select"):
            if key in kw and kw[key] is not None:
                kw[key] = _codes(kw[key])
        if "module_bases" in kw:
            kw["module_bases"] = tuple(b.strip() for b in kw["module_bases"] or () if b and b.strip())
        return cls(**kw)

    def enabled(self, code: str, default_enabled: bool = True) -> bool:
        def best(prefixes: Iterable[str]) -> int:
            return max((len(p) for p in prefixes if code.startswith(p)), default=-1)

        if self.select == ("ALL",):
            return True
        if self.select is None:
            sel = 3 if default_enabled else -1  # the implicit default selection is "MRG"
        else:
            sel = best(self.select)
        sel = max(sel, best(self.extend_select))
        ign = best(self.ignore)
        if not default_enabled:
            # as flake8's extend-default-ignore of "MRG9": only a prefix of four or more characters beats it
            ign = max(ign, 3)
        return sel >= 0 and sel > ign

    @property
    def everything(self) -> "Config":
        """Every rule on: the flake8 adapter leaves selection to flake8."""
        return replace(self, select=("ALL",), ignore=(), extend_select=())
