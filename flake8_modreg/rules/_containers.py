"""Shared by MRG101-103: plain containers assigned to ``self`` and what they hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from ..model import ClassFacts, FileModel, Kind, SelfAssign, Tag

_REGISTERED_TAGS = (Tag.LAYER, Tag.REGISTERED, Tag.PARAMETER, Tag.BUFFER)


@dataclass
class PlainContainer:
    cls: ClassFacts
    assign: SelfAssign
    kind: Kind  # LIST or DICT, with the elements added later merged in
    spelling: str  # "list", "tuple" or "dict"


def _spelling(value: cst.BaseExpression, kind: Kind) -> str:
    if kind.tag is Tag.DICT:
        return "dict"
    if isinstance(value, cst.Tuple) or (
        isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "tuple"
    ):
        return "tuple"
    return "list"


def plain_containers(model: FileModel) -> Iterator[PlainContainer]:
    """Each ``self.x = <plain list/tuple/dict>`` whose binding survives.

    Skipped: attributes registered some other way (a later ``nn.ModuleList``
    assignment, ``register_*``/``add_module``/``setattr`` under the same name,
    or every element registered in a loop), and assignments overwritten later
    in the same method.
    """
    for cls in model.modules:
        registered = cls.registered_names() | cls.elements_registered
        kinds = {id(a): model.self_kind(cls, a) for a in cls.self_assigns}
        for a in cls.self_assigns:
            if kinds[id(a)].tag in _REGISTERED_TAGS:
                registered.add(a.attr)
        for a in cls.self_assigns:
            k = kinds[id(a)]
            if k.tag not in (Tag.LIST, Tag.DICT) or a.attr in registered:
                continue
            if any(b.attr == a.attr and b.method == a.method and b.order > a.order for b in cls.self_assigns):
                continue
            elems = set(k.elems)
            for m in cls.mutations:
                if m.attr != a.attr:
                    continue
                mk = model.kind_of(m.value, m.scope, m.order)
                if m.op == "elem":
                    elems.add(mk)
                else:
                    elems |= set(mk.elems) if mk.tag in (Tag.LIST, Tag.DICT) else {Kind(Tag.OTHER)}
            kind = Kind(k.tag, elems=frozenset(elems))
            yield PlainContainer(cls, a, kind, _spelling(a.value, kind))
