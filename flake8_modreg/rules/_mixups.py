"""Shared by MRG501/502: one framework's API used on the other framework's Module/Cell."""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from ..model import ClassFacts, FileModel, Tag, dotted_name

_LABEL = {"torch": "torch nn.Module", "mindspore": "MindSpore Cell"}
_KIND = {"torch": "Module", "mindspore": "Cell"}


def foreign_method_calls(
    model: FileModel, framework: str, methods: dict[str, str], release: str
) -> Iterator[tuple[cst.Call, str, str]]:
    """``x.<method>(...)`` where ``x`` is an instance of a ``framework`` Module/Cell lacking ``method``.

    Yields (call, method, what ``x`` is: "MindSpore 2.10 Cell 'Net'" or "a torch 2.13 nn layer"), ``release``
    being the framework release judged (``"MindSpore 2.10"``).  ``x`` is ``self`` in a method, a
    ``self.attr`` holding a sub-module, or a local bound to ``MyNet()``/a
    library layer.  Silent when the class (or a same-file base) defines the
    method itself, or when some base is not in the file (it might).
    """
    for site in model.calls:
        func = site.node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
            continue
        inst = model.instance_of(func.value, site.scope, site.order, site.cls)
        if inst is None or inst[0] != framework:
            continue
        cls = inst[1]
        if cls is not None and _may_define(model, cls, func.attr.value):
            continue
        what = f"{release} {_KIND[framework]} '{cls.name}'" if cls is not None else f"a {release} nn layer"
        yield site.node, func.attr.value, what


def _may_define(model: FileModel, cls: ClassFacts, method: str) -> bool:
    """Defined in the class or a same-file base, or possibly by a base we cannot see.

    A base we cannot see: one imported from elsewhere that is not a framework
    class, or a class of another file of the project (its methods, or a mixin
    among its bases, may supply the name).  Framework library bases
    (``nn.Cell``, ``nn.Dense``) are known and supply nothing of the tables.
    """
    if cls.defines(method):
        return True
    return model.may_inherit(cls, method, lambda q: False)


def foreign_layers(model: FileModel, framework: str, foreign: str):
    """``self.x = <foreign framework layer or container>`` in a ``framework`` Module/Cell."""
    for cls in model.modules:
        if cls.framework != framework:
            continue
        for a in cls.self_assigns:
            k = model.self_kind(cls, a)
            if k.tag in (Tag.LAYER, Tag.REGISTERED) and k.framework == foreign:
                callee = _callee(a.value)
                yield cls, a, model.qualify(callee) or dotted_name(callee) or "a layer"


def _callee(value: cst.BaseExpression) -> cst.BaseExpression:
    return value.func if isinstance(value, cst.Call) else value


def label(framework: str) -> str:
    return _LABEL[framework]


#: the other framework's container or layer for a foreign one
EQUIVALENT = {
    "torch.nn.ModuleList": "nn.CellList",
    "torch.nn.Sequential": "nn.SequentialCell",
    "torch.nn.ModuleDict": "nn.CellDict",
    "torch.nn.Linear": "nn.Dense",
    "torch.nn.ParameterList": "mindspore.ParameterTuple",
    "mindspore.nn.CellList": "nn.ModuleList",
    "mindspore.nn.SequentialCell": "nn.Sequential",
    "mindspore.nn.CellDict": "nn.ModuleDict",
    "mindspore.nn.Dense": "nn.Linear",
    "mindspore.ParameterTuple": "nn.ParameterList",
}


def layer_hint(name: str, home: str) -> str:
    """How to replace foreign layer ``name`` in a ``home`` ("torch"/"mindspore") Module/Cell."""
    use = EQUIVALENT.get(name, "the torch.nn layer" if home == "torch" else "the mindspore.nn layer")
    lost = "parameters() nor in state_dict()" if home == "torch" else "get_parameters() nor in checkpoints"
    return f"use {use}; it is not in {lost}"
