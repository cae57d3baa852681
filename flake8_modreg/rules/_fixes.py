"""Shared by the registration fixes (MRG101-103, 201, 202): how to spell a name, which statements to touch.

Every helper answers ``None`` when it is not sure; the rules then report
without a fix.  A fix is offered only where the rewrite is local (one
expression or one statement) and its meaning is certain.
"""

from __future__ import annotations

import re
from typing import Iterator

import libcst as cst

from .. import known
from ..model import ClassFacts, FileModel, Scope, SelfAssign

#: Public attributes of ``torch.nn.Module`` and of its dict containers (torch 2.13), checked against the
#: real package by tests/test_runtime_truth.py.  ``register_buffer(name)``, ``ModuleDict({name: ...})``
#: and ``ParameterDict({name: ...})`` raise ``KeyError: attribute 'name' already exists`` for these.
TORCH_MODULE_ATTRS = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children clear compile copy cpu cuda
    double dump_patches eval extra_repr float forward fromkeys get get_buffer get_extra_state get_parameter
    get_submodule half ipu items keys load_state_dict modules mtia named_buffers named_children named_modules
    named_parameters parameters pop popitem register_backward_hook register_buffer register_forward_hook
    register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook
    register_load_state_dict_post_hook register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule
    setdefault share_memory state_dict to to_empty train training type update values xpu zero_grad""".split()
)

#: Public attributes of ``mindspore.nn.CellDict`` (MindSpore 2.10): ``CellDict`` refuses them as keys
#: ("the key can not be same with the attributes of Cell"); checked by tests/test_mindspore_truth.py.
MINDSPORE_CELLDICT_ATTRS = frozenset(
    """IGNORE_LIST T_destination add_flags add_flags_recursive apply arguments_key bprop_debug buffers
    cast_inputs cell_init_args cell_type cells cells_and_names check_names check_names_and_refresh_name clear
    cls_name compile compile_and_run compile_cache compile_phase compiled construct create_time
    enable_backward_hook exist_names exist_objs extend_repr generate_scope get_buffer get_extra_state get_flags
    get_func_graph_proto get_inputs get_mixed_precision_type get_parameters get_scope get_sub_cell global_cells
    grad_ops_label has_bprop init_parameters_data insert_child_to_cell insert_param_to_cell is_top_cell items
    jit_config_dict keys load_state_dict mixed_precision_type name_cells named_buffers offload
    parallel_parameter_merge_net_dict parallel_parameter_name_list param_prefix parameter_layout_dict
    parameters_and_names parameters_broadcast_dict parameters_dict phase phase_cache pipeline_segment
    pipeline_stage pop recompute register_backward_hook register_backward_pre_hook register_buffer
    register_forward_hook register_forward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_parameter_forward_hook register_saved_tensors_hooks
    register_state_dict_post_hook register_state_dict_pre_hook remove_redundant_parameters requires_grad
    run_construct set_boost set_broadcast_flag set_comm_fusion set_data_parallel set_extra_state set_grad
    set_inputs set_jit_config set_mixed_precision_type set_train shard state_dict to to_empty to_float
    total_instance_count trainable_params training untrainable_params update update_cell_prefix
    update_cell_type update_parameters_name values""".split()
)


def simple_assign(a: SelfAssign) -> cst.Assign | None:
    """The statement of ``a`` when it is a plain single-target ``self.x = <value>``."""
    node = a.node
    if (
        isinstance(node, cst.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0].target, cst.Attribute)
        and node.value is a.value
    ):
        return node
    return None


def _shadowed(name: str, scope: Scope | None) -> bool:
    """Is ``name`` a parameter or local of ``scope`` or of an enclosing function (not the module)?"""
    s = scope
    while s is not None and s.parent is not None:
        if name in s.params or name in s.bindings or name in s.registered:
            return True
        s = s.parent
    return False


_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import|import)\b.*$", re.MULTILINE)


def _free(model: FileModel, name: str) -> bool:
    """``name`` is bound by no import and appears nowhere else in the file as a name of its own.

    The first line of each import statement is skipped (``from torch.nn
    import Linear`` does not bind ``torch``; the names it binds are in the
    import table); comments and strings elsewhere count (conservative).
    """
    if name in model.imports or name in model.module_scope.bindings:
        return False
    code = _IMPORT_LINE.sub("", model.source_code())
    return re.search(rf"(?<![\w.]){re.escape(name)}\b", code) is None


def spell(model: FileModel, qualified: str, scope: Scope | None) -> tuple[str, tuple[tuple[str, str | None, None], ...]] | None:
    """How a fix writes ``qualified`` inside ``scope``, and the imports it needs.

    An existing usable alias first (``nn.ModuleList`` when ``nn`` is
    ``torch.nn``, ``torch.nn.ModuleList`` after ``import torch``); else
    ``from torch import nn`` (``from mindspore import nn``,
    ``from mindspore import ParameterTuple``) when that name is free in the
    file; else ``import torch`` and the qualified name; None when even that
    name is taken.
    """
    spellings = sorted(
        local + qualified[len(q) :]
        for local, q in model.imports.names().items()
        if qualified == q or qualified.startswith(q + ".")
    )
    for text in sorted(spellings, key=len):
        if model.imports.qualify(text) == qualified and not _shadowed(text.partition(".")[0], scope):
            return text, ()
    module, _, obj = qualified.rpartition(".")
    pkg, _, short = module.rpartition(".")
    if pkg and short == "nn":  # torch.nn.X / mindspore.nn.X
        if _free(model, short):
            return f"{short}.{obj}", ((pkg, short, None),)
    elif _free(model, obj):  # mindspore.ParameterTuple
        return obj, ((module, obj, None),)
    root = qualified.partition(".")[0]
    if _free(model, root):
        return qualified, ((root, None, None),)
    return None


def call_node(func: cst.BaseExpression, *args: cst.BaseExpression) -> cst.Call:
    """``func(arg, ...)`` with the given argument nodes, kept as they are."""
    n = len(args)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return cst.Call(func=func, args=[cst.Arg(a, comma=comma if i < n - 1 else cst.MaybeSentinel.DEFAULT) for i, a in enumerate(args)])


def call(func_text: str, *args: cst.BaseExpression) -> cst.Call:
    """``func_text(arg, ...)``: a dotted name called with the given argument nodes."""
    return call_node(cst.parse_expression(func_text), *args)


def name_is_free_on(model: FileModel, cls: ClassFacts, attr: str, reserved: frozenset[str]) -> bool:
    """Can ``attr`` become registered state of ``cls`` without colliding with an attribute it already has?

    torch's ``register_buffer``/``register_parameter`` raise ``KeyError`` for a
    name that ``hasattr`` already finds: a class attribute, a method, a
    ``Module`` attribute, or a plain attribute a base class set.  Only
    classes whose whole ancestry is visible (this file's classes down to
    ``torch.nn.Module`` itself) are trusted.
    """
    if attr.startswith("__") or attr in reserved:
        return False
    for c in _ancestry(cls):
        if c.unknown_bases or c.evidence or any(b != "torch.nn.Module" for b in c.framework_bases):
            return False
        if attr in c.class_attrs or attr in c.methods:
            return False
        if c is not cls and any(a.attr == attr for a in c.self_assigns):
            return False
    return True


def _ancestry(cls: ClassFacts) -> Iterator[ClassFacts]:
    """``cls`` and its same-file bases, each once."""
    seen: set[int] = set()
    stack = [cls]
    while stack:
        c = stack.pop()
        if id(c) not in seen:
            seen.add(id(c))
            yield c
            stack.extend(c.local_bases)


#: Containers whose children are their content: a new child would join ``Sequential.forward``, ``len()`` and iteration.
_CONTAINER_BASES = frozenset(
    {
        "torch.nn.Sequential",
        "torch.nn.ModuleList",
        "torch.nn.ModuleDict",
        "torch.nn.ParameterList",
        "torch.nn.ParameterDict",
        "mindspore.nn.SequentialCell",
        "mindspore.nn.CellList",
        "mindspore.nn.CellDict",
    }
)


def ancestry_takes_children(cls: ClassFacts) -> bool:
    """May ``cls`` get a new registered child without changing what it does?

    Not for subclasses of ``nn.Sequential``/``ModuleList``/... (the child
    would become part of the sequence), nor when a base is not visible here
    (from another file, or an unknown class): it might be one of those.
    """
    for c in _ancestry(cls):
        if c.unknown_bases or c.evidence:
            return False
        if any(b in _CONTAINER_BASES or not known.framework_of_class(b) for b in c.framework_bases):
            return False
    return True
