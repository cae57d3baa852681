"""The per-file model: imports, which classes are Modules/Cells and why, value kinds."""

import textwrap

import libcst as cst
import pytest

from flake8_modreg.model import Tag, build_model


def model_of(src, bases=()):
    return build_model(cst.parse_module(textwrap.dedent(src)), bases)


def kinds(src, cls="Net"):
    m = model_of(src)
    c = m.class_named(cls)
    return {a.attr: m.self_kind(c, a) for a in c.self_assigns}


@pytest.mark.parametrize(
    "imports,base",
    [
        ("import torch.nn as nn", "nn.Module"),
        ("from torch import nn", "nn.Module"),
        ("from torch.nn import Module", "Module"),
        ("from torch.nn import Module as M", "M"),
        ("import torch", "torch.nn.Module"),
        ("import torch.nn", "torch.nn.Module"),
        ("from torch.nn.modules.module import Module", "Module"),
        ("from torch import nn", "nn.Sequential"),
        ("from torch.nn.modules.conv import _ConvNd", "_ConvNd"),
        ("import pytorch_lightning as pl", "pl.LightningModule"),
        ("from lightning.pytorch import LightningModule", "LightningModule"),
        ("from transformers import PreTrainedModel", "PreTrainedModel"),
        ("from mmengine.model import BaseModule", "BaseModule"),
        ("try:\n    import torch.nn as nn\nexcept ImportError:\n    nn = None", "nn.Module"),
    ],
)
def test_torch_module_bases(imports, base):
    m = model_of(f"{imports}\nclass Net({base}):\n    pass\n")
    assert m.class_named("Net").framework == "torch"


@pytest.mark.parametrize(
    "imports,base",
    [
        ("from mindspore import nn", "nn.Cell"),
        ("import mindspore.nn as nn", "nn.Cell"),
        ("import mindspore as ms", "ms.nn.Cell"),
        ("import mindspore", "mindspore.nn.Cell"),
        ("from mindspore.nn import Cell", "Cell"),
        ("from mindspore import nn", "nn.SequentialCell"),
        ("from mindspore.nn.cell import Cell", "Cell"),
    ],
)
def test_mindspore_cell_bases(imports, base):
    m = model_of(f"{imports}\nclass Net({base}):\n    pass\n")
    assert m.class_named("Net").framework == "mindspore"


def test_reason_chain_through_same_file_bases_in_any_order():
    m = model_of(
        """
        import torch.nn as nn
        class Net(Backbone):
            pass
        class Backbone(nn.Module):
            pass
        """
    )
    assert m.class_named("Net").reason == 'Net <- Backbone <- torch.nn.Module via "nn.Module"'


@pytest.mark.parametrize(
    "src",
    [
        "import torch\nclass Net:\n    pass\n",
        "import torch\nclass Net(object):\n    pass\n",
        "from torch.utils.data import Dataset\nclass Net(Dataset):\n    pass\n",
        "import torch.nn as nn\nnn = object()\nclass Net(nn.Module):\n    pass\n",
        "try:\n    import torch.nn as nn\nexcept ImportError:\n    from mindspore import nn\nclass Net(nn.Module):\n    pass\n",
    ],
    ids=["no-base", "object", "dataset", "rebound-alias", "ambiguous-alias"],
)
def test_not_modules(src):
    assert model_of(src).class_named("Net").framework is None


def test_evidence_heuristic_for_imported_bases():
    m = model_of(
        """
        import torch.nn as nn
        from mindspore import nn as msnn
        from .base import Backbone, Other

        class WithEvidence(Backbone):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)
            def forward(self, x):
                return self.fc(x)

        class NoForward(Backbone):
            def __init__(self):
                self.fc = nn.Linear(2, 2)

        class NoLayers(Other):
            def forward(self, x):
                return x

        class MsEvidence(Other):
            def __init__(self):
                self.d = msnn.Dense(2, 2)
            def construct(self, x):
                return self.d(x)

        class Child(WithEvidence):
            pass
        """
    )
    assert m.class_named("WithEvidence").framework == "torch"
    assert "evidence" in m.class_named("WithEvidence").reason
    assert m.class_named("NoForward").framework is None
    assert m.class_named("NoLayers").framework is None
    assert m.class_named("MsEvidence").framework == "mindspore"
    assert m.class_named("Child").framework == "torch"


def test_configured_module_bases():
    src = "from mylib import BaseModel\nimport torch\nclass Net(BaseModel):\n    pass\n"
    assert model_of(src).class_named("Net").framework is None
    assert model_of(src, ("mylib.BaseModel",)).class_named("Net").framework == "torch"
    assert model_of(src, ("BaseModel",)).class_named("Net").framework == "torch"


def test_value_kinds():
    k = kinds(
        """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(2, 2)
                self.b = nn.Parameter(torch.ones(1))
                self.c = torch.zeros(3)
                self.d = torch.zeros(3, requires_grad=True)
                self.e = nn.ModuleList()
                self.f = [nn.Linear(2, 2)]
                self.g = {"x": nn.Linear(2, 2)}
                self.h = None
                self.i = 3
                self.j = self.a
                self.k = nn.Buffer(torch.ones(1))
                self.l = torch.ones(2).float().cuda()
        """
    )
    assert {a: v.tag for a, v in k.items()} == {
        "a": Tag.LAYER,
        "b": Tag.PARAMETER,
        "c": Tag.TENSOR,
        "d": Tag.GRAD_TENSOR,
        "e": Tag.REGISTERED,
        "f": Tag.LIST,
        "g": Tag.DICT,
        "h": Tag.NONE,
        "i": Tag.OTHER,
        "j": Tag.SELF,
        "k": Tag.BUFFER,
        "l": Tag.TENSOR,
    }
    assert k["f"].holds(Tag.LAYER) and k["g"].holds(Tag.LAYER)


def test_local_bindings_follow_order():
    k = kinds(
        """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                layers = [nn.Linear(2, 2)]
                self.a = layers
                layers = nn.Sequential(*layers)
                self.b = layers
        """
    )
    assert k["a"].tag is Tag.LIST and k["b"].tag is Tag.REGISTERED


def test_import_table_alias_for():
    m = model_of("import torch.nn as nn\nfrom torch.nn import ModuleDict\n")
    assert m.alias("torch.nn.ModuleList") == "nn.ModuleList"
    assert m.alias("torch.nn.ModuleDict") == "ModuleDict"
    assert m.alias("mindspore.nn.CellList") == "mindspore.nn.CellList"


def test_methods_facts():
    m = model_of(
        """
        import torch.nn as nn
        class Net(nn.Module):
            @staticmethod
            def forward(x):
                def inner():
                    return 1
                inner()
            async def construct(self):
                yield 1
        """
    )
    c = m.class_named("Net")
    fwd, cons = c.methods["forward"], c.methods["construct"]
    assert fwd.is_static and fwd.self_name is None and not fwd.returns_value
    assert cons.is_async and cons.yields and cons.self_name == "self"


def test_super_init_calls_and_name_refs():
    m = model_of(
        """
        import torch.nn as nn
        from torch.nn import Paramter
        class A(nn.Module):
            def __init__(self):
                self.x = 1
                super().__init__()
        class B(nn.Module):
            def __init__(self):
                nn.Module.__init__(self)
        class C(A):
            def __init__(self):
                super(C, self).__init__()
        class D(nn.Module):
            def __init__(self):
                self.fc = nn.Linaer(2, 2)
        net = A()
        net.get_parameters()
        """
    )
    a, b, c, d = (m.class_named(n) for n in "ABCD")
    init = a.methods["__init__"]
    assert init.super_init is not None and init.super_init[1] > a.self_assigns[0].order
    assert b.methods["__init__"].super_init is not None
    assert c.methods["__init__"].super_init is not None
    assert d.methods["__init__"].super_init is None
    refs = {r.dotted for r in m.name_refs}
    assert {"nn.Module", "nn.Linaer", "torch.nn.Paramter", "net.get_parameters"} <= refs
    assert not any(r.startswith("self.") for r in refs)
    module_calls = [c for c in m.calls if c.scope is m.module_scope]
    assert [type(c.node.func).__name__ for c in module_calls] == ["Name", "Attribute"]
    assert all(c.cls is d for c in m.calls if c.method is d.methods["__init__"])


def test_same_file_helpers_are_followed():
    k = kinds(
        """
        import math
        import torch
        import torch.nn as nn

        def sinusoid(n, d):
            return torch.zeros(n, d)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = sinusoid(4, 4)
                self.b = self.get_embedding(4, 4)
                self.c = Net.get_embedding(4, 4)
                self.d = [self._make_block(i) for i in range(2)]
                self.e = self._maybe(True)
                self.f = self.recurse()

            @staticmethod
            def get_embedding(n, d):
                emb = math.log(10000) / (d // 2 - 1)
                return torch.exp(torch.arange(d // 2) * -emb)

            def _make_block(self, i):
                return nn.Sequential(nn.Linear(2, 2), nn.ReLU())

            def _maybe(self, flag):
                if flag:
                    return torch.ones(1)
                return 3

            def recurse(self):
                return self.recurse()
        """
    )
    assert k["a"].tag is Tag.TENSOR and k["b"].tag is Tag.TENSOR and k["c"].tag is Tag.TENSOR
    assert k["d"].tag is Tag.LIST and k["d"].holds(Tag.REGISTERED)
    assert k["e"].tag is Tag.OTHER  # the returns disagree
    assert k["f"].tag is Tag.OTHER  # recursion stops


def test_returns_and_yields_ignore_nested_defs_lambdas_and_classes():
    m = model_of(
        """
        import torch.nn as nn
        class Net(nn.Module):
            def forward(self, x):
                def inner():
                    return x
                def gen():
                    yield x
                class Local:
                    def get(self):
                        return 1
                f = lambda: x
                y = [v for v in x]
            def a(self):
                if self:
                    return
                return None
            def b(self):
                while True:
                    yield
        """
    )
    c = m.class_named("Net")
    fwd = c.methods["forward"]
    assert not fwd.returns_value and not fwd.yields
    assert m.class_named("Local").methods["get"].returns_value
    assert c.methods["a"].returns_value  # `return None` is written out: a deliberate value
    assert c.methods["b"].yields


def test_method_body_shapes_and_self_attribute_use():
    m = model_of(
        '''
        import torch.nn as nn
        class Net(nn.Module):
            forward = None
            extra: int = 1
            def s1(self): pass
            def s2(self):
                """Doc."""
                ...
            def s3(self): "doc"; pass
            def r1(self, x):
                """Doc."""
                raise NotImplementedError
            def r2(self, x):
                if x:
                    raise ValueError
                return x
            def u1(x):
                for layer in self.layers:
                    x = layer(x)
            def u2(x):
                def inner():
                    return self.layers[0]
            def u3(x):
                return x
        '''
    )
    c = m.class_named("Net")
    meth = c.methods
    assert [n for n in meth if meth[n].is_stub] == ["s1", "s2", "s3"]
    assert [n for n in meth if meth[n].ends_in_raise] == ["r1"]
    assert [n for n in meth if meth[n].uses_self_attr] == ["u1", "u2"]
    assert c.class_attrs == {"forward", "extra"}


def test_binding_of_and_descendants():
    m = model_of(
        """
        import torch.nn as nn
        class A(nn.Module):
            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                fc = self.fc
                a, b = x
                return fc(x)
        class B(A):
            pass
        class C(B):
            pass
        """
    )
    a = m.class_named("A")
    scope = a.methods["forward"].scope
    mode, expr = m.binding_of("layer", scope)
    assert mode == "elem" and cst.Module([]).code_for_node(expr) == "self.layers"
    mode, expr = m.binding_of("fc", scope)
    assert mode == "value" and cst.Module([]).code_for_node(expr) == "self.fc"
    assert m.binding_of("a", scope) is None and m.binding_of("self", scope) is None and m.binding_of("nope", scope) is None
    assert [c.name for c in m.descendants(a)] == ["B", "C"]
    assert m.descendants(m.class_named("C")) == []
    assert not a.in_function


def test_classes_defined_inside_functions():
    m = model_of(
        """
        import torch.nn as nn
        class Outer:
            class Inner(nn.Module):
                pass
            def test(self):
                class Local(nn.Module):
                    def forward(self_, x):
                        self.check(x)
                        return x
        """
    )
    assert [c.name for c in m.classes if c.in_function] == ["Local"]


def test_mindspore_tensor_kinds():
    k = kinds(
        """
        import numpy as np
        import mindspore as ms
        import mindspore.numpy as mnp
        from mindspore import nn, ops, Tensor
        class Net(nn.Cell):
            def __init__(self):
                super().__init__()
                t = ops.zeros((2,))
                self.a = Tensor(np.ones(2))
                self.b = ops.ones((2,))
                self.c = mnp.arange(3)
                self.d = ops.exp(t)
                self.e = t.astype(ms.float16)
                self.f = ops.ReLU()
                self.g = ops.shape(t)
                self.h = ops.value_and_grad(self.f)
                self.i = ms.Parameter(t)
                self.j = ms.tensor([1.0])
        """
    )
    assert {a: v.tag for a, v in k.items()} == {
        "a": Tag.MS_TENSOR,
        "b": Tag.MS_TENSOR,
        "c": Tag.MS_TENSOR,
        "d": Tag.MS_TENSOR,
        "e": Tag.MS_TENSOR,
        "f": Tag.OTHER,  # an operator (primitive), not a tensor
        "g": Tag.OTHER,
        "h": Tag.OTHER,
        "i": Tag.PARAMETER,
        "j": Tag.MS_TENSOR,
    }


def test_instance_of_resolves_self_attributes_and_locals():
    m = model_of(
        """
        import torch.nn as tnn
        from mindspore import nn
        from lib import make

        class Block(nn.Cell):
            def construct(self, x):
                return x

        class TBlock(tnn.Module):
            def forward(self, x):
                return x

        class Net(nn.Cell):
            def __init__(self):
                super().__init__()
                self.block = Block()
                self.fc = nn.Dense(2, 2)
                self.maybe = None
                self.maybe = TBlock()
                self.mixed = Block()
                self.mixed = make()

            def construct(self, x):
                self.block(x); self.fc(x); self.maybe(x); self.mixed(x); self(x)
                return x

        net = Net()
        t = TBlock()
        net(t)
        t = make()
        t(1)
        """
    )
    got = {}
    for site in m.calls:
        func = site.node.func
        key = libcst_code(func)
        r = m.instance_of(func, site.scope, site.order, site.cls)
        got[key] = (r[0], r[1].name if r[1] else None) if r else None
    assert got["self.block"] == ("mindspore", "Block")
    assert got["self.fc"] == ("mindspore", None)
    assert got["self.maybe"] == ("torch", "TBlock")  # a None default does not make it ambiguous
    assert got["self.mixed"] is None  # Block() or an unknown make(): unknown
    assert got["self"] == ("mindspore", "Net")
    assert got["net"] == ("mindspore", "Net")
    assert got["t"] is None  # the later binding (make()) wins at that point


def test_instance_of_refuses_a_class_name_defined_for_both_frameworks():
    m = model_of(
        """
        import torch
        import mindspore

        class MyNet(mindspore.nn.Cell):
            def construct(self, x):
                return x

        net = MyNet()
        net(1)

        class MyNet(torch.nn.Module):
            def forward(self, x):
                return x
        """
    )
    site = next(s for s in m.calls if libcst_code(s.node.func) == "net")
    assert m.instance_of(site.node.func, site.scope, site.order, site.cls) is None


def libcst_code(node):
    return cst.Module([]).code_for_node(node)


def test_value_binding_follows_order_and_enclosing_scopes():
    m = model_of(
        """
        import torch
        net = 1
        net = torch.nn.Linear(2, 2)
        def f(p):
            a, b = 1, 2
            for x in range(3):
                pass
            g(net, p, a, x)
        def g(*args):
            pass
        """
    )
    site = next(s for s in m.calls if libcst_code(s.node.func) == "g")
    args = {libcst_code(a.value): a.value for a in site.node.args}
    b = m.value_binding("net", site.scope, site.order)
    assert b is not None and libcst_code(b[0]) == "torch.nn.Linear(2, 2)" and b[1] is m.module_scope
    assert m.value_binding("p", site.scope, site.order) is None  # a parameter
    assert libcst_code(m.value_binding("a", site.scope, site.order)[0]) == "1"  # unpacked pairwise
    assert m.value_binding("x", site.scope, site.order) is None  # a loop variable
    assert m.value_binding("nothing", site.scope, site.order) is None
    assert set(args) == {"net", "p", "a", "x"}


def test_method_self_attrs():
    m = model_of(
        """
        import torch.nn as nn

        class Net(nn.Module):
            def _apply(self, fn, *args, **kwargs):
                self.cache.clear()
                self.table = {}
                self.other[0].x = 1
                def inner():
                    return self.nested
                return super()._apply(fn, *args, **kwargs)

            def forward(me, x):
                return me.w(x) + self.not_mine
        """
    )
    net = m.class_named("Net")
    assert net.methods["_apply"].self_attrs == {"cache", "table", "other", "nested"}
    assert net.methods["forward"].self_attrs == {"not_mine"}  # attributes of the name `self`, as uses_self_attr


def test_arithmetic_on_an_own_buffer_is_a_plain_tensor():
    k = kinds(
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, k=3, s=1):
                super().__init__()
                self.padding_total = nn.Buffer(torch.tensor(k - s), persistent=False)
                self.register_buffer("scale", torch.ones(1))
                self.w = nn.Parameter(torch.ones(1))
                self.n = 4
                self.padding_right = self.padding_total // 2
                self.half_scale = self.scale * 0.5
                self.w2 = self.w * 2
                self.n2 = self.n * 2
        """
    )
    assert k["padding_right"].tag is Tag.TENSOR and k["half_scale"].tag is Tag.TENSOR
    assert k["w2"].tag is Tag.OTHER  # a Parameter's arithmetic is MRG204's business, not a buffer
    assert k["n2"].tag is Tag.OTHER
