"""The visitor network: who is registered to, applies to visit and visits whom (docs/network.md).

Built once per run from the accepted tables, in vectorised steps, and kept on
the snapshot (``visitor_network(s)``). Its ties are one row per person,
convict and kind of link, with what the records say about it:

- ``kin``: a kinship registration (relation, date, document);
- ``registered``: approved long-visit registrations (how many, first and last);
- ``visited``: logged visits (how many, how many long, first and last, where);

with the institution of the last registration or visit and its region.

Convicts are tied into families by what the records show of their kin
(``families``). The network rules (``rules/net_*.py``) read these frames; the
graph itself (``graph``, a networkx multigraph of ``P:person`` and
``C:convict`` nodes) serves components, pictures and researchers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from anomaly.registry.snapshot import Snapshot

TIE_COLUMNS = ["person_id", "convict_id", "kind", "relation", "document_no", "first", "last",
               "count", "long", "facility_id", "region_id"]  # fmt: skip
PARTNERS = ("spouse", "common_child_parent")


@dataclass(frozen=True)
class VisitorNetwork:
    ties: pd.DataFrame  # TIE_COLUMNS
    convicts: pd.DataFrame  # convict_id -> home_region_id, family
    persons: pd.DataFrame  # person_id -> region_id, birth_date, convict_id (the person a convict)

    @cached_property
    def graph(self) -> nx.MultiGraph:
        """Persons and convicts, one edge per tie: its key the kind, its attribute ``tie`` the
        row of ``ties`` that holds what the records say of it (read there, not copied: a
        national registry's ties build in under a second)."""
        g = nx.MultiGraph()
        g.add_nodes_from(("C:" + self.convicts["convict_id"]).tolist(), kind="convict")
        g.add_nodes_from(("P:" + self.persons["person_id"]).tolist(), kind="person")
        t = self.ties
        g.add_edges_from(
            zip(("P:" + t["person_id"]).tolist(), ("C:" + t["convict_id"]).tolist(),
                t["kind"].tolist(), ({"tie": i} for i in range(len(t))), strict=True)
        )  # fmt: skip
        return g

    def of_person(self, person_id: str) -> pd.DataFrame:
        return self.ties[self.ties["person_id"].eq(person_id)]


def visitor_network(s: Snapshot) -> VisitorNetwork:
    """The network of this snapshot, built on first use and kept with it."""
    cache = s.__dict__.setdefault("_derived", {})
    if "visitor_network" not in cache:
        cache["visitor_network"] = build(s.tables)
    return cache["visitor_network"]


def build(tables: Mapping[str, pd.DataFrame]) -> VisitorNetwork:
    """The network of accepted ``tables`` (kinship, persons and convicts at least)."""
    kin = tables["kinship"].dropna(subset=["convict_id", "person_id"])
    kin = kin.astype({"convict_id": str, "person_id": str})
    kin_ties = pd.DataFrame({
        "person_id": kin["person_id"], "convict_id": kin["convict_id"], "kind": "kin",
        "relation": kin["relation"].astype(object), "document_no": kin["document_no"],
        "first": pd.to_datetime(kin["registered_on"]), "last": pd.to_datetime(kin["registered_on"]),
        "count": 1, "long": 0, "facility_id": None,
    })  # fmt: skip
    parts = [kin_ties]
    if "long_visit_registrations" in tables:
        regs = tables["long_visit_registrations"]
        regs = regs[regs["decision"].eq("approved") & regs["visitor_person_id"].notna()]
        parts.append(_aggregated(regs, "visitor_person_id", "planned_start", "registered"))
    if "visit_logs" in tables:
        visits = tables["visit_logs"].dropna(subset=["visitor_person_id"])
        parts.append(_aggregated(visits, "visitor_person_id", "started_at", "visited"))
    ties = pd.concat(parts, ignore_index=True)
    if "facilities" in tables:  # the region of the institution where the tie was made
        f = tables["facilities"]
        region = pd.Series(
            f["region_id"].astype(str).to_numpy(), index=f["facility_id"].astype(str)
        )
        ties["region_id"] = ties["facility_id"].map(region)
    ties = ties.reindex(columns=TIE_COLUMNS)
    persons = tables["persons"][["person_id", "region_id", "birth_date", "convict_id"]]
    persons = persons.astype({"person_id": str})
    convicts = tables["convicts"][["convict_id", "home_region_id"]].astype({"convict_id": str})
    convicts = convicts.assign(family=families(convicts["convict_id"], kin, persons))
    return VisitorNetwork(ties.reset_index(drop=True), convicts.reset_index(drop=True), persons)


def _aggregated(frame: pd.DataFrame, person: str, on: str, kind: str) -> pd.DataFrame:
    """One tie per (person, convict) of ``frame``: how many rows, how many long, when, where."""
    f = pd.DataFrame({
        "person_id": frame[person].astype(str), "convict_id": frame["convict_id"].astype(str),
        "at": pd.to_datetime(frame[on]), "facility_id": frame["facility_id"].astype(str),
        "long": frame["visit_type"].eq("long").to_numpy() if "visit_type" in frame else True,
    })  # fmt: skip
    grouped = f.sort_values("at", kind="stable").groupby(["person_id", "convict_id"], sort=False)
    out = grouped.agg(first=("at", "min"), last=("at", "max"), count=("at", "size"),
                      long=("long", "sum"), facility_id=("facility_id", "last"))  # fmt: skip
    out = out.reset_index().assign(kind=kind, relation=None, document_no=None)
    return out.astype({"long": int, "count": int})


def families(convict_ids: pd.Series, kin: pd.DataFrame, persons: pd.DataFrame) -> np.ndarray:
    """A family number per convict: convicts are one family where the records tie them, that
    is where they share two or more registered relatives (both parents, say), or one is a
    registered relative of the other (a person who is also a convict, ``persons.convict_id``).
    One shared relative alone does not tie them: that is what the network rules weigh."""
    index = pd.Index(convict_ids.astype(str))
    pairs = kin[["person_id", "convict_id"]].drop_duplicates()
    shared = pairs.merge(pairs, on="person_id")
    shared = shared[shared["convict_id_x"] < shared["convict_id_y"]]
    twice = shared.groupby(["convict_id_x", "convict_id_y"]).size()
    twice = twice[twice >= 2].reset_index()
    as_convict = persons.dropna(subset=["convict_id"]).astype({"convict_id": str})
    related = pairs.merge(as_convict[["person_id", "convict_id"]], on="person_id",
                          suffixes=("_x", "_y"))  # fmt: skip
    edges = pd.concat([twice[["convict_id_x", "convict_id_y"]],
                       related[["convict_id_x", "convict_id_y"]]])  # fmt: skip
    a, b = index.get_indexer(edges["convict_id_x"]), index.get_indexer(edges["convict_id_y"])
    keep = (a >= 0) & (b >= 0)
    n = len(index)
    matrix = coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    _, labels = connected_components(matrix, directed=False)
    return labels
