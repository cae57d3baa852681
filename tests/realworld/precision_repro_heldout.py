"""Runtime reproductions behind the hand labels of the held-out set (``precision_labels_heldout.json``).

Not part of the default test run (``tests/test_precision_harness.py`` re-runs them).  Same contract as
``precision_repro.py``: each function rebuilds, standalone and in a few lines, the exact shape of one or more
labelled findings of the held-out libraries (the label's ``runtime`` field names the function), applies what a
user does to a model -- ``.to('meta')`` (a second device without a GPU), ``.half()`` or ``.to(torch.float64)``,
a forward hook -- runs it, and returns ``"breaks"`` or ``"survives"`` with the error.  ``EXPECTED`` is what the
labels claim; the script exits 1 when real torch disagrees::

    python tests/realworld/precision_repro_heldout.py        # under torch 2.13

None of the held-out libraries is imported: the shapes are copied, so the check needs torch only.
"""

from __future__ import annotations

import sys

import torch
from torch import nn


def outcome(fn) -> tuple[str, str]:
    try:
        detail = fn()
    except Exception as e:  # the point is to see which error real torch raises
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
        return "breaks", f"{type(e).__name__}: {first[:110]}"
    return "survives", detail or ""


# --- true findings: these break --------------------------------------------------------------------


def beamformer_without_super_init():
    """MRG401 asteroid GEVDBeamformer: `__init__` sets plain attributes only; calling the module raises."""

    class Beamformer(nn.Module):
        pass

    class GEVDBeamformer(Beamformer):
        def __init__(self, mu: float = 1.0, rank: int = 1):
            self.mu = mu
            self.rank = rank

        def forward(self, mix, target_scm, noise_scm):
            return mix * self.mu

    bf = GEVDBeamformer()  # construction works
    bf(torch.ones(2), torch.ones(2), torch.ones(2))


def direct_forward_skips_hooks():
    """MRG306 torch_geometric MeshCNNConv kernels[i].forward, peft XLoraClassifier layers.forward: hooks skipped."""

    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.kernels = nn.ModuleList(nn.Linear(4, 4) for _ in range(2))
            self.layers = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

        def forward(self, x):
            return self.kernels[1].forward(x) + self.layers.forward(x)

    m = Conv()
    seen = []
    m.kernels[1].register_forward_hook(lambda *a: seen.append("kernel"))
    m.layers.register_forward_hook(lambda *a: seen.append("sequential"))
    m(torch.ones(2, 4))
    if not seen:
        raise RuntimeError("forward hooks registered on the sub-modules never ran")
    return f"hooks ran: {seen}"


def shape_keyed_cache_stale_after_to():
    """MRG205 ultralytics PositionEmbeddingSine.cache: keyed by (H, W) only, filled on the first input's device."""

    class PositionEmbeddingSine(nn.Module):
        def __init__(self, num_pos_feats=4):
            super().__init__()
            self.num_pos_feats = num_pos_feats
            self.proj = nn.Conv2d(4, 4, 1)
            self.cache = {}

        @torch.no_grad()
        def pos(self, x):
            cache_key = (x.shape[-2], x.shape[-1])
            if cache_key in self.cache:
                return self.cache[cache_key][None].repeat(x.shape[0], 1, 1, 1)
            y = torch.arange(1, x.shape[-2] + 1, dtype=torch.float32, device=x.device).view(1, 1, -1, 1)
            pos = y.expand(x.shape[0], self.num_pos_feats, x.shape[-2], x.shape[-1]).sin()
            self.cache[cache_key] = pos[0]
            return pos

        def forward(self, x):
            return self.proj(x) + self.pos(x)

    m = PositionEmbeddingSine()
    m(torch.ones(1, 4, 3, 3))  # a first call on CPU fills the cache
    m.to("meta")
    m(torch.ones(1, 4, 3, 3, device="meta"))


def unmoved_normalisation_constants():
    """MRG201 vit-pytorch MPPLoss mean/std: `torch.tensor(mean).view(-1, 1, 1)` used unmoved with the target."""

    class MPPLoss(nn.Module):
        def __init__(self, mean=(0.5, 0.5, 0.5), std=(0.2, 0.2, 0.2)):
            super().__init__()
            self.mean = torch.tensor(mean).view(-1, 1, 1) if mean else None
            self.std = torch.tensor(std).view(-1, 1, 1) if std else None

        def forward(self, predicted, target):
            if self.mean is not None and self.std is not None:
                target = target * self.std + self.mean
            return (predicted - target).abs().mean()

    m = MPPLoss().to("meta")
    m(torch.ones(2, 3, 4, 4, device="meta"), torch.ones(2, 3, 4, 4, device="meta"))


# --- false or debatable findings: these survive as the library uses them ------------------------------


def own_call_override_has_no_hooks():
    """MRG306 gpytorch LCMKernel / IndependentModelList: the sub-module's class overrides `__call__` (no hooks)."""

    class Lazy:
        def __init__(self, value):
            self.value = value

    class GPModule(nn.Module):  # gpytorch.Module: __call__ = validate(self.forward(...)); Kernel: a lazy wrapper
        def __call__(self, *inputs, **kwargs):
            return Lazy(self.forward(*inputs, **kwargs))

    class Kernel(GPModule):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(()))

        def forward(self, x1, x2):
            return self.scale * x1 @ x2.mT

    class LCMKernel(GPModule):
        def __init__(self):
            super().__init__()
            self.covar_module_list = nn.ModuleList([Kernel(), Kernel()])

        def forward(self, x1, x2):
            res = self.covar_module_list[0].forward(x1, x2)
            for m in self.covar_module_list[1:]:
                res += m.forward(x1, x2)
            return res

    m = LCMKernel()
    seen = []
    for k in m.covar_module_list:
        k.register_forward_hook(lambda *a: seen.append("hook"))
    out = m(torch.ones(3, 2), torch.ones(3, 2))
    k0 = m.covar_module_list[0]
    k0(torch.ones(3, 2), torch.ones(3, 2))  # even the 'fixed' call runs no hook: __call__ is the class's own
    assert not seen, seen
    assert isinstance(k0(torch.ones(1, 1), torch.ones(1, 1)), Lazy)  # and it returns the lazy wrapper, not a tensor
    return f"no hook runs either way; __call__ gives {type(k0(torch.ones(1, 1), torch.ones(1, 1))).__name__}, " \
           f"forward gives {type(out.value).__name__}"


def device_checked_cache_survives():
    """MRG201 gpytorch MultiDeviceKernel __cached_x1/x2: read only after a device check, then overwritten by the input."""

    class MultiDeviceKernel(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.__cached_x1 = torch.empty(1)
            self.scattered = None

        def forward(self, x1):
            if not x1.device == self.__cached_x1.device or not torch.equal(x1, self.__cached_x1):
                self.scattered = self.lin(x1)
                self.__cached_x1 = x1
            return self.scattered

    # the first call after .to(): the device test short-circuits, so the CPU placeholder meets nothing
    m = MultiDeviceKernel().to("meta").to(torch.float64)
    y = m(torch.ones(3, 2, device="meta", dtype=torch.float64))
    assert m._MultiDeviceKernel__cached_x1.device.type == "meta"
    # later calls compare two tensors of the input's device (meta has no kernel for aten::equal: shown on CPU, cast)
    h = MultiDeviceKernel().half()
    h(torch.ones(3, 2, dtype=torch.half))
    h(torch.ones(3, 2, dtype=torch.half))
    return f"meta/float64 forward -> {y.device} {y.dtype}, cache now on meta; half forward twice works"


def modules_in_dict_also_set_into_registered_net():
    """MRG102 x-transformers ttt_wrappers: each wrapper is also `setattr` into the registered `self.net` by path."""

    class Wrapper(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            return self.module(x)

    def set_module_by_path(model, path, new):
        *parts, last = path.split(".")
        mod = model
        for p in parts:
            mod = getattr(mod, p)
        setattr(mod, last, new)

    class XL(nn.Module):
        def __init__(self, net, paths=("layers.0", "layers.1")):
            super().__init__()
            self.net = net
            self.ttt_wrappers = dict()
            for path in paths:
                wrapper = Wrapper(net.get_submodule(path))
                set_module_by_path(net, path, wrapper)
                self.ttt_wrappers[path] = wrapper

        def forward(self, x):
            return self.net(x)

    net = nn.Module()
    net.layers = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net.forward = lambda x: net.layers(x)
    m = XL(net)
    keys = [k for k in m.state_dict() if "module" in k]
    m.to(torch.float64)
    assert all(p.dtype == torch.float64 for w in m.ttt_wrappers.values() for p in w.parameters())
    assert len(keys) == 4, keys
    return f"wrapper weights in state_dict ({len(keys)} keys) and cast by .to()"


def explicit_device_tensor_passed_in():
    """MRG201 ultralytics KeypointLoss sigmas, botorch penalties/acquisitions: a caller's tensor, made on the data's device."""

    class KeypointLoss(nn.Module):
        def __init__(self, sigmas: torch.Tensor):
            super().__init__()
            self.sigmas = sigmas

        def forward(self, d, area):
            return d / ((2 * self.sigmas).pow(2) * (area + 1e-9) * 2)

    device = "meta"  # the criterion reads the model's device and builds the tensor there (a plain class, never moved)
    loss = KeypointLoss(sigmas=torch.ones(17, device=device) / 17)
    y = loss(torch.ones(2, 17, device=device), torch.ones(2, 1, device=device))
    return f"built on the model's device -> {y.device}"


def counter_recreated_on_first_call():
    """MRG201 pyro MHResampler.transition_count: a 0-d placeholder replaced by zeros_like(the samples) on the first call."""

    class MHResampler(nn.Module):
        def __init__(self):
            super().__init__()
            self.samples = None
            self.transition_count = torch.tensor(0, dtype=torch.long)

        def forward(self, log_weights):
            if self.samples is None:
                self.samples = log_weights.clone()
                self.transition_count = torch.zeros_like(log_weights, dtype=torch.long)
            else:
                idx = torch.ones_like(log_weights, dtype=torch.bool)
                self.transition_count[idx] += 1
            return self.samples

    m = MHResampler().to("meta")
    m(torch.ones(3, device="meta"))  # the first call re-creates the counter on the samples' device
    assert m.transition_count.device.type == "meta"
    c = MHResampler()  # the increment (boolean-mask indexing has no meta kernel: shown on CPU)
    c(torch.ones(3))
    c(torch.ones(3))
    saved = list(c.state_dict())
    return (f"counter re-created on {m.transition_count.device}; counts {c.transition_count.tolist()}; "
            f"state_dict {saved} holds neither it nor the chain state (`samples`) it counts")


def mixin_init_without_super():
    """MRG401 botorch PairwiseMCSampler: a mixin whose subclasses call another base's __init__ (Module.__init__ runs)."""

    class MCSampler(nn.Module):
        def __init__(self, sample_shape, seed=None):
            super().__init__()
            self.sample_shape = sample_shape
            self.seed = seed

        def forward(self, posterior):
            return posterior.expand(*self.sample_shape, *posterior.shape)

    class IIDNormalSampler(MCSampler):
        pass

    class PairwiseMCSampler(MCSampler):
        def __init__(self, max_num_comparisons=None, seed=None):
            self.max_num_comparisons = max_num_comparisons
            self.seed = seed if seed is not None else 0

        def forward(self, posterior):
            return super().forward(posterior)[..., : self.max_num_comparisons]

    class PairwiseIIDNormalSampler(PairwiseMCSampler, IIDNormalSampler):
        def __init__(self, sample_shape, seed=None, max_num_comparisons=None):
            PairwiseMCSampler.__init__(self, max_num_comparisons=max_num_comparisons, seed=seed)
            IIDNormalSampler.__init__(self, sample_shape=sample_shape, seed=seed)

    s = PairwiseIIDNormalSampler(torch.Size([2]), max_num_comparisons=2).to("meta")
    y = s(torch.ones(3, device="meta"))

    class FixedPairwise(MCSampler):  # the suggested fix: super().__init__() in the mixin
        def __init__(self, max_num_comparisons=None, seed=None):
            super().__init__()
            self.max_num_comparisons = max_num_comparisons

    class FixedIID(FixedPairwise, IIDNormalSampler):
        def __init__(self, sample_shape, seed=None, max_num_comparisons=None):
            FixedPairwise.__init__(self, max_num_comparisons=max_num_comparisons, seed=seed)
            IIDNormalSampler.__init__(self, sample_shape=sample_shape, seed=seed)

    try:
        FixedIID(torch.Size([2]))
    except TypeError as e:
        return f"the subclass works ({tuple(y.shape)} on {y.device}); with super().__init__() it raises: {e}"
    raise AssertionError("super().__init__() in the mixin did not break the subclass")


def zero_d_scale_argument():
    """MRG201 botorch SineCosineTransform.scale: its only caller passes a 0-d tensor (made on the kernel's device)."""

    class SineCosineTransform(nn.Module):
        def __init__(self, scale=None):
            super().__init__()
            self.scale = scale

        def forward(self, values):
            sincos = torch.concat([values.sin(), values.cos()], dim=-1)
            return sincos if self.scale is None else self.scale * sincos

    m = SineCosineTransform(torch.tensor((2 / 8) ** 0.5)).to("meta")  # even a CPU 0-d tensor survives
    y = m(torch.ones(2, 4, device="meta"))
    h = SineCosineTransform(torch.tensor((2 / 8) ** 0.5)).half()
    yh = h(torch.ones(2, 4, dtype=torch.half))
    assert yh.dtype == torch.half, yh.dtype
    return f"meta forward -> {y.device}; half forward stays {yh.dtype}"


def cpu_feature_bank_is_data():
    """MRG205 lightly KNNClassifier _train_features/_train_targets: `.cpu()` copies gathered, then moved to the device."""

    class KNN(nn.Module):
        def __init__(self, feature_dtype=torch.float32):
            super().__init__()
            self.model = nn.Linear(4, 4)
            self.feature_dtype = feature_dtype
            self._train_features = []
            self._train_features_tensor = None

        def _prepare_features(self, features):
            return features.to(self.feature_dtype)

        def append_train_features(self, features):
            self._train_features.append(features.cpu())

        def concat_train_features(self):
            device = next(self.parameters()).device
            self._train_features_tensor = torch.cat(self._train_features, dim=0).t().contiguous().to(device)
            self._train_features = []

        def forward(self, x):
            return self._prepare_features(self.model(x)) @ self._train_features_tensor

    # `.cpu()` copies cannot be made of meta tensors, so the device half is the code itself: every entry is a CPU
    # copy by construction and the gathered bank is moved to the module's device; the dtype half runs here
    m = KNN()
    m.append_train_features(m._prepare_features(m.model(torch.ones(3, 4))))  # recorded before the cast
    m.to(torch.float64)
    m.append_train_features(m._prepare_features(m.model(torch.ones(3, 4, dtype=torch.float64))))
    m.concat_train_features()
    y = m(torch.ones(2, 4, dtype=torch.float64))
    return f"bank recorded across .to(float64) -> forward {y.dtype} {tuple(y.shape)}"


def kwargs_dict_with_stateless_module():
    """MRG102 pytorch-forecasting kan_params: a dict of constructor kwargs (one a SiLU) spread into each layer."""

    class KANLayer(nn.Module):
        def __init__(self, in_dim, out_dim, base_fun=None, num=5):
            super().__init__()
            self.base_fun = base_fun if base_fun is not None else nn.SiLU()
            self.lin = nn.Linear(in_dim, out_dim)

        def forward(self, x):
            return self.lin(self.base_fun(x))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.kan_params = dict(num=5, base_fun=nn.SiLU())
            self.layers = nn.Sequential(KANLayer(4, 4, **self.kan_params), KANLayer(4, 4, **self.kan_params))

        def forward(self, x):
            return self.layers(x)

    m = Block()
    assert not list(m.kan_params["base_fun"].parameters()) and not list(m.kan_params["base_fun"].buffers())
    assert m.layers[0].base_fun is m.kan_params["base_fun"]  # registered by every layer that receives it
    m = m.to("meta").to(torch.float64)
    y = m(torch.ones(2, 4, device="meta", dtype=torch.float64))
    return f"the dict's only module has no state and is registered in each layer; forward -> {y.device} {y.dtype}"


def base_forward_without_self_is_never_called():
    """MRG304 mmdet fpg Transition.forward(x): the abstract base breaks only when called itself; subclasses override."""

    class Transition(nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.in_channels = in_channels

        def forward(x):
            pass

    class UpInterpolationConv(Transition):
        def __init__(self, c):
            super().__init__(c, c)
            self.conv = nn.Conv2d(c, c, 1)

        def forward(self, x):
            return self.conv(x)

    y = UpInterpolationConv(2)(torch.ones(1, 2, 3, 3))
    try:
        Transition(2, 2)(torch.ones(1))
    except TypeError as e:
        return f"every subclass works ({tuple(y.shape)}); only a bare Transition raises: {e}"
    raise AssertionError("a bare Transition did not raise")


# --- a bug no rule reports (recorded in docs/accuracy.md, not a labelled finding) ---------------------


def missed_external_base_constant_left_behind():
    """Missed: botorch OrthogonalAdditiveKernel(gpytorch Kernel)._quad_zero, cat with a Parameter after .to(device)."""

    class OrthogonalAdditiveKernel(nn.Module):  # gpytorch.kernels.Kernel is an nn.Module from another library
        def __init__(self, dim, batch_shape=torch.Size([]), second_order=True, dtype=None, device=None):
            super().__init__()
            tkwargs = {"dtype": dtype, "device": device}
            self.batch_shape, self.dim = batch_shape, dim
            self.raw_coeffs_2 = nn.Parameter(torch.rand(*batch_shape, dim * (dim - 1) // 2, **tkwargs))
            if second_order:
                self._rev_triu_indices = torch.tensor([3, 0, 1, 3, 3, 2, 3, 3, 3], device=device, dtype=int)
                self._quad_zero = torch.zeros(
                    tuple(1 for _ in range(len(self.batch_shape) + 1)), **tkwargs
                ).expand(*self.batch_shape, 1)

        @property
        def coeffs_2(self):
            C2 = torch.cat((self.raw_coeffs_2, self._quad_zero), dim=-1)
            C2 = C2.index_select(-1, self._rev_triu_indices)
            return C2.reshape(*self.batch_shape, self.dim, self.dim)

        def forward(self, x1, x2):
            return torch.einsum("...ij,...jk,kl->...il", x1, self.coeffs_2, x2.mT)

    k = OrthogonalAdditiveKernel(3).to("meta")  # botorch's own idiom: build, then `.to(**tkwargs)`
    k(torch.ones(2, 3, device="meta"), torch.ones(2, 3, device="meta"))


EXPECTED = {
    beamformer_without_super_init: "breaks",
    direct_forward_skips_hooks: "breaks",
    shape_keyed_cache_stale_after_to: "breaks",
    unmoved_normalisation_constants: "breaks",
    own_call_override_has_no_hooks: "survives",
    device_checked_cache_survives: "survives",
    modules_in_dict_also_set_into_registered_net: "survives",
    explicit_device_tensor_passed_in: "survives",
    counter_recreated_on_first_call: "survives",
    mixin_init_without_super: "survives",
    zero_d_scale_argument: "survives",
    cpu_feature_bank_is_data: "survives",
    kwargs_dict_with_stateless_module: "survives",
    base_forward_without_self_is_never_called: "survives",
    missed_external_base_constant_left_behind: "breaks",
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
