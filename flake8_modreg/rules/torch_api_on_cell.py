from __future__ import annotations

from .. import known
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from ._mixups import foreign_layers, foreign_method_calls, layer_hint


class TorchApiOnCell(Rule):
    """
    ## What it does
    Finds torch-only API used on a MindSpore `nn.Cell`:

    - torch-style methods that the MindSpore release's `Cell` does not have
      (`mindspore-version`, default: the installed release, else the newest
      table, 2.10), called on
      `self` in a Cell's method, on a sub-cell (`self.backbone.children()`),
      or on a local bound to a Cell (`net = MyNet(); net.parameters()`). On
      2.10: `parameters`, `named_parameters`, `children`, `named_children`,
      `modules`, `named_modules`, `add_module`, `register_module`,
      `register_parameter`, `get_submodule`, `get_parameter`, `zero_grad`,
      `train`, `eval`, `requires_grad_`, `cuda`, `cpu`, `half`, `float`,
      `double`, `bfloat16`. Older releases lack more: 2.7 -- 2.9 also `to`;
      2.0 also `register_buffer`, `buffers`, `named_buffers`, `get_buffer`,
      `state_dict`, `load_state_dict`. The message names the release judged
      (`... on MindSpore 2.10 Cell 'Net'`);
    - torch layers and containers (`torch.nn.ModuleList`, `Sequential`,
      `ModuleDict`, `torch.nn.Linear`, ...) assigned to a Cell.

    ## Why is this bad?
    The methods raise `AttributeError` at run time (measured with MindSpore
    2.10: `hasattr(mindspore.nn.Cell, name)` is false for every name above,
    and for every `mindspore.nn` Cell class; looking each one up on a `Cell`,
    `nn.Dense`, `nn.SequentialCell` and `mint.nn.Linear` instance raises
    `AttributeError` -- `tests/test_mindspore_probes.py::test_mrg501_*` and
    `tests/test_mindspore_truth.py::test_torch_only_methods_are_missing_from_every_cell`). Worse, a torch layer inside a Cell
    raises nothing: MindSpore does not know it, so its weights are missing from
    `get_parameters()`, from checkpoints and from the optimizer, and
    `construct` cannot run it in graph mode.

    The mapping is not one to one. MindSpore has only Parameters: BatchNorm's
    `moving_mean`/`moving_variance` are `Parameter(requires_grad=False)` and are
    returned by `get_parameters()`, while torch keeps `running_mean`/
    `running_var` as buffers, outside `parameters()`. So `get_parameters()` is
    *not* torch's `parameters()`: give an optimizer `trainable_params()`
    (see MRG503).

    Which methods a Cell has is read per release from the released wheels'
    `mindspore/nn/cell.py` (`scripts/gen_api_versions.py`; PyPI holds 2.0.0
    and 2.7.0 onwards, so there are tables for 2.0, 2.7, 2.8, 2.9 and 2.10;
    2.1 -- 2.6 are judged by the nearest newer one, 2.7's, and the message
    names it), and the 2.10 table is checked against a real Cell
    (`tests/test_mindspore_api_versions.py`: the table is exactly the public
    attributes of `mindspore.nn.Cell`, and each method above is absent from
    `Cell` and `nn.Dense` exactly when the table says so).

    Not reported: MindSpore 2.10 does have `register_buffer`, `buffers()`,
    `named_buffers()`, `state_dict()`, `load_state_dict()`, `to()`, `apply()`
    and forward hooks (code for 2.0 should keep state in
    `Parameter(requires_grad=False)`: set `mindspore-version = "2.0"`).
    Also silent: a Cell that defines the method itself (a compatibility shim),
    a Cell with a base from another file that the resolver cannot read in full,
    or that binds the name -- a project class or a mixin whose
    methods we do not see may supply the name (`class Net(nn.Cell, TorchCompat)`
    with `TorchCompat.parameters()` in another file runs; the same test file
    checks it) -- and same-named methods of objects that are not Cells.

    ## Example
    ```python
    class MyNet(nn.Cell):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([nn.Dense(4, 4)])

    net = MyNet()
    optimizer = nn.Momentum(net.parameters(), 0.1, 0.9)
    ```

    ## Use instead
    ```python
    class MyNet(nn.Cell):
        def __init__(self):
            super().__init__()
            self.layers = nn.CellList([nn.Dense(4, 4)])

    net = MyNet()
    optimizer = nn.Momentum(net.trainable_params(), 0.1, 0.9)
    ```
    torch → MindSpore: `parameters()` → `get_parameters()` (all, including
    BatchNorm statistics) or `trainable_params()`; `named_parameters()` →
    `parameters_and_names()`; `buffers()` → `untrainable_params()` for what
    torch keeps as buffers; `children()` → `cells()`; `named_modules()` →
    `cells_and_names()`; `add_module` → `insert_child_to_cell`;
    `register_parameter` → `insert_param_to_cell`; `train()`/`eval()` →
    `set_train(True/False)`; `half()` → `to(mindspore.float16)` or
    `to_float(...)`; `ModuleList`/`Sequential`/`ModuleDict` → `CellList`/
    `SequentialCell`/`CellDict`; `nn.Linear` → `nn.Dense`.

    ## Fix safety
    No automatic fix. Renaming a method would be unsafe where the semantics
    differ (`parameters()` → `get_parameters()` adds BatchNorm statistics; the
    safe rename for an optimizer is `trainable_params()`), and replacing a
    torch layer needs MindSpore's argument names (`nn.Linear(4, 2)` →
    `nn.Dense(4, 2)` has different weight layout and initialisation).

    ## References
    - [mindspore.nn.Cell](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    - [PyTorch and MindSpore API mapping](https://www.mindspore.cn/docs/en/master/note/api_mapping/pytorch_api_mapping.html)
    - [Differences with torch.nn.Module.parameters](https://www.mindspore.cn/docs/en/r1.10/note/api_mapping/pytorch_diff/GetParams.html)
    """

    code = "MRG501"
    name = "torch-api-on-cell"
    summary = "torch-only methods, layers or containers used on a MindSpore Cell"
    frameworks = frozenset({"mindspore"})
    message = "torch-only {what} on {cell}"
    fix_hint = "MindSpore: {hint}"
    fix_summary = "the MindSpore equivalent (`get_parameters()`/`trainable_params()`, `cells()`, `nn.CellList`, ...)"

    invalid = (
        Invalid(
            """
            import mindspore
            from mindspore import nn

            class MyNet(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Dense(4, 2)
                    self.bn = nn.BatchNorm1d(2)

                def construct(self, x):
                    return self.bn(self.fc(x))

                def l2(self):
                    return sum((p * p).sum() for p in self.parameters())

            net = MyNet()
            net.train()
            for name, p in net.named_parameters():
                print(name)
            """,
            at=[(14, 42), (17, 0), (18, 15)],
            title="methods on self and on a local bound to a Cell of this file (AttributeError)",
        ),
        Invalid(
            """
            from mindspore import nn

            class Backbone(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.add_module("stem", nn.Dense(4, 4))

                def construct(self, x):
                    return self.stem(x)

            class Model(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.backbone = Backbone()
                    self.head = nn.Dense(4, 2)

                def freeze(self):
                    for cell in self.backbone.children():
                        cell.requires_grad = False
                    self.head.half()

                def construct(self, x):
                    return self.head(self.backbone(x))

            Model()
            """,
            at=[(6, 8), (18, 20), (20, 8)],
            title="on self in __init__, on a sub-cell of this file and on a library layer",
        ),
        Invalid(
            """
            import torch
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.layers = torch.nn.ModuleList([torch.nn.Linear(4, 4)])
                    self.head = torch.nn.Linear(4, 2)
                    self.act = nn.ReLU()

                def construct(self, x):
                    for layer in self.layers:
                        x = self.act(layer(x))
                    return self.head(x)
            """,
            at=[(7, 8), (8, 8)],
            title="torch containers and layers inside a Cell: silently not in get_parameters()",
        ),
    )

    valid = (
        Valid(
            """
            import numpy as np
            import mindspore
            from mindspore import nn, Tensor

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Dense(4, 2)
                    self.register_buffer("offset", Tensor(np.zeros(2), mindspore.float32))
                    self.blocks = nn.CellList([nn.Dense(2, 2)])

                def construct(self, x):
                    return self.fc(x) + self.offset

            net = Net()
            net.to(mindspore.float32)
            net.set_train(False)
            state = net.state_dict()
            n_buffers = len(list(net.buffers()))
            params = net.trainable_params() + net.untrainable_params()
            names = [name for name, _ in net.parameters_and_names()]
            opt = nn.Momentum(net.trainable_params(), 0.1, 0.9)
            opt_params = opt.parameters
            """,
            why="MindSpore 2.10 Cell API, including register_buffer, buffers(), state_dict() and to(), "
            "and the optimizer's `parameters` attribute (not a call)",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.ModuleList([nn.Linear(4, 4)])

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return x

            net = Net()
            net.train()
            opt = torch.optim.SGD(net.parameters(), lr=0.1)
            print([n for n, _ in net.named_parameters()], list(net.children()))
            """,
            why="torch's own API on a torch Module",
        ),
        Valid(
            """
            from mindspore import nn
            from mylib import load_model, TorchCompatCell

            class Compat(nn.Cell):
                def parameters(self):
                    return self.get_parameters()

                def construct(self, x):
                    return x

            class Imported(TorchCompatCell):
                def construct(self, x):
                    return x

                def count(self):
                    return len(list(self.parameters()))

            class Config:
                def train(self):
                    return True

            cfg = Config()
            cfg.train()
            model = load_model()
            model.parameters()
            Compat().parameters()
            """,
            why="a Cell defining the method itself, a Cell with a base from elsewhere, "
            "and unrelated or unknown objects",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        version, methods = known.torch_only_methods(self.config.mindspore_version if self.config else None)
        for call, method, what in foreign_method_calls(model, "mindspore", methods, f"MindSpore {version}"):
            report(call, what=f"method '.{method}()'", cell=what, hint=methods[method])
        for cls, a, name in foreign_layers(model, "mindspore", "torch"):
            report(a.node, what=f"layer '{name}'", cell=f"MindSpore Cell '{cls.name}'", hint=layer_hint(name, "mindspore"))

