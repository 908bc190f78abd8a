"""Extreme and malformed values at the HTTP door and in the store: a 4xx naming the field
(never a 500), or — for what got stored anyway — a batch that still routes the rest."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from solver.app.service import BatchSettings, Store
from solver.app.service._api import create_app

TOKEN = "fault-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(store: Store) -> Iterator[TestClient]:
    app = create_app(store, BatchSettings(), api_token=TOKEN, deliver_webhooks=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        reps = [{"rep_id": f"R{j}", "capacity": 2} for j in range(2)]
        assert client.put("/reps", json={"reps": reps}, headers=AUTH).status_code == 200
        yield client


BAD_LEADS: list[tuple[str, dict[str, Any]]] = [
    ("value", {"lead_id": "X", "value": 1e300}),
    ("effort", {"lead_id": "X", "effort": 1e16}),
    ("created_at", {"lead_id": "X", "created_at": "3000-01-01T00:00:00Z"}),
    ("created_at", {"lead_id": "X", "created_at": "0001-01-01T00:00:00Z"}),
    ("lead_id", {"lead_id": "bad\u0000id"}),
    ("account_id", {"lead_id": "X", "account_id": "a\u0000b"}),
]


@pytest.mark.parametrize(("field", "lead"), BAD_LEADS, ids=[f for f, _ in BAD_LEADS])
def test_bad_leads_are_refused_at_the_door(api: TestClient, field: str,
                                           lead: dict[str, Any]) -> None:
    response = api.post("/leads", json={"leads": [lead]}, headers=AUTH)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert api.get("/health").json()["leads"] == {}  # nothing half-written


BAD_REPS: list[tuple[str, dict[str, Any]]] = [
    ("capacity", {"rep_id": "X", "capacity": 1e308}),
    ("capacity_week", {"rep_id": "X", "capacity": 1, "capacity_week": 1e308}),
    ("weight", {"rep_id": "X", "capacity": 1, "weight": 1e300}),
    ("rep_id", {"rep_id": "bad\u0000id", "capacity": 1}),
]


@pytest.mark.parametrize(("field", "rep"), BAD_REPS, ids=[f for f, _ in BAD_REPS])
def test_bad_reps_are_refused_at_the_door(api: TestClient, field: str,
                                          rep: dict[str, Any]) -> None:
    response = api.put("/reps", json={"reps": [rep]}, headers=AUTH)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_a_patched_huge_capacity_never_stops_routing(api: TestClient) -> None:
    """PATCH writes the store directly: refused at the door, or routed around."""
    patched = api.patch("/reps/R0", json={"capacity": 1e308}, headers=AUTH)
    assert patched.status_code in (200, 422)
    leads = [{"lead_id": f"L{i}"} for i in range(3)]
    assert api.post("/leads", json={"leads": leads}, headers=AUTH).status_code == 200
    report = api.post("/route", headers=AUTH)
    assert report.status_code == 200, report.text
    assert report.json()["assigned"] == 3


@pytest.mark.parametrize(("method", "path", "params"), [
    ("get", "/leads/bad%00id", None),
    ("post", "/leads/bad%00id/worked", None),
    ("patch", "/reps/bad%00id", None),
    ("post", "/route", {"batch_id": "b\u0000x"}),
])
def test_a_nul_byte_anywhere_is_a_4xx(api: TestClient, method: str, path: str,
                                      params: dict[str, str] | None) -> None:
    kwargs: dict[str, Any] = {"headers": AUTH, "params": params}
    if method == "patch":
        kwargs["json"] = {"active": False}
    response = getattr(api, method)(path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
