from __future__ import annotations

from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._containers import plain_containers


class LayersInPlainList(Rule):
    """
    ## What it does
    Finds sub-modules (layers) of a torch `nn.Module` or MindSpore `nn.Cell` kept
    in a plain `list` or `tuple` attribute: a list or tuple display, a
    comprehension, `list(...)`/`tuple(...)`, `[Block()] * n`, an empty list
    filled with `.append(...)`/`.extend(...)`, or a list built elsewhere
    (`self.layers = layer_list`).

    ## Why is this bad?
    torch registers a sub-module only when it is assigned directly as an
    attribute, or held by a registering container. A plain list hides its
    layers: their weights are missing from `.parameters()` (the optimizer never
    trains them), from `state_dict()` (checkpoints silently lose them), and
    `.to(device)`, `.train()`/`.eval()` and `.half()` skip them. Nothing raises;
    the model just trains with part of itself frozen at random initial values.
    MindSpore's `get_parameters()` and `trainable_params()` skip them the same way.

    Lists whose items are already registered are fine and are not reported:
    `self.order = [self.a, self.b]` (the items are attributes), or items each
    registered with `self.add_module(...)`/`setattr(self, ...)`.

    ## Example
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(8, 8) for _ in range(4)]
    ```

    ## Use instead
    ```python
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(4)])
    ```
    MindSpore: `nn.CellList([...])`. If the order of calls is the whole
    forward pass, `nn.Sequential(*layers)` / `nn.SequentialCell([...])` also
    registers them.

    ## Fix safety
    No automatic fix yet. Wrapping the list changes the module's `state_dict`
    keys (new `layers.0.weight` entries), so checkpoints saved before the fix no
    longer load with `strict=True`.

    ## References
    - [torch.nn.ModuleList](https://pytorch.org/docs/stable/generated/torch.nn.ModuleList.html)
    - [mindspore.nn.CellList](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.CellList.html)
    """

    code = "MRG101"
    name = "layers-in-plain-list"
    summary = "Layers kept in a plain `list`/`tuple` attribute"
    message = "sub-modules in plain {container} 'self.{attr}' are not registered"
    fix_hint = "wrap it in {wrapper}(...)"
    fix_summary = "wrap it in `nn.ModuleList(...)` (MindSpore: `nn.CellList`)"

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            layer_list = [nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5), nn.Linear(5, 2)]

            class MyNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = layer_list

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return x
            """,
            at=[(8, 8)],
            title="a module-level list (seed: the classic forum example)",
            probe=Probe(
                cls="MyNet",
                attr="layers",
                twin="""
                import torch.nn as nn

                layer_list = [nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5), nn.Linear(5, 2)]

                class MyNet(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.layers = nn.ModuleList(layer_list)

                    def forward(self, x):
                        for layer in self.layers:
                            x = layer(x)
                        return x
                """,
            ),
        ),
        Invalid(
            """
            import torch
            from torch import nn

            class Block(nn.Module):
                def __init__(self, dim):
                    super().__init__()
                    self.fc = nn.Linear(dim, dim)

                def forward(self, x):
                    return self.fc(x)

            class Net(nn.Module):
                def __init__(self, dim=4, depth=2):
                    super().__init__()
                    self.blocks = [Block(dim) for _ in range(depth)]
                    self.heads = (nn.Linear(dim, 1), nn.Linear(dim, 1))

                def forward(self, x):
                    for b in self.blocks:
                        x = b(x)
                    return [h(x) for h in self.heads]
            """,
            at=[(15, 8), (16, 8)],
            title="a comprehension of a Module class of the same file, and a tuple",
            probe=Probe(
                cls="Net",
                attr="blocks",
                twin="""
                import torch
                from torch import nn

                class Block(nn.Module):
                    def __init__(self, dim):
                        super().__init__()
                        self.fc = nn.Linear(dim, dim)

                    def forward(self, x):
                        return self.fc(x)

                class Net(nn.Module):
                    def __init__(self, dim=4, depth=2):
                        super().__init__()
                        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
                        self.heads = nn.ModuleList((nn.Linear(dim, 1), nn.Linear(dim, 1)))

                    def forward(self, x):
                        for b in self.blocks:
                            x = b(x)
                        return [h(x) for h in self.heads]
                """,
            ),
        ),
        Invalid(
            """
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, sizes=(4, 8, 4)):
                    super().__init__()
                    self.layers = []
                    for n_in, n_out in zip(sizes, sizes[1:]):
                        self.layers.append(nn.Linear(n_in, n_out))

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return x
            """,
            at=[(6, 8)],
            title="an empty list filled with append",
            probe=Probe(
                cls="Stack",
                attr="layers",
                twin="""
                import torch.nn as nn

                class Stack(nn.Module):
                    def __init__(self, sizes=(4, 8, 4)):
                        super().__init__()
                        self.layers = nn.ModuleList()
                        for n_in, n_out in zip(sizes, sizes[1:]):
                            self.layers.append(nn.Linear(n_in, n_out))

                    def forward(self, x):
                        for layer in self.layers:
                            x = layer(x)
                        return x
                """,
            ),
        ),
        Invalid(
            """
            import torch.nn as nn

            class Tower(nn.Module):
                def __init__(self, depth=3):
                    super().__init__()
                    layers = []
                    for _ in range(depth):
                        layers.append(nn.Linear(4, 4))
                        layers.append(nn.ReLU())
                    self.body = layers
                    self.extra = [nn.Linear(4, 4)] * 2

                def forward(self, x):
                    for layer in self.body + self.extra:
                        x = layer(x)
                    return x
            """,
            at=[(10, 8), (11, 8)],
            title="a local list, and a repeated list",
        ),
        Invalid(
            """
            from mindspore import nn

            class Head(nn.Cell):
                def __init__(self):
                    super(Head, self).__init__()
                    self.branches = [nn.Dense(4, 2), nn.Dense(4, 2)]  # 两个分支

                def construct(self, x):
                    return [b(x) for b in self.branches]
            """,
            at=[(6, 8)],
            title="MindSpore: the hint is nn.CellList",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.a = nn.Linear(4, 4)
                    self.b = nn.Linear(4, 4)
                    self.order = [self.a, self.b]
                    self.sizes = [4, 8, 16]
                    self.names = ("a", "b")
                    self.acts = [nn.ReLU, nn.GELU]

                def forward(self, x):
                    for layer in self.order:
                        x = layer(x)
                    return x
            """,
            why="aliases of registered attributes, lists of ints, strings and classes (not instances)",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, depth=3):
                    super().__init__()
                    layers = [nn.Linear(4, 4) for _ in range(depth)]
                    self.body = nn.Sequential(*layers)
                    self.blocks = []
                    for i in range(depth):
                        self.blocks.append(nn.Linear(4, 4))
                    self.blocks = nn.ModuleList(self.blocks)

                def forward(self, x):
                    return self.body(x)
            """,
            why="a local list unpacked into nn.Sequential, and a list wrapped in ModuleList before __init__ ends",
        ),
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self, depth=2):
                    super().__init__()
                    self.layers = []
                    for i in range(depth):
                        layer = nn.Linear(4, 4)
                        self.add_module(f"layer{i}", layer)
                        self.layers.append(layer)
                    self.convs = [nn.Conv2d(3, 3, 1) for _ in range(depth)]
                    for i, conv in enumerate(self.convs):
                        setattr(self, f"conv{i}", conv)

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return x
            """,
            why="every item is also registered with add_module/setattr",
        ),
        Valid(
            """
            import torch.nn as nn

            class Config:
                def __init__(self):
                    self.layers = [nn.Linear(4, 4)]

            def build():
                layers = [nn.Linear(4, 4)]
                return nn.Sequential(*layers)
            """,
            why="not a Module: a plain class and a function",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for pc in plain_containers(model):
            if pc.kind.tag is Tag.LIST and pc.kind.holds(Tag.LAYER):
                qual = "mindspore.nn.CellList" if pc.cls.framework == "mindspore" else "torch.nn.ModuleList"
                report(pc.assign.node, container=pc.spelling, attr=pc.assign.attr, wrapper=model.alias(qual))
