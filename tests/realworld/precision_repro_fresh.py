"""Runtime reproductions behind the hand labels of the fresh set (``precision_labels_fresh.json``).

Not part of the default test run (``tests/test_precision_harness.py`` re-runs them).  Same contract as
``precision_repro.py``: each function rebuilds, standalone and in a few lines, the exact shape of one or more
labelled findings of the fresh libraries (the label's ``runtime`` field names the function), applies what a
user does to a model -- ``.to('meta')`` (a second device without a GPU), ``.half()`` or ``.to(torch.float64)``,
a forward hook, a ``state_dict()`` round trip -- runs it, and returns ``"breaks"`` or ``"survives"`` with the
error.  ``EXPECTED`` is what the labels claim; the script exits 1 when real torch disagrees::

    python tests/realworld/precision_repro_fresh.py        # under torch 2.13

None of the fresh libraries is imported: the shapes are copied, so the check needs torch only.
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


def plain_list_of_layers_is_lost():
    """MRG101 gluonts FeatureEmbedder.embedders, braindecode _TemporalFilter(residual='dense').net: layers in a list."""

    class FeatureEmbedder(nn.Module):
        def __init__(self, cardinalities=(3, 5), embedding_dimensions=(2, 4)):
            super().__init__()
            self.embedders = [nn.Embedding(num_embeddings=c, embedding_dim=d)
                              for c, d in zip(cardinalities, embedding_dimensions)]

        def forward(self, features):
            return torch.cat([e(features[:, i].long()) for i, e in enumerate(self.embedders)], dim=-1)

    m = FeatureEmbedder()
    m(torch.zeros(2, 2))  # runs
    if not list(m.parameters()) and not m.state_dict():
        raise RuntimeError("the embedding tables are in neither parameters() nor state_dict(): never trained or saved")


def direct_forward_skips_hooks_fresh():
    """MRG306 braindecode ContraWR conv.forward, flair embedding_layer.forward, gluonts model.forward: hooks skipped."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return self.lin(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList(Block() for _ in range(2))
            self.model = Block()

        def forward(self, x):
            for conv in self.convs:
                x = conv.forward(x)
            return self.model.forward(x)

    m = Net()
    seen = []
    m.convs[0].register_forward_hook(lambda *a: seen.append("conv"))
    m.model.register_forward_pre_hook(lambda *a: seen.append("model"))
    m(torch.ones(2, 4))
    if not seen:
        raise RuntimeError("forward hooks registered on the sub-modules never ran")
    return f"hooks ran: {seen}"


def unmoved_cls_token_cat():
    """MRG201 braindecode PBT(learnable_cls=False).cls_token: a zero token left on the CPU, cat with the tokens."""

    class PBT(nn.Module):
        def __init__(self, embed_dim=4):
            super().__init__()
            self.cls_token = torch.full(size=(1, 1, embed_dim), fill_value=0, requires_grad=False, dtype=torch.float32)
            self.patching_projection = nn.Linear(3, embed_dim, bias=False)

        def forward(self, X):
            tokens = self.patching_projection(X)
            cls_token = self.cls_token.expand(X.size(0), 1, -1)
            return torch.cat([cls_token, tokens], dim=1)

    m = PBT().to("meta")
    m(torch.ones(2, 5, 3, device="meta"))


def identity_group_matrix_left_float32():
    """MRG201 pytorch-tabnet TabNetEncoder(group_attention_matrix=None): a CPU fp32 eye matmul'd with the masks."""

    class TabNetEncoder(nn.Module):
        def __init__(self, input_dim=3, group_attention_matrix=None):
            super().__init__()
            self.att = nn.Linear(input_dim, input_dim)
            self.group_attention_matrix = group_attention_matrix
            if self.group_attention_matrix is None:
                self.group_attention_matrix = torch.eye(input_dim)

        def forward(self, x):
            M = torch.softmax(self.att(x), dim=-1)
            return torch.mul(torch.matmul(M, self.group_attention_matrix), x)

    m = TabNetEncoder().to(torch.float64)  # on a GPU `.cuda()` fails the same matmul on the device
    m(torch.ones(2, 3, dtype=torch.float64))


def running_statistic_missing_from_state_dict():
    """MRG201 pytorch-metric-learning DynamicSoftMarginLoss.hist_, torchao NVFP4ObservedLinear.amax: lost on reload."""

    class ObservedLinear(nn.Linear):
        def __init__(self, n=3):
            super().__init__(n, n)
            self.amax = torch.tensor(0.0)

        def forward(self, x):
            with torch.no_grad():
                self.amax = torch.max(self.amax.to(x.device), torch.max(torch.abs(x)))
            return super().forward(x)

    m = ObservedLinear()
    m(torch.full((2, 3), 5.0))  # calibration
    fresh = ObservedLinear()
    fresh.load_state_dict(m.state_dict())
    if float(fresh.amax) != float(m.amax):
        raise RuntimeError(f"calibrated amax {float(m.amax)} became {float(fresh.amax)} after a state_dict round trip")


# --- false findings: these survive -----------------------------------------------------------------


def plain_list_aliased_by_module_list():
    """MRG101 darts N-BEATS/N-HiTS/TCN *_list: the same list wrapped in nn.ModuleList, forward iterates the list."""

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks_list = [nn.Linear(4, 4) for _ in range(2)]
            self.blocks = nn.ModuleList(self.blocks_list)

        def forward(self, x):
            for block in self.blocks_list:
                x = block(x)
            return x

    m = Stack()
    assert len(m.state_dict()) == 4 and len(list(m.parameters())) == 4
    m = m.to("meta")
    out = m(torch.ones(2, 4, device="meta"))
    m = Stack().half()
    m(torch.ones(2, 4, dtype=torch.half))
    return f"{out.device}; all 4 tensors in state_dict(), list elements moved and cast with the ModuleList"


def cache_moved_and_cast_on_every_read():
    """MRG205 braindecode LUNA._channel_location_cache: CPU templates, every read `.to(device=, dtype=)` of the input."""

    class Luna(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(3, 3)
            self._channel_location_cache = {}

        def forward(self, x):
            n = x.shape[1]
            if n not in self._channel_location_cache:
                self._channel_location_cache[n] = torch.linspace(-1.0, 1.0, steps=n * 3).view(n, 3)
            template = self._channel_location_cache[n].to(device=x.device, dtype=x.dtype)
            return self.proj(x + template)

    m = Luna()
    m(torch.ones(2, 4, 3))  # fills the cache on the CPU
    m = m.to("meta")
    m(torch.ones(2, 4, 3, device="meta"))
    m = Luna()
    m(torch.ones(2, 4, 3))
    m = m.to(torch.float64)
    return str(m(torch.ones(2, 4, 3, dtype=torch.float64)).dtype)


def copy_source_crosses_devices():
    """MRG201 braindecode _PosEncoder.encoding_time: read only as the source of `.copy_()`, which moves and casts."""

    class PosEncoder(nn.Module):
        def __init__(self, time_dim=2):
            super().__init__()
            self.time_dim = time_dim
            self.lin = nn.Linear(4, 4)
            self.encoding_time = torch.zeros(0, dtype=torch.float32, requires_grad=False)

        def forward(self, local_features):
            n_times = local_features.shape[1]
            if self.encoding_time.size(0) < n_times:
                self.encoding_time = self.encoding_time.new_empty((n_times, self.time_dim))
                self.encoding_time[:] = torch.arange(n_times * self.time_dim, dtype=torch.float32).view(n_times, -1)
            pos = self.lin(local_features).new_empty(local_features.shape)
            pos[:, :, : self.time_dim].copy_(self.encoding_time[None, :n_times, :])
            return pos

    for m, x in ((PosEncoder().to("meta"), torch.ones(2, 3, 4, device="meta")),
                 (PosEncoder().half(), torch.ones(2, 3, 4, dtype=torch.half))):
        out = m(x)
    return f"{out.dtype}: copy_ moves and casts its source"


def empty_placeholder_replaced_by_stream_data():
    """MRG201 nemo OnlineSpeakerClustering history buffers / Y_fullhist: `torch.tensor([])` replaced before use."""

    class OnlineClustering(nn.Module):
        def __init__(self):
            super().__init__()
            self.history_embedding_buffer_emb = torch.tensor([])
            self.Y_fullhist = torch.tensor([])

        def forward(self, emb):
            if len(self.history_embedding_buffer_emb) == 0:
                pre = emb  # first call: the placeholder is only tested for emptiness
            else:
                pre = torch.vstack((self.history_embedding_buffer_emb, emb))
            self.history_embedding_buffer_emb = emb[:1]
            labels = (pre.sum(-1) > 0).long()
            self.Y_fullhist = labels if len(self.Y_fullhist) == 0 else torch.hstack((self.Y_fullhist.to(labels.device), labels))
            return self.Y_fullhist

    m = OnlineClustering().to("meta")
    for _ in range(3):
        out = m(torch.ones(4, 3, device="meta"))
    return f"{out.device}: every tensor read happens after the placeholder was overwritten with input data"


def grown_range_cache_moved_at_use():
    """MRG201 nemo MaskedConv1d max_len / lens: a 0-d length and an arange, rebuilt from the input, moved at use."""

    class MaskedConv1d(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 2, 1)
            self.max_len = torch.tensor(0)
            self.lens = torch.tensor(0)

        def forward(self, x, lens):
            if x.size(2) > self.max_len:
                self.lens, self.max_len = torch.arange(x.size(2)), torch.tensor(x.size(2))
                self.lens = self.lens.to(lens.device)
            mask = self.lens[: x.size(2)].unsqueeze(0).to(lens.device) < lens.unsqueeze(1)
            return self.conv(x * mask.unsqueeze(1).to(device=x.device))

    m = MaskedConv1d()
    m(torch.ones(2, 2, 5), torch.tensor([5, 3]))
    reloaded = MaskedConv1d()
    reloaded.load_state_dict(m.state_dict())
    a, b = m(torch.ones(2, 2, 5), torch.tensor([5, 3])), reloaded(torch.ones(2, 2, 5), torch.tensor([5, 3]))
    assert torch.equal(a, b), "the reloaded module differs"
    m = m.to(torch.float64)
    m(torch.ones(2, 2, 7, dtype=torch.float64), torch.tensor([7, 2]))
    return "same output after a state_dict round trip; float64 input of a new length works"


def callback_forward_returns_none_by_design():
    """MRG305 pytorch-metric-learning BatchedDistance: forward hands each block to `iter_fn`; None is its contract."""

    class BatchedDistance(nn.Module):
        def __init__(self, distance, iter_fn=None, batch_size=2):
            super().__init__()
            self.distance, self.iter_fn, self.batch_size = distance, iter_fn, batch_size

        def forward(self, query_emb, ref_emb=None):
            ref_emb = ref_emb if ref_emb is not None else query_emb
            for s in range(0, query_emb.shape[0], self.batch_size):
                e = s + self.batch_size
                self.iter_fn(self.distance(query_emb[s:e], ref_emb), s, e)

    blocks = []
    BatchedDistance(torch.cdist, lambda mat, s, e: blocks.append((s, e, tuple(mat.shape))))(torch.ones(5, 3))
    assert [b[:2] for b in blocks] == [(0, 2), (2, 4), (4, 6)]
    return f"iter_fn received every block: {blocks}"


def stateless_loss_dict_survives():
    """MRG102 pytorch-tabular DenoisingAutoEncoderModel.losses: a dict of default loss modules (no state, no mode)."""

    class DAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.decoder = nn.Linear(3, 3)
            self.losses = {"binary": nn.BCEWithLogitsLoss(), "continuous": nn.MSELoss()}

        def forward(self, x, y):
            out = self.decoder(x)
            return self.losses["binary"](out, y) + self.losses["continuous"](out, y)

    m = DAE()
    registered = nn.ModuleDict(m.losses)
    assert not registered.state_dict() and not list(registered.parameters())
    m = m.to("meta")
    m(torch.ones(2, 3, device="meta"), torch.ones(2, 3, device="meta"))
    m = DAE().half()
    m.eval()
    return str(m(torch.ones(2, 3, dtype=torch.half), torch.ones(2, 3, dtype=torch.half)).dtype)


def same_dtype_to_returns_the_parameter():
    """MRG204 torchao IntQuantizer: `nn.Parameter(scale).to(float32)` on a float32 scale is the Parameter itself."""

    class IntQuantizer(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = None
            self.quant_dtype = torch.float32

        def set_scale(self, x):
            scale = x.detach().to(self.quant_dtype).abs().amax(-1, keepdim=True) / 127
            self.scale = torch.nn.Parameter(scale, requires_grad=True).to(self.quant_dtype)

        def forward(self, x):
            return torch.round(x / self.scale) * self.scale

    q = IntQuantizer()
    q.set_scale(torch.randn(4, 3))
    names = [n for n, _ in q.named_parameters()]
    assert names == ["scale"], names
    q = q.to("meta")
    q(torch.ones(4, 3, device="meta"))
    return f"registered: {names}; moved with the module"


EXPECTED = {
    plain_list_of_layers_is_lost: "breaks",
    direct_forward_skips_hooks_fresh: "breaks",
    unmoved_cls_token_cat: "breaks",
    identity_group_matrix_left_float32: "breaks",
    running_statistic_missing_from_state_dict: "breaks",
    plain_list_aliased_by_module_list: "survives",
    cache_moved_and_cast_on_every_read: "survives",
    copy_source_crosses_devices: "survives",
    empty_placeholder_replaced_by_stream_data: "survives",
    grown_range_cache_moved_at_use: "survives",
    callback_forward_returns_none_by_design: "survives",
    stateless_loss_dict_survives: "survives",
    same_dtype_to_returns_the_parameter: "survives",
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
