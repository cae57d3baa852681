"""Runtime reproductions behind the hand labels of ``precision_labels.json``.

Not part of the default test run.  Each function rebuilds, standalone and in a
few lines, the exact pattern of one or more labelled findings (the label's
``runtime`` field names the function), applies what a user does to a model --
``.to('meta')`` (a second device without a GPU: a CPU tensor that meets a meta
tensor fails as it would next to a CUDA tensor), ``.half()`` or
``.to(torch.float64)`` -- runs it, and returns ``"breaks"`` or ``"survives"``
with the error.  ``EXPECTED`` is what the labels claim; the script exits 1 when
real torch disagrees::

    python tests/realworld/precision_repro.py        # under torch 2.13
"""

from __future__ import annotations

import sys
import warnings

import torch
from torch import nn
from torch.nn import functional as F


def outcome(fn) -> tuple[str, str]:
    try:
        detail = fn()
    except Exception as e:  # the point is to see which error real torch raises
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
        return "breaks", f"{type(e).__name__}: {first[:110]}"
    return "survives", detail or ""


# --- MRG201: patterns that survive (the labels say false) -------------------------------------------


def zero_d_cpu_tensor_meets_any_device():
    """speechbrain attention `/ self.scaling`, kornia `> self.confidence_threshold`, monai `self.one`."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.scaling = torch.sqrt(torch.tensor(4).float())  # 0-d

        def forward(self, x):
            return self.lin(x) / self.scaling

    m = M().to("meta")
    y = m(torch.ones(2, 4, device="meta"))
    h = M().half()
    yh = h(torch.ones(2, 4, dtype=torch.half))
    assert yh.dtype == torch.half, yh.dtype  # a 0-d tensor does not promote
    return f"meta forward -> {y.device}; half forward stays {yh.dtype}"


def integer_index_moved_at_use():
    """kolors prefix_tokens, espnet sos_th / lang_token_id, kornia classes_to_keep: `.to(device)` at the use."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.prefix_tokens = torch.arange(3).long()

        def forward(self, x):
            ids = self.prefix_tokens.unsqueeze(0).expand(x.shape[0], -1).to(x.device)
            return self.emb(ids) + x[:, None, :]

    m = M().to("meta").to(torch.float64)
    y = m(torch.ones(2, 4, device="meta", dtype=torch.float64))
    return f"meta/float64 forward -> {y.device} {y.dtype}"


def moved_and_cast_at_use_survives():
    """monai focal alpha `.to(device=, dtype=)`, monai median kernel `.to(in_tensor)`, torchmetrics hp_filter."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.alpha = torch.as_tensor([0.25, 0.75])

        def forward(self, x):
            return x * self.alpha.to(device=x.device, dtype=x.dtype)

    m = M().to("meta")
    y = m(torch.ones(3, 2, device="meta", dtype=torch.float64))
    return f"meta float64 forward -> {y.device} {y.dtype}"


def placeholder_overwritten_in_forward():
    """monai att_mat / theta / perplexity: an empty placeholder that forward overwrites before any read."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.att_mat = torch.Tensor()

        def forward(self, x):
            att = self.lin(x).softmax(-1)
            self.att_mat = att.detach()
            return att

    m = M().to("meta").to(torch.float64)
    m(torch.ones(2, 4, device="meta", dtype=torch.float64))
    return f"after forward att_mat is {m.att_mat.device} {m.att_mat.dtype}"


def complex_buffer_loses_imaginary_part():
    """diffusers qwenimage/nucleusmoe/sana pos_freqs (torch.polar): a buffer would be harmful under model.to(bf16)."""
    freqs = torch.polar(torch.ones(4, 2), torch.rand(4, 2))

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos_freqs = freqs.clone()

    class Buffered(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("pos_freqs", freqs.clone(), persistent=False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Casting complex values to real discards the imaginary part"
        b = Buffered().to(torch.bfloat16)
    p = Plain().to(torch.bfloat16)
    assert p.pos_freqs.is_complex() and not b.pos_freqs.is_complex(), (p.pos_freqs.dtype, b.pos_freqs.dtype)
    return f"plain attribute keeps {p.pos_freqs.dtype}; registered buffer becomes {b.pos_freqs.dtype} (imaginary part lost)"


def fp32_pinned_operand_makes_cast_irrelevant():
    """diffusers Kandinsky5TimeEmbeddings.freqs: torch.outer(time.to(torch.float32), freqs): a buffer would not help."""

    def make(as_buffer):
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                freqs = torch.exp(-torch.arange(4, dtype=torch.float32))
                if as_buffer:
                    self.register_buffer("freqs", freqs, persistent=False)
                else:
                    self.freqs = freqs

            def forward(self, time):
                return torch.outer(time.to(torch.float32), self.freqs.to(device=time.device))

        return M().half()

    t = torch.ones(2, dtype=torch.half)
    plain, buffered = make(False)(t).dtype, make(True)(t).dtype
    assert plain == buffered == torch.float32, (plain, buffered)
    return f"after .half(): plain attribute -> {plain}, registered buffer -> {buffered} (same)"


def setitem_value_crosses_devices():
    """allennlp _bos_indices/_eos_indices: a CPU tensor used only as the value of a slice assignment."""
    bos = torch.LongTensor([258, 259])
    tokens = torch.zeros(2, 5, 2, dtype=torch.long, device="meta")
    tokens[0, 0, :] = bos
    return "meta_tensor[i, 0, :] = cpu_tensor works"


def jit_interface_needs_dot_forward():
    """monai DiNTS: attributes typed with a @torch.jit.interface are called through .forward in scripted code."""
    src = '''
import torch
from torch import nn

@torch.jit.interface
class StemInterface(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass

class Stem(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stems = nn.ModuleDict({str(i): Stem() for i in range(2)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for d in range(2):  # a ModuleDict indexed by a computed key, as DiNTS does
            stem: StemInterface = self.stems[str(d)]
            x = stem.{call}(x)
        return x
'''
    import importlib.util
    import os
    import tempfile

    results = {}
    for call in ("forward", "__call__"):
        code = src.replace("{call}", call) if call == "forward" else src.replace("x = stem.{call}(x)", "x = stem(x)")
        with tempfile.TemporaryDirectory() as d:  # TorchScript needs the source on disk
            path = os.path.join(d, f"jitiface_{call.strip('_')}.py")
            with open(path, "w") as fh:
                fh.write(code)
            spec = importlib.util.spec_from_file_location(f"jitiface_{call.strip('_')}", path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = mod  # inspect.getsource finds classes through sys.modules
            spec.loader.exec_module(mod)
            results[call] = outcome(lambda: str(torch.jit.script(mod.Net())(torch.zeros(1))))
    assert results["forward"][0] == "survives", results
    if results["__call__"][0] != "breaks":
        raise AssertionError(f"calling the interface-typed module scripts too: {results['__call__']}")
    return f".forward scripts; the MRG306 fix (calling it) does not: {results['__call__'][1]}"


# --- MRG201: patterns that break (the labels say true) ----------------------------------------------


def one_element_cpu_tensor_fails_on_other_device():
    """speechbrain q_RNN drop_mask_te: a 1-element (not 0-d) fp32 mask used unmoved in the recurrence."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Linear(4, 4)
            self.drop_mask_te = torch.tensor([1.0]).float()

        def forward(self, x):
            return torch.tanh(self.w(x)) * self.drop_mask_te

    m = M().to("meta")
    m(torch.ones(2, 4, device="meta"))


def moved_not_cast_mask_breaks_half_recurrence():
    """speechbrain c_RNN/q_RNN drop_mask_te moved lazily with .to(w.device): after .half() h turns fp32."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Linear(4, 4)
            self.u = nn.Linear(4, 4, bias=False)
            self.drop_mask_te = torch.tensor([1.0]).float()

        def forward(self, x):
            w = self.w(x)
            ht = torch.zeros_like(w[:, 0])
            for k in range(w.shape[1]):
                at = w[:, k] + self.u(ht)
                self.drop_mask_te = self.drop_mask_te.to(w.device)
                ht = torch.tanh(at) * self.drop_mask_te
            return ht

    M()(torch.ones(2, 3, 4))  # float32 works
    m = M().half()
    m(torch.ones(2, 3, 4, dtype=torch.half))


def moved_not_cast_matmul_with_parameter():
    """espnet SincConv._x: moved with .to(device), then matmul with the Parameter self.f."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.f = nn.Parameter(torch.rand(8, 2))
            self._x = 2 * torch.pi * torch.linspace(1, 5, 5)

        def forward(self, xs):
            self._x = self._x.to(xs.device)
            f_mins = torch.abs(self.f[:, 0])
            return torch.matmul(f_mins.view(-1, 1), self._x.view(1, -1))

    M()(torch.ones(1))
    M().to(torch.float64)(torch.ones(1, dtype=torch.float64))


def moved_not_cast_matmul_with_input():
    """speechbrain DCT: torch.matmul(x, self.dct_mat.to(x.device))."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.dct_mat = torch.rand(6, 4)

        def forward(self, x):
            return torch.matmul(x, self.dct_mat.to(x.device))

    M()(torch.ones(2, 6))
    M().to(torch.float64)(torch.ones(2, 6, dtype=torch.float64))


def unmoved_matmul_with_input():
    """monai CRF compatibility_matrix: torch.matmul(flat, self.compatibility_matrix), never moved."""

    class M(nn.Module):
        def __init__(self, compatibility_matrix=None):
            super().__init__()
            self.compatibility_matrix = compatibility_matrix

        def forward(self, x):
            flat = x.reshape(-1, x.shape[-1])
            if self.compatibility_matrix is not None:
                flat = torch.matmul(flat, self.compatibility_matrix)
            return flat

    M(torch.eye(3))(torch.ones(2, 3))
    # (on 'meta' matmul does not check the other operand's device either; the dtype shows it)
    M(torch.eye(3)).to(torch.float64)(torch.ones(2, 3, dtype=torch.float64))


def moved_not_cast_conv_weight():
    """espnet prodiff SSIM window, speechbrain ContextWindow kernel: conv weight moved with .to(x.device) only."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.window = torch.rand(1, 1, 3, 3)

        def forward(self, x):
            return F.conv2d(x, self.window.to(x.device), padding=1)

    M()(torch.ones(1, 1, 5, 5))
    M().to(torch.float64)(torch.ones(1, 1, 5, 5, dtype=torch.float64))


def plain_bias_given_to_an_imported_conv_op():
    """speechbrain QConv1d(spinor=True, bias=False): the plain zero bias reaches `F.conv1d(..., bias=bias)` inside
    the imported `quaternion_conv_rotation_op`; after `.to(torch.float64)` the conv refuses the float32 bias (on a
    GPU, after `.to("cuda")`, the CPU bias; the `meta` device does not check a conv's bias device)."""

    def conv_op(x, weight, bias):
        return F.conv1d(input=x, weight=weight, bias=bias)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 4, 3))
            self.bias = torch.zeros(4).requires_grad_(False)

        def forward(self, x):
            return conv_op(x, self.weight, self.bias)

    M()(torch.ones(1, 4, 5))
    M().to(torch.float64)(torch.ones(1, 4, 5, dtype=torch.float64))


def moved_not_cast_einsum_with_layer_output():
    """monai RegUNet AffineHead.grid: moved with .to(device=f.device), einsum with theta = self.fc(f)."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 6)
            self.grid = torch.stack(torch.meshgrid(torch.arange(3), torch.arange(3), indexing="ij")).float()

        def forward(self, f):
            self.grid = self.grid.to(device=f.device)
            theta = self.fc(f)
            padded = torch.cat([self.grid, torch.ones_like(self.grid[:1])])
            return torch.einsum("qij,bpq->bpij", padded, theta.reshape(-1, 2, 3)) - self.grid

    M()(torch.ones(1, 4))
    M().to(torch.float64)(torch.ones(1, 4, dtype=torch.float64))


def unmoved_tensor_meets_moved_parameter():
    """speechbrain Filterbank(freeze=False): all_freqs_mat stays on CPU, f_central is a Parameter."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.f_central = nn.Parameter(torch.rand(4))
            self.all_freqs_mat = torch.linspace(0, 1, 6).repeat(4, 1)

        def forward(self, spec):
            f_central_mat = self.f_central.repeat(self.all_freqs_mat.shape[1], 1).transpose(0, 1)
            fbank = (self.all_freqs_mat - f_central_mat).abs().to(spec.device)
            return torch.matmul(spec, fbank.t())

    M()(torch.ones(2, 6))
    M().to("meta")(torch.ones(2, 6, device="meta"))


def running_state_missing_from_state_dict():
    """speechbrain InputNormalization glob_mean/glob_std: statistics updated in forward, absent from state_dict()."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.glob_mean = torch.empty(0)

        def forward(self, x):
            self.glob_mean = x.mean(0) if self.glob_mean.numel() == 0 else 0.9 * self.glob_mean + 0.1 * x.mean(0)
            return x - self.glob_mean

    m = M()
    m(torch.full((4, 3), 5.0))
    fresh = M()
    fresh.load_state_dict(m.state_dict())
    if fresh.glob_mean.numel() == 0:
        raise RuntimeError(f"state_dict() keys {list(m.state_dict())}: the learnt statistics are lost")


# --- other codes -------------------------------------------------------------------------------------


def forward_without_return_gives_none():
    """MRG305 espnet ConvLayerNorm (bare `return`) and DownPool2d (no return)."""

    class ConvLayerNorm(nn.LayerNorm):
        def forward(self, x):
            x = super().forward(x.transpose(1, 2)).transpose(1, 2)
            return

    y = ConvLayerNorm(4)(torch.ones(2, 4, 3))
    if y is None:
        raise TypeError("calling the module returned None")


def unreachable_return_after_raise():
    """MRG305 speechbrain S2SBaseSearcher: `raise NotImplementedError` then a dead `return`."""

    class Base(nn.Module):
        def forward(self, x):
            raise NotImplementedError
            return

    try:
        Base()(torch.ones(1))
    except NotImplementedError:
        return "calling it raises NotImplementedError (it never silently returns None)"
    raise AssertionError("returned")


def module_without_super_init():
    """MRG401 diffusers Stratified/ImportanceRaySampler, monai RFlowScheduler: construction works, Module API raises."""

    class Sampler(nn.Module):
        def __init__(self, depth_mode="linear"):
            self.depth_mode = depth_mode
            self.ts = torch.zeros(3)

        def sample(self, t):
            return t + self.ts

    s = Sampler()
    s.sample(torch.ones(3))  # the library's own use works
    repr(s)


def plain_list_of_modules_with_buffers():
    """MRG101 speechbrain SpeedPerturb.resamplers: a plain list of modules whose kernel is a buffer (.to() misses it)."""

    class Resample(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("kernel", torch.rand(1, 1, 3))

        def forward(self, x):
            return F.conv1d(x, self.kernel)

    class SpeedPerturb(nn.Module):
        def __init__(self):
            super().__init__()
            self.resamplers = [Resample()]

        def forward(self, x):
            return self.resamplers[0](x)

    SpeedPerturb()(torch.ones(1, 1, 8))
    # (on 'meta' conv1d does not check the weight's device, so the dtype shows it)
    SpeedPerturb().to(torch.float64)(torch.ones(1, 1, 8, dtype=torch.float64))


def stale_dict_cache_after_to():
    """MRG205 mmseg CLIPTextEncoder.cache / torchrec _default_weights: filled and read back, keyed without device."""

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.bg_embed = nn.Parameter(torch.rand(1, 4))
            self.proj = nn.Linear(4, 4)
            self.cache = {}

        def forward(self, names):
            new = [n for n in names if n not in self.cache]
            if new:
                self.cache.update({n: self.proj(torch.ones(4)) for n in new})
            embeds = torch.stack([self.cache[n] for n in names])
            return torch.cat([embeds, self.bg_embed])

    m = M()
    m(["cat", "dog"])
    m.to("meta")
    m(["cat", "dog"])


def requires_grad_false_is_not_a_trainable_tensor():
    """MRG202 speechbrain q_linear/q_CNN/c_linear: `torch.Tensor(n).requires_grad_(False)` when the feature is off."""

    class QLinear(nn.Module):
        def __init__(self, bias=False):
            super().__init__()
            self.w = nn.Parameter(torch.rand(4, 4))
            if bias:
                self.bias = nn.Parameter(torch.zeros(4))
            else:
                self.bias = torch.Tensor(4).requires_grad_(False)

        def forward(self, x):
            return torch.addmm(self.bias, x, self.w) if self.bias.requires_grad else torch.mm(x, self.w)

    m = QLinear()
    assert not m.bias.requires_grad
    m.to("meta")(torch.ones(2, 4, device="meta"))  # read only as a flag: nothing breaks on another device
    return "requires_grad is False; used only as a flag, the meta forward runs"


EXPECTED = {
    plain_bias_given_to_an_imported_conv_op: "breaks",
    zero_d_cpu_tensor_meets_any_device: "survives",
    integer_index_moved_at_use: "survives",
    moved_and_cast_at_use_survives: "survives",
    placeholder_overwritten_in_forward: "survives",
    complex_buffer_loses_imaginary_part: "survives",
    setitem_value_crosses_devices: "survives",
    fp32_pinned_operand_makes_cast_irrelevant: "survives",
    jit_interface_needs_dot_forward: "survives",
    one_element_cpu_tensor_fails_on_other_device: "breaks",
    moved_not_cast_mask_breaks_half_recurrence: "breaks",
    moved_not_cast_matmul_with_parameter: "breaks",
    moved_not_cast_matmul_with_input: "breaks",
    unmoved_matmul_with_input: "breaks",
    moved_not_cast_conv_weight: "breaks",
    moved_not_cast_einsum_with_layer_output: "breaks",
    unmoved_tensor_meets_moved_parameter: "breaks",
    running_state_missing_from_state_dict: "breaks",
    forward_without_return_gives_none: "breaks",
    unreachable_return_after_raise: "survives",
    module_without_super_init: "breaks",
    plain_list_of_modules_with_buffers: "breaks",
    stale_dict_cache_after_to: "breaks",
    requires_grad_false_is_not_a_trainable_tensor: "survives",
}


def main() -> int:
    print(f"torch {torch.__version__}")
    bad = 0
    for fn, want in EXPECTED.items():
        got, detail = outcome(fn)
        mark = "ok " if got == want else "MISMATCH"
        bad += got != want
        print(f"{mark} {fn.__name__}: {got} (expected {want}) {detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
