"""Runtime truth for MRG201's use-based judgement, under real PyTorch.

Every exemption of MRG201 is a claim about PyTorch: the pattern survives
``.to(<another device>)`` (the ``meta`` device stands in for a GPU: it refuses
to mix with CPU tensors exactly like CUDA does), ``.half()`` and
``.to(torch.float64)``.  Every kept pattern is a claim too: it really breaks.
Each case below is checked twice: the linter's verdict on the source, and
what torch does with the very same source.
"""

import warnings

import pytest

from flake8_modreg import check

torch = pytest.importorskip("torch")

HEAD = "import torch\nimport torch.nn as nn\n\n"


def _build(body: str, name: str = "M"):
    src = HEAD + body
    ns = {"__name__": "modreg_use_probe"}
    exec(compile(src, "<probe>", "exec"), ns)
    return src, ns[name]


def _mrg201(src: str) -> list[str]:
    return [f.message for f in check(src) if f.code == "MRG201"]


def _on_meta(model, *shape):
    """Move to the meta device ("a second device") and run forward there."""
    model = model.to("meta")
    return model(torch.ones(*shape, device="meta"))


# --- the primitives the exemptions rest on --------------------------------------------------------


def test_a_0d_cpu_tensor_combines_with_another_device_and_does_not_promote_half():
    x = torch.ones(3, device="meta")
    assert (x * torch.tensor(0.5)).device.type == "meta"
    with pytest.raises(RuntimeError):
        x * torch.ones(3)  # a 1-d CPU tensor does not
    half = torch.ones(3, dtype=torch.float16)
    assert (half * torch.tensor(0.5)).dtype == torch.float16
    assert (half * torch.ones(3)).dtype == torch.float32  # a 1-d float32 one promotes


def test_a_cpu_index_tensor_indexes_a_tensor_on_another_device():
    x = torch.ones(4, 3, device="meta")
    assert x[torch.arange(2)].shape == (2, 3)
    assert x[:, torch.tensor([0, 2])].shape == (4, 2)


def test_complex_buffer_loses_its_imaginary_part_under_to_bfloat16():
    m = nn_module_with_buffer(torch.polar(torch.ones(2), torch.ones(2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.to(torch.bfloat16)
    assert not m.freqs.is_complex()  # a buffer would be harmful: the rotation is gone


def nn_module_with_buffer(t):
    m = torch.nn.Module()
    m.register_buffer("freqs", t)
    return m


# --- exempt patterns: silent, and they survive ----------------------------------------------------

EXEMPT = {
    "moved-then-compared-into-a-mask": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d, d))
        self.kernel_mask = torch.tril(torch.ones(d, d))

    def forward(self, x):
        weight = nn.functional.dropout(self.weight, 0.0, training=self.training)
        self.kernel_mask = self.kernel_mask.to(x.device)
        weight = weight.masked_fill(self.kernel_mask == 0.0, 0.0)
        weight = nn.functional.softmax(weight, dim=-1)
        return nn.functional.linear(x, weight)
""", (2, 3)),
    "zero-dim": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.scale = torch.sqrt(torch.tensor(float(d)))

    def forward(self, x):
        return self.proj(x) / self.scale
""", (2, 3)),
    "moved-and-cast": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.table = torch.ones(d)
        self.other = torch.ones(d)

    def forward(self, x):
        return self.proj(x) * self.table.to(x) + self.other.type_as(x)
""", (2, 3)),
    "index-and-python": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.idx = torch.arange(2)
        self.n = torch.prod(torch.tensor([1, 2]))

    def forward(self, x):
        y = self.proj(x)[self.idx]
        if int(self.n) > 1:
            y = y * 2
        return y
""", (2, 3)),
    "stash": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.att = torch.Tensor()

    def forward(self, x):
        self.att = self.proj(x).softmax(-1)
        return self.att * x
""", (2, 3)),
    "converter-override": (
        """
class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.stride = torch.tensor([8.0, 16.0, 32.0])

    def forward(self, x):
        return x * self.stride

class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = Head()

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        self.head.stride = fn(self.head.stride)
        return self

    def forward(self, x):
        return self.head(x)
""", (2, 3)),
}


EXEMPT.update({
    "ids-into-an-embedding": (
        """
class M(nn.Module):
    def __init__(self, n=5, token=2):
        super().__init__()
        self.emb = nn.Embedding(n, 3)
        self.lang = torch.tensor([[token]])

    def forward(self, x):
        return x + self.emb(self.lang.to(x.device))
""", (2, 3)),
    "partner-cast-to-fp32": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.freqs = torch.ones(d)

    def forward(self, x):
        t = self.proj(x)[:, 0]
        table = torch.outer(t.to(torch.float32), self.freqs.to(device=x.device))
        return x + table.to(x.dtype)
""", (3, 3)),
    "int-indexed-1d": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.stride = torch.zeros(d)

    def forward(self, x):
        return self.proj(x) / (self.stride[0] + 1)
""", (2, 3)),
    "resynced-by-the-class": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.table = torch.ones(d)

    def forward(self, x):
        self.table = self.table.to(x)
        return self.proj(x) + self.table
""", (2, 3)),
    "local-rebound-moved": (
        """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.keep = torch.ones(d)

    def forward(self, x):
        keep = self.keep
        keep = keep.to(device=x.device, dtype=x.dtype)
        return self.proj(x) * keep
""", (2, 3)),
    "optional-float-0d": (
        """
from typing import Optional

class M(nn.Module):
    def __init__(self, d=3, threshold: Optional[float] = None):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.threshold = torch.as_tensor(threshold if threshold is not None else 0.5)

    def forward(self, x):
        return self.proj(x) - self.threshold
""", (2, 3)),
})


@pytest.mark.parametrize("case", sorted(EXEMPT))
def test_exempt_pattern_is_silent_and_survives_another_device_and_half(case):
    body, shape = EXEMPT[case]
    src, cls = _build(body)
    assert _mrg201(src) == []
    out = _on_meta(cls(), *shape)
    assert out.device.type == "meta"
    half = cls().half()
    assert half(torch.ones(*shape, dtype=torch.float16)).dtype == torch.float16
    dbl = cls().to(torch.float64)
    assert dbl(torch.ones(*shape, dtype=torch.float64)).dtype == torch.float64


def test_complex_table_is_silent_and_a_plain_complex_attribute_keeps_its_rotation():
    body = """
class M(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.freqs = torch.polar(torch.ones(n), torch.arange(n) * 0.5)

    def forward(self, x):
        return torch.view_as_real(torch.view_as_complex(x) * self.freqs)
"""
    src, cls = _build(body)
    assert _mrg201(src) == []
    m = cls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.to(torch.bfloat16)
    assert m.freqs.is_complex()  # left alone: the rotation survives a dtype cast of the model


# --- reported patterns: they really break ---------------------------------------------------------


def test_used_unmoved_is_reported_and_fails_on_another_device():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.bias = torch.ones(d)

    def forward(self, x):
        return self.proj(x) + self.bias
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 12" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


def test_used_unmoved_through_a_helper_method_parameter_is_reported_and_fails():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.f_central = nn.Parameter(torch.ones(n))
        self.all_freqs = torch.ones(n, n)

    def _filters(self, all_freqs, f_central):
        return all_freqs - f_central

    def forward(self, x):
        return x @ self._filters(self.all_freqs, self.f_central)
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in _filters() at line 12" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


def test_used_unmoved_in_a_module_function_of_the_file_is_reported_and_fails():
    src, cls = _build("""
def rotate(x, table):
    return x * table.cos()


class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.bands = torch.ones(d)

    def forward(self, x):
        return rotate(self.proj(x), self.bands)
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in rotate() at line 6" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


def test_used_unmoved_through_a_local_and_masked_fill_is_reported_and_fails():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.proj = nn.Linear(n, n)
        self.causal = torch.tril(torch.ones(n, n))

    def forward(self, x):
        att = self.proj(x)
        mask = self.causal[: x.size(0), : x.size(0)]
        return att.masked_fill(mask == 0, 0.0)
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 14" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 4, 4)


def test_moved_but_not_cast_is_reported_and_breaks_the_next_half_layer():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.inp = nn.Linear(d, d)
        self.out = nn.Linear(d, d)
        self.window = torch.ones(d)

    def forward(self, x):
        y = self.inp(x) * self.window.to(x.device)
        return self.out(y)
""")
    (msg,) = _mrg201(src)
    assert "moved but not cast in forward() at line 14" in msg  # where the promoted value meets a half layer
    m = cls().half()
    with pytest.raises(RuntimeError):
        m(torch.ones(2, 3, dtype=torch.float16))  # float32 * float16 -> float32 into a half Linear


def test_moved_not_cast_elementwise_only_promotes_and_is_silent():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.inp = nn.Linear(d, d)
        self.window = torch.ones(d)

    def forward(self, x):
        return self.inp(x) * self.window.to(x.device)
""")
    assert _mrg201(src) == []
    out = cls().half()(torch.ones(2, 3, dtype=torch.float16))
    assert out.dtype == torch.float32  # promoted, nothing raises: the caller sees float32 and goes on


def test_moved_not_cast_in_a_recurrence_breaks_the_next_step():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.u = nn.Linear(d, d)
        self.drop_mask = torch.ones(d)

    def forward(self, x):
        h = x
        for _ in range(2):
            h = torch.tanh(self.u(h)) * self.drop_mask.to(x.device)
        return h
""")
    (msg,) = _mrg201(src)
    assert "moved but not cast in forward() at line 14" in msg  # self.u(h) of the next step
    with pytest.raises(RuntimeError):  # step 2 feeds the promoted float32 h into the half Linear
        cls().half()(torch.ones(2, 3, dtype=torch.float16))


def test_updated_state_is_reported_and_lost_by_state_dict():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.avg = torch.zeros(d)

    def forward(self, x):
        y = self.proj(x)
        self.avg = self.avg.to(y) * 0.9 + y.detach().mean(0) * 0.1
        return y
""")
    (msg,) = _mrg201(src)
    assert "updated in forward() at line 13" in msg
    a = cls()
    a(torch.ones(2, 3))
    b = cls()
    b.load_state_dict(a.state_dict())
    assert "avg" not in a.state_dict()
    assert not torch.equal(a.avg, b.avg)  # the running value did not survive save/load


def test_random_values_are_reported_and_differ_after_load():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = torch.randn(d, d)

    def forward(self, x):
        return x @ self.proj.to(x)
""")
    (msg,) = _mrg201(src)
    assert "random values" in msg
    torch.manual_seed(0)
    a = cls()
    torch.manual_seed(1)
    b = cls()
    b.load_state_dict(a.state_dict())
    x = torch.ones(2, 3)
    assert not torch.equal(a(x), b(x))  # the "same" model computes something else after loading


def test_a_class_that_collects_its_state_itself_saves_its_plain_list():
    """MRG101's exemption: with state_dict/named_parameters overridden, the listed layers' state is collected."""
    from flake8_modreg.rules.layers_in_plain_list import LayersInPlainList

    code = next(v.code for v in LayersInPlainList.valid if "collects its state" in v.why)
    assert [f for f in check(code) if f.code == "MRG101"] == []
    ns = {"__name__": "modreg_collect_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    m = ns["Lookups"]()
    assert len(list(m.named_parameters())) == 4 and len(m.state_dict()) == 4
    out = ns["Lookups"]()
    out.load_state_dict(m.state_dict())
    x = torch.ones(1, 2)
    assert torch.equal(out(x), m(x))  # saved and restored through the class's own walk


def test_a_forward_declared_none_updates_state_in_place():
    """MRG305's exemption: `-> None` declares a module called for its effect."""
    from flake8_modreg.rules.forward_returns_nothing import ForwardReturnsNothing

    code = next(v.code for v in ForwardReturnsNothing.valid if "-> None" in v.why)
    assert [f for f in check(code) if f.code == "MRG305"] == []
    ns = {"__name__": "modreg_none_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    m = ns["Update"]()
    assert m(torch.tensor([1, 3])) is None
    assert m.table.tolist() == [0.0, 1.0, 0.0, 1.0]


def test_a_tensor_placed_on_the_given_device_is_silent_and_works_there():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, device, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d, device=device)
        self.bias = torch.ones(d, device=device)

    def forward(self, x):
        return self.proj(x) + self.bias
""")
    assert _mrg201(src) == []
    m = cls(device="meta")  # built on the device it runs on, as such classes are
    assert m(torch.ones(2, 3, device="meta")).device.type == "meta"


def test_factory_kwargs_device_none_is_still_reported_and_left_behind_by_to():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3, device=None):
        super().__init__()
        self.proj = nn.Linear(d, d, device=device)
        self.bias = torch.ones(d, device=device)

    def forward(self, x):
        return self.proj(x) + self.bias
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 12" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


@pytest.mark.parametrize("store", [
    "self.device = device",
    "self.device = device if device is not None else torch.device('cpu')",
    "self.device = torch.device(device) if device is not None else 'cpu'",
])
def test_a_device_none_parameter_kept_on_self_is_still_the_factory_kwargs_convention(store):
    """`device=self.device` where `__init__` stored `self.device` from a `device=None` parameter (as is, or with a CPU
    fallback): built on the CPU unless asked, then moved with `.to()`, which leaves the plain tensor behind -- reported
    as the parameter itself is. A required `device` kept on self is still a device the code names (silent above)."""
    src, cls = _build(f"""
class M(nn.Module):
    def __init__(self, d=3, device=None):
        super().__init__()
        {store}
        self.proj = nn.Linear(d, d)
        self.bias = torch.ones(d, device=self.device)

    def forward(self, x):
        return self.proj(x) + self.bias
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 13" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)
    required, cls = _build("""
class M(nn.Module):
    def __init__(self, device, d=3):
        super().__init__()
        self.device = device
        self.proj = nn.Linear(d, d, device=self.device)
        self.bias = torch.ones(d, device=self.device)

    def forward(self, x):
        return self.proj(x) + self.bias
""")
    assert _mrg201(required) == []
    m = cls(device="meta")
    assert m(torch.ones(2, 3, device="meta")).device.type == "meta"


def test_requires_grad_false_is_not_a_trainable_tensor():
    """MRG202's look-alike: `.requires_grad_(False)` asks for a tensor that is not trained; `()` for one that is."""
    from flake8_modreg.rules.grad_tensor_not_parameter import GradTensorNotParameter

    code = next(v.code for v in GradTensorNotParameter.valid if "requires_grad_(False)" in v.why)
    assert [f for f in check(code) if f.code == "MRG202"] == []
    assert torch.zeros(2).requires_grad_(False).requires_grad is False
    assert torch.zeros(2).requires_grad_().requires_grad is True


def test_randomly_initialised_in_place_is_reported_and_differs_after_load():
    """The Parameter slip: torch.empty(...) filled by nn.init in init_weights(), kept as a plain tensor."""
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.weight = torch.empty(d, d)
        self.init_weights()

    def init_weights(self):
        nn.init.trunc_normal_(self.weight, std=0.02)

    def forward(self, x):
        return nn.functional.linear(x, self.weight.to(x))
""")
    (msg,) = _mrg201(src)
    assert "random values" in msg
    torch.manual_seed(0)
    a = cls()
    torch.manual_seed(1)
    b = cls()
    b.load_state_dict(a.state_dict())
    x = torch.ones(2, 3)
    assert not torch.equal(a(x), b(x))


def test_a_tensor_of_a_layer_size_parameter_is_0d_silent_and_survives():
    """`torch.tensor(attn_dim)` where `attn_dim` sizes an nn.Linear: a Python int, so the tensor is 0-d."""
    src, base = _build("""
class Base(nn.Module):
    def __init__(self, enc_dim, attn_dim):
        super().__init__()
        self.key = nn.Linear(enc_dim, attn_dim)
        self.scaling = torch.sqrt(torch.tensor(attn_dim).float())

    def forward(self, x):
        return self.key(x) / self.scaling
""", "Base")
    assert _mrg201(src) == []
    m = base(3, 4)
    assert m.scaling.dim() == 0
    assert m.to("meta")(torch.ones(2, 3, device="meta")).device.type == "meta"
    assert base(3, 4).half()(torch.ones(2, 3, dtype=torch.float16)).dtype == torch.float16
    # the same name used as a list (not a size) stays unknown: reported when it meets the input unmoved
    src2 = src.replace("self.key = nn.Linear(enc_dim, attn_dim)", "self.key = nn.Linear(enc_dim, len(attn_dim))")
    assert len(_mrg201(src2)) == 1
    _, base2 = _build(src2[len(HEAD):], "Base")
    with pytest.raises(RuntimeError):
        base2(3, [1.0, 2.0, 3.0, 4.0]).to("meta")(torch.ones(2, 3, device="meta"))


SCRATCH = """
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 3)
        self.acc = torch.Tensor()
        self.count = 0

    def forward(self, x):
        y = self.proj(x)
        if self.count % 2 == 0:
            self.acc = y * 0.5
        else:
            self.acc += y * 0.5
            y = self.acc
            self.acc = torch.Tensor()
        self.count += 1
        return y
"""


def test_scratch_reset_by_the_method_that_updates_it_is_silent_and_survives():
    """An empty placeholder updated only within a cycle that the same method ends by resetting it."""
    src, cls = _build(SCRATCH)
    assert _mrg201(src) == []
    for conv, dtype, dev in ((lambda m: m.to("meta"), torch.float32, "meta"),
                             (lambda m: m.half(), torch.float16, "cpu"),
                             (lambda m: m.to(torch.float64), torch.float64, "cpu")):
        m = cls()
        m(torch.ones(2, 3))  # the cycle starts on the CPU in float32 ...
        m = conv(m)
        m.count = 0  # ... a converted model starts a new cycle: nothing of the old one is read
        for _ in range(2):
            out = m(torch.ones(2, 3, dtype=dtype, device=dev))
        assert out.dtype == dtype and out.device.type == dev
    # the empty placeholder itself cannot be updated: shapes do not broadcast
    with pytest.raises(RuntimeError):
        torch.Tensor().add_(torch.ones(2, 3))
    # without the reset it is a running value: reported
    kept = SCRATCH.replace("            self.acc = torch.Tensor()\n", "")
    assert any("updated" in msg for msg in _mrg201(HEAD + kept))


def test_a_custom_kernel_argument_is_silent_its_device_contract_is_its_own():
    """`torch.ops.<ns>.<op>(ids, self.sizes)`: a custom kernel may take sizes on the CPU beside device inputs."""
    lib_ns = "modreg_probe"
    if not hasattr(torch.ops, lib_ns) or not hasattr(getattr(torch.ops, lib_ns), "bucket"):
        @torch.library.custom_op(f"{lib_ns}::bucket", mutates_args=())
        def bucket(ids: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
            return ids // sizes.to(ids.device)

        @bucket.register_fake
        def _(ids, sizes):
            return torch.empty_like(ids)

    src, cls = _build("""
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes = torch.tensor([2, 2, 2])

    def forward(self, ids):
        return torch.ops.modreg_probe.bucket(ids.long(), self.sizes)
""")
    assert _mrg201(src) == []
    assert cls().to("meta")(torch.ones(3, device="meta")).device.type == "meta"
    assert cls().half()(torch.ones(3, dtype=torch.float16)).tolist() == [0, 0, 0]
    # the same tensor in an aten op beside the input is reported, and fails there
    aten = src.replace("torch.ops.modreg_probe.bucket(ids.long(), self.sizes)", "torch.div(ids.long(), self.sizes)")
    assert len(_mrg201(aten)) == 1
    _, acls = _build(aten[len(HEAD):])
    with pytest.raises(RuntimeError):
        acls().to("meta")(torch.ones(3, device="meta"))


def test_an_annotated_plain_list_is_silent_though_torch_treats_it_as_any_list():
    """MRG101's declared-plain exemption is the author's opt-out, not a runtime difference: shown honestly."""
    from flake8_modreg.rules.layers_in_plain_list import LayersInPlainList

    code = next(v.code for v in LayersInPlainList.valid if "declared plain" in v.why)
    assert [f for f in check(code) if f.code == "MRG101"] == []
    ns = {"__name__": "modreg_declared_probe"}
    exec(compile(code, "<probe>", "exec"), ns)
    m = ns["Sharded"]()
    assert list(m.parameters()) == [] and m.state_dict() == {}  # torch does not register them either way
    unannotated = code.replace(": List[nn.Module]", "")
    assert [f.code for f in check(unannotated) if f.code == "MRG101"] == ["MRG101"]


def test_a_to_override_does_not_run_when_a_parent_moves_so_it_is_still_reported():
    """Only `_apply` runs for every module of a tree: a child's own `to()` override is skipped by `parent.to()`."""
    src, cls = _build("""
class Norm(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.zeros(3)

    def to(self, device):
        self = super().to(device)
        self.mean = self.mean.to(device)
        return self

    def forward(self, x):
        return x - self.mean
""", "Norm")
    assert len(_mrg201(src)) == 1
    assert cls().to("meta")(torch.ones(2, 3, device="meta")).device.type == "meta"  # on its own, the override works
    parent = nn_parent = torch.nn.Sequential(cls()).to("meta")  # as a child it is never called
    assert nn_parent[0].mean.device.type == "cpu"
    with pytest.raises(RuntimeError):
        parent(torch.ones(2, 3, device="meta"))


def test_a_helper_given_the_inputs_device_builds_on_it_and_an_unmoved_table_there_is_reported():
    """`embed(shape, self.bands, device=x.device)`: inside, `grid` is made on that device and meets the table."""
    src, cls = _build("""
def embed(n, bands, device=None):
    grid = torch.arange(n, device=device, dtype=torch.float32).unsqueeze(-1)
    return grid * bands


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.bands = torch.linspace(1.0, 4.0, 3)

    def forward(self, x):
        return embed(x.shape[-2], self.bands, device=x.device)
""")
    msgs = _mrg201(src)
    assert len(msgs) == 1 and "unmoved in embed()" in msgs[0]
    assert cls()(torch.ones(2, 3)).shape == (2, 3)  # fine on the CPU
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)  # the CPU table meets the meta grid


def test_running_stats_updated_through_a_function_of_the_file_are_reported_and_lost_on_reload():
    src, cls = _build("""
def combine(stats, x):
    count, mean = stats
    return count + 1, mean + (x.mean(0) - mean) / (count + 1)


def update(count, run_mean, x):
    return combine((count, run_mean), x)


class Norm(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.zeros(3)
        self.count = 0

    def forward(self, x):
        if self.training:
            self.count, self.mean = update(self.count, self.mean, x)
        return x - self.mean.to(x)
""", "Norm")
    msgs = _mrg201(src)
    assert len(msgs) == 1 and "updated in forward()" in msgs[0]
    m = cls()
    m(torch.ones(4, 3) * 5)
    assert torch.equal(m.mean, torch.full((3,), 5.0))
    fresh = cls()
    fresh.load_state_dict(m.state_dict())
    assert torch.equal(fresh.mean, torch.zeros(3))  # the running mean is lost on save/load
    x = torch.ones(1, 3)
    assert not torch.equal(m.eval()(x), fresh.eval()(x))


# --- recall: patterns the use analysis now follows (each reported, each really breaks) -------------


def test_a_buffer_registered_only_by_a_later_method_leaves_the_init_value_plain_and_reported():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.mlp = nn.Linear(2, 2)
        self.coords = torch.zeros(n, 2)

    def set_size(self, n):
        self.register_buffer("coords", torch.ones(n, 2), persistent=False)

    def forward(self, x):
        return x + self.mlp(self.coords)
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 15" in msg
    m = cls()
    assert "coords" not in m.state_dict()
    with pytest.raises(RuntimeError):
        _on_meta(m, 3, 2)  # the plain table stays on the CPU
    with pytest.raises(KeyError, match="already exists"):
        m.set_size(4)  # and the later registration cannot even replace it


def _on_meta_checked(model, *shape):
    """Like :func:`_on_meta`, under fake tensors: the meta device's own in-place kernels skip the device check
    that CUDA makes (``y *= cpu_tensor`` passes on meta, raises on CUDA); fake tensors make it."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    model = model.to("meta")
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        return model(mode.from_tensor(torch.ones(*shape, device="meta")))


def test_an_in_place_operation_with_an_input_is_reported_and_fails_on_another_device():
    body = """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.scale = torch.ones(d)

    def forward(self, x):
        y = self.proj(x)
        y *= self.scale
        return y
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 13" in msg
    with pytest.raises(RuntimeError, match="same device"):
        _on_meta_checked(cls(), 2, 3)
    _, twin = _build(body.replace("self.scale = torch.ones(d)", 'self.register_buffer("scale", torch.ones(d))'))
    assert _on_meta_checked(twin(), 2, 3).device.type == "meta"  # the buffer moves along


def test_a_value_derived_from_the_inputs_through_many_locals_is_on_the_device():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.weight = torch.ones(n)

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        x = x.float()
        y = y.float()
        pos = y * torch.log(x.clamp(min=1e-8))
        neg = (1 - y) * torch.log((1 - x).clamp(min=1e-8))
        loss = pos + neg
        loss *= x
        loss = -loss
        return loss * self.weight
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 18" in msg
    m = cls().to("meta")
    with pytest.raises(RuntimeError):
        m(torch.ones(2, 3, device="meta"), torch.ones(2, 3, device="meta"))


def test_a_helper_method_returning_a_value_of_its_input_is_on_the_device():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.eps = 1e-6
        self.weight = torch.zeros(d)

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        out = self._norm(x.float())
        return out * (1.0 + self.weight.float())
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 16" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


def test_a_loop_variable_over_the_inputs_is_on_the_device():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=2, d=3):
        super().__init__()
        self.level = torch.zeros(n, d)

    def forward(self, xs):
        return [x + self.level[i] for i, x in enumerate(xs)]
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 11" in msg
    m = cls().to("meta")
    with pytest.raises(RuntimeError):
        m([torch.ones(3, device="meta"), torch.ones(3, device="meta")])


def test_tensors_made_by_tensor_methods_negation_and_transpose_are_tensors():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, counts=(1.0, 2.0, 3.0)):
        super().__init__()
        c = torch.as_tensor(counts).clamp(1.0, 2.0)
        self.inv = 1.0 / c
        self.bias = -torch.log(c)
        self.w = torch.eye(3).T.contiguous()

    def forward(self, x):
        return nn.functional.linear(x * self.inv + self.bias, self.w)
""")
    msgs = _mrg201(src)
    assert len(msgs) == 3 and all("used unmoved in forward() at line 14" in m for m in msgs)
    m = cls()
    assert not dict(m.named_buffers())
    with pytest.raises(RuntimeError):
        _on_meta(m, 2, 3)


def test_an_apply_override_that_only_looks_at_the_dtype_does_not_convert_the_plain_tensor():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.periods = torch.ones(n)

    def _apply(self, fn, *args, **kwargs):
        module = super()._apply(fn, *args, **kwargs)
        if self.periods is not None and self.periods.dtype != torch.float32:
            self.register_buffer("periods", torch.ones(3, device=self.periods.device), persistent=False)
        return module

    def forward(self, x):
        return x * self.periods
""")
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 17" in msg
    m = cls().to("meta")
    assert m.periods.device.type == "cpu"  # super()._apply skipped it, the override only looked at it
    with pytest.raises(RuntimeError):
        m(torch.ones(2, 3, device="meta"))


def test_a_read_in_one_branch_is_not_hidden_by_the_binding_in_the_other_branch():
    body = """
class M(nn.Module):
    def __init__(self, n=8, d=4):
        super().__init__()
        self.tok = nn.Embedding(2, d)
        self.token_type_ids = torch.zeros(1, n, dtype=torch.long)

    def forward(self, input_ids, token_type_ids=None):
        seq = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :seq].expand(input_ids.shape[0], seq)
        else:
            token_type_ids = token_type_ids.long()
        return self.tok(token_type_ids)
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 17" in msg
    # left on the CPU while the embedding's weight moves: on CUDA, F.embedding(cuda_weight, cpu_ids) raises
    # "Expected all tensors to be on the same device" (the meta device's kernels do not check index devices)
    m = cls().to("meta")
    assert m.tok.weight.device.type == "meta" and m.token_type_ids.device.type == "cpu"
    _, twin = _build(body.replace(
        "self.token_type_ids = torch.zeros(1, n, dtype=torch.long)",
        'self.register_buffer("token_type_ids", torch.zeros(1, n, dtype=torch.long))'))
    assert twin().to("meta").token_type_ids.device.type == "meta"


def test_layers_registered_under_computed_names_do_not_make_a_plain_tensor_state():
    body = """
class M(nn.Module):
    def __init__(self, n=8, d=4, shards=2):
        super().__init__()
        for i in range(shards):
            setattr(self, f"shard_{i}", nn.Embedding(4, d))
        self.pos = nn.Embedding(n, d)
        self.position_ids = torch.arange(n).expand((1, -1))

    def forward(self, x):
        return x + self.pos(self.position_ids[:, : x.shape[1]])
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 14" in msg
    m = cls()
    assert set(dict(m.named_children())) == {"shard_0", "shard_1", "pos"} and not dict(m.named_buffers())
    m = m.to("meta")
    assert m.pos.weight.device.type == "meta" and m.position_ids.device.type == "cpu"  # left behind
    _, twin = _build(body.replace(
        "self.position_ids = torch.arange(n).expand((1, -1))",
        'self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))'))
    assert twin().to("meta").position_ids.device.type == "meta"


def test_the_pieces_of_a_split_input_are_on_its_device():
    body = """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.gate_up = nn.Parameter(torch.ones(d, 2 * d))
        self.down = torch.ones(d, d)
        self.act = nn.SiLU()

    def forward(self, h):
        gate, up = (h @ self.gate_up).chunk(2, dim=-1)
        return (up * self.act(gate)) @ self.down
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 14" in msg
    with pytest.raises(RuntimeError, match="same device"):
        _on_meta_checked(cls(), 2, 3)
    _, twin = _build(body.replace("self.down = torch.ones(d, d)", "self.down = nn.Parameter(torch.ones(d, d))"))
    assert _on_meta_checked(twin(), 2, 3).device.type == "meta"


def test_a_tensor_filled_in_place_by_a_later_method_is_reported_as_filled_and_lost_on_reload():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.table = torch.zeros(n)

    def set_table(self, values):
        self.table.copy_(values)

    def forward(self, x):
        return x * self.table.to(x)
""")
    (msg,) = _mrg201(src)
    assert "is filled in set_table() at line 11 but not saved" in msg
    m = cls()
    m.set_table(torch.ones(3))
    fresh = cls()
    fresh.load_state_dict(m.state_dict())
    assert not torch.equal(fresh.table, m.table)  # the filled values are not in the checkpoint


def test_one_element_at_an_int_parameter_is_0d_silent_and_works_on_another_device():
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.schedule = torch.linspace(0.5, 1.0, n)

    def forward(self, x, epoch: int | None = None):
        if epoch is not None:
            temp = self.schedule[epoch]
        else:
            temp = torch.tensor(1.0)
        return x / temp
""")
    assert _mrg201(src) == []
    m = cls().to("meta")
    assert m(torch.ones(2, 3, device="meta"), epoch=1).device.type == "meta"  # a 0-d CPU tensor mixes with any device
    half = cls().half()
    assert half(torch.ones(2, 3, dtype=torch.float16), epoch=1).dtype == torch.float16


def test_a_tensor_given_to_the_base_initialiser_may_be_a_buffer_there_and_is_not_judged():
    src, cls = _build("""
class Base(nn.Module):
    def __init__(self, points):
        super().__init__()
        self.register_buffer("points", points)


class M(Base):
    def __init__(self, points):
        super().__init__(points)
        self.points = points

    def forward(self, x):
        return x + self.points
""")
    assert _mrg201(src) == []
    m = cls(torch.ones(3))
    assert "points" in m.state_dict()  # the assignment kept the base's buffer
    assert _on_meta(m, 2, 3).device.type == "meta"


def test_a_use_behind_a_device_test_is_silent_and_survives_and_an_unguarded_one_breaks():
    """MRG201's exemption: ``x.device != self.last.device or torch.equal(x, self.last)`` runs the tensor operation
    only when both are on one device (``torch.equal`` compares values across dtypes); the look-alike that also uses
    the attribute outside the test is reported and fails on another device."""
    from flake8_modreg.rules.tensor_as_plain_attribute import TensorAsPlainAttribute

    def build(code):
        ns = {"__name__": "modreg_guard_probe"}
        exec(compile(code, "<probe>", "exec"), ns)
        return ns["Memo"]

    valid = next(v.code for v in TensorAsPlainAttribute.valid if v.why.startswith("read only behind a test"))
    assert _mrg201(valid) == []
    cls = build(valid)
    m = cls().to(torch.float64)
    x = torch.ones(2, 4, dtype=torch.float64)
    assert m(x).dtype == torch.float64 and m(x).dtype == torch.float64  # second call: the memo, same device
    assert cls().to("meta")(torch.ones(2, 4, device="meta")).device.type == "meta"  # first call on another device

    invalid = next(i.code for i in TensorAsPlainAttribute.invalid if i.title.startswith("a device test guards one use"))
    (msg,) = _mrg201(invalid)
    assert "used unmoved in forward() at line 13" in msg
    with pytest.raises(RuntimeError):
        _on_meta(build(invalid)(), 2, 4)


def test_a_cache_regrown_by_a_function_that_only_tests_the_old_value_is_silent_and_survives():
    """MRG201: a function of the file that hands the old value back as is (through an alias) or replaces it with
    one made without it -- the old value only decides *whether* in an ``if`` test -- overwrites, it does not update:
    nothing a checkpoint needs (a reloaded module regrows it), and the integer table is moved at its use."""
    src, cls = _build("""
def _grow(table, n, current):
    if n > current:
        new_table = torch.arange(n)
        new_current = torch.tensor(n)
    else:
        new_table = table
        new_current = current
    return new_table, new_current


class Masked(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 1)
        self.max_len = torch.tensor(0)
        self.lens = torch.tensor(0)

    def update(self, n, device):
        self.lens, self.max_len = _grow(self.lens, n, self.max_len)
        self.lens = self.lens.to(device)

    def forward(self, x, lens):
        n = x.size(2)
        if n > self.max_len:
            self.update(n, x.device)
        mask = self.lens[:n].unsqueeze(0).to(lens.device) < lens.unsqueeze(1)
        return self.conv(x * mask.unsqueeze(1))
""", "Masked")
    assert _mrg201(src) == []
    x, lens = torch.ones(3, 2, 5), torch.tensor([5, 3, 1])
    m = cls()
    y = m(x, lens)
    fresh = cls()
    fresh.load_state_dict(m.state_dict())  # strict: the cache is no state
    assert torch.equal(fresh(x, lens), y)
    assert m.to(torch.float64)(x.double(), lens).dtype == torch.float64
    out = cls().to("meta")(torch.ones(3, 2, 5, device="meta"), torch.tensor([5, 3, 1], device="meta"))
    assert out.device.type == "meta"


def test_a_table_regrown_in_place_and_read_only_as_a_copy_source_is_silent_and_survives():
    """MRG201: ``dst.copy_(self.t)`` copies into dst's device and dtype (a moved-and-cast use), and
    ``self.t = self.t.new_empty(...)`` then ``self.t[:] = ...`` makes a fresh table (only the old one's device
    and dtype are taken; the slice assignment fills the value just made): no state, nothing left behind."""
    src, cls = _build("""
def _table(n, d, device=None):
    return torch.arange(n * d, dtype=torch.float32, device=device).view(n, d) / (n * d)


class Pos(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.d = d
        self.proj = nn.Linear(8, 8)
        self.table = torch.zeros(0, dtype=torch.float32)

    def _grow(self, n):
        if self.table.size(0) < n:
            self.table = self.table.new_empty((n, self.d))
            self.table[:] = _table(n, self.d, device=self.table.device)

    def forward(self, x):
        n = x.size(1)
        self._grow(n)
        pos = x.new_empty(x.shape)
        pos[:, :, : self.d] = 0
        _ = pos[:, :, self.d :].copy_(self.table[None, :n, :])
        return self.proj(x + pos)
""", "Pos")
    assert _mrg201(src) == []
    x = torch.ones(2, 3, 8)
    m = cls()
    y = m(x)
    fresh = cls()
    fresh.load_state_dict(m.state_dict())
    assert torch.equal(fresh(x), y)
    assert cls().to(torch.float64)(x.double()).dtype == torch.float64  # copied into a float64 tensor
    assert _on_meta(cls(), 2, 3, 8).device.type == "meta"  # a CPU table copied into a meta tensor


def test_running_stats_first_set_in_a_branch_then_updated_are_still_reported_and_lost_on_reload():
    """An overwrite inside ``if first_call:`` does not make the update after it a fill: on every later call the
    old value is updated (only a slice fill in the overwrite's own block is a fill)."""
    src, cls = _build("""
class Norm(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = torch.empty(0)
        self.count = 0

    def forward(self, x):
        if self.count == 0:
            self.mean = x.mean(0)
        self.mean = self.mean * 0.9 + x.mean(0) * 0.1
        self.count += 1
        return x - self.mean
""", "Norm")
    (msg,) = _mrg201(src)
    assert "updated in forward() at line 14" in msg
    m = cls()
    m(torch.ones(2, 3))
    m(torch.full((2, 3), 3.0))
    fresh = cls()
    fresh.load_state_dict(m.state_dict())
    assert fresh.mean.numel() == 0 and m.mean.numel() == 3  # the running mean is not saved


def test_the_device_of_a_buffer_made_on_the_cpu_names_no_device():
    body = """
class M(nn.Module):
    def __init__(self, n=8, d=4):
        super().__init__()
        self.tok = nn.Embedding(2, d)
        self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))
        self.token_type_ids = torch.zeros(self.position_ids.size(), dtype=torch.long, device=self.position_ids.device)

    def forward(self, input_ids):
        return self.tok(self.token_type_ids[:, : input_ids.shape[1]])
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 13" in msg
    m = cls().to("meta")
    assert m.position_ids.device.type == "meta" and m.token_type_ids.device.type == "cpu"  # made beside it, left behind
    _, twin = _build(body.replace(
        "self.token_type_ids = torch.zeros(",
        'self.register_buffer("token_type_ids", torch.zeros(').replace(
        "device=self.position_ids.device)", "device=self.position_ids.device))"))
    assert twin().to("meta").token_type_ids.device.type == "meta"


# --- where a value lives: shapes followed since the recall work (issue 13) -------------------------


def test_an_untyped_callable_attribute_fed_the_input_gives_a_value_on_its_device():
    # self.enc holds a value the linter cannot type (getattr(nn, kind)(...), AutoModel.from_config(...),
    # ACT2FN[name], a layer a base of another file stores); called with the input, it computes from it
    body = """
class M(nn.Module):
    def __init__(self, d=3, kind="Linear"):
        super().__init__()
        self.enc = getattr(nn, kind)(d, d)
        self.bias = torch.ones(d)

    def forward(self, x):
        return self.enc(x) + self.bias
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 12" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


def test_an_untyped_callable_fed_only_python_values_proves_nothing_and_stays_silent():
    body = """
def grid(n):
    return torch.arange(n) * 1.0


class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.make = grid
        self.offset = torch.ones(d)

    def forward(self, x):
        return x + (self.make(x.shape[-1]) + self.offset).sum().item()
"""
    src, cls = _build(body)
    assert _mrg201(src) == []
    assert _on_meta(cls(), 2, 3).device.type == "meta"


def test_a_layer_built_per_call_from_the_tensor_meets_the_inputs_unmoved():
    # nn.CrossEntropyLoss(weight=self.w) built in the method: .to() never reaches that layer or self.w
    body = """
class M(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.proj = nn.Linear(n, n)
        self.class_weight = torch.ones(n)

    def forward(self, x):
        loss = nn.CrossEntropyLoss(weight=self.class_weight)
        return loss(self.proj(x), torch.zeros(x.shape[0], dtype=torch.long, device=x.device))
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 13" in msg
    with pytest.raises(RuntimeError, match="device"):
        _on_meta(cls(), 2, 3)
    dbl = cls().to(torch.float64)
    with pytest.raises(RuntimeError, match="Double"):
        dbl(torch.ones(2, 3, dtype=torch.float64))
    _, twin = _build(body.replace("self.class_weight = torch.ones(n)", 'self.register_buffer("class_weight", torch.ones(n))'))
    assert _on_meta(twin(), 2, 3).device.type == "meta"


def test_values_appended_to_a_local_list_and_tuple_pieces_of_a_layer_output_live_on_its_device():
    body = """
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.level = torch.ones(2, d)
        self.bias = torch.ones(d)

    def forward(self, x):
        outs = []
        for i in range(2):
            out, _ = self.rnn(x)
            outs.append(out)
        return [o + self.level[i] for i, o in enumerate(outs)], out + self.bias
"""
    src, cls = _build(body)
    assert sorted(_mrg201(src)) == [
        "plain tensor 'self.bias' is used unmoved in forward() at line 17",
        "plain tensor 'self.level' is used unmoved in forward() at line 17",
    ]
    m = cls().to("meta")
    out, _ = m.rnn(torch.ones(1, 2, 3, device="meta"))
    with pytest.raises(RuntimeError):
        out + m.level[0]
    with pytest.raises(RuntimeError):
        out + m.bias


def test_a_table_made_by_a_function_picked_from_a_dict_is_a_tensor_and_breaks_linear():
    body = """
def type2(n):
    return torch.eye(n).real


def type3(n):
    return torch.linalg.inv(torch.eye(n))


class M(nn.Module):
    def __init__(self, n=3, kind=2):
        super().__init__()
        kernels = {"2": type2, "3": type3}
        self.weights = kernels[str(kind)](n).T.contiguous()

    def forward(self, x):
        return nn.functional.linear(x, self.weights)
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 20" in msg
    dbl = cls().to(torch.float64)  # linear on meta does not check its weight's device: the dtype shows it
    with pytest.raises(RuntimeError):
        dbl(torch.ones(2, 3, dtype=torch.float64))


def test_the_weight_a_torch_layer_base_registers_is_a_parameter_of_the_subclass():
    # class ScaledConv(nn.Conv2d): self.weight is the Parameter nn.Conv2d registers, on the module's device
    body = """
class M(nn.Conv2d):
    def __init__(self, c=3):
        super().__init__(c, c, 1)
        self.gain = torch.ones(c, 1, 1, 1)

    def forward(self, x):
        return nn.functional.conv2d(x, self.weight * self.gain, self.bias)
"""
    src, cls = _build(body)
    (msg,) = _mrg201(src)
    assert "used unmoved in forward() at line 11" in msg
    with pytest.raises(RuntimeError):
        cls().to("meta")(torch.ones(1, 3, 4, 4, device="meta"))
    from flake8_modreg import known

    for name in known.TORCH_ALWAYS_WEIGHTED:  # the table's claim: no configuration turns the weight off
        layer = getattr(torch.nn, name)
        args = {"Bilinear": (2, 2, 2), "Embedding": (4, 2), "EmbeddingBag": (4, 2)}.get(name, (2, 2) if "Linear" in name else (2, 2, 1))
        assert isinstance(layer(*args).weight, torch.nn.Parameter), name


def test_an_empty_placeholder_met_outside_a_concatenation_fails_on_shape_anywhere_and_is_silent():
    body = """
class M(nn.Module):
    def __init__(self, n=4, causal=False, kind="Identity"):
        super().__init__()
        self.rearrange = getattr(nn, kind)()
        self.causal = causal
        if causal:
            self.register_buffer("mask", torch.tril(torch.ones(n, n)))
        else:
            self.mask = torch.Tensor()

    def forward(self, x):
        att = self.rearrange(x) @ self.rearrange(x).transpose(-1, -2)
        if self.causal:
            att = att.masked_fill(self.mask[: x.shape[-2], : x.shape[-2]] == 0, float("-inf"))
        return att.softmax(-1)
"""
    src, cls = _build(body)
    assert _mrg201(src) == []
    assert _on_meta(cls(), 4, 4).device.type == "meta"  # the placeholder is never read
    assert _on_meta(cls(causal=True), 4, 4).device.type == "meta"
    x = torch.ones(4, 4)
    for dev in ("cpu", "meta"):  # met with the inputs, an empty tensor fails on its shape on every device
        with pytest.raises((RuntimeError, IndexError)):
            x.to(dev).masked_fill(torch.Tensor().to(dev)[:4, :4] == 0, 0.0)
        with pytest.raises(RuntimeError):
            x.to(dev) + torch.Tensor().to(dev)
    # ... except in a concatenation, where only the device counts: that use is still judged
    with pytest.raises(RuntimeError, match="device"):
        torch.cat([torch.Tensor(), x.flatten().to("meta")])


EMPTY_GUARDED = """\
import torch
import torch.nn as nn


class Stream(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.history = torch.tensor([])
        self.cache = torch.tensor([])

    def forward(self, x):
        y = self.proj(x)
        if len(self.history) == 0:
            merged = y
        else:
            merged = torch.vstack((self.history, y))
        self.history = merged.detach()
        out = torch.cat([self.cache, y])
        self.cache = y.detach()
        return merged, out
"""


def test_an_empty_placeholder_read_only_once_non_empty_survives_and_one_concatenated_first_breaks(torch):
    """MRG201: ``history`` is combined with the inputs only in the ``else`` of ``len(self.history) == 0``, so by
    then forward has replaced it with data on the input's device (silent); ``cache`` is concatenated while still
    the empty CPU placeholder (reported): after ``.to(<device>)`` the first call raises."""
    from flake8_modreg import check

    got = [(f.line, f.col, f.code) for f in check(EMPTY_GUARDED) if f.code.startswith("MRG2")]
    assert got == [(10, 8, "MRG201")]
    ns: dict = {}
    exec(compile(EMPTY_GUARDED, "stream.py", "exec"), ns)
    m = ns["Stream"]().to("meta")
    x = torch.ones(2, 4, device="meta")
    with pytest.raises((RuntimeError, NotImplementedError)):
        m(x)  # torch.cat([cpu empty placeholder, meta tensor])
    guarded = EMPTY_GUARDED.replace("        out = torch.cat([self.cache, y])\n", "        out = y\n")
    exec(compile(guarded, "stream2.py", "exec"), ns)
    m = ns["Stream"]().to("meta")
    for _ in range(3):
        merged, _ = m(x)  # the vstack runs from the second call on, with the replaced (meta) history
    assert merged.device.type == "meta" and merged.shape == (6, 4)


def test_a_tensor_stored_by_a_helper_only_init_calls_is_judged_like_init_and_fails_on_another_device():
    """`self._create_cache(n, device)` from `__init__`: the helper runs once while the module is built. The device
    it gets is judged at the call: `device=None` passed on (factory kwargs) names none, so the tensor stays behind
    on `.to()`; a class that always gets a device places it itself and is built there."""
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3, device=None):
        super().__init__()
        self.d = d
        self._create_cache(4, device)

    def _create_cache(self, n, device):
        self.table = torch.ones(n, self.d, device=device)

    def forward(self, x):
        return x + self.table[: x.shape[0]]
""")
    (msg,) = _mrg201(src)
    assert "'self.table' is used unmoved in forward() at line 15" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)
    placed, pcls = _build("""
class M(nn.Module):
    def __init__(self, device, d=3):
        super().__init__()
        self.d = d
        self._create_cache(4, device)

    def _create_cache(self, n, device):
        self.table = torch.ones(n, self.d, device=device)

    def forward(self, x):
        return x + self.table[: x.shape[0]]
""")
    assert _mrg201(placed) == []
    assert pcls(device="meta")(torch.ones(2, 3, device="meta")).device.type == "meta"


def test_a_helper_storing_the_tensor_again_gives_one_finding_at_init():
    """`__init__` stores the mask and calls `self._init_drop()`, which stores it again: one finding, at `__init__`'s
    store (the helper's value is the one forward meets, and it breaks the same way)."""
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.mask = torch.ones(d)
        self._init_drop()

    def _init_drop(self):
        self.mask = torch.ones(self.w.shape[0])

    def forward(self, x):
        return x * self.w * self.mask
""")
    assert [(f.line, f.code) for f in check(src) if f.code == "MRG201"] == [(9, "MRG201")]
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)


def test_a_signal_window_is_a_tensor_and_an_unmoved_one_fails_on_another_device():
    """`torch.hann_window(n)` (and the other factories that build a tensor from sizes alone) makes a plain
    tensor: stored as is and met unmoved by a layer's output, it breaks after `.to()`."""
    import functools

    from flake8_modreg import known

    for name in known.TORCH_TENSOR_FACTORIES:  # every listed factory is real in this torch
        assert callable(functools.reduce(getattr, name.split(".")[1:], torch)), name
    src, cls = _build("""
class M(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.linear = nn.Linear(n, n)
        window = torch.hann_window(n)
        self.window = window

    def forward(self, x):
        return self.linear(x) * self.window
""")
    (msg,) = _mrg201(src)
    assert "'self.window' is used unmoved in forward() at line 13" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 4)


def test_a_module_without_forward_takes_its_inputs_through_its_public_methods():
    """A codebook Module with no forward: its parent calls `encode(x)`; `x` lives on the parent's device, so the
    plain table met there in a matmul breaks after `.to()`; a `_private` helper's arguments are not assumed so."""
    src, cls = _build("""
class Codebook(nn.Module):
    def __init__(self, n=5, d=3):
        super().__init__()
        self.size = nn.Buffer(torch.zeros(n))
        self.embed = torch.randn(n, d)

    def encode(self, hidden):
        return (hidden @ self.embed.t()).argmax(-1)
""", "Codebook")
    (msg,) = _mrg201(src)
    assert "'self.embed' is used unmoved in encode() at line 12" in msg
    cb = cls().to(torch.float64)  # matmul on `meta` does not check its operand's device: the dtype shows it
    with pytest.raises(RuntimeError):
        cb.encode(torch.ones(2, 3, dtype=torch.float64))
    assert cb.size.dtype == torch.float64 and cb.embed.dtype == torch.float32  # left behind
    private = src.replace("def encode(self, hidden)", "def _encode(self, hidden)")
    assert [m for m in _mrg201(private) if "used unmoved" in m] == []


def test_a_tensor_handed_to_each_layer_of_a_registered_list_meets_its_weights_unmoved():
    """`for layer in self.layers: h = layer(h, dists=self.dists)`: each block is a sub-module on the module's
    device, and the plain table it is given stays behind on `.to()` (also `self.layers[i](h, self.dists)`)."""
    src, cls = _build("""
class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, h, bias):
        return self.proj(h) + bias


class Enc(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.bias = torch.zeros(d)
        self.layers = nn.ModuleList([Block(d) for _ in range(2)])

    def forward(self, h):
        for i, layer in enumerate(self.layers):
            h = layer(h, bias=self.bias)
        return h
""", "Enc")
    (msg,) = _mrg201(src)
    assert "'self.bias' is used unmoved in forward() at line 22" in msg
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 4)
    indexed = src.replace("for i, layer in enumerate(self.layers):\n            h = layer(h, bias=self.bias)",
                          "h = self.layers[0](h, self.bias)")
    assert len(_mrg201(indexed)) == 1
    # `enumerate(self.layers, start=1)`: the start number does not change what `layer` is
    started = src.replace("enumerate(self.layers)", "enumerate(self.layers, start=1)")
    (msg,) = _mrg201(started)
    assert "'self.bias' is used unmoved in forward() at line 22" in msg
    _, started_cls = _build(started[len(HEAD):], "Enc")
    with pytest.raises(RuntimeError):
        _on_meta(started_cls(), 2, 4)
    # a starred argument: not known to be the layers
    assert _mrg201(src.replace("enumerate(self.layers)", "enumerate(*[self.layers])")) == []


def _example(title: str) -> str:
    """The code of MRG201's invalid example whose title starts with ``title``."""
    from examples_runtime import rule

    return next(i for i in rule("MRG201").invalid if i.title.startswith(title)).code


def _about(src: str, attr: str) -> list[str]:
    return [m for m in _mrg201(src) if f"'self.{attr}'" in m]


_UNPACK_AND_REGROW = "one name of a helper's tuple of tensors"


def test_a_tensor_unpacked_from_a_helper_returning_a_tuple_of_tensors_is_judged_and_breaks():
    """The rule's example: `q, k = self._decay(n)` with `_decay` returning a tuple of tensors: each name is a tensor;
    the one stored plain meets the input unmoved and fails on another device, its registered sibling moves."""
    from examples_runtime import run_example

    src = _example(_UNPACK_AND_REGROW)
    (msg,) = _about(src, "k")
    assert "'self.k' is used unmoved in forward() at line 17" in msg
    assert [(f.line, f.col) for f in check(src) if f.code == "MRG201"] == [(10, 8), (29, 8)]
    with pytest.raises(RuntimeError):
        _on_meta(run_example(src)["Decay"](), 2, 4)
    fixed = run_example(src.replace("self.k = k", 'self.register_buffer("k", k)'))["Decay"]
    assert _on_meta(fixed(), 2, 4).device.type == "meta"
    # a tuple whose elements disagree (a tensor and a number) says nothing about either name
    mixed = src.replace("return torch.exp(-r), torch.exp(-2 * r)", "return torch.exp(-r), 2.0")
    assert _about(mixed, "k") == []
    # the facts of the element at that position follow: a complex one is never told to be a buffer (see
    # test_complex_buffer_loses_its_imaginary_part_under_to_bfloat16), a 0-d one combines with any device
    rotary = src.replace("return torch.exp(-r), torch.exp(-2 * r)", "return torch.exp(-r), torch.polar(r, r)")
    assert _about(rotary, "k") == []
    scalar = src.replace("return torch.exp(-r), torch.exp(-2 * r)", "return torch.exp(-r), torch.tensor(2.0)")
    assert _about(scalar, "k") == []
    zero_d = run_example(scalar)["Decay"]
    assert _on_meta(zero_d(), 2, 4).device.type == "meta"  # the 0-d `k` stayed on the CPU and is no obstacle


def test_a_table_made_by_a_helper_that_forward_calls_again_to_regrow_it_is_judged_and_breaks():
    """The rule's example: `__init__` calls `self.make_weights(n)`, and `forward` calls it again only when the input
    is longer, placing the regrown table on the old one's device (`device=self.weights.device`): the first table is
    what the module starts with and, plain, it stays behind on `.to()` -- and so does every regrown one."""
    from examples_runtime import run_example

    src = _example(_UNPACK_AND_REGROW)
    (msg,) = _about(src, "weights")
    assert "'self.weights' is used unmoved in forward() at line 34" in msg
    assert [(f.line, f.col) for f in check(src) if f.code == "MRG201"] == [(10, 8), (29, 8)]
    cls = run_example(src)["Sinusoid"]
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 3)
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 6, 3)  # regrown on the old table's device: still the CPU
    fixed = run_example(src.replace("self.weights = w", 'self.register_buffer("weights", w, persistent=False)')
                        .replace('if hasattr(self, "weights"):', 'if "weights" in self._buffers:'))["Sinusoid"]
    assert _on_meta(fixed(), 6, 3).device.type == "meta"
    # regrown on the input's device instead, the first table is still the one a short input meets
    on_input = src.replace("device=self.weights.device", "device=None")
    assert len(_about(on_input, "weights")) == 1


def test_a_plain_tensor_an_imported_function_multiplies_with_the_input_breaks_and_one_it_only_tests_survives():
    """Runtime side of tests/test_resolver.py::test_a_plain_tensor_handed_to_an_imported_function_is_judged_by_its_body:
    the function's `x * weight` fails once the module is on another device (the plain weight stayed behind); a
    function that only tests `bias.requires_grad` never mixes devices, so the plain bias is no bug there."""
    _, cls = _build("""
def rms_norm(x, weight, eps=1e-6):
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return x * weight


def frozen(x, bias):
    return x if not bias.requires_grad else x.clone()


class Norm(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.weight = torch.ones(d)
        self.bias = torch.zeros(d)

    def forward(self, x):
        return frozen(rms_norm(self.proj(x), self.weight), self.bias)
""", "Norm")
    with pytest.raises(RuntimeError):
        _on_meta(cls(), 2, 4)
    _, survives = _build("""
def frozen(x, bias):
    return x if not bias.requires_grad else x.clone()


class Norm(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.proj = nn.Linear(d, d)
        self.bias = torch.zeros(d)

    def forward(self, x):
        return frozen(self.proj(x), self.bias)
""", "Norm")
    assert _on_meta(survives(), 2, 4).device.type == "meta"
    assert survives().half()(torch.ones(2, 4, dtype=torch.half)).dtype == torch.half


def test_a_plain_tensor_stored_under_one_truth_of_a_flag_and_read_under_the_other_is_silent_and_survives():
    """`if self.spinor: self.z = nn.Parameter(...)` / `else: self.z = torch.zeros(...)` in `__init__`, read only under
    `if self.spinor:` in `forward` (a flag only `__init__` sets): the plain value is never read. A read under the
    same truth as the plain store -- or under a flag another method changes -- is judged as before."""
    body = """
class Rot(nn.Module):
    def __init__(self, d=4, spinor=False):
        super().__init__()
        self.spinor = spinor
        self.proj = nn.Linear(d, d)
        if self.spinor:
            self.z = nn.Parameter(torch.zeros(d), requires_grad=False)
        else:
            self.z = torch.zeros(d)

    def forward(self, x):
        if self.spinor:
            return self.proj(x) + self.z
        return self.proj(x)
"""
    src, cls = _build(body, "Rot")
    assert _mrg201(src) == []
    assert _on_meta(cls(spinor=False), 2, 4).device.type == "meta"
    assert _on_meta(cls(spinor=True), 2, 4).device.type == "meta"
    same = src.replace("        if self.spinor:\n            return", "        if not self.spinor:\n            return")
    assert len(_mrg201(same)) == 1
    _, same_cls = _build(same[len(HEAD):], "Rot")
    with pytest.raises(RuntimeError):
        _on_meta(same_cls(spinor=False), 2, 4)
    toggled = src + "\n    def set_spinor(self, on):\n        self.spinor = on\n"
    assert len(_mrg201(toggled)) == 1  # another method may turn the flag on with the plain value stored


def test_an_operation_guarded_by_the_tensors_requires_grad_never_runs_for_a_plain_one():
    """A function of another file that adds `bias` only `if bias.requires_grad:` (speechbrain's quaternion ops): the
    resolver's summary does not count that operation (tests/test_resolver.py), and at run time a plain bias --
    `requires_grad` False -- never meets the input there."""
    _, cls = _build("""
def linear_op(x, weight, bias):
    out = x @ weight
    if bias.requires_grad:
        return out + bias
    return out


class Q(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d, d))
        self.bias = torch.zeros(d).requires_grad_(False)

    def forward(self, x):
        return linear_op(x, self.weight, self.bias)
""", "Q")
    assert _on_meta(cls(), 2, 4).device.type == "meta"
    assert cls().half()(torch.ones(2, 4, dtype=torch.half)).dtype == torch.half
