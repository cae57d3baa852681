"""The cross-file summary cache seen from outside: a warm flake8 run over an unchanged tree re-summarises nothing.

Every summary the resolver makes (``ast`` of another file) is written to the on-disk cache
(``MODREG_CACHE_DIR/summaries``) as a new file (``os.replace``), so a file's identity (inode,
mtime) there changes exactly when its summary was made again. Timing is left to
``bench/resolver.py`` (cold and warm caches).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

TREE = {
    "pkg/__init__.py": "from .layers import Mlp\n",
    "pkg/layers.py": """
        import torch.nn as nn


        class Mlp(nn.Module):
            pass


        def make(d):
            return nn.Linear(d, d)
    """,
    "pkg/blocks.py": """
        from .layers import Mlp


        class Block(Mlp):
            pass
    """,
    "pkg/net.py": """
        import torch
        from .blocks import Block
        from .layers import make


        class Net(Block):
            def __init__(self):
                super().__init__()
                self.layers = [make(2), make(3)]
                self.scale = torch.ones(3)

            def forward(self, x):
                return x * self.scale
    """,
}


def _summaries(cache: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in (cache / "summaries").rglob("*.json")}


def _flake8(root: Path, cache: Path, *args: str) -> str:
    env = {**os.environ, "MODREG_CACHE_DIR": str(cache)}
    env.pop("MODREG_NO_SUMMARY_CACHE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "MRG", *args, "pkg"],
        cwd=root, env=env, capture_output=True, text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_a_warm_flake8_run_over_an_unchanged_tree_resummarises_nothing(tmp_path):
    for rel, text in TREE.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    cache = tmp_path / "cache"
    for jobs in ("-j1", "-j2"):
        cold_out = _flake8(tmp_path, cache, jobs)
        cold = _summaries(cache)
        assert len(cold) >= 2  # the checks did consult other files (layers.py, blocks.py)
        assert "MRG101" in cold_out and "MRG201" in cold_out  # found through them
        warm_out = _flake8(tmp_path, cache, jobs)
        assert warm_out == cold_out
        assert _summaries(cache) == cold  # not one summary made again
    # the control: an edited file is summarised again, and only it
    layers = tmp_path / "pkg" / "layers.py"
    layers.write_text(layers.read_text() + "\n\nclass Extra(nn.Module):\n    pass\n")
    os.utime(layers, ns=(1, 10**18))  # a different mtime even on a coarse clock
    _flake8(tmp_path, cache, "-j1")
    after = _summaries(cache)
    changed = {p for p in cold if after.get(p) != cold[p]}
    assert len(changed) == 1
