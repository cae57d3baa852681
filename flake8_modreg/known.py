"""Name tables for torch and MindSpore.

The bulk of the public names comes from ``_known_data.py``, generated from the
real packages by ``scripts/gen_known.py``; this module adds the few facts that
are about meaning rather than existence (which call makes a tensor, which
container registers its items, which third-party bases are Modules).
"""

from __future__ import annotations

import functools
import re
from typing import Iterable

from . import _api_versions, _known_data

TORCH_VERSION: str = _known_data.TORCH["version"]
TORCH_NN_MODULES: frozenset[str] = frozenset(_known_data.TORCH["nn_modules"])
TORCH_NN_NAMES: frozenset[str] = frozenset(_known_data.TORCH["nn_names"])

_MS = _known_data.MINDSPORE or {}
MINDSPORE_VERSION: str | None = _MS.get("version")
#: Cells of ``mindspore.nn``; a curated floor is used until the generator has
#: seen a real MindSpore install.
MINDSPORE_NN_CELLS: frozenset[str] = frozenset(
    _MS.get("nn_cells")
    or (
        "Cell CellList SequentialCell CellDict Dense Conv1d Conv2d Conv3d Conv1dTranspose Conv2dTranspose "
        "Conv3dTranspose BatchNorm1d BatchNorm2d BatchNorm3d LayerNorm GroupNorm InstanceNorm2d ReLU ReLU6 "
        "GELU Sigmoid Tanh Softmax LogSoftmax Dropout Dropout2d Embedding LSTM GRU RNN LSTMCell GRUCell "
        "MaxPool1d MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool2d AdaptiveMaxPool2d Flatten Identity "
        "MultiheadAttention Transformer TransformerEncoder TransformerEncoderLayer PReLU LeakyReLU ELU SiLU "
        "HSwish HSigmoid Momentum Adam AdamWeightDecay SGD WithLossCell TrainOneStepCell "
        "SoftmaxCrossEntropyWithLogits MSELoss L1Loss LossBase"
    ).split()
)

#: Cells of ``mindspore.mint.nn`` (the torch-style layers: ``mint.nn.Linear``, ``mint.nn.Conv2d``); generated.
MINDSPORE_MINT_NN_CELLS: frozenset[str] = frozenset(_MS.get("mint_nn_cells") or ())
_MINT_NAMES: frozenset[str] = frozenset(_MS.get("mint_names") or ())

# --- qualified names -------------------------------------------------------

TORCH_MODULE = "torch.nn.Module"
MINDSPORE_CELL = "mindspore.nn.Cell"
#: the bare framework bases: no layer of their own, no ``forward``/``construct``
BARE_BASES = frozenset({TORCH_MODULE, MINDSPORE_CELL})
#: decorators of ``__init__`` that run it unchanged (``fn(self, *args, **kwargs)``, then record the arguments):
#: MindSpore's ``cell_attr_register`` (``mindspore.graph._utils`` in 2.10, re-exported by ``mindspore._extends``;
#: ``mindspore._extends.utils`` in older releases). Runtime truth: tests/test_mindspore_truth.py
INIT_WRAPPERS = frozenset({"mindspore._extends.cell_attr_register", "mindspore.graph._utils.cell_attr_register",
                           "mindspore._extends.utils.cell_attr_register"})

TORCH_PARAMETER = frozenset({"torch.nn.Parameter", "torch.nn.UninitializedParameter"})
TORCH_BUFFER = frozenset({"torch.nn.Buffer", "torch.nn.UninitializedBuffer"})
MINDSPORE_PARAMETER = frozenset({"mindspore.Parameter"})

#: Containers that register what they hold.
TORCH_REGISTERING = frozenset(
    f"torch.nn.{n}" for n in ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Sequential")
)
MINDSPORE_REGISTERING = frozenset(
    {"mindspore.nn.CellList", "mindspore.nn.CellDict", "mindspore.nn.SequentialCell", "mindspore.ParameterTuple"}
)
#: MindSpore operator classes whose instances, called, return a new tensor (``ops.Zeros()((2, 3), ms.float32)``)
MINDSPORE_TENSOR_PRIMITIVES = frozenset({"Zeros", "Ones", "Fill", "Eye", "ZerosLike", "OnesLike"})


def mindspore_tensor_primitive(qualified: str | None) -> bool:
    """``mindspore.ops.Zeros`` / ``mindspore.ops.operations.Ones`` (``from mindspore.ops import operations as P``)."""
    if not qualified:
        return False
    head, _, name = qualified.rpartition(".")
    return name in MINDSPORE_TENSOR_PRIMITIVES and (head == "mindspore.ops" or head.startswith("mindspore.ops.operations"))


#: the one of them that is not a Cell (a tuple of Parameters): a plain list of these holds no layers
MINDSPORE_PARAMETER_CONTAINERS = frozenset({"mindspore.ParameterTuple"})

#: Third-party bases that are torch Modules.
THIRD_PARTY_TORCH_BASES = frozenset(
    {
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "lightning.pytorch.core.module.LightningModule",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
        "mmengine.model.BaseModule",
        "mmengine.model.base_module.BaseModule",
        "mmengine.model.BaseModel",
        "mmcv.runner.BaseModule",
        "torch.jit.ScriptModule",
    }
)

#: ``torch.<name>(...)`` calls that return a new tensor.
TORCH_TENSOR_FACTORIES = frozenset(
    "torch." + n
    for n in (
        "tensor as_tensor asarray from_numpy zeros ones empty full rand randn randint randperm "
        "arange range linspace logspace eye zeros_like ones_like empty_like full_like rand_like "
        "randn_like randint_like normal bernoulli multinomial stack cat concat tril triu diag "
        "Tensor FloatTensor DoubleTensor HalfTensor BFloat16Tensor LongTensor IntTensor ShortTensor "
        "ByteTensor CharTensor BoolTensor "
        # signal windows, index and structure builders: tensors made from sizes alone
        "hann_window hamming_window blackman_window bartlett_window kaiser_window tril_indices triu_indices "
        "scalar_tensor empty_strided polar complex vander block_diag diagflat diag_embed cartesian_prod "
        "fft.fftfreq fft.rfftfreq"
    ).split()
)
TORCH_VARIABLE = frozenset({"torch.autograd.Variable", "torch.autograd.variable.Variable"})

#: Tensor methods whose result is again a plain tensor.
TENSOR_METHODS = frozenset(
    "to cuda cpu float double half bfloat16 long int short bool byte char type type_as clone detach "
    "contiguous view view_as reshape reshape_as expand expand_as repeat unsqueeze squeeze permute "
    "transpose t flatten fill_ zero_ normal_ uniform_ add mul sub div pow exp log sqrt abs neg "
    "masked_fill sum mean max min".split()
)

#: Tensor methods named like a ``torch`` function that give a tuple, several tensors or a Python value.
_NOT_TENSOR_RESULT_METHODS = frozenset(
    "split chunk unbind tensor_split hsplit vsplit dsplit split_with_sizes unsafe_split unsafe_chunk sort topk "
    "kthvalue mode median nanmedian aminmax unique unique_consecutive frexp histogram histogramdd lu qr svd slogdet "
    "eig lstsq triangular_solve geqrf var_mean std_mean cummax cummin meshgrid broadcast_tensors nonzero "
    "nonzero_static where item tolist numel dim size stride get_device data_ptr element_size storage "
    "untyped_storage".split()
)


def tensor_method_of_tensor(name: str) -> bool:
    """``t.<name>(...)`` on a tensor gives a tensor: :data:`TENSOR_METHODS`, or a method named like a
    tensor-to-tensor ``torch`` function (``t.clamp(...)``, ``t.sigmoid()``, ``t.log()``)."""
    if name in TENSOR_METHODS:
        return True
    return (name in _TORCH_NAMES and name[:1].islower() and not name.startswith(("is_", "_"))
            and name not in _NOT_TENSOR_FUNCTIONS and name not in _NOT_TENSOR_RESULT_METHODS)


#: Names whose classes are never Modules, even as bases.
NEUTRAL_BASES = frozenset(
    {"object", "typing.Generic", "typing.Protocol", "abc.ABC", "typing_extensions.Protocol", "enum.Enum"}
)

_TORCH_NN_PRIVATE = re.compile(r"^torch\.nn\.(?:modules|parallel)\.(?:[a-z_0-9]+\.)*(?P<name>\w+)$")
_MS_NN_PRIVATE = re.compile(r"^mindspore\.nn\.(?:layer|cell|wrap|loss|optim)\.?(?:[a-z_0-9]+\.)*(?P<name>\w+)$")
_MINT_NN_PRIVATE = re.compile(r"^mindspore\.mint\.nn\.layer\.(?:[a-z_0-9]+\.)*(?P<name>\w+)$")
_ALIASES = {
    "torch.nn.parameter.Parameter": "torch.nn.Parameter",
    "torch.nn.parameter.Buffer": "torch.nn.Buffer",
    "torch.nn.parameter.UninitializedParameter": "torch.nn.UninitializedParameter",
    "torch.nn.parameter.UninitializedBuffer": "torch.nn.UninitializedBuffer",
    "torch.Tensor": "torch.Tensor",
    "mindspore.common.Parameter": "mindspore.Parameter",
    "mindspore.common.parameter.Parameter": "mindspore.Parameter",
    "mindspore.common.ParameterTuple": "mindspore.ParameterTuple",
    "mindspore.common.parameter.ParameterTuple": "mindspore.ParameterTuple",
    "mindspore.nn.Parameter": "mindspore.Parameter",
    "mindspore.nn.ParameterTuple": "mindspore.ParameterTuple",
    "mindspore.common.Tensor": "mindspore.Tensor",
    "mindspore.common.tensor.Tensor": "mindspore.Tensor",
    "mindspore.nn.Tensor": "mindspore.Tensor",
}


_TORCH_NAMES = frozenset(_known_data.TORCH["torch_names"])
_FUNCTIONAL_NAMES = frozenset(_known_data.TORCH["functional_names"])
#: torch.<fn> that take tensors but do not return a new tensor
_NOT_TENSOR_FUNCTIONS = frozenset(
    "is_tensor is_storage is_floating_point is_complex is_nonzero numel equal allclose save load "
    "broadcast_shapes result_type can_cast promote_types is_same_size get_default_dtype".split()
)


#: ``torch.linalg`` / ``torch.fft`` functions that return one tensor (not a tuple such as ``svd``, ``eigh``)
_LINALG_FFT_TENSOR_FUNCTIONS = frozenset(
    "inv pinv norm vector_norm matrix_norm det matrix_exp matrix_power cholesky solve cross diagonal multi_dot "
    "householder_product tensorinv tensorsolve vander matmul vecdot "
    "fft ifft rfft irfft fft2 ifft2 rfft2 irfft2 fftn ifftn rfftn irfftn hfft ihfft fftshift ifftshift".split()
)


def torch_function_of_tensors(qualified: str) -> bool:
    """``torch.exp``-like functions: given a tensor, they return a tensor."""
    head, _, name = qualified.rpartition(".")
    if head == "torch":
        names = _TORCH_NAMES
    elif head == "torch.nn.functional":
        names = _FUNCTIONAL_NAMES
    elif head in ("torch.linalg", "torch.fft"):
        return name in _LINALG_FFT_TENSOR_FUNCTIONS
    else:
        return False
    return name in names and name[:1].islower() and name not in _NOT_TENSOR_FUNCTIONS


def normalize(qualified: str) -> str:
    """Map private spellings of public names to the public name."""
    if qualified in _ALIASES:
        return _ALIASES[qualified]
    m = _TORCH_NN_PRIVATE.match(qualified)
    if m:
        return "torch.nn." + m.group("name")
    m = _MS_NN_PRIVATE.match(qualified)
    if m and m.group("name")[:1].isupper():
        return "mindspore.nn." + m.group("name")
    m = _MINT_NN_PRIVATE.match(qualified)
    if m and m.group("name")[:1].isupper():
        return "mindspore.mint.nn." + m.group("name")
    return qualified


def _class_like(name: str) -> bool:
    return name.lstrip("_")[:1].isupper()


def torch_module_class(qualified: str) -> bool:
    """Is ``qualified`` (normalized) a torch Module class?"""
    if not qualified.startswith("torch.nn.") or qualified.count(".") != 2:
        return False
    name = qualified[len("torch.nn.") :]
    if name in TORCH_NN_MODULES:
        return True
    if name in TORCH_NN_NAMES:  # a known name that is not a Module (Parameter, Buffer, init, ...)
        return False
    # A private base such as _ConvNd, or a layer newer than our table.
    return _class_like(name)


def mindspore_cell_class(qualified: str) -> bool:
    if qualified.startswith("mindspore.mint.nn.") and qualified.count(".") == 3:
        # mint.nn layers are Cells (mint.nn.Linear is a Cell); its other names are functions and modules
        name = qualified[len("mindspore.mint.nn.") :]
        if MINDSPORE_MINT_NN_CELLS:
            return name in MINDSPORE_MINT_NN_CELLS
        return _class_like(name)
    if not qualified.startswith("mindspore.nn.") or qualified.count(".") != 2:
        return False
    name = qualified[len("mindspore.nn.") :]
    if name in MINDSPORE_NN_CELLS:
        return True
    if _MS.get("nn_names") and name in _MS["nn_names"]:
        return False
    return _class_like(name) and name not in {"Parameter", "ParameterTuple", "Tensor"}


def framework_of_class(qualified: str) -> str | None:
    """'torch' or 'mindspore' when ``qualified`` names a Module/Cell class."""
    if qualified in THIRD_PARTY_TORCH_BASES or torch_module_class(qualified):
        return "torch"
    if mindspore_cell_class(qualified):
        return "mindspore"
    return None


#: ``mindspore.nn`` Cells whose ``construct`` is ``Cell``'s or only raises (``Optimizer``, ``LossBase``,
#: ``CellList``): a subclass must define its own; generated.
MINDSPORE_CONSTRUCT_UNIMPLEMENTED = frozenset(
    "mindspore.nn." + n for n in (_MS.get("nn_construct_unimplemented") or ("Cell", "CellDict", "CellList", "LossBase", "Optimizer"))
)


def forward_providing(qualified: str) -> bool:
    """Does this framework base define its own forward/construct?

    ``nn.Module``/``nn.Cell`` and the third-party model bases do not (calling
    them raises), nor do MindSpore's ``Optimizer``, ``LossBase``,
    ``CellList`` and ``CellDict``, whose ``construct`` only raises; layers and
    containers such as ``nn.Sequential`` do.
    """
    return (
        qualified not in {TORCH_MODULE, MINDSPORE_CELL}
        and qualified not in THIRD_PARTY_TORCH_BASES
        and qualified not in MINDSPORE_CONSTRUCT_UNIMPLEMENTED
    )


# --- MindSpore tensors, optimizers and the torch <-> MindSpore method split ---

#: ``mindspore.<name>`` / ``mindspore.ops.<name>`` / ``mindspore.numpy.<name>`` calls that create a tensor
#: from a shape or from data.  ``mindspore.ops.ReLU()``-style primitives (upper case) are operators, not tensors.
MINDSPORE_TENSOR_FACTORIES = frozenset(
    {"mindspore.Tensor", "mindspore.tensor", "mindspore.from_numpy", "mindspore.common.initializer.initializer"}
    | {
        # mindspore.mint: the torch-style tensor functions (mint.zeros, mint.arange), those 2.10 has
        "mindspore.mint." + n
        for n in (
            "tensor zeros ones empty full rand randn randint randperm arange linspace eye zeros_like ones_like "
            "empty_like full_like rand_like randn_like randint_like normal bernoulli multinomial stack cat concat "
            "tril triu diag from_numpy"
        ).split()
        if not _MINT_NAMES or n in _MINT_NAMES
    }
    | {
        "mindspore.ops." + n
        for n in (
            "zeros ones zeros_like ones_like full full_like fill fills eye arange range linspace logspace rand "
            "randn randint rand_like randn_like randint_like randperm normal uniform standard_normal "
            "standard_laplace multinomial bernoulli cat concat stack tril triu diag scalar_to_tensor "
            "tuple_to_array"
        ).split()
    }
    | {
        "mindspore.numpy." + n
        for n in (
            "array asarray asfarray copy zeros ones empty full eye identity arange linspace logspace geomspace "
            "rand randn randint zeros_like ones_like empty_like full_like tri tril triu diag diagflat "
            "concatenate stack"
        ).split()
    }
)
#: ``mindspore.ops``/``mindspore.numpy`` functions (lower case) that, given a tensor, return something else.
_MS_NOT_TENSOR_FUNCTIONS = frozenset(
    "shape dyn_shape rank dtype size numel is_tensor is_floating_point is_complex is_nonzero isconstant typeof "
    "grad value_and_grad vmap jvp vjp jacfwd jacrev jet derivative linearize constexpr primitive "
    "prim_attr_register custom_info_register op_info_register print_ depend deepcopy partial hastype "
    "all_gather_object broadcast_object_list scatter_object_list send_object_list recv_object_list "
    "get_rank get_world_size get_group_rank get_backend".split()
)
#: MindSpore Tensor methods (beyond ``TENSOR_METHODS``) whose result is again a plain tensor.
MS_TENSOR_METHODS = frozenset("astype expand_dims copy init_data".split())
_MS_OPS_NAMES = frozenset(_MS.get("ops_names") or ())


#: ``mindspore.common.initializer`` classes and string aliases whose values are random (two draws differ); generated.
MINDSPORE_RANDOM_INITIALIZERS: frozenset[str] = frozenset(
    _MS.get("random_initializers") or "Normal TruncatedNormal Uniform XavierUniform XavierNormal HeUniform HeNormal".split()
)
#: MindSpore calls that draw random values (``ops.randn``, ``mint.rand``, ``mindspore.numpy.randn``).
MINDSPORE_RANDOM_CALLS = frozenset(
    f"{head}.{n}"
    for head in ("mindspore.ops", "mindspore.mint", "mindspore.numpy")
    for n in (
        "rand randn randint rand_like randn_like randint_like randperm normal uniform standard_normal "
        "standard_laplace multinomial bernoulli gamma poisson random_gamma random_poisson"
    ).split()
)


def mindspore_function_of_tensors(qualified: str) -> bool:
    """``mindspore.ops.exp``-like functions: given a tensor, they return a tensor."""
    head, _, name = qualified.rpartition(".")
    if not name[:1].islower() or name in _MS_NOT_TENSOR_FUNCTIONS:
        return False
    if head == "mindspore.ops":
        return name in _MS_OPS_NAMES if _MS_OPS_NAMES else True
    if head == "mindspore.mint":
        return name in _MINT_NAMES if _MINT_NAMES else True
    return head == "mindspore.numpy"


#: MindSpore optimizers (``mindspore.nn.Optimizer`` subclasses) that take ``params`` first; generated.
#: ``LARS`` and ``OptTFTWrapper`` wrap another optimizer and are left out.
MINDSPORE_OPTIMIZERS = frozenset(
    "mindspore.nn." + n
    for n in (
        _MS.get("nn_optimizers")
        or "ASGD AdaMax Adadelta Adagrad Adam AdamWeightDecay FTRL Lamb LazyAdam Momentum ProximalAdagrad RMSProp Rprop SGD".split()
    )
    if n not in ("LARS", "OptTFTWrapper")
)

#: torch-style ``nn.Module`` methods, each with its MindSpore replacement: MRG501 reports a call of one
#: on a Cell when the chosen MindSpore release's ``Cell`` lacks it (:func:`torch_only_methods`).  Which
#: ones a Cell has is generated per release (``_api_versions``, from the wheels); 2.10's Cell has the
#: second group, older releases lack some (2.0: ``register_buffer``, ``buffers``, ``state_dict``, ...).
TORCH_STYLE_METHODS: dict[str, str] = {
    "parameters": "get_parameters() (trainable_params() for an optimizer)",
    "named_parameters": "parameters_and_names()",
    "children": "cells()",
    "named_children": "name_cells().items()",
    "modules": "cells_and_names() (the cells)",
    "named_modules": "cells_and_names()",
    "add_module": "insert_child_to_cell(name, cell)",
    "register_module": "insert_child_to_cell(name, cell)",
    "register_parameter": "insert_param_to_cell(name, param)",
    "get_submodule": "a chain of attribute lookups, or cells_and_names()",
    "get_parameter": "parameters_dict()[name]",
    "zero_grad": "nothing: MindSpore computes fresh gradients each step (no accumulation in .grad)",
    "train": "set_train(True)",
    "eval": "set_train(False)",
    "requires_grad_": "set_grad() for the cell, or p.requires_grad = ... on its Parameters",
    "cuda": "mindspore.set_device(...) (placement is global in MindSpore)",
    "cpu": "mindspore.set_device('CPU') (placement is global in MindSpore)",
    "half": "to(mindspore.float16) or to_float(mindspore.float16)",
    "float": "to(mindspore.float32)",
    "double": "to(mindspore.float64)",
    "bfloat16": "to(mindspore.bfloat16)",
    # present on newer Cells
    "register_buffer": "a Parameter(..., requires_grad=False) attribute",
    "buffers": "untrainable_params()",
    "named_buffers": "parameters_and_names() of the untrainable Parameters",
    "get_buffer": "parameters_dict()[name]",
    "state_dict": "parameters_dict()",
    "load_state_dict": "mindspore.load_param_into_net(net, params)",
    "to": "to_float(dtype)",
    "apply": "a loop over cells_and_names()",
    "register_forward_hook": "a wrapper Cell around construct",
    "register_forward_pre_hook": "a wrapper Cell around construct",
}

#: MindSpore ``nn.Cell`` methods, each with its torch replacement: MRG502 reports a call of one on a torch
#: Module when the chosen torch release's ``nn.Module`` lacks it (:func:`mindspore_only_methods`).
MINDSPORE_STYLE_METHODS: dict[str, str] = {
    "get_parameters": "parameters()",
    "trainable_params": "[p for p in m.parameters() if p.requires_grad]",
    "untrainable_params": "[p for p in m.parameters() if not p.requires_grad] -- and buffers() for what MindSpore keeps as untrainable Parameters (BatchNorm statistics)",
    "parameters_and_names": "named_parameters()",
    "parameters_dict": "dict(named_parameters()) (or state_dict(), which also has the buffers)",
    "cells": "children()",
    "name_cells": "dict(named_children())",
    "cells_and_names": "named_modules()",
    "insert_child_to_cell": "add_module(name, module)",
    "insert_param_to_cell": "register_parameter(name, param)",
    "set_train": "train(mode)",
    "to_float": "half()/to(dtype), or torch.autocast",
    "set_grad": "requires_grad_()",
    "update_parameters_name": "nothing: torch names parameters by attribute path",
    "compile": "torch.compile(module) (nn.Module.compile() arrived in torch 2.1)",
}


def _release_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


#: the newest release with a table: the default of ``torch-version`` / ``mindspore-version``
NEWEST_TORCH: str = max(_api_versions.TORCH_MODULE, key=_release_key)
NEWEST_MINDSPORE: str = max(_api_versions.MINDSPORE_CELL, key=_release_key)


@functools.lru_cache(maxsize=None)
def installed_release(distribution: str, tables: tuple[str, ...]) -> str | None:
    """The table for the installed ``distribution``'s ``major.minor`` (read from its metadata: the framework
    itself is never imported; a release between two tables gets the nearest newer one), else None."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    try:
        m = re.match(r"(\d+)\.(\d+)", version(distribution))
    except (PackageNotFoundError, ValueError):
        return None
    if m is None:
        return None
    from .settings import table_release

    return table_release(f"{int(m.group(1))}.{int(m.group(2))}", tables)


def default_torch_release() -> str:
    """``torch-version`` when unset: the installed torch's release if a table exists for it, else the newest."""
    return installed_release("torch", tuple(_api_versions.TORCH_MODULE)) or NEWEST_TORCH


def default_mindspore_release() -> str:
    """``mindspore-version`` when unset: the installed MindSpore's release if a table exists for it, else the newest."""
    return installed_release("mindspore", tuple(_api_versions.MINDSPORE_CELL)) or NEWEST_MINDSPORE


def _namespace_tables(module: str) -> tuple[dict[str, tuple[str, ...]] | None, str]:
    """(release -> names of ``module``, the framework) from ``_api_versions``; None when ``module`` has no tables."""
    if module.split(".")[0] == "mindspore":
        return _api_versions.MINDSPORE_NAMESPACES.get(module), "mindspore"
    return _api_versions.TORCH_NAMESPACES.get(module), "torch"


def release_names(module: str, version: str | None = None) -> tuple[str, frozenset[str]] | None:
    """(release, public names of ``module`` in it) for the chosen (else installed, else newest) release of the
    module's framework (``torch-version`` / ``mindspore-version``), for the modules ``_api_versions``'
    ``TORCH_NAMESPACES`` / ``MINDSPORE_NAMESPACES`` cover; None when that release is the newest table's (MRG404
    then judges by ``ATTR_NAMES`` alone) or the module is not covered."""
    tables, framework = _namespace_tables(module)
    newest = NEWEST_MINDSPORE if framework == "mindspore" else NEWEST_TORCH
    if version is None:
        version = default_mindspore_release() if framework == "mindspore" else default_torch_release()
    if tables is None or version not in tables or version == newest:
        return None
    return _release_table(module, version)


@functools.lru_cache(maxsize=None)
def _release_table(module: str, version: str) -> tuple[str, frozenset[str]]:
    return version, frozenset(_namespace_tables(module)[0][version])  # type: ignore[index]


def added_in(module: str, name: str, release: str) -> str | None:
    """When ``name`` joined ``module`` after ``release``: ``"2.4"`` (the next table has it and is the next minor
    release), ``"2.1-2.7"`` (no tables in between: MindSpore 2.1 -- 2.6), None when no later table has it."""
    tables, _ = _namespace_tables(module)
    later = sorted((v for v in tables or {} if _release_key(v) > _release_key(release)), key=_release_key)
    before = release
    for v in later:
        if name in tables[v]:  # type: ignore[index]
            major, minor = _release_key(before)[:2]
            first = f"{major}.{minor + 1}"
            return v if first == v else f"{first}-{v}"
        before = v
    return None


def torch_only_methods(mindspore_version: str | None = None) -> tuple[str, dict[str, str]]:
    """(release judged, {torch-style method: MindSpore hint}) for the methods a Cell of that release lacks."""
    if mindspore_version is None:
        mindspore_version = default_mindspore_release()
    v = mindspore_version if mindspore_version in _api_versions.MINDSPORE_CELL else NEWEST_MINDSPORE
    has = frozenset(_api_versions.MINDSPORE_CELL[v])
    return v, {m: h for m, h in TORCH_STYLE_METHODS.items() if m not in has}


def mindspore_only_methods(torch_version: str | None = None) -> tuple[str, dict[str, str]]:
    """(release judged, {MindSpore-style method: torch hint}) for the methods a torch Module of that release lacks."""
    if torch_version is None:
        torch_version = default_torch_release()
    v = torch_version if torch_version in _api_versions.TORCH_MODULE else NEWEST_TORCH
    has = frozenset(_api_versions.TORCH_MODULE[v])
    return v, {m: h for m, h in MINDSPORE_STYLE_METHODS.items() if m not in has}


#: the methods MRG501 reports with the default (newest) MindSpore table; measured on MindSpore 2.10 by
#: ``tests/test_mindspore_truth.py`` (``hasattr(mindspore.nn.Cell, name) is False``)
TORCH_ONLY_MODULE_METHODS: dict[str, str] = torch_only_methods(NEWEST_MINDSPORE)[1]
#: the methods MRG502 reports with the default (newest) torch table; measured on torch 2.13 by
#: ``tests/test_runtime_apis.py`` (``hasattr(torch.nn.Module, name) is False``)
MINDSPORE_ONLY_CELL_METHODS: dict[str, str] = mindspore_only_methods(NEWEST_TORCH)[1]


#: torch.nn layers that hold no parameters or buffers whatever their arguments, and behave the same in
#: train() and eval(): nothing of them is saved, converted or switched, so registering them changes nothing.
#: Checked against the installed torch by tests/test_runtime_stateless.py (built, no state, train == eval).
TORCH_STATELESS_LAYERS = frozenset(
    "AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d "
    "AvgPool1d AvgPool2d AvgPool3d CELU ChannelShuffle CircularPad1d CircularPad2d CircularPad3d ConstantPad1d "
    "ConstantPad2d ConstantPad3d CosineSimilarity ELU Flatten Fold GELU GLU Hardshrink Hardsigmoid Hardswish "
    "Hardtanh Identity LPPool1d LPPool2d LPPool3d LeakyReLU LogSigmoid LogSoftmax MaxPool1d MaxPool2d MaxPool3d "
    "Mish PairwiseDistance PixelShuffle PixelUnshuffle ReLU ReLU6 ReflectionPad1d ReflectionPad2d ReflectionPad3d "
    "ReplicationPad1d ReplicationPad2d ReplicationPad3d SELU SiLU Sigmoid Softmax Softmax2d Softmin Softplus "
    "Softshrink Softsign Tanh Tanhshrink Threshold Unflatten Unfold Upsample UpsamplingBilinear2d "
    "UpsamplingNearest2d ZeroPad1d ZeroPad2d ZeroPad3d "
    # losses that take no tensor argument: nothing to hold, and none reads self.training
    "CTCLoss CosineEmbeddingLoss GaussianNLLLoss HingeEmbeddingLoss HuberLoss KLDivLoss L1Loss MSELoss "
    "MarginRankingLoss MultiLabelMarginLoss PoissonNLLLoss SmoothL1Loss SoftMarginLoss TripletMarginLoss".split()
)

#: torch.nn losses that are stateless unless a class-weight tensor is given: name -> (position of the first
#: state-taking parameter, its keyword names). ``nn.CrossEntropyLoss()`` holds nothing (its ``weight`` buffer is
#: None); ``nn.CrossEntropyLoss(w)`` holds a buffer. Checked by tests/test_runtime_stateless.py.
TORCH_STATELESS_UNLESS: dict[str, tuple[int, frozenset[str]]] = {
    "BCELoss": (0, frozenset({"weight"})),
    "BCEWithLogitsLoss": (0, frozenset({"weight", "pos_weight"})),
    "CrossEntropyLoss": (0, frozenset({"weight"})),
    "NLLLoss": (0, frozenset({"weight"})),
    "MultiLabelSoftMarginLoss": (0, frozenset({"weight"})),
    "MultiMarginLoss": (2, frozenset({"weight"})),
}


#: torch.nn layers whose ``weight`` is a Parameter in every configuration (no flag turns it off): a subclass
#: (``class StdConv2d(nn.Conv2d)``) reads ``self.weight`` as a Parameter it inherits. Checked by
#: tests/test_runtime_tensor_use.py.
TORCH_ALWAYS_WEIGHTED = frozenset(
    "Linear Bilinear Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d Embedding EmbeddingBag".split()
)


def inherited_parameter(bases: Iterable[str], attr: str) -> bool:
    """Is ``self.<attr>`` a Parameter that one of these (qualified) torch.nn layer bases always registers?"""
    if attr != "weight":
        return False
    return any(normalize(b).startswith("torch.nn.") and normalize(b).count(".") == 2 and
               normalize(b)[len("torch.nn."):] in TORCH_ALWAYS_WEIGHTED for b in bases)

def stateless_layer(qualified: str | None, positional: int = 0, keywords: frozenset[str] = frozenset(),
                    star: bool = False) -> bool:
    """``torch.nn.ReLU`` and the like (see ``TORCH_STATELESS_LAYERS``), or a loss of ``TORCH_STATELESS_UNLESS``
    built with ``positional`` positional arguments and these ``keywords`` (``star``: ``*args``/``**kw`` given),
    none of which can reach its weight."""
    if not qualified:
        return False
    q = normalize(qualified)
    if not (q.startswith("torch.nn.") and q.count(".") == 2):
        return False
    name = q[len("torch.nn."):]
    if name in TORCH_STATELESS_LAYERS:
        return True
    unless = TORCH_STATELESS_UNLESS.get(name)
    return unless is not None and not star and positional <= unless[0] and not keywords & unless[1]


# --- layer state (MRG403) and reachable attribute names (MRG404) ---------------

_TORCH_STATE: dict = _known_data.TORCH.get("nn_stateful", {})
_TORCH_SWITCHES: dict = _known_data.TORCH.get("nn_state_switches", {})
_MS_STATE: dict = _MS.get("nn_stateful", {})
_MS_SWITCHES: dict = _MS.get("nn_state_switches", {})
_MINT_STATE: dict = _MS.get("mint_nn_stateful", {})
_MINT_SWITCHES: dict = _MS.get("mint_nn_state_switches", {})


def layer_state(qualified: str) -> tuple[bool | None, list[list[str]]]:
    """Does a minimal instance of the layer class ``qualified`` hold parameters or buffers?

    Generated by ``scripts/gen_known.py`` from the real packages: True
    (``nn.Linear``), False (``nn.ReLU``), None (not a known layer, or one that
    could not be built from small arguments).  The second item lists the
    boolean flags that flip the answer (see ``gen_known._state_table``).
    """
    q = normalize(qualified)
    for prefix, state, switches in (
        ("torch.nn.", _TORCH_STATE, _TORCH_SWITCHES),
        ("mindspore.nn.", _MS_STATE, _MS_SWITCHES),
        ("mindspore.mint.nn.", _MINT_STATE, _MINT_SWITCHES),
    ):
        if q.startswith(prefix) and q.count(".") == prefix.count("."):
            name = q[len(prefix) :]
            return state.get(name), switches.get(name, [])
    return None, []


#: qualified module -> the names ``module.<name>`` can reach (public attributes and submodules), generated
ATTR_NAMES: dict[str, frozenset[str]] = {
    k: frozenset(v) for k, v in {**_known_data.TORCH.get("attr_names", {}), **_MS.get("attr_names", {})}.items()
}
#: the framework version each table of ``ATTR_NAMES`` was read from
ATTR_VERSIONS: dict[str, str] = {
    **{k: f"torch {TORCH_VERSION}" for k in _known_data.TORCH.get("attr_names", {})},
    **{k: f"MindSpore {MINDSPORE_VERSION}" for k in _MS.get("attr_names", {})},
}
