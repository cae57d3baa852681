"""``# noqa`` for the CLI and editor is flake8's ``# noqa``: compared with real flake8 on the same file."""

import subprocess
import sys
import textwrap

import pytest

from flake8_modreg import check
from flake8_modreg.noqa import Noqa, keep_unsuppressed

SOURCE = textwrap.dedent(
    '''\
    import torch
    import torch.nn as nn


    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = [nn.Linear(1, 1)]  # noqa
            self.b = [nn.Linear(1, 1)]  # noqa: MRG101
            self.c = [nn.Linear(1, 1)]  # noqa: MRG1
            self.d = [nn.Linear(1, 1)]  # noqa: MRG102
            self.e = [nn.Linear(1, 1)]  # NOQA:MRG101,E501
            self.f = [nn.Linear(1, 1)]  # noqa: mrg101
            self.g = torch.zeros(1)  # noqa:E501 MRG201
            self.h = [
                nn.Linear(1, 1),
            ]  # noqa: MRG101
            self.i = [nn.Linear(1, 1)]  # a comment, no noqa here
            self.j = \\
                [nn.Linear(1, 1)]  # noqa: MRG101
            self.k = [nn.Linear(1, 1)]  # noqa : MRG101
    '''
)


def _flake8(tmp_path, source):
    path = tmp_path / "m.py"
    path.write_text(source)
    out = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "MRG", "--format", "%(row)d:%(code)s", str(path)],
        capture_output=True,
        text=True,
    ).stdout
    return sorted(tuple(x.split(":")) for x in out.split())


def test_same_lines_silenced_as_flake8(tmp_path):
    ours = sorted((str(f.line), f.code) for f in Noqa.from_source(SOURCE).filter(check(SOURCE)))
    assert ours == _flake8(tmp_path, SOURCE)
    # and the cases are not vacuous: some lines are silenced and some are not
    assert {"11", "13", "15", "18"} <= {line for line, _ in ours}
    assert not {"8", "9", "10", "12", "14"} & {line for line, _ in ours}


def test_file_level_noqa(tmp_path):
    source = "# flake8: noqa\n" + SOURCE
    assert Noqa.from_source(source).filter(check(source)) == []
    assert _flake8(tmp_path, source) == []
    # on a line with code it does not count (flake8 warns instead)
    code_line = SOURCE.replace("import torch\n", "import torch  # flake8: noqa\n", 1)
    assert Noqa.from_source(code_line).filter(check(code_line))


def test_untokenizable_source_falls_back_to_physical_lines():
    noqa = Noqa.from_source("x = '''\nunterminated  # noqa\n")
    assert noqa.suppresses("MRG101", 2)
    assert not noqa.suppresses("MRG101", 1)


@pytest.mark.parametrize("text", [SOURCE, SOURCE.encode()])
def test_keep_callback(text):
    findings = check(text)
    kept = {f.line for f in findings if keep_unsuppressed(f, text)}
    assert 8 not in kept and 11 in kept


def test_form_feeds_and_unicode_separators_do_not_shift_lines(tmp_path):
    source = SOURCE.replace("import torch.nn as nn\n", "import torch.nn as nn  # \x0c \u2028 odd separators\n", 1)
    ours = sorted((str(f.line), f.code) for f in Noqa.from_source(source).filter(check(source)))
    assert ours == _flake8(tmp_path, source)
