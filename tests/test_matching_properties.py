"""Matching and dedupe are deterministic and order-independent, and the matches table
keeps the contract (one row per lead, in input order; confidences in [0, 1]; a duplicate
points to an earlier lead that is itself the first of its person)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("rapidfuzz", reason="needs the 'match' extra")

from models.matching import MATCH_COLUMNS, match_leads  # noqa: E402

ACCOUNTS = pd.DataFrame({
    "account_id": ["A1", "A2", "A3", "A4", "A5"],
    "name": ["Acme Corp", "Acme GmbH", "Novalink Analytics Inc.", "Globex", "Globex Mining"],
    "domain": ["acme.com", "acme.de", "novalink.io", "globex.io", ""],
    "country": ["US", "DE", "US", "GB", "AU"],
    "parent_account_id": ["", "A1", "", "", ""],
})
EMAILS = ["jo@acme.com", "JO@ACME.COM", "jo+x@eu.acme.com", "k@acme.de", "z@acme.fr",
          "ann.b@gmail.com", "annb+crm@googlemail.com", "x@yahoo.co.uk", "a@unknown-firm.com",
          "q@novalink.io", ""]
COMPANIES = ["", "Acme", "ACME, Inc.", "Zorblat SARL", "Novalink Analytcs", "Globex Ltd",
             "Globex Minning", "Blue River Dental", "novalink"]
WEBSITES = ["", "https://www.novalink.io/x", "globex.io", "HTTP://ACME.DE"]
PEOPLE = ["", "Jo Doe", "Ann B", "Kai Kern", "jo doe"]


@st.composite
def batches(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    stamps = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    return pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n)],
        "email": [draw(st.sampled_from(EMAILS)) for _ in range(n)],
        "company": [draw(st.sampled_from(COMPANIES)) for _ in range(n)],
        "website": [draw(st.sampled_from(WEBSITES)) for _ in range(n)],
        "country": [draw(st.sampled_from(["", "US", "DE", "FR"])) for _ in range(n)],
        "name": [draw(st.sampled_from(PEOPLE)) for _ in range(n)],
        "created_at": [pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=s) for s in stamps],
    })


def _by_lead(table: pd.DataFrame) -> dict[str, tuple[object, ...]]:
    clean = table.astype(object).where(table.notna(), None)
    return {row[0]: tuple(row[1:]) for row in clean.itertuples(index=False)}


SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(batches(), st.randoms(use_true_random=False))
def test_deterministic_and_order_independent(leads: pd.DataFrame, rng: object) -> None:
    first = match_leads(leads, ACCOUNTS)
    assert first.equals(match_leads(leads, ACCOUNTS))
    lead_order = list(range(len(leads)))
    account_order = list(range(len(ACCOUNTS)))
    rng.shuffle(lead_order)  # type: ignore[attr-defined]
    rng.shuffle(account_order)  # type: ignore[attr-defined]
    shuffled = match_leads(leads.iloc[lead_order].reset_index(drop=True),
                           ACCOUNTS.iloc[account_order].reset_index(drop=True))
    assert _by_lead(shuffled) == _by_lead(first)


@SETTINGS
@given(batches(), st.sampled_from([0.0, 0.5, 0.8, 0.95, 1.0]))
def test_the_matches_table_keeps_the_contract(leads: pd.DataFrame, threshold: float) -> None:
    table = match_leads(leads, ACCOUNTS, min_confidence=threshold)
    assert list(table.columns) == list(MATCH_COLUMNS)
    assert table["lead_id"].tolist() == leads["lead_id"].tolist()
    assert table["confidence"].between(0.0, 1.0).all()
    matched = table["account_id"].notna()
    assert (table.loc[matched, "confidence"] >= threshold - 1e-9).all()
    assert set(table.loc[matched, "account_id"]) <= set(ACCOUNTS["account_id"])
    assert (table.loc[~matched, "method"] == "none").all()
    assert table["reason"].str.len().gt(0).all()
    when = dict(zip(leads["lead_id"], leads["created_at"], strict=True))
    firsts = table.set_index("lead_id")["duplicate_of"]
    for lead, first in firsts.dropna().items():
        assert when[first] < when[lead]
        assert pd.isna(firsts[first])  # the first of its person, not another duplicate


@SETTINGS
@given(batches())
def test_a_higher_threshold_never_adds_matches(leads: pd.DataFrame) -> None:
    low = match_leads(leads, ACCOUNTS, min_confidence=0.5)["account_id"]
    high = match_leads(leads, ACCOUNTS, min_confidence=0.9)["account_id"]
    assert (high.isna() | (high == low)).all()
