"""The precision harness (tests/realworld/precision.py) and its labels, without downloading anything.

* the label file is well formed: unique ids of five fields, a known verdict and a
  reason for every label, and every ``runtime`` reference names a reproduction
  of ``precision_repro.py``;
* a finding is keyed by its subject and merged with its label exactly, by
  subject when only its line moved, or counted as unclassified; a label whose
  finding is gone is listed;
* every reproduction in ``precision_repro.py`` (and the held-out and fresh sets'
  ``precision_repro_heldout.py`` / ``precision_repro_fresh.py``) still does under
  real torch what its labels claim (breaks or survives).
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REALWORLD = HERE / "realworld"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REALWORLD / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


precision = _load("precision")
repro = _load("precision_repro")
repro_heldout = _load("precision_repro_heldout")
repro_fresh = _load("precision_repro_fresh")


@pytest.mark.parametrize("which", ["tuned", "heldout", "fresh"])
def test_labels_are_well_formed(which):
    chosen = precision.SETS[which]
    module = {"tuned": repro, "heldout": repro_heldout, "fresh": repro_fresh}[which]
    assert module.__name__ == chosen["repro"]
    entries = json.loads(chosen["labels"].read_text())
    ids = [e["id"] for e in entries]
    assert ids and len(ids) == len(set(ids))
    names = {fn.__name__ for fn in module.EXPECTED}
    for e in entries:
        library, path, line, code, _subject = e["id"].split("|")
        assert library in chosen["libraries"], e["id"]
        assert path.endswith(".py") and int(line) > 0 and code.startswith("MRG"), e["id"]
        assert e["verdict"] in precision.VERDICTS and e["reason"].strip(), e["id"]
        if e["verdict"] != "true":
            assert e.get("pattern") in precision.PATTERNS, e["id"]
        if "runtime" in e:
            ref = e["runtime"].split("::", 1)
            assert ref[0] == f"tests/realworld/{chosen['repro']}.py", e["id"]
            assert ref[1].split()[0] in names, e["id"]


def test_the_sets_share_no_library():
    sets = [set(precision.LIBRARIES), set(precision.HELDOUT), set(precision.FRESH)]
    assert all(not a & b for i, a in enumerate(sets) for b in sets[i + 1:])
    assert not {"timm", "transformers"} & set().union(*sets)


def test_subject_is_the_first_quoted_name_without_self():
    assert precision.subject("tensor 'self.m' is a plain attribute") == "m"
    assert precision.subject("'layer.forward(...)' calls a sub-module's forward") == "layer.forward(...)"
    assert precision.subject("no quote") == ""


def _finding(line, code="MRG201", attr="m", path="a/b.py"):
    return {"path": path, "line": line, "code": code, "message": f"tensor 'self.{attr}' is a plain attribute"}


def test_merge_exact_moved_unclassified_and_gone():
    labels = {
        "lib|a/b.py|10|MRG201|m": {"verdict": "false", "reason": "r"},
        "lib|a/b.py|20|MRG201|k": {"verdict": "true", "reason": "r"},
        "lib|a/b.py|30|MRG201|gone": {"verdict": "true", "reason": "r"},
    }
    results = {"lib": ([_finding(10), _finding(25, attr="k"), _finding(40, attr="new")], [], {})}
    rows, gone = precision.merge(results, labels)
    assert [r["match"] for r in rows] == ["exact", "moved", None]
    assert rows[1]["label"]["verdict"] == "true"
    assert gone == ["lib|a/b.py|30|MRG201|gone"]
    t = precision.tally(rows, "code")["MRG201"]
    assert (t["findings"], t["true"], t["false"], t["unclassified"]) == (3, 1, 1, 1)
    assert precision.precision(t) == "0.50"


def test_a_moved_label_is_used_once_and_only_when_unambiguous():
    labels = {"lib|a/b.py|10|MRG201|m": {"verdict": "false", "reason": "r"}}
    rows, _ = precision.merge({"lib": ([_finding(11), _finding(12)], [], {})}, labels)
    assert [r["match"] for r in rows] == ["moved", None]


@pytest.mark.parametrize("fn", list(repro.EXPECTED), ids=lambda fn: fn.__name__)
def test_reproduction_behaves_as_labelled(fn):
    got, detail = repro.outcome(fn)
    assert got == repro.EXPECTED[fn], detail


@pytest.mark.parametrize("fn", list(repro_heldout.EXPECTED), ids=lambda fn: fn.__name__)
def test_heldout_reproduction_behaves_as_labelled(fn):
    got, detail = repro_heldout.outcome(fn)
    assert got == repro_heldout.EXPECTED[fn], detail


@pytest.mark.parametrize("fn", list(repro_fresh.EXPECTED), ids=lambda fn: fn.__name__)
def test_fresh_reproduction_behaves_as_labelled(fn):
    got, detail = repro_fresh.outcome(fn)
    assert got == repro_fresh.EXPECTED[fn], detail


def test_an_exact_match_wins_over_a_moved_one():
    labels = {"lib|a/b.py|12|MRG201|m": {"verdict": "false", "reason": "r"}}
    rows, _ = precision.merge({"lib": ([_finding(11), _finding(12)], [], {})}, labels)
    assert [r["match"] for r in rows] == [None, "exact"]
