"""Shared by MRG303-306: the framework's entry point and near-miss names."""

from __future__ import annotations

from typing import Iterator

from ..model import ClassFacts, FileModel, MethodFacts

#: the method the framework calls when the Module/Cell is called
ENTRY = {"torch": "forward", "mindspore": "construct"}


def entry_points(model: FileModel) -> Iterator[tuple[ClassFacts, MethodFacts]]:
    """Each Module/Cell class's own definition of its framework's entry point."""
    for cls in model.modules:
        meth = cls.methods.get(ENTRY[cls.framework])
        if meth is not None:
            yield cls, meth


def osa_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: one transposition counts 1)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def near_miss(name: str, target: str) -> bool:
    """Is the method name ``name`` a slip of ``target`` (``forward``, ``construct`` or ``__init__``)?

    * a plain name (``forward``/``construct``): ``name`` must be letters only --
      ``_forward``, ``forward2``, ``forward_features`` are deliberate helpers --
      equal ignoring case, or within Damerau-Levenshtein distance 1, or 2 with the
      same first letter and at most one letter more or less (``reward``,
      ``onward``, ``toward`` and ``format`` stay out);
    * ``__init__``: the letters ``init`` with a wrong number of underscores, at
      least two of them (``_init_``, ``__init``, ``___init__``; not the helpers
      ``init``/``_init``), or a ``__x__`` dunder whose ``x`` is within distance 1
      of ``init`` (``__int__``, ``__innit__``, ``__Init__``).
    """
    if name == target:
        return False
    low, want = name.lower(), target.lower()
    if target.startswith("__"):
        core = low.strip("_")
        if core == "init":
            return len(low) - len(core) >= 2
        if low.startswith("__") and low.endswith("__") and len(core) >= 3 and core.isalpha():
            return osa_distance(core, "init") <= 1
        return False
    if not name.isalpha():
        return False
    if low == want:
        return True
    diff = abs(len(low) - len(want))
    if diff > 2:
        return False
    d = osa_distance(low, want)
    return d <= 1 or (d == 2 and diff <= 1 and low[0] == want[0])
