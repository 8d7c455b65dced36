"""Rules as data: the seeded versions, the version in force on a date, adding a version."""
from datetime import date

import pytest

from gisapp.errors import BadRequest, NotFound
from gisapp.permits.rules import RULES, active_rules, add_rule_version, list_rules


def test_migrations_seed_a_cited_version_of_every_rule(site_engine):
    with site_engine.connect() as conn:
        rules = active_rules(conn, date(2026, 1, 1))
    assert set(rules) == set(RULES)
    for rule in rules.values():
        assert rule.version == (2 if rule.rule_id == "land_use" else 1) and rule.source
        for key in RULES[rule.rule_id]:
            assert key in rule.params, (rule.rule_id, key)
    assert rules["net_coverage"].params["breakpoints"][0] == [90, 100]


def test_no_rule_is_in_force_before_its_valid_from(site_engine):
    with site_engine.connect() as conn:
        assert active_rules(conn, date(2020, 1, 1)) == {}


def test_a_new_version_takes_over_from_its_valid_from(site_engine):
    bp_2008 = [[50, 100], [75, 90], [100, 80], [200, 70], [300, 60], [500, 50], [1000, 40]]
    with site_engine.begin() as conn:
        added = add_rule_version(conn, "net_coverage", {"breakpoints": bp_2008},
                                 "test: the 2008 table", date(2030, 1, 1), "admin")
    assert added.version == 2
    with site_engine.connect() as conn:
        assert active_rules(conn, date(2029, 12, 31))["net_coverage"].version == 1
        assert active_rules(conn, date(2030, 1, 1))["net_coverage"].params["breakpoints"] == bp_2008
        assert [r.version for r in list_rules(conn, "net_coverage")] == [1, 2]


def test_a_disabled_version_is_skipped(site_engine):
    with site_engine.begin() as conn:
        add_rule_version(conn, "heritage", {"fail_zones": []}, "test", date(2022, 1, 1),
                         "admin", enabled=False)
    with site_engine.connect() as conn:
        assert active_rules(conn, date(2026, 1, 1))["heritage"].version == 1


@pytest.mark.parametrize("rule_id, params, source, error, message", [
    ("nope", {}, "x", NotFound, "unknown rule"),
    ("net_coverage", {}, "x", BadRequest, "missing breakpoints"),
    ("net_coverage", {"breakpoints": [[100, 90], [90, 100]]}, "x", BadRequest, "increasing"),
    ("net_coverage", {"breakpoints": [[90, 100], [100, 90]]}, " ", BadRequest, "cite"),
])
def test_bad_versions_are_refused(site_engine, rule_id, params, source, error, message):
    with site_engine.begin() as conn, pytest.raises(error, match=message):
        add_rule_version(conn, rule_id, params, source, date(2030, 1, 1), "admin")


def test_rule_words_live_in_the_dictionaries_not_in_the_code():
    """Titles and explanations are `rule.*` keys in every language; no Vietnamese literal in code."""
    import ast
    import re
    from pathlib import Path

    from gisapp.words import LANGUAGES, dictionary

    for lang in LANGUAGES:
        assert all(dictionary(lang).get(f"rule.{rid}") for rid in RULES), lang
    vietnamese = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
    package = Path(__file__).resolve().parents[3] / "gisapp" / "permits"
    inline = [(path.name, node.lineno) for path in sorted(package.glob("*.py"))
              for node in ast.walk(ast.parse(path.read_text()))
              if isinstance(node, ast.Constant) and isinstance(node.value, str)
              and vietnamese.search(node.value)]
    assert inline == []
