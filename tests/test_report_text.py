"""The report renders any text taken from the data: figures and page (issue 13)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from anomaly.report import figures as figures

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(any_text, min_size=1, max_size=4, unique=True), title=any_text)
def test_fuzzed_labels_and_titles_render(labels, title):
    rates = pd.Series(range(1, len(labels) + 1), index=labels, dtype=float)
    assert figures.flags_per_thousand(rates, title).startswith("data:image/png;base64,")
    counts = pd.DataFrame({"VIS-KIN": rates.to_numpy(), title: rates.to_numpy()}, index=labels)
    assert figures.rule_heat_map(counts, title).startswith("data:image/png;base64,")


@settings(max_examples=15, deadline=None)
@given(subject=any_text)
def test_fuzzed_subject_ids_render_in_a_timeline(subject):
    day = pd.Timestamp("2024-01-01")
    tables = {
        "visit_logs": pd.DataFrame({"visit_id": ["V1"], "convict_id": [subject],
                                    "started_at": [day]}),
        "degree_assignments": pd.DataFrame({"assignment_id": ["D1"], "convict_id": [subject],
                                            "assigned_on": [day]}),
        "condition_changes": pd.DataFrame({"change_id": [], "convict_id": [], "changed_on": []}),
        "transfers": pd.DataFrame({"transfer_id": [], "convict_id": [], "departed_on": []}),
        "disciplinary_events": pd.DataFrame({"event_id": [], "convict_id": [], "occurred_on": []}),
    }  # fmt: skip
    png = figures.case_timeline(tables, "convict", subject, {"visit_logs:V1"})
    assert png.startswith("data:image/png;base64,")


def test_every_link_of_the_embedded_rule_pages_leads_somewhere_in_the_report():
    """The report travels alone: a page's link to an example file or a doc keeps its text only."""
    import re

    from anomaly.report.agency_report import _rule_pages

    pages = _rule_pages()
    anchors = {f"#rule-{page['code']}" for page in pages}
    links = [href for page in pages for href in re.findall(r'href="([^"]*)"', page["html"])]
    for href in links:
        assert href in anchors or href.startswith("https://"), href
    assert any("examples/" in page["html"] for page in pages)  # the text of the link stays
