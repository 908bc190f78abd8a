"""The HTTP API: the happy path, authentication, size limits, and malformed input that
must never become a 500 (hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_support import NOW

from solver.app.service import BatchSettings, Store, deliver_due, run_batch
from solver.app.service import _notify as notify
from solver.app.service._api import create_app
from solver.policy import parse_policy

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    settings = BatchSettings(policy=parse_policy({"sla": {"work_within_minutes": 30}}),
                             webhook_url="http://hooks.test/leadroute")
    app = create_app(store, settings, api_token=TOKEN, max_body_bytes=50_000,
                     deliver_webhooks=False)  # the tests below drive delivery themselves
    with TestClient(app) as test_client:
        yield test_client


def _seed(client: TestClient) -> None:
    reps = [{"rep_id": f"R{j}", "capacity": 3, "attributes": {"region": r}}
            for j, r in enumerate(["north", "south"])]
    assert client.put("/reps", json={"reps": reps}, headers=AUTH).json() == {"written": 2}
    leads = [{"lead_id": f"L{i}", "value": 100, "attributes": {"region": "north"}}
             for i in range(3)]
    assert client.post("/leads", json={"leads": leads}, headers=AUTH).json() == {
        "inserted": 3, "already_known": 0}


def test_ingest_route_read_and_mark_worked(client: TestClient) -> None:
    _seed(client)
    report = client.post("/route", params={"batch_id": "api-1"}, headers=AUTH).json()
    assert report["assigned"] == 3 and report["batch_id"] == "api-1"
    assert client.get("/batches/api-1").json() == report
    lead = client.get("/leads/L0").json()
    assert lead["status"] == "assigned" and lead["reason"]
    assert [event["event"] for event in lead["history"]] == ["assigned"]
    done = client.post("/leads/L0/worked", json={"converted": True}, headers=AUTH).json()
    assert done["status"] == "worked" and done["converted"] is True
    health = client.get("/health").json()
    assert health["leads"] == {"assigned": 2, "worked": 1}
    assert client.get("/openapi.json").json()["info"]["title"] == "leadroute"


def test_rep_availability_changes_are_honoured(client: TestClient) -> None:
    _seed(client)
    changed = client.patch("/reps/R0", json={"active": False}, headers=AUTH).json()
    assert changed["active"] is False
    client.post("/route", headers=AUTH)
    assert {client.get(f"/leads/L{i}").json()["rep_id"] for i in range(3)} == {"R1"}
    assert client.patch("/reps/NOPE", json={"active": True}, headers=AUTH).status_code == 404
    bad = client.post("/reps/R1/absences", json={"starts_at": "2026-12-02T00:00:00",
                                                 "ends_at": "2026-12-01T00:00:00"},
                      headers=AUTH)
    assert bad.status_code == 422


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/leads", {"leads": [{"lead_id": "x"}]}),
    ("post", "/route", None),
    ("put", "/reps", {"reps": [{"rep_id": "x", "capacity": 1}]}),
    ("patch", "/reps/R0", {"active": False}),
    ("post", "/leads/L0/worked", None),
])
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dGVzdA==", TOKEN])
def test_writes_need_the_bearer_token(client: TestClient, method: str, path: str,
                                      body: object, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert client.get("/health").status_code == 200  # reads stay open


@pytest.mark.parametrize(("body", "field"), [
    ({"leads": [{"lead_id": ""}]}, ["body", "leads", 0, "lead_id"]),
    ({"leads": [{"lead_id": "a", "effort": 0}]}, ["body", "leads", 0, "effort"]),
    ({"leads": [{"lead_id": "a", "valeu": 3}]}, ["body", "leads", 0, "valeu"]),
    ({"leads": [{"lead_id": "a", "attributes": {"x": [1]}}]},
     ["body", "leads", 0, "attributes", "x", "float"]),
    ({"leads": []}, ["body", "leads"]),
    ({"lead": []}, ["body", "leads"]),
])
def test_bad_leads_are_422_naming_the_field(client: TestClient, body: object,
                                            field: list[object]) -> None:
    response = client.post("/leads", json=body, headers=AUTH)
    assert response.status_code == 422
    problem = response.json()
    assert field in [error["loc"] for error in problem["errors"]]
    assert problem["field"] == ".".join(map(str, problem["errors"][0]["loc"]))


def test_duplicate_ids_in_one_request_are_one_located_error(client: TestClient) -> None:
    response = client.post("/leads", json={"leads": [{"lead_id": "a"}, {"lead_id": "a"}]},
                           headers=AUTH)
    assert response.status_code == 409  # the request conflicts with itself (documented)
    assert response.json()["row"] == 2 and response.json()["column"] == "lead_id"
    assert response.json()["field"] == "body.leads.1.lead_id"
    assert client.get("/health").json()["leads"] == {}  # nothing half-written


def test_oversized_bodies_are_413(client: TestClient) -> None:
    huge = {"leads": [{"lead_id": f"L{i}", "attributes": {"note": "x" * 1000}}
                      for i in range(100)]}
    assert client.post("/leads", json=huge, headers=AUTH).status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b'{"leads": ['
        for i in range(5000):  # about 100 kB, streamed without a length
            yield b'{"lead_id": "L%d"},' % i
        yield b'{"lead_id": "end"}]}'

    streamed = client.post("/leads", content=chunks(),
                           headers={**AUTH, "Content-Type": "application/json"})
    assert streamed.status_code == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
lead_like = st.fixed_dictionaries({"lead_id": json_values}, optional={
    "value": json_values, "effort": json_values, "created_at": json_values,
    "account_id": json_values, "attributes": json_values})


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({"leads": st.lists(lead_like,
                                                                            max_size=3)})))
def test_malformed_input_is_never_a_500(client: TestClient, body: object) -> None:
    for method, path in (("post", "/leads"), ("put", "/reps"), ("patch", "/reps/R0"),
                         ("post", "/leads/L0/worked"), ("post", "/reps/R0/absences")):
        response = client.request(method, path, json=body, headers=AUTH)
        assert response.status_code < 500, (path, body, response.text)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200) | st.sampled_from(
    [b"NaN", b'{"leads": [{"lead_id": "a", "value": NaN}]}', b'{"leads": [{"lead_id": 1e999}]}',
     b"\xff\xfe", b'{"leads": [{"lead_id": "a", "value": 1e999}]}']))
def test_raw_bytes_are_never_a_500(client: TestClient, raw: bytes) -> None:
    for path in ("/leads", "/leads/L0/worked"):
        response = client.post(path, content=raw,
                               headers={**AUTH, "Content-Type": "application/json"})
        assert response.status_code < 500, (path, raw, response.text)


def test_webhooks_are_retried_then_reported_without_undoing_the_batch(
        client: TestClient, store: Store) -> None:
    _seed(client)
    client.post("/route", headers=AUTH)
    calls: list[str] = []

    def failing(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503)

    with httpx.Client(transport=httpx.MockTransport(failing)) as http:
        moment = NOW + timedelta(days=400)  # far after every back-off
        first = deliver_due(store, client=http, now=moment)
        assert (first.delivered, first.retrying, first.failed) == (0, 3, 0)
        assert deliver_due(store, client=http, now=moment).retrying == 0  # backing off
        for step in range(1, notify.MAX_ATTEMPTS):
            deliver_due(store, client=http, now=moment + step * timedelta(hours=2))
    failed = client.get("/notifications", params={"status": "failed"}).json()
    assert len(failed) == 3 and failed[0]["last_error"] == "HTTP 503"
    assert len(calls) == 3 * notify.MAX_ATTEMPTS
    assert client.get("/health").json()["failed_notifications"] == 3
    assert client.get("/health").json()["leads"] == {"assigned": 3}  # the batch stands


def test_delivered_webhooks_carry_the_assignment(client: TestClient, store: Store) -> None:
    _seed(client)
    client.post("/route", headers=AUTH)
    seen: list[dict[str, object]] = []

    def ok(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-Leadroute-Signature"] == notify.signature(
            "shared-secret", request.content)
        seen.append(json.loads(request.content))
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(ok)) as http:
        assert deliver_due(store, client=http, secret="shared-secret").delivered == 3
    assert {item["lead_id"] for item in seen} == {"L0", "L1", "L2"}
    assert all(item["event"] == "lead.assigned" and item["rep_id"] for item in seen)
    assert run_batch(store, BatchSettings()).routed == 0


def test_route_sends_webhooks_after_responding(store: Store) -> None:
    seen: list[str] = []

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200)

    settings = BatchSettings(webhook_url="http://hooks.test/x")
    with httpx.Client(transport=httpx.MockTransport(ok)) as http, TestClient(create_app(
            store, settings, api_token=TOKEN, webhook_client=http)) as api:
        _seed(api)
        assert api.post("/route", headers=AUTH).json()["assigned"] == 3
        delivered = api.get("/notifications", params={"status": "delivered"}).json()
    assert len(delivered) == 3 and seen == ["hooks.test"] * 3
