"""The database password generator: every draw passes every provider's rule."""

from __future__ import annotations

import re
import secrets
import string

from stacks.cloud.passwords import new_db_password
from stacks.cloud.rules_aws import RULES as AWS_RULES
from stacks.cloud.rules_azure import RULES as AZURE_RULES

DRAWS = 20_000


def _azure_ok(pw: str) -> bool:
    """Azure Flexible Server, worked from the documented rule: 8..128 characters from at
    least 3 of: upper case, lower case, digits, non-alphanumeric."""
    cats = [any(c.isupper() for c in pw), any(c.islower() for c in pw),
            any(c.isdigit() for c in pw), any(not c.isalnum() for c in pw)]
    return 8 <= len(pw) <= 128 and sum(cats) >= 3


def _rds_ok(pw: str) -> bool:
    """RDS PostgreSQL: 8..128 printable ASCII except / ' " @ and space."""
    return 8 <= len(pw) <= 128 and all(32 < ord(c) < 127 and c not in "/'\"@" for c in pw)


def test_every_draw_passes_azure_and_rds():
    draws = [new_db_password() for _ in range(DRAWS)]
    assert all(_azure_ok(p) and _rds_ok(p) for p in draws)
    assert len(set(draws)) == DRAWS  # 32 characters of a 66-letter alphabet
    # a connection string takes it as is (RFC 3986 unreserved characters only)
    assert all(re.fullmatch(r"[A-Za-z0-9._~-]{32}", p) for p in draws)


def test_the_old_generator_fails_azure_sometimes_and_the_rule_sees_it():
    """The generator it replaces (token_urlsafe with '-' and '_' mapped to letters) drew
    only letters and digits: a draw without a digit, (52/62)^32 = 0.36 %, has 2 of 4
    categories. Over 20,000 draws about 72 fail; the rule table refuses them too."""
    old = [secrets.token_urlsafe(24).replace("-", "x").replace("_", "y") for _ in range(DRAWS)]
    failing = [p for p in old if not _azure_ok(p)]
    assert 20 <= len(failing) <= 200  # P(outside) < 1e-9 for a binomial(20000, 0.0036)
    (rule,) = [r for r in AZURE_RULES if r.path == "administratorLoginPassword"]
    assert all(rule.check(p) for p in failing)
    assert not any(rule.check(p) for p in old if _azure_ok(p))


def test_rds_rule_refuses_each_forbidden_character():
    (rule,) = [r for r in AWS_RULES if r.path == "password"]
    for c in "/'\"@ ":
        assert rule.check(f"abcd{c}EFGH1234"), c
    assert rule.check("Ab1-" * 33)  # 132 characters
    assert rule.check("Ab1-" + string.ascii_letters[:3]) is not None  # 7 characters
