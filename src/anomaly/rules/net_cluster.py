"""NET-CLUSTER: a ring of visitors linking the families of convicts across institutions
(seed 002, section 3; rules.md 3).

One outsider behind visits to many convicts is NET-KIN's and NET-VISIT's.
Several persons who each link convicts of different families, and together
link them across institutions, are a ring: the visits of an organised group,
or a visits officer's clients. In the visitor network
(``network.visitor_network``) each long visit or approved registration ties a
person to the family of its convict. Persons tied to more families than
``hub_families`` are set aside (they are NET-VISIT's and would join
everything), the components of what is left are taken (weakly connected
components: the same records give the same rings on every run), and a
component with at least ``min_bridges`` persons who each reach two or more of
its families, ``min_families`` families and two institutions is a ring. Each
of its bridging persons is flagged.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd

from anomaly.network.visitor_network import visitor_network
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.person_findings import long_visit_records, nothing_found, person_flags
from anomaly.rules.rule import Findings, Rule, none_insufficient

CODE = "NET-CLUSTER"


class Parameters(RuleParameters):
    """NET-CLUSTER's section of the rule book."""

    hub_families: Param[int] = Param(
        value=10,
        source="docs/rules/NET-CLUSTER.md: a person reaching more families is a hub, set aside "
        "before the components are taken (NET-VISIT judges her)",
        assumed=True,
    )
    min_families: Param[int] = Param(
        value=3, source="docs/rules/NET-CLUSTER.md: families a ring links", assumed=True
    )
    min_bridges: Param[int] = Param(
        value=2,
        source="docs/rules/NET-CLUSTER.md: persons in a ring who each link two of its families",
        assumed=True,
    )


def check(s: Snapshot) -> Findings:
    p = s.rulebook.rule(CODE, Parameters)
    net = visitor_network(s)
    ties = net.ties[net.ties["kind"].eq("registered")
                    | (net.ties["kind"].eq("visited") & net.ties["long"].gt(0))]  # fmt: skip
    ties = ties.merge(net.convicts[["convict_id", "family"]], on="convict_id")
    reach = ties.groupby("person_id")["family"].nunique()
    bridges = reach[reach.between(2, int(p.hub_families.value))].index
    ties = ties[ties["person_id"].isin(bridges)]
    if ties.empty:
        return nothing_found()
    graph = nx.Graph()
    graph.add_edges_from(zip("P:" + ties["person_id"], "F:" + ties["family"].astype(str),
                             strict=True))  # fmt: skip
    rings = []
    for number, nodes in enumerate(sorted(nx.connected_components(graph), key=min)):
        persons = sorted(n[2:] for n in nodes if n.startswith("P:"))
        families = sum(1 for n in nodes if n.startswith("F:"))
        mine = ties[ties["person_id"].isin(persons)]
        if (len(persons) >= int(p.min_bridges.value) and families >= int(p.min_families.value)
                and mine["facility_id"].nunique() >= 2):  # fmt: skip
            rings.append(mine.assign(ring=number, families=families, persons=len(persons)))
    if not rings:
        return nothing_found()
    ring = pd.concat(rings, ignore_index=True)
    listed = lambda c: ", ".join(sorted(set(c)))  # noqa: E731
    summary = ring.groupby("ring").agg(convicts=("convict_id", listed),
                                       institutions=("facility_id", "nunique"),
                                       others=("person_id", listed))  # fmt: skip
    per = ring.groupby("person_id", sort=True)
    found = pd.DataFrame({
        "person_id": per.size().index, "ring": per["ring"].first().to_numpy(),
        "families": per["families"].first().to_numpy(),
        "persons": per["persons"].first().to_numpy(),
    })  # fmt: skip
    found["evidence"] = found["person_id"].map(long_visit_records(s, ring)).fillna("")
    found = found.join(summary, on="ring")
    found["score"] = (0.5 + 0.1 * (found["families"] - 3) + 0.05 * (found["persons"] - 2)).clip(
        0.5, 0.9
    )
    found["explanation"] = (
        "person " + found["person_id"] + ", one of " + found["persons"].astype(str)
        + " visitors (" + found["others"] + ") linking " + found["families"].astype(str)
        + " families of convicts in " + found["institutions"].astype(str)
        + " institutions by long visits: " + found["convicts"]
    )  # fmt: skip
    found["facility_id"] = None
    return Findings(person_flags(CODE, found), none_insufficient())


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement="Several visitors together link the families of convicts across institutions.",
    legal_basis="rules.md 3; seed 002, section 3",
    tables=("kinship", "persons", "convicts", "visit_logs"),
    optional_tables=("long_visit_registrations",),
    check=check,
    needs_complete=(),
    reads=("visit_logs.visitor_person_id", "visit_logs.visit_type", "visit_logs.facility_id"),
    judges=("persons",),
    subject="person",
    per_convict=False,  # a ring spans convicts and institutions
)
