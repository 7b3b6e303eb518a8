"""Id columns interned as integer codes: what joins on them may rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.registry.id_codes import NULL, IdCodes


def tables() -> dict[str, pd.DataFrame]:
    return {
        "convicts": pd.DataFrame({"convict_id": pd.Series(["C1", "C2", "C3"], dtype="string")}),
        "persons": pd.DataFrame({"person_id": ["P1", "P2"]}),  # object dtype: interned too
        "visit_logs": pd.DataFrame(
            {
                "convict_id": pd.Series(["C3", "X9", None, "C1", "X9"], dtype="string"),
                "visitor_person_id": pd.Series(["P1", None, "P2", "P1", "P7"], dtype="string"),
            }
        ),
        "kinship": pd.DataFrame(
            {
                "convict_id": pd.Series(["X9", "C3", "X8"], dtype="string"),
                "person_id": pd.Series(["P7", "P1", "P7"], dtype="string"),
            }
        ),
    }


def test_an_id_has_one_code_in_every_table_of_its_domain():
    ids = IdCodes(tables())
    visits, kin = ids("visit_logs", "convict_id"), ids("kinship", "convict_id")
    assert visits[0] == kin[1] == 2  # C3: its row in convicts
    assert visits[3] == 0  # C1
    assert visits[1] == visits[4] == kin[0]  # X9, absent from convicts, coded alike
    assert len({visits[1], kin[2], 0, 1, 2}) == 5  # X8 and X9 apart, and apart from C1..C3


def test_a_null_id_is_minus_one_and_its_pair_too():
    ids = IdCodes(tables())
    assert ids("visit_logs", "convict_id")[2] == NULL
    pairs = ids.pair("visit_logs", "convict_id", "visitor_person_id")
    assert pairs[1] == NULL  # X9 with no visitor
    assert pairs[2] == NULL  # no convict


def test_pairs_match_across_tables_only_for_the_same_two_ids():
    ids = IdCodes(tables())
    visits = ids.pair("visit_logs", "convict_id", "visitor_person_id")
    kin = ids.pair("kinship", "convict_id", "person_id")
    assert visits[0] == kin[1]  # (C3, P1)
    assert visits[4] == kin[0]  # (X9, P7): both ids absent from their tables
    assert visits[4] != kin[2]  # (X8, P7) is another pair
    assert not np.isin(visits[[1, 2, 3]], kin).any()
