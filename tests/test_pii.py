"""Personal data columns are found, and pseudonymous ids are stable per salt."""

from __future__ import annotations

import hashlib
import random

import pandas as pd

from segmint.features.pii import classify_column, detect_pii, pseudonymise

FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
LAST = ["Smith", "Okafor", "Müller", "Dubois", "Rossi", "Novak", "Silva", "Jensen", "Kim", "Lopez"]


def people(n: int = 120) -> pd.DataFrame:
    rng = random.Random(4)
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            {
                "customer_no": 10_000_000 + i,  # 8 digits: an id, not a phone number
                "contact": f"{first.lower()}.{last.lower()}{i}@example.com",
                "tel": f"+44 20 7946 {i:04d}",
                "who": f"{first} {last}",
                "street": f"{rng.randint(1, 200)} {rng.choice(['High', 'Church'])} Street",
                "notes": f"{rng.randint(1, 200)} Mill Lane",
                "Country": rng.choice(["United Kingdom", "France", "Germany"]),
                "Description": rng.choice(
                    ["WHITE HANGING HEART T-LIGHT HOLDER", "RED RETROSPOT MUG"]
                ),
                "fax number": 5551234 + i,
                "ordered": pd.Timestamp("2024-01-01") + pd.Timedelta(days=i),
                "amount": float(i),
            }
        )
    return pd.DataFrame(rows)


def test_each_kind_is_found_by_name_or_by_values() -> None:
    found = {c.column: (c.kind, c.evidence) for c in detect_pii(people())}
    assert found == {
        "contact": ("email", "values"),
        "tel": ("phone", "name and values"),
        "who": ("name", "values"),
        "street": ("address", "name and values"),
        "notes": ("address", "values"),
        "fax number": ("phone", "name"),
    }


def test_identifiers_countries_and_descriptions_are_not_personal_data() -> None:
    frame = people()
    for col in ("customer_no", "Country", "Description", "ordered", "amount"):
        assert classify_column(col, frame[col]) is None, col


def test_person_names_need_many_distinct_values() -> None:
    few = pd.Series(["Anna Smith", "Ben Okafor"] * 50)
    assert classify_column("label", few) is None
    assert classify_column("first_name", few) is not None  # the column name is enough


def test_skip_leaves_columns_out() -> None:
    assert [
        c.column
        for c in detect_pii(
            people(), skip=("contact", "tel", "who", "street", "notes", "fax number")
        )
    ] == []


def test_pseudonyms_are_salted_sha256_and_stable() -> None:
    ids = pd.Series(["c1", None, "c2", "c1"], dtype="string")
    out = pseudonymise(ids, "pepper")
    assert out[0] == hashlib.sha256(b"pepper:c1").hexdigest()[:16]
    assert out[0] == out[3] and out[0] != out[2]
    assert pd.isna(out[1])
    assert pseudonymise(ids, "salt")[0] != out[0]
    assert pseudonymise(pd.Series(["c1"], dtype="string"), "pepper")[0] == out[0]
