"""The metric vocabulary: shipped rules, and a user's own file tried first."""

from __future__ import annotations

import pytest

from parsers.metrics import code_metric, default_rules, parse_rules, rules_by_unit

OWN_RULES = """
[[metric]]
code = "elderly_care_beds"
label = "养老床位"
units = ["张"]
pattern = '养老(?:机构)?床位'

[[metric]]
code = "my_social_orgs"
label = "overrides the shipped total"
units = ["家"]
pattern = '^社会组织$'
"""


def test_shipped_vocabulary_codes_totals_but_not_subsets() -> None:
    rules = rules_by_unit(default_rules())
    assert code_metric("注册登记社会组织", "家", rules) == "social_orgs_total"
    assert code_metric("社会组织参与乡村振兴", "家", rules) is None
    assert code_metric("注册登记社会组织", "元", rules) is None  # wrong unit, never this code
    assert len({r.code for r in default_rules()}) >= 20


def test_own_rules_extend_and_take_precedence() -> None:
    rules = rules_by_unit((*parse_rules(OWN_RULES), *default_rules()))
    assert code_metric("养老机构床位", "张", rules) == "elderly_care_beds"
    assert code_metric("社会组织", "家", rules) == "my_social_orgs"
    assert code_metric("基金会", "家", rules) == "foundations"


@pytest.mark.parametrize(
    "bad",
    ['[[metric]]\ncode = "x"\nunits = ["家"]', '[[metric]]\ncode = "x"\nunits = ["家"]\npattern = "(unclosed"'],
)
def test_malformed_rules_name_the_entry(bad: str) -> None:
    with pytest.raises(ValueError, match="metric entry 0"):
        parse_rules(bad)
