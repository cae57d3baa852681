from __future__ import annotations

from .. import known
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from ._mixups import foreign_layers, foreign_method_calls, layer_hint


class MindsporeApiOnModule(Rule):
    """
    ## What it does
    Finds MindSpore-only API used on a torch `nn.Module`:

    - `Cell` methods that the torch release's `nn.Module` does not have
      (`torch-version`, default: the newest with a table, 2.13), called on `self` in a
      Module's method, on a sub-module (`self.encoder.get_parameters()`), or on
      a local bound to a Module (`net = MyNet(); net.get_parameters()`, the
      shape of the seed examples when a MindSpore snippet is ported):
      `get_parameters`, `trainable_params`, `untrainable_params`,
      `parameters_and_names`, `parameters_dict`, `cells`, `name_cells`,
      `cells_and_names`, `insert_child_to_cell`, `insert_param_to_cell`,
      `set_train`, `to_float`, `set_grad`, `update_parameters_name`; on
      torch 2.0 also `compile` (`nn.Module.compile()` arrived in 2.1). The
      message names the release judged (`... on torch 2.13 Module 'Net'`);
    - MindSpore cells and containers (`nn.SequentialCell`, `nn.CellList`,
      `nn.Dense`, ...) assigned to a torch Module.

    ## Why is this bad?
    The methods raise `AttributeError` (measured with torch 2.13:
    `hasattr(torch.nn.Module, name)` is false for each, and for every
    `torch.nn` Module class). Which methods a Module has is read per release
    (2.0 -- 2.13) from the released wheels' `torch/nn/modules/module.py`
    (`scripts/gen_api_versions.py`); `tests/test_api_versions.py` checks that
    the 2.13 table is exactly the public attributes of the installed
    `torch.nn.Module`. A MindSpore cell inside a torch Module raises
    nothing when assigned: torch does not register it, so its weights are not
    in `parameters()` nor in `state_dict()`.

    The replacements are not one to one: MindSpore keeps BatchNorm statistics
    as `Parameter(requires_grad=False)`, torch as buffers. So
    `untrainable_params()` corresponds to the frozen parameters *plus*
    `buffers()` in torch, and `get_parameters()` to `parameters()` plus the
    BatchNorm buffers.

    ## Example
    ```python
    class MyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.build_block = ms_nn.SequentialCell(ConvBN(), ms_nn.ReLU())

    net = MyNet()
    for params in net.get_parameters():
        print(params)
    ```

    ## Use instead
    ```python
    class MyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.build_block = nn.Sequential(ConvBN(), nn.ReLU())

    net = MyNet()
    for name, params in net.named_parameters():
        print(name, params)
    ```
    MindSpore → torch: `get_parameters()` → `parameters()`;
    `trainable_params()` → `[p for p in m.parameters() if p.requires_grad]`;
    `untrainable_params()` → the frozen parameters and `buffers()` (note the
    semantic difference); `parameters_and_names()` → `named_parameters()`;
    `cells()` → `children()`; `cells_and_names()` → `named_modules()`;
    `insert_child_to_cell` → `add_module`; `insert_param_to_cell` →
    `register_parameter`; `set_train(mode)` → `train(mode)`;
    `nn.SequentialCell` → `nn.Sequential`; `nn.CellList` → `nn.ModuleList`;
    `nn.Dense` → `nn.Linear`.

    ## Fix safety
    No automatic fix. A rename would be unsafe where meaning changes
    (`untrainable_params()` has no single torch equivalent; `set_train()`
    with no argument means `train(True)`), and replacing a MindSpore cell
    needs torch's constructor arguments and initialisation.

    ## References
    - [torch.nn.Module](https://pytorch.org/docs/stable/generated/torch.nn.Module.html)
    - [Differences with torch.nn.Module.parameters](https://www.mindspore.cn/docs/en/r1.10/note/api_mapping/pytorch_diff/GetParams.html)
    - [Differences with torch.nn.Module.buffers](https://www.mindspore.cn/docs/en/r1.8/note/api_mapping/pytorch_diff/UnTrainableParams.html)
    """

    code = "MRG502"
    name = "mindspore-api-on-module"
    summary = "MindSpore-only methods, cells or containers used on a torch Module"
    frameworks = frozenset({"torch"})
    message = "MindSpore-only {what} on {module}"
    fix_hint = "torch: {hint}"
    fix_summary = "the torch equivalent (`parameters()`, `named_parameters()`, `nn.Sequential`, `nn.ModuleList`, ...)"

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class ConvBN(nn.Module):
                def __init__(self):
                    super(ConvBN, self).__init__()
                    self.conv = nn.Conv2d(3, 64, 3)
                    self.bn = nn.BatchNorm2d(64)

                def forward(self, x):
                    return self.bn(self.conv(x))

            class MyNet(nn.Module):
                def __init__(self):
                    super(MyNet, self).__init__()
                    self.build_block = nn.Sequential(ConvBN(), nn.ReLU())

                def forward(self, x):
                    return self.build_block(x)

            net = MyNet()
            for params in net.get_parameters():
                print("Name: ", params.name)
            """,
            at=[(21, 14)],
            title="the seed's MindSpore loop left on a torch network (AttributeError)",
        ),
        Invalid(
            """
            import torch
            from torch import nn

            class Encoder(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.insert_child_to_cell("extra", nn.Linear(4, 4))

                def forward(self, x):
                    return self.fc(x)

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.encoder = Encoder()
                    self.head = nn.Linear(4, 2)

                def configure(self):
                    frozen = self.encoder.untrainable_params()
                    self.head.set_train(True)
                    return torch.optim.SGD(self.trainable_params(), lr=0.1), frozen

            Model()
            """,
            at=[(8, 8), (20, 17), (21, 8), (22, 31)],
            title="on self in __init__, on a sub-module, on a library layer and on self",
        ),
        Invalid(
            """
            import torch
            import mindspore.nn as ms_nn

            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.blocks = ms_nn.CellList([ms_nn.Dense(4, 4)])
                    self.head = ms_nn.SequentialCell([ms_nn.Dense(4, 2)])

                def forward(self, x):
                    for block in self.blocks:
                        x = block(x)
                    return self.head(x)
            """,
            at=[(7, 8), (8, 8)],
            title="MindSpore containers inside a torch Module: silently not in parameters()",
        ),
    )

    valid = (
        Valid(
            """
            from mindspore import nn

            class ConvBN(nn.Cell):
                def __init__(self):
                    super(ConvBN, self).__init__()
                    self.conv = nn.Conv2d(3, 64, 3)
                    self.bn = nn.BatchNorm2d(64)

                def construct(self, x):
                    return self.bn(self.conv(x))

            class MyNet(nn.Cell):
                def __init__(self):
                    super(MyNet, self).__init__()
                    self.build_block = nn.SequentialCell(ConvBN(), nn.ReLU())

                def construct(self, x):
                    return self.build_block(x)

            net = MyNet()
            for params in net.get_parameters():
                print("Name: ", params.name)
            frozen = net.untrainable_params()
            """,
            why="the seed's MindSpore code: get_parameters() on a Cell",
        ),
        Valid(
            """
            import torch
            from torch import nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 2)
                    self.bn = nn.BatchNorm1d(2)

                def get_parameters(self):
                    return [p for p in self.parameters() if p.requires_grad]

                def forward(self, x):
                    return self.bn(self.fc(x))

            class Registry:
                def cells(self):
                    return []

            net = Net()
            opt = torch.optim.SGD(net.get_parameters(), lr=0.1)
            stats = list(net.buffers())
            net.train(True)
            Registry().cells()
            """,
            why="a Module defining get_parameters itself, torch's own API, and an unrelated class",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        version, methods = known.mindspore_only_methods(self.config.torch_version if self.config else None)
        for call, method, what in foreign_method_calls(model, "torch", methods, f"torch {version}"):
            report(call, what=f"method '.{method}()'", module=what, hint=methods[method])
        for cls, a, name in foreign_layers(model, "torch", "mindspore"):
            report(a.node, what=f"cell '{name}'", module=f"torch nn.Module '{cls.name}'", hint=layer_hint(name, "torch"))

