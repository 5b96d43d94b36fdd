"""Provider rules: what a live cloud API refuses and a Pulumi mock accepts, checked offline.

Mocks echo their inputs, so a name one character too long, an apostrophe in an AWS
description or an amd64 image on an Arm machine pass every preview and fail the first
real `up` (after minutes of creating the rest of the site). Each provider keeps one table
of `Rule`s (stacks/cloud/rules_aws.py, rules_azure.py, rules_gcp.py) over the resources a
program declares, plus site rules that compare resources with each other (zone in region,
image architecture and machine). `check_site` runs the program under mocks and applies
them; `bakeoff plan` shows the violations and the provisioner refuses to `up` with them.

Physical names: most names are not set by the programs; Pulumi derives them from the
logical name plus a random suffix ("auto-naming": a '-' and 7 hex digits, see
https://www.pulumi.com/docs/iac/concepts/resources/names/#autonaming), so length rules are
checked on the logical name plus `AUTONAME_SUFFIX` characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from stacks.cloud.spec import CloudSiteSpec, SiteSpecError

AUTONAME_SUFFIX = "-0a1b2c3"  # what Pulumi appends: '-' and 7 hex digits (8 characters)
Check = Callable[[Any], "str | None"]  # None: fine; else what is wrong, in words


@dataclass(frozen=True)
class Rule:
    """One constraint of a live API on one property of some resource types."""

    types: tuple[str, ...]  # Pulumi type tokens; ("*",) every resource of the provider
    path: str  # 'description', 'ingress[].description', 'tags'; '@name': the physical name
    check: Check
    text: str  # the rule as the provider states it
    source: str  # where the provider states it


@dataclass(frozen=True)
class Violation:
    resource: str
    type: str
    property: str
    value: Any
    problem: str
    rule: str
    source: str

    def __str__(self) -> str:
        shown = repr(self.value)
        shown = shown if len(shown) <= 90 else shown[:87] + "..."
        return (f"{self.resource} ({self.type}) {self.property} = {shown}: {self.problem} "
                f"(rule: {self.rule}; {self.source})")


class ProviderRulesError(SiteSpecError):
    """The site declares something its provider's API would refuse."""

    def __init__(self, site: str, provider: str, violations: list[Violation]):
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"site '{site}' ({provider}): {len(violations)} value(s) the "
                         f"{provider} API would refuse at `up`:\n{lines}")


@dataclass(frozen=True)
class Resource:
    """What the rules need of a declared resource (preview.DeclaredResource fits)."""

    type: str
    name: str
    properties: dict[str, Any]


# -- checks ------------------------------------------------------------------------------
def text(pattern: str, max_len: int, min_len: int = 1) -> Check:
    """A string of `min_len`..`max_len` characters matching `pattern` as a whole."""
    compiled = re.compile(pattern)

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return None  # computed elsewhere (an id, an output): not ours to judge
        if not min_len <= len(value) <= max_len:
            return f"{len(value)} characters, allowed {min_len}..{max_len}"
        return None if compiled.fullmatch(value) else f"does not match {pattern}"

    return check


def charset(chars: str, max_len: int, min_len: int = 0) -> Check:
    """Only characters from `chars` (a regex class body), at most `max_len`."""
    allowed = re.compile(f"[{chars}]")

    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        if not min_len <= len(value) <= max_len:
            return f"{len(value)} characters, allowed {min_len}..{max_len}"
        bad = sorted({c for c in value if not allowed.fullmatch(c)})
        return f"characters not allowed: {''.join(bad)!r}" if bad else None

    return check


def tag_map(key: Check, value: Check, max_count: int) -> Check:
    """A mapping of tags (labels): each key and value, and how many."""

    def check(tags: Any) -> str | None:
        if not isinstance(tags, dict):
            return None
        if len(tags) > max_count:
            return f"{len(tags)} entries, at most {max_count}"
        for k, v in tags.items():
            for part, chk, item in (("key", key, k), ("value", value, v)):
                problem = chk(item)
                if problem:
                    return f"{part} {item!r}: {problem}"
        return None

    return check


def one_of(allowed: tuple[str, ...]) -> Check:
    """A string that must be one of `allowed` (an enum the API validates)."""
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    return check


def number(low: float, high: float) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return None if low <= value <= high else f"{value:g} is outside {low:g}..{high:g}"

    return check


def password_classes(min_len: int, max_len: int, classes: int,
                     forbidden: str = "") -> Check:
    """Length, characters that may not appear, and at least `classes` of the four
    categories (upper case, lower case, digits, other) -- the common complexity rule."""

    def check(value: Any) -> str | None:
        if not isinstance(value, str) or value.startswith("<"):
            return None  # `plan` shows a placeholder; the generator is tested on its own
        if not min_len <= len(value) <= max_len:
            return f"{len(value)} characters, allowed {min_len}..{max_len}"
        bad = sorted({c for c in value if c in forbidden or not (32 < ord(c) < 127)})
        if bad:
            return f"characters not allowed: {''.join(bad)!r}"
        have = password_categories(value)
        return None if have >= classes else f"{have} of 4 categories, needs {classes}"

    return check


def password_categories(value: str) -> int:
    return sum(bool(re.search(p, value)) for p in ("[A-Z]", "[a-z]", "[0-9]", "[^A-Za-z0-9]"))


# -- applying ----------------------------------------------------------------------------
def values_at(props: dict[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for a path such as 'ingress[].description'; absent -> none."""
    items: list[tuple[str, Any]] = [("", props)]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        nxt: list[tuple[str, Any]] = []
        for where, obj in items:
            if not isinstance(obj, dict) or obj.get(key) is None:
                continue
            at = f"{where}.{key}" if where else key
            if many and isinstance(obj[key], list):
                nxt.extend((f"{at}[{i}]", v) for i, v in enumerate(obj[key]))
            elif not many:
                nxt.append((at, obj[key]))
        items = nxt
    yield from items


def physical_name(r: Resource, name_property: dict[str, str]) -> tuple[str, str]:
    """(property, name the cloud sees): the explicit name, else the auto-name."""
    prop = name_property.get(r.type)
    if prop and isinstance(r.properties.get(prop), str):
        return prop, r.properties[prop]
    return f"{prop or 'name'} (auto-named)", r.name + AUTONAME_SUFFIX


def apply(rules: Iterable[Rule], resources: Iterable[Resource],
          name_property: dict[str, str]) -> list[Violation]:
    out = []
    resources = list(resources)
    for rule in rules:
        for r in resources:
            if rule.types != ("*",) and r.type not in rule.types:
                continue
            if rule.path == "@name":
                found = [physical_name(r, name_property)]
            else:
                found = list(values_at(r.properties, rule.path))
            for where, value in found:
                problem = rule.check(value)
                if problem:
                    out.append(Violation(r.name, r.type, where, value, problem, rule.text,
                                         rule.source))
    return out


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value


def unwrap_secrets(value: Any) -> Any:
    """The plain values inside Pulumi's secret wrappers ({SECRET_SIG: ..., "value": v}):
    a secret reaches the API as its plain value, so the rules judge that."""
    if isinstance(value, dict):
        if SECRET_SIG in value and "value" in value:
            return unwrap_secrets(value["value"])
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def violations(spec: CloudSiteSpec, resources: Iterable[Resource]) -> list[Violation]:
    """Every rule of the spec's provider over `resources` (declared by its program)."""
    import importlib

    table = importlib.import_module(f"stacks.cloud.rules_{spec.provider}")
    resources = [Resource(r.type, r.name, unwrap_secrets(r.properties)) for r in resources]
    from stacks.cloud import rules_fn  # function sites' resources (stacks/cloud/fn_*.py)

    return [*apply(table.RULES, resources, table.NAME_PROPERTY),
            *table.site_rules(spec, resources), *rules_fn.violations(spec.provider, resources)]


def required_services(provider: str, resources: Iterable[Any]) -> list[str]:
    """APIs (GCP) or resource providers (Azure) the account must have enabled/registered
    for these resources; AWS needs none enabled. For `plan` and doctor."""
    import importlib

    from stacks.cloud.rules_fn import function_services

    table = importlib.import_module(f"stacks.cloud.rules_{provider}")
    resources = list(resources)
    return sorted({svc for r in resources for prefix, svc in table.SERVICES.items()
                   if r.type.startswith(prefix)} | set(function_services(provider, resources)))


def check_site(spec: CloudSiteSpec) -> list[Violation]:
    """Declare the site under mocks and apply its provider's rules; raises
    ProviderRulesError naming each resource, property and rule. Returns [] when clean."""
    from stacks.cloud.preview import preview_program

    found = violations(spec, preview_program(spec).resources)
    if found:
        raise ProviderRulesError(spec.site, spec.provider, found)
    return found
