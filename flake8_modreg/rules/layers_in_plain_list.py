from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel, Kind, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._containers import plain_containers, registered_parameters, wrap_fix


class LayersInPlainList(Rule):
    """
    ## What it does
    Finds sub-modules (layers) of a torch `nn.Module` or MindSpore `nn.Cell` kept
    in a plain `list` or `tuple` attribute: a list or tuple display, a
    comprehension, `list(...)`/`tuple(...)`, `[Block()] * n`, an empty list
    filled with `.append(...)`/`.extend(...)`, a list built elsewhere
    (`self.layers = layer_list`), or a list of layers that a function or a
    builder object of another file fills and returns (`builder =
    Builder(...)`, then `self.blocks = list(builder(args))`: the builder
    class's own `__call__` appends layers to a list and returns it).

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
    registered with `self.add_module(...)`/`setattr(self, ...)`/
    `self.__setattr__(...)`. Nor are the
    containers of a class that collects its state itself: it overrides both
    `state_dict` (or `_save_to_state_dict`) and `named_parameters` (or
    `parameters`) — sharded or fused lookups that must not be auto-registered
    walk their lists there (`tests/test_runtime_tensor_use.py`). A list
    that a registered value of the same attribute replaces is not reported
    either: one assigned later in the same method (not in the other branch of
    an `if`), or in a method that `__init__` reaches through `self.<name>(...)`
    calls or `self.apply(self.<name>)` (when a base we cannot see, or a
    `setattr` whose name may be this one, could replace it too, the list is
    left alone). A registered value in a method nothing in `__init__` calls
    (`reset_classifier`) leaves the constructed Module holding the plain list,
    and one assigned *before* the list in the same method makes the list's
    assignment raise `TypeError: cannot assign 'list' as child module`: both
    are reported (`tests/test_list_beside_registered.py`).

    Nor is a list of *constant modules* that every read after construction
    iterates, converting each item to a tensor before any other use (`for f
    in self.banks: f.to(x).analysis(x)`, or `.to(device=..., dtype=...)`): a
    constant module is an `nn.Module` subclass (of this file or, through the
    resolver, another) whose instances hold only buffers its `__init__` makes
    without drawing random numbers, plain values and stateless layers -- no
    Parameter, no sub-module that may hold one, nothing written after
    `__init__` (a filter bank). Registering such a list changes nothing:
    there is no weight to train, a new instance rebuilds every buffer (so
    `state_dict()` has nothing to restore), and each use moves and casts the
    item (`Module.to(tensor)` takes the tensor's device and dtype). Moved but
    not cast (`f.to(x.device)`) it is reported: after `.half()` its fp32
    buffers meet half inputs (`tests/test_runtime_stateless.py`).

    Nor is a finished list handed whole to a registering container later in
    the same method (`self.blocks_list = [...]`, then `self.blocks =
    nn.ModuleList(self.blocks_list)` or `nn.Sequential(*self.blocks_list)`):
    the very same layer objects are registered, so `parameters()`,
    `state_dict()`, `.to()`/`.half()` and `.eval()` reach them through either
    attribute (a transform that *swaps* registered children, such as
    `convert_sync_batchnorm`, replaces them in the registered container
    only). A list still filled after the wrap, or by another method, is
    reported: `nn.ModuleList(items)` copied the items it was given.

    Nor is a list whose only reads hand it to the constructors of
    sub-modules in `__init__` (`self.head = Head(layers=self.layers)`): the
    layers reach the model only through those sub-modules, which register
    (or are reported for) the ones they keep. Nor a container that only the
    methods building the module read (`__init__` and the methods only it
    calls: `self.models = [GP(...) ...]` used to select the training data),
    when no code of the file reads an attribute of that name on anything but
    `self`: once built, nothing runs those layers, so nothing the module uses
    is lost (`tests/test_runtime_stateless.py`).

    Nor are containers the class *declares* plain with an annotation
    (`self.lookups: List[nn.Module] = []`, `Dict[str, nn.Module]`,
    `Optional[list[Block]]`): torch treats them like any plain list, but the
    annotation states that the author keeps them out of the registry on
    purpose (sharded models keep per-rank copies, communication modules and
    fused kernels whose weights are re-registered elsewhere this way). In
    fifteen libraries the rules were never tuned on, all 44 such annotated
    containers of modules were deliberate (docs/accuracy.md). A container
    annotated `nn.ModuleList` but assigned a plain list is still reported.

    Nor are lists whose layers are all stateless, mode-free torch layers
    (`[nn.ReLU(), nn.Identity(), nn.MaxPool2d(2)]`): they hold no parameters
    or buffers and behave the same in `train()` and `eval()`, so registering
    them changes nothing (`known.TORCH_STATELESS_LAYERS`, checked class by
    class under torch in `tests/test_runtime_stateless.py`); losses count
    when built without a class-weight tensor (`nn.MSELoss()`,
    `nn.CrossEntropyLoss()`, not `nn.CrossEntropyLoss(weight=w)`, whose
    buffer `.to()` would leave behind). A `Dropout`
    or a norm layer in the list makes it reported again, and so does calling the
    container itself (`self.pool = (nn.AvgPool2d(2),)` then `self.pool(x)`: a
    trailing comma made a 1-tuple).

    A list of registering containers is a list of layers too: torch's
    `nn.Sequential`/`nn.ModuleList` and MindSpore's `nn.SequentialCell`/
    `nn.CellList`/`nn.CellDict` are Modules/Cells themselves (MindSpore's
    `ParameterTuple`, a tuple of Parameters, is not a Cell and is not counted).

    MindSpore runtime truth: `tests/test_mindspore_fix_truth.py` builds the
    MindSpore examples before and after the fix (no parameters in a plain
    list; all of them in `nn.CellList`), and `tests/test_mindspore_truth.py`
    runs the probe of the `nn.SequentialCell` list (its weights are in
    neither `get_parameters()` nor the checkpoint; in the `nn.CellList` twin
    they are).

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
    The fix wraps the value of a single-target `self.x = <list>` statement:
    `[a, b]` and comprehensions become `nn.ModuleList([...])`, a tuple
    `(a, b)` becomes `nn.ModuleList([a, b])`, an empty `[]` that is filled
    with `.append(...)` becomes `nn.ModuleList()` (which has `append`,
    `extend` and `insert`), and a name becomes `nn.ModuleList(layer_list)`.
    It spells the wrapper with the file's own alias (`nn.ModuleList`,
    `torch.nn.ModuleList`), or adds `from torch import nn` when the name `nn`
    is free (else `import torch`). MindSpore: `nn.CellList`.

    The fix is **unsafe** (applied only with `--unsafe-fixes`): registering
    the layers adds `layers.0.weight`-style keys to `state_dict()`, so
    checkpoints saved before the fix no longer load with
    `load_state_dict(strict=True)`, and `parameters()` now yields more
    tensors, so optimizers and their saved states see a different list.
    A `ModuleList` is not a `list`: `isinstance(x, list)` and `[a] + x` stop
    working. `[Block()] * n` repeats one layer object n times; the fix keeps
    that exactly (`nn.ModuleList([Block()] * n)` registers the same module
    under n names, with shared weights, as the plain list shared it) — if
    you meant n independent layers, write `[Block() for _ in range(n)]`.

    No fix is offered when the rewrite is not certain: tuple or chained
    targets, a named list that is still filled after the assignment
    (`nn.ModuleList(layers)` copies it), elements that are not all layers,
    or calls of list methods `ModuleList` lacks (`sort`, `remove`, `index`,
    `copy`, `clear`, ...).
    Nor in subclasses of `nn.Sequential`/`nn.ModuleList`/`nn.SequentialCell`
    and the like (a new child becomes a step of their `forward`), or when a
    base class is defined in another file (it might be one of those).

    ## References
    - [torch.nn.ModuleList](https://pytorch.org/docs/stable/generated/torch.nn.ModuleList.html)
    - [mindspore.nn.CellList](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.CellList.html)
    """

    code = "MRG101"
    name = "layers-in-plain-list"
    summary = "Layers kept in a plain `list`/`tuple` attribute"
    message = "sub-modules in plain {container} 'self.{attr}' are not registered"
    fix_hint = "wrap it in {wrapper}(...)"
    fix_safety = Applicability.UNSAFE
    fix_summary = "wrap it in `nn.ModuleList(...)` (MindSpore: `nn.CellList`)"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F

            class Bank(nn.Module):
                def __init__(self, n=4, taps=3):
                    super().__init__()
                    self.register_buffer("filt", torch.hann_window(taps).repeat(n, 1, 1))
                    self.pad = nn.ConstantPad1d(taps // 2, 0.0)

                def analysis(self, x):
                    return F.conv1d(self.pad(x), self.filt)

            class Discriminator(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.banks = [Bank(4), Bank(2)]
                    self.head = nn.Conv1d(1, 1, 1)

                def forward(self, x):
                    return [b.to(x.device).analysis(self.head(x)) for b in self.banks]
            """,
            at=[(17, 8)],
            title="constant modules moved but not cast at the use: after .half() their fp32 buffers meet half inputs",
            fixed="""
            import torch
            import torch.nn as nn
            import torch.nn.functional as F

            class Bank(nn.Module):
                def __init__(self, n=4, taps=3):
                    super().__init__()
                    self.register_buffer("filt", torch.hann_window(taps).repeat(n, 1, 1))
                    self.pad = nn.ConstantPad1d(taps // 2, 0.0)

                def analysis(self, x):
                    return F.conv1d(self.pad(x), self.filt)

            class Discriminator(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.banks = nn.ModuleList([Bank(4), Bank(2)])
                    self.head = nn.Conv1d(1, 1, 1)

                def forward(self, x):
                    return [b.to(x.device).analysis(self.head(x)) for b in self.banks]
            """,
        ),
        Invalid(
            """
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, n=2, sequential=False):
                    super().__init__()
                    if sequential:
                        self.blocks = nn.Sequential(*[nn.Linear(4, 4) for _ in range(n)])
                    else:
                        self.blocks = [nn.Linear(4, 4) for _ in range(n)]

                def forward(self, x):
                    for b in self.blocks:
                        x = b(x)
                    return x
            """,
            at=[(9, 12)],
            title="a registering container in one branch does not register the other",
            fixed="""
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, n=2, sequential=False):
                    super().__init__()
                    if sequential:
                        self.blocks = nn.Sequential(*[nn.Linear(4, 4) for _ in range(n)])
                    else:
                        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(n)])

                def forward(self, x):
                    for b in self.blocks:
                        x = b(x)
                    return x
            """,
        ),
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
            fixed="""
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
            fixed="""
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
                    self.heads = nn.ModuleList([nn.Linear(dim, 1), nn.Linear(dim, 1)])

                def forward(self, x):
                    for b in self.blocks:
                        x = b(x)
                    return [h(x) for h in self.heads]
            """,
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
            fixed="""
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

            class Stages(nn.Module):
                def __init__(self, depths=(1, 2)):
                    super().__init__()
                    stages = []
                    for d in depths:
                        stages += [nn.Sequential(*[nn.Linear(4, 4) for _ in range(d)])]
                    self.stages = list(stages)

                def forward(self, x):
                    for stage in self.stages:
                        x = stage(x)
                    return x
            """,
            at=[(9, 8)],
            title="a list of nn.Sequential stages (torch's registering containers are Modules too)",
            fixed="""
            import torch.nn as nn

            class Stages(nn.Module):
                def __init__(self, depths=(1, 2)):
                    super().__init__()
                    stages = []
                    for d in depths:
                        stages += [nn.Sequential(*[nn.Linear(4, 4) for _ in range(d)])]
                    self.stages = nn.ModuleList(list(stages))

                def forward(self, x):
                    for stage in self.stages:
                        x = stage(x)
                    return x
            """,
            probe=Probe(
                cls="Stages",
                attr="stages",
                twin="""
                import torch.nn as nn

                class Stages(nn.Module):
                    def __init__(self, depths=(1, 2)):
                        super().__init__()
                        stages = []
                        for d in depths:
                            stages += [nn.Sequential(*[nn.Linear(4, 4) for _ in range(d)])]
                        self.stages = nn.ModuleList(list(stages))

                    def forward(self, x):
                        for stage in self.stages:
                            x = stage(x)
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
            fixed="""
            import torch.nn as nn

            class Tower(nn.Module):
                def __init__(self, depth=3):
                    super().__init__()
                    layers = []
                    for _ in range(depth):
                        layers.append(nn.Linear(4, 4))
                        layers.append(nn.ReLU())
                    self.body = nn.ModuleList(layers)
                    self.extra = nn.ModuleList([nn.Linear(4, 4)] * 2)

                def forward(self, x):
                    for layer in self.body + self.extra:
                        x = layer(x)
                    return x
            """,
            probe=Probe(
                cls="Tower",
                attr="extra",
                twin="""
                import torch.nn as nn

                class Tower(nn.Module):
                    def __init__(self, depth=3):
                        super().__init__()
                        self.body = nn.Sequential(*[nn.Linear(4, 4) for _ in range(depth)])
                        self.extra = nn.ModuleList([nn.Linear(4, 4)] * 2)

                    def forward(self, x):
                        return self.extra[1](self.extra[0](self.body(x)))
                """,
            ),
        ),
        Invalid(
            """
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, depth=2):
                    super().__init__()
                    layers = []
                    self.layers = layers
                    for _ in range(depth):
                        layers.append(nn.Linear(4, 4))
                    self.pre, self.post = [nn.Linear(4, 4)], [nn.Linear(4, 4)]
                    self.order = [nn.Linear(4, 4), nn.Linear(4, 4)]
                    self.order.sort(key=id)

                def forward(self, x):
                    for layer in self.pre + self.layers + self.post + self.order:
                        x = layer(x)
                    return x
            """,
            at=[(7, 8), (10, 8), (11, 8)],
            title="no fix: filled after the assignment, a tuple target, a list method ModuleList lacks",
            fixed=None,
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
            fixed="""
            from mindspore import nn

            class Head(nn.Cell):
                def __init__(self):
                    super(Head, self).__init__()
                    self.branches = nn.CellList([nn.Dense(4, 2), nn.Dense(4, 2)])  # 两个分支

                def construct(self, x):
                    return [b(x) for b in self.branches]
            """,
        ),
        Invalid(
            """
            from typing import List

            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, n=2):
                    super().__init__()
                    self.blocks: nn.ModuleList = [nn.Linear(4, 4) for _ in range(n)]
                    self.heads: "List[nn.Module]" = [nn.Linear(4, 4)]

                def forward(self, x):
                    return self.heads[0](self.blocks[0](x))
            """,
            at=[(8, 8), (9, 8)],
            title="annotated as a registering container (or in a string): still a plain list",
            fixed=None,
        ),
        Invalid(
            """
            from mindspore import nn

            class Neck(nn.Cell):
                def __init__(self, channels=(2, 3)):
                    super().__init__()
                    self.convs = [nn.SequentialCell([nn.Conv2d(c, 4, 3), nn.ReLU()]) for c in channels]

                def construct(self, xs):
                    return [conv(x) for conv, x in zip(self.convs, xs)]
            """,
            at=[(6, 8)],
            title="MindSpore: a list of nn.SequentialCell (registering containers are Cells too)",
            fixed="""
            from mindspore import nn

            class Neck(nn.Cell):
                def __init__(self, channels=(2, 3)):
                    super().__init__()
                    self.convs = nn.CellList([nn.SequentialCell([nn.Conv2d(c, 4, 3), nn.ReLU()]) for c in channels])

                def construct(self, xs):
                    return [conv(x) for conv, x in zip(self.convs, xs)]
            """,
            probe=Probe(
                cls="Neck",
                attr="convs",
                framework="mindspore",
                twin="""
                from mindspore import nn

                class Neck(nn.Cell):
                    def __init__(self, channels=(2, 3)):
                        super().__init__()
                        self.convs = nn.CellList([nn.SequentialCell([nn.Conv2d(c, 4, 3), nn.ReLU()]) for c in channels])

                    def construct(self, xs):
                        return [conv(x) for conv, x in zip(self.convs, xs)]
                """,
            ),
        ),
        Invalid(
            """
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, depth=2):
                    super().__init__()
                    self.blocks_list = [nn.Linear(4, 4) for _ in range(depth)]
                    self.blocks = nn.ModuleList(self.blocks_list)
                    self.blocks_list.append(nn.Linear(4, 4))

                def forward(self, x):
                    for block in self.blocks_list:
                        x = block(x)
                    return x
            """,
            at=[(6, 8)],
            title="filled after it was wrapped: ModuleList copied the items it was given, the last layer is lost",
            fixed="""
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, depth=2):
                    super().__init__()
                    self.blocks_list = nn.ModuleList([nn.Linear(4, 4) for _ in range(depth)])
                    self.blocks = nn.ModuleList(self.blocks_list)
                    self.blocks_list.append(nn.Linear(4, 4))

                def forward(self, x):
                    for block in self.blocks_list:
                        x = block(x)
                    return x
            """,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F

            class Bank(nn.Module):
                def __init__(self, n=4, taps=3):
                    super().__init__()
                    self.register_buffer("filt", torch.hann_window(taps).repeat(n, 1, 1))
                    self.pad = nn.ConstantPad1d(taps // 2, 0.0)

                def analysis(self, x):
                    return F.conv1d(self.pad(x), self.filt)

            class Discriminator(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.banks = [Bank(4), Bank(2)]
                    self.head = nn.Conv1d(1, 1, 1)

                def forward(self, x):
                    return [b.to(x).analysis(self.head(x)) for b in self.banks]
            """,
            why="a list of constant modules (deterministic buffers and stateless layers made in __init__, nothing "
                "written later), each converted to the input at every use, `b.to(x)`: nothing to train, save or move",
        ),
        Valid(
            """
            from mindspore import nn

            class Unit(nn.Cell):
                def __init__(self, kernels=(1, 3)):
                    super().__init__()
                    self.branches = []
                    for k in kernels:
                        branch = nn.SequentialCell([nn.Conv2d(4, 4, k), nn.BatchNorm2d(4)])
                        self.__setattr__("branch{}".format(k), branch)
                        self.branches.append(branch)

                def construct(self, x):
                    return sum(b(x) for b in self.branches)
            """,
            why="each item is registered under its own name with self.__setattr__ (mindcv's RepMLP); the list only orders them",
        ),
        Valid(
            """
            import torch.nn as nn

            class Lookups(nn.Module):
                def __init__(self):
                    super().__init__()
                    self._lookups = [nn.Linear(2, 2), nn.Linear(2, 2)]

                def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
                    for i, m in enumerate(self._lookups):
                        yield from m.named_parameters(prefix=f"{prefix}_lookups.{i}")

                def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
                    out = {} if destination is None else destination
                    for i, m in enumerate(self._lookups):
                        m.state_dict(destination=out, prefix=f"{prefix}_lookups.{i}.", keep_vars=keep_vars)
                    return out

                def load_state_dict(self, state_dict, strict=True, assign=False):
                    for i, m in enumerate(self._lookups):
                        m.load_state_dict({k.split(".", 2)[2]: v for k, v in state_dict.items() if k.startswith(f"_lookups.{i}.")})

                def forward(self, x):
                    return sum(m(x) for m in self._lookups)
            """,
            why="the class collects its state itself (state_dict and named_parameters overridden)",
        ),
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
        Valid(
            """
            from typing import Dict, List, Optional

            import torch.nn as nn

            class Sharded(nn.Module):
                def __init__(self, world_size=2):
                    super().__init__()
                    self._per_rank: List[nn.Module] = [nn.Linear(4, 4) for _ in range(world_size)]
                    self._dists: Optional[list[nn.Module]] = []
                    self._by_name: Dict[str, nn.Module] = {"a": nn.Linear(4, 4)}

                def forward(self, x):
                    return self._per_rank[0](x)
            """,
            why="declared plain containers: the annotation states they are kept out of the registry on purpose",
        ),
        Valid(
            """
            import torch.nn as nn

            class Stack(nn.Module):
                def __init__(self, depth=2):
                    super().__init__()
                    self.blocks_list = [nn.Linear(4, 4)]
                    for _ in range(depth - 1):
                        self.blocks_list.append(nn.Linear(4, 4))
                    self.blocks = nn.ModuleList(self.blocks_list)
                    layers = [nn.Linear(4, 4), nn.BatchNorm1d(4)]
                    self.layers = layers
                    self.body = nn.Sequential(*layers)

                def forward(self, x):
                    for block in self.blocks_list:
                        x = block(x)
                    return self.body(x)
            """,
            why="the finished list is handed whole to a ModuleList/Sequential: the same layers are registered",
        ),
        Valid(
            """
            import torch.nn as nn

            class Head(nn.Module):
                def __init__(self, layers):
                    super().__init__()
                    self.layers = nn.ModuleList(layers)

                def forward(self, x):
                    for layer in self.layers:
                        x = layer(x)
                    return x

            class Model(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = [nn.Linear(4, 4), nn.Linear(4, 4)]
                    self.head = Head(self.layers)

                def forward(self, x):
                    return self.head(x)
            """,
            why="handed only to a sub-module's constructor, which registers the layers",
        ),
        Valid(
            """
            import torch
            import torch.nn as nn

            class Fitted(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.teachers = [nn.Linear(4, 4) for _ in range(2)]
                    self.proj = nn.Linear(4, 4)
                    self._distil()

                def _distil(self):
                    with torch.no_grad():
                        self.proj.weight.copy_(sum(t.weight for t in self.teachers) / 2)

                def forward(self, x):
                    return self.proj(x)
            """,
            why="read only while the module is built (__init__ and a method only it calls); nothing runs the layers later",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for pc in plain_containers(model):
            if pc.kind.tag is Tag.LIST and _holds_modules(pc.kind):
                qual = "mindspore.nn.CellList" if pc.cls.framework == "mindspore" else "torch.nn.ModuleList"
                report(pc.assign.node, fix=wrap_fix(model, pc, qual), container=pc.spelling, attr=pc.assign.attr, wrapper=model.alias(qual))


def _holds_modules(kind: Kind) -> bool:
    """Layers, or registering containers that are Modules/Cells too (``nn.Sequential(...)``, ``nn.SequentialCell([...])``,
    ``nn.CellList()``; not MindSpore's ``ParameterTuple``, a tuple of Parameters)."""
    return any(
        e.tag is Tag.LAYER
        or (e.tag is Tag.REGISTERED and not registered_parameters(e))
        or (e.tag in (Tag.LIST, Tag.DICT) and _holds_modules(e))
        for e in kind.elems
    )
