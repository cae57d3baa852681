"""Docs are generated from the rule modules; stale or orphaned pages fail the build."""

from flake8_modreg import docs
from flake8_modreg.rules import all_rules
from flake8_modreg.rules._base import REQUIRED_SECTIONS


def test_generated_docs_are_fresh():
    assert docs.stale() == [], "run: python -m flake8_modreg.docs --write"


def test_every_page_has_the_required_sections():
    for rule in all_rules():
        page = docs.render_rule(rule)
        assert page.startswith(f"# {rule.name} ({rule.code})\n")
        for section in REQUIRED_SECTIONS:
            assert f"## {section}" in page, (rule.code, section)
        assert f"# noqa: {rule.code}" in page


def test_every_code_is_in_the_readme_table():
    readme = (docs.ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split(docs.START, 1)[1].split(docs.END, 1)[0]
    for rule in all_rules():
        assert f"[{rule.code}](docs/rules/{rule.code}.md)" in table


def test_examples_in_docs_are_the_tested_examples():
    for rule in all_rules():
        page = docs.render_rule(rule)
        for case in (*rule.invalid, *rule.valid):
            assert case.code.rstrip() in page


def test_stale_detection_notices_an_edit(tmp_path):
    root = tmp_path
    (root / "docs" / "rules").mkdir(parents=True)
    (root / "README.md").write_text(f"x\n{docs.START}\n{docs.END}\n", encoding="utf-8")
    for path, text in docs.expected_files(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert docs.stale(root) == []
    page = root / "docs" / "rules" / "MRG101.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    (root / "docs" / "rules" / "MRG999.md").write_text("orphan", encoding="utf-8")
    assert docs.stale(root) == ["docs/rules/MRG101.md", "docs/rules/MRG999.md (no such rule)"]
