"""The HTTP API against its own OpenAPI document, checked by Schemathesis (an API tester
that knows only the document): every operation with generated valid and invalid requests
(examples, coverage and fuzzing phases), then a stateful run that chains operations through
the document's links, on SQLite and on PostgreSQL. All checks, a fixed seed, zero failures.

The one exception the document cannot state (an absence must end after it starts) lives in
the repository's ``schemathesis.toml``, which ``st run`` reads too."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig

from solver.app.service import BatchSettings, Store, StoreSettings
from solver.app.service._api import create_app
from solver.app.service._api_types import TIME_ZONES

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "conformance-token"  # given to Schemathesis as the document's bearer scheme
SEED = 2222
MAX_EXAMPLES = 10  # per operation and phase; an independent run uses more (see the report)
STATEFUL_SCENARIOS = 6


def _config() -> SchemathesisConfig:
    data: dict[str, Any] = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    data.update(seed=SEED, generation={"max-examples": MAX_EXAMPLES, "database": "none"},
                auth={"openapi": {"HTTPBearer": {"bearer": TOKEN}}})
    return SchemathesisConfig.from_dict(data)


@pytest.fixture
def api(store: Store) -> Iterator[Any]:
    settings = BatchSettings(max_leads=200, time_limit_s=2.0)
    yield create_app(store, settings, api_token=TOKEN, deliver_webhooks=False)


# The document does not depend on the store: read it once from an app on a throwaway
# in-memory store, then send every request to the test's own app (SQLite or PostgreSQL).
_DOCUMENT_APP = create_app(Store(StoreSettings(url="sqlite:///:memory:")), BatchSettings(),
                           api_token=TOKEN)
schema = schemathesis.openapi.from_asgi("/openapi.json", _DOCUMENT_APP, config=_config())


@schema.parametrize()
@hypothesis.settings(deadline=None, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture,
                                            hypothesis.HealthCheck.too_slow,
                                            hypothesis.HealthCheck.filter_too_much])
def test_every_operation_conforms(case: Any, api: Any) -> None:
    if _zone_sweep_left_out(case):
        return
    case.call_and_validate(app=api)


def _zone_sweep_left_out(case: Any) -> bool:
    """The coverage phase sends one valid PUT /reps per IANA time zone (~600 requests, most
    of this test's time); the suite sends every 50th zone, the independent run all."""
    body = case.body if case.operation.label == "PUT /reps" else None
    reps = body.get("reps") if isinstance(body, dict) else None
    zone = reps[0].get("timezone") if isinstance(reps, list) and reps and isinstance(
        reps[0], dict) else None
    return isinstance(zone, str) and _ZONE_INDEX.get(zone, 0) % 50 != 0


_ZONE_INDEX = {zone: index for index, zone in enumerate(TIME_ZONES)}


def test_stateful_sequences_conform(api: Any) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": api}

    Workflow.run(settings=hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS, stateful_step_count=6, deadline=None,
        derandomize=True, database=None,
        suppress_health_check=list(hypothesis.HealthCheck)))


# -- one small case per rule the document states ------------------------------------------
@pytest.fixture
def client(api: Any) -> Iterator[TestClient]:
    with TestClient(api, headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client


@pytest.mark.parametrize(("path", "served"), [
    ("/reps", {"GET", "PUT"}),  # two routes share the path
    ("/leads/L1", {"GET"}),
    ("/leads/L1/worked", {"POST"}),
])
def test_405_allow_lists_exactly_the_methods_served(client: TestClient, path: str,
                                                    served: set[str]) -> None:
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        response = client.request(method, path)
        assert (response.status_code != 405) == (method in served), (method, path)
        if response.status_code == 405:
            assert set(response.headers["allow"].split(", ")) == served


def test_timestamps_are_rfc3339_utc_and_naive_input_is_utc(client: TestClient) -> None:
    leads = [{"lead_id": "naive", "created_at": "2026-12-01T09:30:00"},
             {"lead_id": "offset", "created_at": "2026-12-01T10:30:00.5+01:00"},
             {"lead_id": "zulu", "created_at": "2026-12-01t09:30:00z"}]
    assert client.post("/leads", json={"leads": leads}).status_code == 200
    assert [client.get(f"/leads/{lead['lead_id']}").json()["created_at"] for lead in leads] == [
        "2026-12-01T09:30:00Z", "2026-12-01T09:30:00.500000Z", "2026-12-01T09:30:00Z"]
    report = client.post("/route").json()
    assert report["started_at"].endswith("Z") and report["finished_at"].endswith("Z")


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/leads", {"leads": [{"lead_id": "a", "created_at": "0535-06-01T00:00:00Z"}]},
     "body.leads.0.created_at"),
    ("/leads", {"leads": [{"lead_id": "a", "created_at": 0}]}, "body.leads.0.created_at"),
    ("/leads", {"leads": [{"lead_id": "a", "created_at": "2026-02-30T00:00:00"}]},
     "body.leads.0.created_at"),
    ("/leads", {"leads": [{"lead_id": "a\x00b"}]}, "body.leads.0.lead_id"),
    ("/leads", {"leads": [{"lead_id": " a"}]}, "body.leads.0.lead_id"),
    ("/leads", {"leads": [{"lead_id": "a", "value": 1e13}]}, "body.leads.0.value"),
    ("/leads", {"leads": [{"lead_id": "a", "effort": "1"}]}, "body.leads.0.effort"),
    ("/leads", {"leads": [{"lead_id": "a", "attributes": {"value": 2}}]},
     "body.leads.0.attributes"),
    ("/reps", {"reps": [{"rep_id": "r", "capacity": 1, "start_date": "0080-01-01"}]},
     "body.reps.0.start_date"),
    ("/reps", {"reps": [{"rep_id": "r", "capacity": 2e9}]}, "body.reps.0.capacity"),
    ("/reps", {"reps": [{"rep_id": "r", "capacity": 1, "weight": 5e-324}]},
     "body.reps.0.weight"),
    ("/reps", {"reps": [{"rep_id": "r", "capacity": 1, "timezone": ""}]},
     "body.reps.0.timezone"),
    ("/reps", {"reps": [{"rep_id": "r", "capacity": 1, "work_start": "09:00"}]},
     "body.reps.0"),
    ("/reps", {"reps": [{"rep_id": "r", "capacity": 1, "attributes": {"timezone": "x"}}]},
     "body.reps.0.attributes"),
])
def test_refused_input_is_422_naming_the_field(client: TestClient, path: str,
                                               body: dict[str, Any], field: str) -> None:
    method = "post" if path == "/leads" else "put"
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_equal_work_start_and_end_mean_around_the_clock(client: TestClient) -> None:
    reps = [{"rep_id": "R1", "capacity": 5, "work_start": "00:00", "work_end": "00:00"}]
    assert client.put("/reps", json={"reps": reps}).status_code == 200
    client.post("/leads", json={"leads": [{"lead_id": "L1"}]})
    assert client.post("/route").json()["assigned"] == 1
    patched = client.patch("/reps/R1", json={"work_start": None, "work_end": None})
    assert patched.json()["work_start"] is None
