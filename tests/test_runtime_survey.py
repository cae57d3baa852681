"""Runtime truth for tests/fixtures/realworld_survey.py and for the oracle's walker.

The fixture's silent classes really register every list element (add_module /
setattr, whatever the order), its flagged ones really lose state; and the
walker of ``tests/realworld/oracle_collect.py`` (the runtime oracle, run over
timm by ``tests/realworld/oracle.py``) records exactly the plain state of a
model, attributed to the class that assigns it.
"""

import importlib.util
import pathlib
import sys

import pytest

torch = pytest.importorskip("torch")

HERE = pathlib.Path(__file__).parent


def _load(path: pathlib.Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # inspect finds a class's source through its module
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def survey():
    return _load(HERE / "fixtures" / "realworld_survey.py", "realworld_survey")


def _registered(module, tensors):
    ids = {id(p) for p in module.parameters()} | {id(b) for b in module.buffers()}
    return all(id(t) in ids for t in tensors)


@pytest.mark.parametrize("name, attr", [("RegisteredFirst", "blocks"), ("AppendedFirst", "blocks"), ("RegisteredAfterwards", "heads")])
def test_lists_registered_another_way_are_registered(survey, name, attr):
    m = getattr(survey, name)()
    held = getattr(m, attr)
    assert held and _registered(m, [p for layer in held for p in layer.parameters()])


def test_dict_registered_another_way_is_registered(survey):
    m = survey.RegisteredAfterwards()
    assert _registered(m, [p for layer in m.stages.values() for p in layer.parameters()])


def test_flagged_list_is_not_registered(survey):
    m = survey.NotRegistered()
    assert not any(_registered(m, list(b.parameters())) for b in m.blocks)


@pytest.mark.parametrize("name, attr", [("StaticHelperEmbedding", "weights"), ("ClassHelperEmbedding", "table"), ("ClassHelperEmbedding", "other")])
def test_helper_tensors_are_plain(survey, name, attr):
    m = getattr(survey, name)()
    assert isinstance(getattr(m, attr), torch.Tensor)
    assert attr not in m.state_dict() and not _registered(m, [getattr(m, attr)])
    m.to(torch.float64)
    assert getattr(m, attr).dtype == torch.float32  # .to() leaves it behind


def test_buffer_embedding_is_registered(survey):
    m = survey.BufferEmbedding()
    assert _registered(m, [m.weights, m.table])


def test_oracle_walker_records_plain_state_with_the_assigning_class(tmp_path):
    collect = _load(HERE / "realworld" / "oracle_collect.py", "oracle_collect")
    src = tmp_path / "lib.py"
    src.write_text(
        "import torch\n"
        "import torch.nn as nn\n\n"
        "class Base(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.plain = torch.zeros(2)\n"
        "        self.register_buffer('buf', torch.zeros(2))\n"
        "        self.w = nn.Parameter(torch.zeros(2))\n\n"
        "class Net(Base):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.layers = [nn.Linear(2, 2)]\n"
        "        self.table = {'a': nn.Parameter(torch.zeros(1))}\n"
        "        self.grads = [torch.zeros(1, requires_grad=True)]\n"
        "        self.ok = nn.ModuleList([nn.Linear(2, 2)])\n"
        "        self.sizes = [1, 2]\n"
        "        self.cache = {}\n"
        "        self.aliases = [self.ok[0], self.w]\n"
        "        self.also = []\n"
        "        for i in range(2):\n"
        "            layer = nn.Linear(2, 2)\n"
        "            self.add_module(f'l{i}', layer)\n"
        "            self.also.append(layer)\n"
    )
    lib = _load(src, "oracle_lib")
    out = collect.walk(lib.Net(), str(tmp_path), set(vars(torch.nn.Module()).keys()))
    found = {(r["cls"], r["attr"], r["kind"]) for r in out["found"]}
    assert found == {
        ("Base", "plain", "tensor"),
        ("Net", "layers", "list:modules"),
        ("Net", "table", "dict:parameters"),
        ("Net", "grads", "list:tensors"),
    }
    assert {tuple(c) for c in out["instantiated"]} == {("lib.py", "Base"), ("lib.py", "Net")}
    seen = {(c, a): k for _f, c, a, k in out["seen"]}
    assert seen[("Base", "buf")] == "buffer" and seen[("Base", "w")] == "parameter"
    assert seen[("Net", "ok")] == "module" and seen[("Net", "cache")] == "dict"
    # lists of registered things lose nothing: seen, but not records
    assert seen[("Net", "aliases")] == "list:registered-modules+registered-parameters"
    assert seen[("Net", "also")] == "list:registered-modules"


def test_oracle_finds_caches_left_behind_by_to(tmp_path):
    collect = _load(HERE / "realworld" / "oracle_collect.py", "oracle_collect")
    src = tmp_path / "caches.py"
    src.write_text(
        "import torch\n"
        "import torch.nn as nn\n\n"
        "class Stale(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.w = nn.Parameter(torch.ones(2))\n"
        "        self.cache = {}\n"
        "        self.idx = torch.arange(2)\n"
        "    def forward(self, x):\n"
        "        self.cache['k'] = self.w * 2\n"
        "        return x\n\n"
        "class Cleared(Stale):\n"
        "    def _apply(self, fn, *args, **kwargs):\n"
        "        self.cache = {}\n"
        "        return super()._apply(fn, *args, **kwargs)\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = Stale()\n"
        "        self.b = Cleared()\n"
        "    def forward(self, x):\n"
        "        return self.b(self.a(x))\n"
    )
    lib = _load(src, "oracle_caches")
    net = lib.Net()
    assert collect.forward_then_convert(net, "cpu") == "ok"
    # the integer index tensor is not a float left behind; the cleared subclass's cache is empty
    assert [(r["cls"], r["attr"], r["kind"]) for r in collect.stale(net, str(tmp_path))] == [("Stale", "cache", "stale-dict")]


def test_arithmetic_on_a_buffer_is_a_plain_tensor(survey):
    m = survey.PaddedConv()
    assert "padding_total" in dict(m.named_buffers())
    assert "padding_right" not in m.state_dict() and "padding_left" not in m.state_dict()
    assert not _registered(m, [m.padding_right, m.padding_left])
    m.to(torch.float64)
    assert m.padding_total.dtype == torch.int64 and isinstance(m.padding_right, torch.Tensor)
