"""Pictures of the visitor network for the agency report (PNG data URIs, docs/network.md).

- ``neighbourhood``: a person's case: the person in the middle, the convicts
  she is tied to around her, their institutions outside; edges by kind (kin
  registration, approved long-visit registration, logged visit).
- ``institutions_by_shared_visitors``: the national view: institutions placed
  at their region, linked by the persons who visit convicts of different
  families in both.

Layouts are fixed by the data (shells and map positions, no random seed), so
the same run draws the same picture.
"""

from __future__ import annotations

from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd

from anomaly.network.visitor_network import VisitorNetwork
from anomaly.report.figures import png_uri, pyplot

EDGE_STYLE: dict[str, tuple[str, Literal["solid", "dashed", "dotted"], str]] = {
    # kind: (colour, line style, legend)
    "kin": ("#2e7d32", "solid", "registered as kin"),
    "registered": ("#1565c0", "dashed", "approved long-visit registration"),
    "visited": ("#c0392b", "solid", "logged visit"),
    "held": ("#9aa5b1", "dotted", "held at"),
}
WIDTH = {"kin": 7.0, "registered": 3.5, "visited": 1.4, "held": 1.2}  # the widest drawn first


def neighbourhood(network: VisitorNetwork, person_id: str, held: pd.Series) -> str:
    """The picture of one person's ties; ``held``: institution by convict (``held_at``)."""
    plt = pyplot()
    mine = network.of_person(person_id)
    convicts = sorted(set(mine["convict_id"]))
    places = held.reindex(convicts)
    visited = mine.dropna(subset=["facility_id"]).drop_duplicates("convict_id", keep="last")
    places = places.fillna(visited.set_index("convict_id")["facility_id"]).dropna()
    institutions = sorted(set(places))
    g = nx.MultiGraph()
    person = f"person {person_id}"
    g.add_node(person)
    for row in mine.itertuples():
        g.add_edge(person, f"convict {row.convict_id}", kind=row.kind)
    for convict, place in places.items():
        g.add_edge(f"convict {convict}", f"institution {place}", kind="held")
    convict_nodes = [f"convict {c}" for c in sorted(convicts, key=lambda c: (places.get(c, ""), c))]
    position = _rings(person, convict_nodes, places)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for kind, (colour, style, label) in EDGE_STYLE.items():  # kin widest, underneath
        edges = [(a, b) for a, b, k in g.edges(data="kind") if k == kind]
        if edges:
            nx.draw_networkx_edges(g, position, edgelist=edges, edge_color=colour, style=style,
                                   width=WIDTH[kind], ax=ax, label=label)  # fmt: skip
    shells = [[person], convict_nodes, [f"institution {i}" for i in institutions]]
    for nodes, colour in zip(shells, ("#c0392b", "#34495e", "#b0bec5"), strict=True):
        nx.draw_networkx_nodes(g, position, nodelist=nodes, node_color=colour, node_size=260,
                               ax=ax)  # fmt: skip
    nx.draw_networkx_labels(g, {n: (x, y + 0.13) for n, (x, y) in position.items()},
                            font_size=7, ax=ax)  # fmt: skip
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linestyle=st, linewidth=min(WIDTH[k], 4), label=label)
               for k, (c, st, label) in EDGE_STYLE.items()]  # fmt: skip
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False)
    ax.set_title(f"Ties of person {person_id}: {len(convicts)} convicts, "
                 f"{len(institutions)} institutions", fontsize=9)  # fmt: skip
    ax.axis("off")
    return png_uri(fig)


def _rings(person: str, convicts: list[str], places: pd.Series) -> dict[str, tuple[float, float]]:
    """The person at the centre, her convicts on a circle (grouped by institution), each
    institution outside, at the mean angle of its convicts."""
    position = {person: (0.0, 0.0)}
    angles = {c: 2 * np.pi * k / max(len(convicts), 1) + np.pi / 2 for k, c in enumerate(convicts)}
    for convict, angle in angles.items():
        position[convict] = (float(np.cos(angle)), float(np.sin(angle)))
    for place, group in places.groupby(places):
        mine = [angles[f"convict {c}"] for c in group.index if f"convict {c}" in angles]
        angle = float(np.angle(np.mean(np.exp(1j * np.array(mine)))))
        position[f"institution {place}"] = (1.9 * np.cos(angle), 1.9 * np.sin(angle))
    return position


def shared_visitor_links(network: VisitorNetwork) -> pd.DataFrame:
    """Pairs of institutions (a, b, persons) linked by persons who visit convicts of different
    families in both: the national view's edges."""
    ties = network.ties[network.ties["kind"].eq("visited")].dropna(subset=["facility_id"])
    ties = ties.merge(network.convicts[["convict_id", "family"]], on="convict_id")
    spread = ties.groupby("person_id")["family"].transform("nunique").ge(2)
    ties = ties[spread].drop_duplicates(["person_id", "facility_id"])
    pairs = ties.merge(ties, on="person_id")
    pairs = pairs[pairs["facility_id_x"] < pairs["facility_id_y"]]
    links = pairs.groupby(["facility_id_x", "facility_id_y"])["person_id"].nunique()
    return links.rename_axis(["a", "b"]).rename("persons").reset_index()


def institutions_by_shared_visitors(
    network: VisitorNetwork, facilities: pd.DataFrame, regions: pd.DataFrame
) -> str | None:
    """Institutions at their region's place on the map, linked by shared visitors."""
    links = shared_visitor_links(network)
    if links.empty:
        return None
    plt = pyplot()
    at = facilities.merge(regions[["region_id", "lat", "lon"]], on="region_id", how="left")
    at = at.sort_values("facility_id").reset_index(drop=True)
    within = at.groupby("region_id").cumcount().to_numpy()  # spread a region's institutions
    angle = within * 2.39996  # the golden angle: no two of a region on one spot
    at["x"] = at["lon"].astype(float) + 0.35 * np.sqrt(within) * np.cos(angle)
    at["y"] = at["lat"].astype(float) + 0.35 * np.sqrt(within) * np.sin(angle)
    place = at.set_index(at["facility_id"].astype(str))[["x", "y"]]
    links = links[links["a"].isin(place.index) & links["b"].isin(place.index)]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    most = float(links["persons"].max()) if len(links) else 1.0
    for row in links.sort_values("persons").itertuples():
        a, b, share = place.loc[row.a], place.loc[row.b], row.persons / most
        ax.plot([a["x"], b["x"]], [a["y"], b["y"]], color="#c0392b",
                alpha=0.25 + 0.75 * share, linewidth=0.5 + 3 * share)  # fmt: skip
    ax.scatter(place["x"], place["y"], s=14, color="#34495e", zorder=3)
    strongest = links.nlargest(8, "persons")
    for name in sorted(set(strongest["a"]) | set(strongest["b"])):
        ax.annotate(name, (place.at[name, "x"], place.at[name, "y"]), fontsize=6)
    ax.set_xlabel("longitude of the region")
    ax.set_ylabel("latitude of the region")
    ax.set_title(f"Institutions linked by visitors of convicts of different families "
                 f"({len(links)} links; width: persons)", fontsize=9)  # fmt: skip
    return png_uri(fig)


def held_at(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Each convict's latest institution by the transfer history (convict_id -> facility_id)."""
    moves = tables["transfers"].dropna(subset=["to_facility_id"])
    moves = moves.sort_values(["convict_id", "arrived_on"], kind="stable")
    last = moves.drop_duplicates("convict_id", keep="last")
    return pd.Series(last["to_facility_id"].astype(str).to_numpy(),
                     index=last["convict_id"].astype(str).to_numpy())  # fmt: skip
