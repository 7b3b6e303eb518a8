"""The legal red-flag rules: one module per rule, registered here in rule-book order."""

from __future__ import annotations

from anomaly.rules import (
    backdated_entry,
    condition_change_criteria,
    court_level_mismatch,
    decision_authority,
    degree_criteria,
    event_away_from_placement,
    false_reorganization,
    home_region_move,
    impossible_visitor,
    negative_degree_basis,
    room_capacity,
    transfer_grounds,
    type_change_criteria,
    visit_duration,
    visit_quota,
    visit_registration,
    visit_while_ineligible,
    visitor_entitlement,
)
from anomaly.rules.rule import Rule

RULES: tuple[Rule, ...] = (
    degree_criteria.RULE,
    negative_degree_basis.RULE,
    condition_change_criteria.RULE,
    visit_quota.RULE,
    visit_duration.RULE,
    visitor_entitlement.RULE,
    visit_while_ineligible.RULE,
    visit_registration.RULE,
    impossible_visitor.RULE,
    room_capacity.RULE,
    transfer_grounds.RULE,
    false_reorganization.RULE,
    court_level_mismatch.RULE,
    type_change_criteria.RULE,
    home_region_move.RULE,
    backdated_entry.RULE,
    event_away_from_placement.RULE,
    decision_authority.RULE,
)
"""Every rule the engine runs. A test checks that every module here is registered."""

RULES_BY_CODE = {rule.code: rule for rule in RULES}
