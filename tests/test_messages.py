"""Messages fit an editor's inline text: what is wrong in at most 80 characters; the remedy (and the why) goes to
the fix hint, which editors show on hover and the text output prints after the message."""

from __future__ import annotations

import pytest

from flake8_modreg.core import check
from flake8_modreg.rules import all_rules
from flake8_modreg.settings import Config

LIMIT = 80
#: rules being rewritten on another branch; their messages are shortened once that lands
PENDING: set[str] = set()


def _messages(rule):
    for inv in rule.invalid:
        for f in check(inv.code, config=Config(select=("ALL",))):
            if f.code == rule.code:
                yield f


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(r, marks=pytest.mark.xfail(reason="message shortened after the rule's rewrite lands", strict=False))
        if r.code in PENDING
        else r
        for r in all_rules()
    ],
    ids=lambda r: r.code,
)
def test_every_reported_message_is_at_most_80_characters(rule):
    found = list(_messages(rule))
    assert found, f"{rule.code}: its invalid examples report nothing"
    too_long = [f.message for f in found if len(f.message) > LIMIT]
    assert too_long == [], f"{rule.code}: {len(too_long[0]) if too_long else 0} chars: {too_long[:1]}"
    assert all(f.fix_hint for f in found)
