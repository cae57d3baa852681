"""Cross-file Module bases: a small package whose Modules derive from classes of other files."""

import re
from pathlib import Path

from flake8_modreg import Config, check
from flake8_modreg.project import ProjectIndex, check_project, module_name_for

ROOT = Path(__file__).parent / "project_fixture"
FILES = sorted(str(p) for p in ROOT.rglob("*.py"))
EXPECT = re.compile(r"# (MRG\d{3}): (\d+)")


def _expected():
    want = set()
    for path in FILES:
        for n, line in enumerate(Path(path).read_text().splitlines(), 1):
            for code, col in EXPECT.findall(line):
                want.add((Path(path).name, n, int(col), code))
    return want


def test_module_names_follow_init_files():
    assert module_name_for(ROOT / "proj/models/heads/head.py") == ("proj.models.heads.head", False)
    assert module_name_for(ROOT / "proj/models/__init__.py") == ("proj.models", True)


def test_project_run_finds_modules_whose_bases_live_in_other_files():
    outcomes = check_project(FILES, Config(strict=True))
    got = {(Path(p).name, f.line, f.col, f.code) for p, o in outcomes.items() for f in o.findings}
    assert got == _expected()
    assert not any(o.error for o in outcomes.values())


def test_the_per_file_view_misses_them():
    """What the flake8 plugin sees: Head's base is an unknown import; without evidence nothing is reported."""
    head = ROOT / "proj/models/heads/head.py"
    got = {(f.line, f.code) for f in check(head.read_bytes(), config=Config(strict=True))}
    assert (12, "MRG101") not in got and (13, "MRG201") not in got
    # ...unless configured, which is the flake8 route
    configured = Config(strict=True, module_bases=("proj.Backbone", "Stage"))
    got = {(f.line, f.code) for f in check(head.read_bytes(), config=configured)}
    assert {(12, "MRG101"), (13, "MRG201"), (22, "MRG201")} <= got


def test_index_follows_reexports_and_chains():
    from flake8_modreg.project import summaries

    index = ProjectIndex(summaries(FILES, lambda p: Path(p).read_bytes()))
    assert index.resolve("proj.Backbone") == "proj.models.base.Backbone"
    assert index.framework_of("proj.util.plain.Stage") == "torch"  # via Middle, through a file with no torch import
    assert index.framework_of("proj.models.heads.head.DeepHead") == "torch"
    assert index.framework_of("proj.models.base.Mixin") is None
    assert index.framework_of("proj.models.heads.head.NotAModule") is None
    # only these files get knowledge from other files
    assert [Path(p).name for p in FILES if index.context_for(p)] == ["head.py", "plain.py"]  # and the torch-free file whose class is a Module through Middle


def test_a_relative_import_of_a_known_base_is_resolved_in_project_runs(tmp_path):
    """transformers' `from ...modeling_utils import PreTrainedModel` inside the transformers package."""
    pkg = tmp_path / "transformers" / "models" / "x"
    pkg.mkdir(parents=True)
    for d in (tmp_path / "transformers", tmp_path / "transformers" / "models", pkg):
        (d / "__init__.py").write_text("")
    (tmp_path / "transformers" / "modeling_utils.py").write_text("class PreTrainedModel:\n    pass\n")
    model = pkg / "modeling_x.py"
    model.write_text(
        "import torch\nfrom ...modeling_utils import PreTrainedModel\n\n\n"
        "class XModel(PreTrainedModel):\n    def __init__(self, config):\n        super().__init__(config)\n"
        "        self.table = torch.zeros(3)\n\n"
        "    def forward(self, x):\n        return x + self.table\n"
    )
    files = [str(p) for p in tmp_path.rglob("*.py")]
    got = {(f.line, f.code) for o in check_project(files, Config(strict=True)).values() for f in o.findings}
    assert got == {(8, "MRG201")}
    assert check(model.read_bytes(), config=Config(strict=True)) == []  # per file: a relative base is unknown
