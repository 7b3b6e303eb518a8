"""The legal red-flag rules: one module per rule, named by its code, found here.

A rule is the module ``rules/<code>.py`` (``VIS-KIN``: ``rules/vis_kin.py``)
holding ``RULE``, with its page ``docs/rules/<CODE>.md`` and its worked
example ``docs/rules/examples/<CODE>.yaml``. Nothing else registers it:
every module of this package that defines ``RULE`` is a rule, and a module
named otherwise than its code is refused. The other modules (``rule``,
``windows``) are what rules are built from.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from anomaly.rules.rule import Rule


def module_name(code: str) -> str:
    """The module that holds the rule ``code``: ``VIS-KIN`` is ``vis_kin``."""
    return code.lower().replace("-", "_")


def discover_rules(path: Iterable[str], package: str) -> tuple[Rule, ...]:
    """Every ``RULE`` of the modules of ``package`` (found on ``path``), by code.

    Raises
    ------
    ImportError
        When a module holds a rule whose code names another module.
    """
    found = []
    for info in pkgutil.iter_modules(path):
        module = importlib.import_module(f"{package}.{info.name}")
        rule = getattr(module, "RULE", None)
        if rule is None:
            continue
        if module_name(rule.code) != info.name:
            expected = module_name(rule.code)
            raise ImportError(f"rules/{info.name}.py holds {rule.code}: name it {expected}.py")
        found.append(rule)
    return tuple(sorted(found, key=lambda r: r.code))


RULES: tuple[Rule, ...] = discover_rules(__path__, __name__)
"""Every rule the engine runs, in the order of their codes."""

RULES_BY_CODE = {rule.code: rule for rule in RULES}
