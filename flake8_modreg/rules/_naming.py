"""Shared by MRG301/302: a Module/Cell that defines the other framework's entry point."""

from __future__ import annotations

from typing import Iterator

from ..findings import Applicability, Fix
from ..model import ClassFacts, FileModel, MethodFacts


def wrong_entry_point(model: FileModel, framework: str, defined: str, missing: str) -> Iterator[tuple[ClassFacts, MethodFacts]]:
    """Classes of ``framework`` that define ``defined`` while ``missing`` exists nowhere we can see.

    Silent when a base we cannot see, or a framework layer base
    (``nn.Sequential``, ``nn.Dense``), may provide ``missing``; a base in
    another file is looked at through the resolver (its body and its bases').
    """
    for cls in model.modules:
        if cls.framework != framework or defined not in cls.methods:
            continue
        if cls.defines(missing) or model.may_inherit(cls, missing):
            continue
        yield cls, cls.methods[defined]


def rename_fix(model: FileModel, meth: MethodFacts, new: str, applicability: Applicability = Applicability.SAFE) -> Fix | None:
    """Rename a method that cannot run under its current name.

    Offered only when nothing in the file accesses an attribute of the old
    name (``self.construct(x)``, ``super().construct(x)``), which the rename
    would break.
    """
    if meth.name in model.attr_names:
        return None
    name = meth.node.name
    return Fix(((name, name.with_changes(value=new)),), applicability, title=f"rename '{meth.name}' to '{new}'")
