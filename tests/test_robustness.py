"""Odd input gives findings or one ModregError line -- never anything else."""

import textwrap

import pytest

from flake8_modreg import Config, ModregError, check

BUG = textwrap.dedent(
    """\
    import torch.nn as nn
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]
    """
)


def codes(src, **kw):
    return [(f.code, f.line, f.col) for f in check(src, **kw)]


def test_empty_and_comment_only_files():
    assert check("") == [] and check(b"") == []
    assert check("# torch only in a comment\n") == []


@pytest.mark.parametrize(
    "src",
    [
        "import torch\nclass A(torch.nn.Module:\n    pass\n",
        "import torch\ndef f(:\n",
        "import torch\nprint 'python 2'\n",
        "import torch\n\x00\n",
    ],
    ids=["unbalanced", "bad-def", "python2", "nul"],
)
def test_unparsable_input_is_one_line_error(src):
    with pytest.raises(ModregError) as e:
        check(src)
    assert "\n" not in str(e.value) and str(e.value)


def test_syntax_error_reports_its_position():
    with pytest.raises(ModregError) as e:
        check("import torch\nclass A(torch.nn.Module:\n    pass\n")
    assert e.value.line in (2, 3)  # libcst reports where it noticed


def test_bom_bytes_and_str():
    assert codes(b"\xef\xbb\xbf" + BUG.encode()) == [("MRG101", 5, 8)]
    assert codes("\ufeff" + BUG) == [("MRG101", 5, 8)]


def test_crlf_and_mixed_line_endings():
    assert codes(BUG.replace("\n", "\r\n").encode()) == [("MRG101", 5, 8)]
    mixed = BUG.replace("\n", "\r\n", 2)
    assert codes(mixed) == [("MRG101", 5, 8)]


def test_tabs_and_form_feeds():
    src = BUG.replace("    ", "\t").replace("class Net", "\x0c\nclass Net")
    assert codes(src) == [("MRG101", 6, 2)]


def test_latin1_coding_cookie_in_bytes():
    src = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + BUG).encode("latin-1")
    assert codes(src) == [("MRG101", 7, 8)]


def test_invalid_utf8_is_one_line_error():
    with pytest.raises(ModregError) as e:
        check(b"import torch\nx = '\xff\xfe'\n")
    assert "\n" not in str(e.value)


def test_deep_nesting_gives_findings_or_one_error():
    deep_expr = "import torch\nx = " + "(" * 150 + "1" + ")" * 150 + "\n" + BUG
    try:
        assert ("MRG101", 7, 8) in codes(deep_expr)
    except ModregError as e:
        assert "\n" not in str(e)
    nested = "import torch.nn as nn\n" + "".join(" " * (4 * i) + f"class C{i}:\n" for i in range(100))
    nested += " " * 400 + "pass\n"
    try:
        assert codes(nested) == []
    except ModregError as e:
        assert "\n" not in str(e)


def test_huge_file():
    src = BUG + "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(10000))
    assert codes(src) == [("MRG101", 5, 8)]


def test_prefilter_skips_files_without_frameworks():
    assert check("class A(B):\n    def __init__(self):\n        self.x = [Linear()]\n") == []
    # ...but not when a configured base name appears
    src = "from mylib import Base\nimport torch\nclass A(Base):\n    def __init__(self):\n        super().__init__()\n        self.x = torch.zeros(1)\n    def forward(self, t):\n        return t + self.x\n"
    assert codes(src, config=Config(module_bases=("mylib.Base",))) == [("MRG201", 6, 8)]


def test_python_312_syntax():
    src = BUG + "type Alias[T] = list[T]\ndef g[T](x: T) -> T:\n    return f'{f\"{x}\"}'\n"
    try:
        assert codes(src) == [("MRG101", 5, 8)]
    except ModregError as e:  # an older libcst may not know the syntax: still one line
        assert "\n" not in str(e)


def test_output_is_the_same_whatever_the_hash_seed():
    """Issue 7: a peer built on libcst returns different findings per PYTHONHASHSEED; we must not."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    files = sorted(str(p) for p in (Path(__file__).parent / "fixtures").glob("*.py"))
    files += sorted(str(p) for p in (Path(__file__).parent.parent / "examples").glob("*.py"))
    script = (
        "import sys\n"
        "from flake8_modreg import Config, check\n"
        "for p in sys.argv[1:]:\n"
        "    for f in check(open(p, 'rb').read(), config=Config(select=('ALL',))):\n"
        "        print(p, f.line, f.col, f.code, f.message)\n"
    )
    outputs = set()
    for seed in ("0", "1", "42", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", script, *files], capture_output=True, text=True, env=env, check=True)
        outputs.add(out.stdout)
    assert len(outputs) == 1
    assert outputs.pop().count("MRG") >= 5  # not vacuous
