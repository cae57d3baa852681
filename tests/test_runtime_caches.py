"""Runtime truth for MRG205 (stale-tensor-cache), from the rule's own examples.

A tensor cached in a plain dict/list keeps its dtype after ``.to(torch.float64)``
/ ``.half()`` (``train()`` overrides do not run then); an ``_apply`` override
that clears the cache makes the next call rebuild it from the converted state.
"""

import pytest

from flake8_modreg.rules.stale_tensor_cache import StaleTensorCache

torch = pytest.importorskip("torch")


def _class(code: str, name: str):
    ns = {"__name__": "modreg_cache_probe"}
    exec(compile(code, f"<{name}>", "exec"), ns)
    return ns[name]


def test_cache_cleared_only_in_train_goes_stale_after_to():
    m = _class(StaleTensorCache.invalid[0].code, "Attention")().eval()
    x = torch.zeros(1)
    m(x)
    assert m.bias_cache["cpu"].dtype == torch.float32
    m.to(torch.float64)
    assert m.attention_biases.dtype == torch.float64
    assert m.get_bias(x.device).dtype == torch.float32  # stale: the cached float32 copy
    assert m.bias_cache  # .to() never called train(), which would have cleared it


def test_apply_override_clears_the_cache():
    m = _class(StaleTensorCache.valid[0].code, "Attention")()
    m.eval()  # timm's train() override returns None
    m.get_attention_biases(torch.device("cpu"))
    assert m.attention_bias_cache
    m.to(torch.float64)
    assert m.attention_bias_cache == {}
    assert m.get_attention_biases(torch.device("cpu")).dtype == torch.float64


def test_clear_in_apply_and_half():
    m = _class(StaleTensorCache.valid[1].code, "Resampler")()
    m._pinv("k", 2)
    m.half()
    assert m._pinv_cache_map == {}


def test_cached_table_keeps_float32_after_half():
    m = _class(StaleTensorCache.invalid[1].code, "RotaryTable")()
    x = torch.zeros(3, 4)
    m(x)
    m.half()
    assert m.freqs.dtype == torch.float16
    out = m(x.half())
    assert m.tables[3].dtype == torch.float32 and out.dtype == torch.float32  # silently promoted
    fresh = _class(StaleTensorCache.invalid[1].code, "RotaryTable")().half()
    assert fresh(x.half()).dtype == torch.float16  # what the converted module computes without the stale entry


def test_data_stores_are_not_caches_forward_never_reads_them_back():
    """MRG205's exemption: a store filled outside forward (or only filled by it) cannot feed a stale tensor to forward."""
    code = next(v.code for v in StaleTensorCache.valid if v.why.startswith("data stores"))
    m = _class(code, "Recognizer")()
    m.record("utt1", torch.ones(2))
    m(torch.zeros(1, 4))
    m.to(torch.float64)
    out = m(torch.zeros(1, 4, dtype=torch.float64))
    assert out.dtype == torch.float64  # nothing stale reaches forward's result
    results, trace = m.dump()
    assert results["utt1"].dtype == torch.float32  # the record is kept as recorded: clearing it would lose data
    assert len(trace) == 2


def test_device_keyed_integer_cache_survives_half_float64_and_another_device():
    """MRG205's exemption: integer tensors cached under the device they were made on never go stale."""
    code = next(v.code for v in StaleTensorCache.valid if "integer labels" in v.why)
    m = _class(code, "ClipLoss")()
    m(torch.randn(3, 3))
    m.half()
    assert m(torch.randn(3, 3).half()).dtype == torch.float16
    m.to(torch.float64)
    assert m(torch.randn(3, 3, dtype=torch.float64)).dtype == torch.float64
    m.to("meta")
    assert m.get_ground_truth(torch.device("meta"), 3).device.type == "meta"  # another device: its own entry
    assert m.labels[torch.device("cpu")].dtype == torch.long


def test_metric_update_cache_serves_float32_after_half():
    code = next(i.code for i in StaleTensorCache.invalid if "update()" in i.title)
    m = _class(code, "Metric")()
    m.update(torch.ones(3))
    m.half()
    assert m.total.dtype == torch.float16
    assert m._weights(torch.ones(3, dtype=torch.float16)).dtype == torch.float32  # the stale entry is served


def test_complex_entries_moved_on_read_survive_another_device_and_half():
    code = next(v.code for v in StaleTensorCache.valid if "moved to the device at hand" in v.why)
    from flake8_modreg import check

    assert [f for f in check(code) if f.code == "MRG205"] == []
    m = _class(code, "Rotary")()
    _, f_cpu = m(torch.ones(2, 4))
    assert f_cpu.dtype == torch.complex128 and m.freqs_cache
    meta = m.to("meta")
    _, f_meta = meta(torch.ones(2, 4, device="meta"))
    assert f_meta.device.type == "meta"  # the stale CPU entry was moved on its read
    half = _class(code, "Rotary")()
    half(torch.ones(2, 4))
    half = half.half()
    _, f_half = half(torch.ones(2, 4, dtype=torch.float16))
    fresh = _class(code, "Rotary")().half()
    _, f_fresh = fresh(torch.ones(2, 4, dtype=torch.float16))
    assert f_half.dtype == f_fresh.dtype == torch.complex128  # .half() leaves complex tensors alone: as fresh
    # the same cache of float entries is reported: .half() would leave float32 entries behind
    floaty = code.replace("return torch.polar(torch.ones_like(angles), angles)", "return angles.float()")
    assert [f.code for f in check(floaty) if f.code == "MRG205"] == ["MRG205"]


def test_entries_moved_to_host_memory_survive_another_device_and_kept_ones_break():
    """MRG205's exemption: entries stored with ``.cpu()`` stay in host memory on purpose; ``.to()`` never placed them.

    The reported look-alike keeps entries where the module made them: after a move to another device (``meta``
    stands in for a GPU) the next fill lands there and the read-back ``torch.cat`` mixes devices.
    """
    valid = next(v.code for v in StaleTensorCache.valid if v.why.startswith("every entry is moved to host memory"))
    m = _class(valid, "KNN")()
    m.validation_step(torch.ones(2, 4), torch.ones(2, 4))
    m.to("meta")
    assert all(t.device.type == "cpu" for t in m.bank)  # .to() leaves the bank where the code put it
    # on a real GPU `feats.cpu()` hands a host tensor to the bank; a meta tensor has no data to copy, so the
    # fill is fed that host tensor directly and the read is checked: everything in the bank is still together
    m.bank.append(torch.ones(2, 4))
    assert torch.cat(m.bank).to("meta").device.type == "meta"

    invalid = next(i.code for i in StaleTensorCache.invalid if "kept where the module made them" in i.title)
    k = _class(invalid, "KNN")()
    k.validation_step(torch.ones(2, 4), torch.ones(2, 4))
    k.to("meta")
    with pytest.raises((RuntimeError, NotImplementedError)):
        k.validation_step(torch.ones(2, 4, device="meta"), torch.ones(2, 4, device="meta"))


def test_entries_moved_and_cast_at_every_read_survive_float64_half_and_another_device():
    """MRG205's exemption: ``self.c[k].to(device=x.device, dtype=x.dtype)`` converts whatever is served."""
    code = next(v.code for v in StaleTensorCache.valid if v.why.startswith("every read moves and casts"))
    m = _class(code, "Locations")()
    m(torch.ones(2, 4, 3))  # fills the cache in float32 on the CPU
    m.to(torch.float64)
    assert m(torch.ones(2, 4, 3, dtype=torch.float64)).dtype == torch.float64
    assert m.templates[4].dtype == torch.float32  # the entry itself is stale, and never served as such
    m.to("meta")
    assert m(torch.ones(2, 4, 3, device="meta", dtype=torch.float64)).device.type == "meta"
