from __future__ import annotations

from typing import Iterable

from ..findings import Finding
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid


class UnusedNoqa(Rule):
    """
    ## What it does
    Finds `MRG` codes in a `# noqa: ...` comment that silence nothing: no
    finding of that code (or, for a prefix such as `MRG1`, of any code it
    starts) is reported on the lines the comment covers. ruff's `RUF100`, for
    modreg's own codes. A code that modreg does not have (`MRG999`, `MRG1O1`)
    is reported as unknown.

    Judged with flake8's own `noqa` rules (the same ones `modreg check`, the
    editor and flake8 apply): the comment covers its logical line's token
    range (a multi-line string, a backslash continuation), codes are compared
    case-sensitively (`mrg101` silences nothing, so it is reported), and only
    the first `# noqa` in that range counts (`# noqa : X` is a bare `noqa` to
    flake8, `#noqa` none at all).

    Left alone, because modreg cannot know them: a bare `# noqa`, other
    tools' codes (`E501`, `F401`), codes of rules not enabled in this run
    (`--select MRG1` does not judge `# noqa: MRG301`), `MRG`, `MRG9`,
    `MRG90` and `MRG902` (they would silence this very report), and a file
    with `# flake8: noqa`.

    Off by default (MRG9xx). Enable it with `--extend-select MRG902`; under
    flake8, `--extend-select MRG902` too (flake8 applies `per-file-ignores`
    after the plugin ran, so there a code ignored for the file still counts
    as used).

    ## Why is this bad?
    A `# noqa` outlives the bug it was written for: after the code is fixed
    or moved, it keeps silencing whatever the next edit of that line gets
    wrong, and a baseline of `--add-noqa` comments never shrinks. A
    misspelled code (`MRG1O1`) silences nothing from the start.

    Ground truth: `tests/test_unused_noqa.py` runs real flake8 on each
    example with and without the reported codes: its output is the same,
    so the codes were indeed silencing nothing.

    ## Example
    ```python
    self.fc = nn.Linear(2, 2)  # noqa: MRG101
    ```

    ## Use instead
    ```python
    self.fc = nn.Linear(2, 2)
    ```

    ## Fix safety
    No automatic fix yet: remove the codes named in the message (and the
    comment, if none remain).
    """

    code = "MRG902"
    name = "unused-noqa"
    summary = "`# noqa: MRG...` codes that silence no finding on their line (ruff's RUF100)"
    message = "{what} in '# noqa'"
    fix_hint = "remove {them} from the comment"
    fix_summary = "remove the unused codes"
    default_enabled = False
    judges_findings = True

    invalid = (
        Invalid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = [nn.Linear(2, 2)]  # noqa: MRG101
                    self.fc = nn.Linear(2, 2)  # noqa: MRG101
                    self.head = nn.Linear(2, 2)  # NOQA: E501, MRG3 -- a reason
                    self.tail = [nn.Linear(2, 2)]  # noqa: MRG1O1, MRG101

                def forward(self, x):
                    return self.fc(x)
            """,
            at=[(7, 35), (8, 37), (9, 39)],
            also=(("MRG101", 6, 8), ("MRG101", 9, 8)),
            title="the layer is registered now; a prefix with nothing under it; a misspelled code",
        ),
        Invalid(
            '''
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.doc = """
                    text
                    """; self.blocks = [nn.Linear(2, 2)]  # noqa: MRG101,MRG2
            ''',
            at=[(8, 46)],
            also=(("MRG101", 8, 13),),
            title="a multi-line statement: the comment covers all its lines",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = [nn.Linear(2, 2)]  # noqa: MRG101
                    self.more = [nn.Linear(2, 2)]  # noqa: MRG1
                    self.fc = nn.Linear(2, 2)  # noqa
                    self.out = nn.Linear(2, 2)  # noqa: E501,F401
                    self.tail = nn.Linear(2, 2)  # noqa: MRG9

                def forward(self, x):
                    return self.fc(x)
            """,
            why="codes that silence a finding, a bare noqa, other tools' codes, and a prefix of MRG902 itself",
        ),
        Valid(
            '''
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.blocks = [nn.Linear(2, 2), """
                    text
                    """]  # noqa: MRG101
            ''',
            why="a finding on the first line of a multi-line string's statement, silenced by the comment on its last",
        ),
        Valid(
            """
            # flake8: noqa
            import torch.nn as nn

            fc = nn.Linear(2, 2)  # noqa: MRG101
            """,
            why="a file that flake8: noqa turns off as a whole",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        """Nothing to see in the model: :meth:`check_findings` judges the other rules' findings."""

    def check_findings(self, source: str, findings: list[Finding], enabled: Iterable[str]) -> list[Finding]:
        from flake8 import defaults, utils

        from ..noqa import Noqa
        from ..settings import code_problem

        if "noqa" not in source.lower():
            return []
        noqa = Noqa.from_source(source)
        if noqa.file_ignored:
            return []
        enabled = tuple(enabled)
        by_range: dict[tuple[int, int], set[str]] = {}
        for f in findings:
            if f.code != self.code:
                by_range.setdefault(noqa.span(f.line), set()).add(f.code)
        out = []
        seen: set[tuple[int, int]] = set()
        for number, line in enumerate(noqa.lines, 1):
            if "noqa" not in line.lower():
                continue
            rng = noqa.span(number)
            if rng in seen:
                continue
            seen.add(rng)
            text = noqa.comment_for(number)
            match = defaults.NOQA_INLINE_REGEXP.search(text)
            if match is None or match.group("codes") is None:
                continue
            reported = by_range.get(rng, set())
            unused, unknown = [], []
            for code in utils.parse_comma_separated_list(match.group("codes")):
                if not code.upper().startswith("MRG") or self.code.startswith(code):
                    continue  # another tool's code, or one that would silence this very report
                if code_problem(code) is not None:
                    unknown.append(code)
                elif any(e.startswith(code.upper()) for e in enabled) and not any(r.startswith(code) for r in reported):
                    # flake8 compares codes case-sensitively: a lower-case `mrg101` silences nothing
                    unused.append(code)
            if not unused and not unknown:
                continue
            parts = []
            if unused:
                parts.append(("unused code " if len(unused) == 1 else "unused codes ") + ", ".join(unused))
            if unknown:
                parts.append(("unknown code " if len(unknown) == 1 else "unknown codes ") + ", ".join(unknown))
            before = text[: match.start()]
            line_no = rng[0] + before.count("\n")
            col = match.start() - (before.rfind("\n") + 1)
            end_before = text[: match.end()].rstrip()
            end_line = rng[0] + end_before.count("\n")
            end_col = len(end_before) - (end_before.rfind("\n") + 1)
            out.append(
                Finding(
                    code=self.code,
                    name=self.name,
                    message=self.message.format(what="; ".join(parts)),
                    fix_hint=self.fix_hint.format(them=", ".join(unused + unknown)),
                    line=line_no,
                    col=col,
                    end_line=end_line,
                    end_col=end_col,
                )
            )
        return out
