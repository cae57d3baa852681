"""Shared by MRG201/202: torch tensors stored as plain attributes in ``__init__``."""

from __future__ import annotations

from typing import Iterator

from ..model import ClassFacts, FileModel, SelfAssign, Tag

_STATE_TAGS = (Tag.PARAMETER, Tag.BUFFER, Tag.LAYER, Tag.REGISTERED)


def plain_tensors(model: FileModel, tag: Tag, framework: str = "torch") -> Iterator[tuple[ClassFacts, SelfAssign]]:
    """``self.x = <tensor of kind tag>`` in ``__init__`` of a torch Module (or MindSpore Cell).

    Silent when the name is a buffer (``register_buffer("x", ...)`` anywhere in
    the class: torch then keeps the assignment a buffer), a Parameter, Buffer
    or sub-module elsewhere in the class, or when the class registers buffers
    under computed names (we cannot tell which).
    """
    for cls in model.modules:
        if cls.framework != framework:
            continue
        if cls.dynamic_registration({"register_buffer", "register_parameter", "setattr", "insert_param_to_cell"}):
            continue
        registered = cls.registered_names()
        for a in cls.self_assigns:
            if model.self_kind(cls, a).tag in _STATE_TAGS:
                registered.add(a.attr)
        for a in cls.self_assigns:
            if a.method != "__init__" or a.attr in registered:
                continue
            if model.self_kind(cls, a).tag is tag:
                yield cls, a
