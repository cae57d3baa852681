"""MRG902 (unused-noqa, ruff's RUF100 for modreg's codes), through the real commands.

Ground truth is flake8's own ``noqa`` handling: removing the codes MRG902 names leaves flake8's output unchanged
(they silenced nothing), while removing a code it does not name brings a finding back.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from flake8_modreg.rules.unused_noqa import UnusedNoqa

pytest.importorskip("flake8")

SRC = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]  # noqa: MRG101
            self.fc = nn.Linear(2, 2)  # noqa: MRG101
            self.head = nn.Linear(2, 2)  # noqa: E501, MRG3
            self.tail = [nn.Linear(2, 2)]  # noqa: MRG1O1,MRG101
            self.more = [nn.Linear(2, 2)]  # noqa

        def forward(self, x):
            return self.fc(x)
    """
)


def flake8(path, *args, unused=True):
    """flake8's MRG lines (its default selection plus ``args``); without MRG902's when ``unused`` is False."""
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args, path.name],
        cwd=path.parent, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    return sorted(x for x in proc.stdout.splitlines() if ": MRG" in x and (unused or ": MRG902 " not in x))


def modreg(path, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", *args, path.name],
        cwd=path.parent, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return proc.returncode, [line for line in proc.stdout.splitlines() if re.match(r"\S+:(cell \d+:)?\d+:\d+: ", line)]


def without(source: str, line: int, codes: list[str]) -> str:
    """``source`` with ``codes`` taken out of the ``# noqa`` on ``line`` (the comment goes if none remain)."""
    lines = source.splitlines(keepends=True)
    m = re.search(r"  # (noqa):\s?((?:[A-Z]+[0-9]+(?:[,\s]+)?)+)(.*)$", lines[line - 1], re.IGNORECASE)
    keep = [c for c in re.split(r"[,\s]+", m.group(2)) if c and c not in codes]
    comment = f"  # {m.group(1)}: {', '.join(keep)} {m.group(3)}".rstrip() if keep else ""
    lines[line - 1] = lines[line - 1][: m.start()] + comment + "\n"
    return "".join(lines)


EXPECTED = [
    "net.py:8:36: MRG902 unused code MRG101 in '# noqa': remove MRG101 from the comment",
    "net.py:9:38: MRG902 unused code MRG3 in '# noqa': remove MRG3 from the comment",
    "net.py:10:40: MRG902 unknown code MRG1O1 in '# noqa': remove MRG1O1 from the comment",
]


def test_the_cli_and_flake8_report_the_same_unused_codes(tmp_path):
    """Line 7's code silences a finding, line 11's bare noqa is left alone (its finding too: a bare noqa)."""
    path = tmp_path / "net.py"
    path.write_text(SRC, encoding="utf-8")
    assert modreg(path, "--extend-select", "MRG902") == (1, EXPECTED)
    assert flake8(path, "--extend-select", "MRG902") == sorted(EXPECTED)
    # off by default in both
    assert modreg(path) == (0, [])
    assert flake8(path) == []


@pytest.mark.parametrize("i", range(len(UnusedNoqa.invalid)))
def test_the_reported_codes_silence_nothing_under_flake8(tmp_path, i):
    """Ground truth: each invalid example without the codes MRG902 names gives flake8 the same findings."""
    from flake8_modreg import Config, check

    case = UnusedNoqa.invalid[i]
    path = tmp_path / "m.py"
    path.write_text(case.code, encoding="utf-8")
    before = flake8(path, "--extend-select", "MRG902", unused=False)
    reported = [f for f in check(case.code, config=Config(select=("ALL",))) if f.code == "MRG902"]
    assert reported
    source = case.code
    for f in reported:
        codes = f.fix_hint[len("remove ") : -len(" from the comment")].split(", ")
        source = without(source, f.line, codes)
    path.write_text(source, encoding="utf-8")
    assert flake8(path, "--extend-select", "MRG902") == before  # and no MRG902 left
    assert [f for f in check(source, config=Config(select=("ALL",))) if f.code == "MRG902"] == []
    # while a code it did not name is in use: taking it out too brings a finding back
    used = without(source, case.also[0][1], [case.also[0][0]])
    path.write_text(used, encoding="utf-8")
    assert len(flake8(path, unused=False)) == len(before) + 1


def test_a_notebook_cell_is_judged_and_located_in_its_cell(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook()
    nb.cells = [new_code_cell("import torch.nn as nn"), new_code_cell("fc = nn.Linear(2, 2)  # noqa: MRG101")]
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    rc, out = modreg(tmp_path / "nb.ipynb", "--extend-select", "MRG902")
    assert (rc, out) == (1, ["nb.ipynb:cell 2:1:23: MRG902 unused code MRG101 in '# noqa': remove MRG101 from the comment"])


ODD = textwrap.dedent(
    """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [nn.Linear(2, 2)]  # noqa: mrg101
            self.b = [nn.Linear(2, 2)]  # noqa:MRG101,,MRG2
            self.c = [nn.Linear(2, 2)]  # noqa : MRG2
            self.d = [nn.Linear(2, 2)]  #noqa: MRG2
            self.e = nn.Linear(2, 2)  # type: ignore  # noqa: MRG1 because
            self.f = [
                nn.Linear(2, 2),  # noqa: MRG101
            ]
    """
)


def test_odd_noqa_forms_are_judged_as_flake8_reads_them(tmp_path):
    """A lower-case code silences nothing (flake8 compares case-sensitively); `# noqa : X` is a bare noqa to
    flake8 and `#noqa` no noqa at all (not judged); a noqa after another comment counts; a noqa on a line inside
    brackets covers only that line (flake8 ends a range at every NL). Ground truth: flake8 without the codes."""
    path = tmp_path / "odd.py"
    path.write_text(ODD, encoding="utf-8")
    rc, out = modreg(path, "--extend-select", "MRG902")
    assert [line.split(": ")[0] + ": " + line.split(": ")[1] for line in out if "MRG902" in line] == [
        "odd.py:7:37: MRG902 unused code mrg101 in '# noqa'",
        "odd.py:8:37: MRG902 unused code MRG2 in '# noqa'",
        "odd.py:11:51: MRG902 unused code MRG1 in '# noqa'",
        "odd.py:13:31: MRG902 unused code MRG101 in '# noqa'",
    ]
    assert flake8(path, "--extend-select", "MRG902") == sorted(out)
    before = flake8(path, unused=False)
    fixed = without(without(without(without(ODD, 7, ["mrg101"]), 8, ["MRG2"]), 11, ["MRG1"]), 13, ["MRG101"])
    path.write_text(fixed, encoding="utf-8")
    assert flake8(path, unused=False) == before
    assert modreg(path, "--extend-select", "MRG902")[1] == [x for x in out if "MRG902" not in x]


def test_add_noqa_silences_the_findings_but_not_an_unused_noqa(tmp_path):
    """--add-noqa with MRG902 on: the new bug gets its noqa; the stale code is not kept alive with a `MRG902`."""
    path = tmp_path / "net.py"
    source = SRC.replace("  # noqa\n", "\n")  # line 11: a finding with no noqa
    path.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "flake8_modreg", "check", "--no-cache", "--extend-select", "MRG902", "--add-noqa", "net.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.stdout == "Added 1 noqa directive in 1 file.\nLeft 3 unused-noqa findings (MRG902): remove those codes by hand.\n"
    after = path.read_text(encoding="utf-8").splitlines()
    assert after[10] == "        self.more = [nn.Linear(2, 2)]  # noqa: MRG101"
    assert [a for a, b in zip(after, source.splitlines()) if a != b] == [after[10]]
    assert modreg(path, "--extend-select", "MRG902") == (1, EXPECTED)
