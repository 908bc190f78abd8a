"""Accounts in the store: ingest matches leads to them and dedupes against stored leads;
``PUT /accounts`` / ``GET /accounts``; ``leadroute accounts load``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_support import NOW, leads_table, reps_table
from sqlalchemy import select

from solver.app.service import (
    BatchSettings,
    Store,
    StoreSettings,
    ingest_leads,
    lead_story,
    load_owners_into_store,
    load_reps_into_store,
    run_batch,
)
from solver.app.service import _schema as schema
from solver.app.service._accounts import accounts_frame, replace_accounts
from solver.app.service._api import create_app
from solver.policy import parse_policy
from solver.policy._match import Match

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ACCOUNTS = pd.DataFrame({"account_id": ["ACME", "GLOBEX"],
                         "name": ["Acme Analytics Inc", "Globex GmbH"],
                         "domain": ["acme.com", "globex.de"], "country": ["US", "DE"]})


def _seed(store: Store) -> None:
    load_reps_into_store(store, reps_table(3, capacity=5), now=NOW)
    load_owners_into_store(store, pd.DataFrame({"account_id": ["ACME"], "rep_id": ["R2"]}), now=NOW)
    replace_accounts(store, ACCOUNTS, now=NOW)


def test_corporate_email_gets_the_account_and_its_owners_rep(store: Store) -> None:
    _seed(store)
    ingest_leads(store, leads_table(1, email=["jo@eu.acme.com"]), now=NOW)
    run_batch(store, BatchSettings(), now=NOW)
    lead = lead_story(store, "L0000")
    assert lead["account_id"] == "ACME" and lead["rep_id"] == "R2"
    assert "account ACME matched by email domain (confidence 0.98)" in lead["reason"]


def test_a_free_mail_lead_stays_unmatched(store: Store) -> None:
    _seed(store)
    ingest_leads(store, leads_table(1, email=["jo@gmail.com"]), now=NOW)
    run_batch(store, BatchSettings(), now=NOW)
    lead = lead_story(store, "L0000")
    assert lead["account_id"] is None and lead["status"] == "assigned"
    assert "matched by" not in lead["reason"]


def test_a_duplicate_of_a_stored_lead_follows_its_rep(store: Store) -> None:
    _seed(store)
    ingest_leads(store, leads_table(1, email=["Jo.Doe@gmail.com"]), now=NOW)
    run_batch(store, BatchSettings(strategy="round_robin"), now=NOW)
    first = lead_story(store, "L0000")["rep_id"]
    for offset in range(1, 4):  # round robin would hand each one to the next rep
        ingest_leads(store, leads_table(1, prefix=f"D{offset}",
                                        email=[f"jodoe+x{offset}@googlemail.com"]), now=NOW)
        run_batch(store, BatchSettings(strategy="round_robin"),
                  now=NOW + timedelta(minutes=offset))
        lead = lead_story(store, f"D{offset}0000")
        assert lead["rep_id"] == first, lead["reason"]
        assert f"duplicate of L0000: follows its rep {first}" in lead["reason"]


def test_a_duplicate_in_the_same_request_waits_for_its_first_lead(store: Store) -> None:
    _seed(store)
    ingest_leads(store, leads_table(2, name=["Jo Doe", "JO DOE"], company=["", "Acme"],
                                    email=["jo@acme.com", "jo.doe@gmail.com"]), now=NOW)
    run_batch(store, BatchSettings(strategy="round_robin"), now=NOW)
    assert lead_story(store, "L0001")["status"] == "pending"
    run_batch(store, BatchSettings(strategy="round_robin"), now=NOW + timedelta(minutes=1))
    assert lead_story(store, "L0001")["rep_id"] == lead_story(store, "L0000")["rep_id"]


def test_drop_policy_stores_the_duplicate_as_unrouted(store: Store) -> None:
    _seed(store)
    rule = Match(duplicates="drop")
    ingest_leads(store, leads_table(1, email=["jo@acme.com"]), now=NOW, match=rule)
    ingest_leads(store, leads_table(1, prefix="D", email=["JO@ACME.COM"]), now=NOW, match=rule)
    lead = lead_story(store, "D0000")
    assert lead["status"] == "unrouted"
    assert lead["reason"] == ("duplicate of L0000 (same email): dropped "
                              "(policy [match] duplicates = 'drop')")
    assert run_batch(store, BatchSettings(), now=NOW).routed == 1


def test_the_matcher_is_fitted_once_per_account_list(store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from models.matching import AccountMatcher

    fits: list[int] = []
    original = AccountMatcher.fit

    def counted(self: AccountMatcher, accounts: pd.DataFrame) -> AccountMatcher:
        fits.append(1)
        return original(self, accounts)

    monkeypatch.setattr(AccountMatcher, "fit", counted)
    _seed(store)
    for batch in range(3):
        ingest_leads(store, leads_table(1, prefix=f"B{batch}", company=["Globex"]), now=NOW)
    assert len(fits) == 1
    replace_accounts(store, ACCOUNTS.iloc[:1], now=NOW)
    ingest_leads(store, leads_table(1, prefix="C", company=["Globex"]), now=NOW)
    assert len(fits) == 2 and lead_story(store, "C0000")["account_id"] is None
    assert lead_story(store, "B00000")["account_id"] == "GLOBEX"


# -- the API ---------------------------------------------------------------------------
@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    settings = BatchSettings(policy=parse_policy({"match": {"min_confidence": 0.97}}))
    with TestClient(create_app(store, settings, api_token=TOKEN)) as test_client:
        yield test_client


def _account(**changes: Any) -> dict[str, Any]:
    return {"account_id": "ACME", "name": "Acme Inc", "domain": "acme.com", **changes}


def test_put_then_get_accounts_and_ingest_uses_the_policy(client: TestClient,
                                                         store: Store) -> None:
    body = {"accounts": [_account(), _account(account_id="SUB", name="Acme GmbH",
                                              domain="acme.de", parent_account_id="ACME")]}
    assert client.put("/accounts", json=body, headers=AUTH).json() == {"written": 2}
    got = client.get("/accounts").json()
    assert [a["account_id"] for a in got] == ["ACME", "SUB"] and got[1]["domain"] == "acme.de"
    leads = [{"lead_id": "L1", "attributes": {"email": "a@acme.com"}},
             {"lead_id": "L2", "attributes": {"company": "Acme"}}]  # 0.95 < the policy's 0.97
    client.post("/leads", json={"leads": leads}, headers=AUTH)
    assert lead_story(store, "L1")["account_id"] == "ACME"
    assert lead_story(store, "L2")["account_id"] is None
    assert client.put("/accounts", json={"accounts": []}, headers=AUTH).json() == {
        "written": 0}
    assert client.get("/accounts").json() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"accounts": [_account(owner="R1")]}, "owner"),
    ({"accounts": [_account(name="")]}, "name"),
    ({"accounts": [{"name": "Acme"}]}, "account_id"),
    ({"accounts": [_account(domain=7)]}, "domain"),
    ({"account": []}, "account"),
])
def test_put_accounts_bad_body_is_a_422_naming_the_field(client: TestClient, body: Any,
                                                         field: str) -> None:
    response = client.put("/accounts", json=body, headers=AUTH)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["errors"])


@pytest.mark.parametrize(("accounts", "column", "match"), [
    ([_account(), _account()], "account_id", "duplicate id"),
    ([_account(domain="not a domain")], "domain", "not a web domain"),
    ([_account(parent_account_id="NOPE")], "parent_account_id", "unknown parent"),
])
def test_put_accounts_bad_rows_are_a_422_naming_row_and_column(
        client: TestClient, accounts: list[dict[str, Any]], column: str, match: str) -> None:
    client.put("/accounts", json={"accounts": [_account(account_id="OLD")]}, headers=AUTH)
    response = client.put("/accounts", json={"accounts": accounts}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["column"] == column and match in response.json()["detail"]
    assert [a["account_id"] for a in client.get("/accounts").json()] == ["OLD"]


def test_put_accounts_needs_the_token(client: TestClient) -> None:
    assert client.put("/accounts", json={"accounts": []}).status_code == 401


def test_a_revision_4_store_gains_the_account_tables(store_url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from solver.app.service._alembic import alembic_config, revisions

    engine = create_engine(store_url)
    with engine.begin() as conn:  # the schema before the store held accounts
        command.upgrade(alembic_config(conn), "0004")
        assert not inspect(conn).has_table("lr_accounts")
    engine.dispose()
    new = Store(StoreSettings(url=store_url))
    assert new.schema_version == len(revisions())
    replace_accounts(new, ACCOUNTS, now=NOW)
    ingest_leads(new, leads_table(1, email=["a@acme.com"]), now=NOW)
    assert lead_story(new, "L0000")["account_id"] == "ACME"
    new.dispose()


# -- the command line ------------------------------------------------------------------
def test_accounts_load_command(store_url: str, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "accounts.csv", tmp_path / "bad.csv"
    ACCOUNTS.to_csv(good, index=False)
    ACCOUNTS.assign(domain=["acme.com", "not a domain"]).to_csv(bad, index=False)
    assert _cli(["accounts", "load", "--accounts", str(good), "--db", store_url],
                monkeypatch, capsys)[:2] == (0, "2 accounts written to the "
                                             f"{store_url.split(':')[0].split('+')[0]} store")
    code, _, err = _cli(["accounts", "load", "--accounts", str(bad), "--db", store_url],
                        monkeypatch, capsys)
    assert code == 2 and f"{bad}, row 2, column 'domain'" in err
    opened = Store(StoreSettings(url=store_url))
    with opened.read() as conn:  # the bad file wrote nothing
        assert list(accounts_frame(conn)["account_id"]) == ["ACME", "GLOBEX"]
    opened.dispose()


def _cli(args: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from solver.app import cli

    monkeypatch.setattr(sys, "argv", ["leadroute", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, " ".join(out.out.split()), out.err


# -- properties ------------------------------------------------------------------------
_PEOPLE = st.tuples(st.sampled_from(["jo@acme.com", "JO@ACME.COM", "j.o@gmail.com",
                                     "jo+x@googlemail.com", "ann@globex.de", "ann@gmail.com",
                                     ""]),
                    st.sampled_from(["Jo Doe", "Ann Lee", ""]),
                    st.sampled_from(["", "Acme", "Globex GmbH"]))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(_PEOPLE, min_size=1, max_size=7), cuts=st.sets(st.integers(1, 6)))
def test_requests_find_the_duplicates_one_batch_finds(store: Store, people: list[Any],
                                                      cuts: set[int]) -> None:
    """However the leads are split over ingest requests, each duplicate points to the
    same first lead as ``match_leads`` on the whole batch."""
    from models.matching import match_leads

    with store.write() as conn:
        for table in (schema.lead_matches, schema.assignments, schema.leads):
            conn.execute(table.delete())
    replace_accounts(store, ACCOUNTS, now=NOW)
    leads = leads_table(len(people), email=[p[0] for p in people],
                        name=[p[1] for p in people], company=[p[2] for p in people],
                        created_at=[(NOW + timedelta(minutes=i)).isoformat()
                                    for i in range(len(people))])
    bounds = [0, *sorted(c for c in cuts if c < len(people)), len(people)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        ingest_leads(store, leads.iloc[start:end], now=NOW)
    with store.read() as conn:
        stored = dict(conn.execute(select(schema.lead_matches.c.lead_id,
                                          schema.lead_matches.c.duplicate_of)).all())
    expected = match_leads(leads, ACCOUNTS)
    assert [stored[lead] for lead in expected["lead_id"]] == [
        d if isinstance(d, str) else None for d in expected["duplicate_of"]]
