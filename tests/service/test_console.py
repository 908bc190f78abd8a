"""The ops console through FastAPI's TestClient: sign-in, CSRF, read-only pages that never
write, rep edits in the console audit log with their origin, and policy errors naming the
key. Runs on SQLite and PostgreSQL like the other service tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from console_support import CSRF, TOKEN, console_app, sign_in
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from solver.app.console import _audit as audit
from solver.app.console._auth import COOKIE, ConsoleAuth
from solver.app.service import Store
from solver.app.service import _schema as schema


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(console_app(store)) as test_client:  # type: ignore[arg-type]
        yield test_client


def _rep(store: Store, rep_id: str) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(schema.reps).where(schema.reps.c.rep_id == rep_id)
                           ).mappings().one()
    return dict(row)


def _counts(store: Store) -> dict[str, tuple[Any, Any]]:
    """Rows and the latest update time of every table: any write changes one of them."""
    out = {}
    with store.read() as conn:
        for table in [*schema.metadata.sorted_tables, audit.console_audit]:
            stamp = next((c for c in ("updated_at", "created_at") if c in table.c), None)
            latest = conn.execute(select(func.max(table.c[stamp]))).scalar() if stamp else None
            out[table.name] = (conn.execute(select(func.count()).select_from(table)).scalar(),
                               latest)
    return out


# -- sign-in ------------------------------------------------------------------------------
def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/", "/console/reps", "/console/speed", "/console/policy",
                 "/console/leads/L00", "/console/board/rows", "/console/speed/sla.svg"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login?next=")


def test_an_htmx_refresh_without_a_session_asks_for_a_full_page_login(
        client: TestClient) -> None:
    response = client.get("/console/board/rows", headers={"HX-Request": "true"},
                          follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/console/login?next=/console/board/rows"


def test_wrong_token_is_refused_without_a_cookie(client: TestClient) -> None:
    response = client.post("/console/login", data={"token": "guess", "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 401
    assert "not the API token" in response.text
    assert COOKIE not in response.cookies


def test_login_sets_a_strict_http_only_cookie(client: TestClient) -> None:
    response = client.post("/console/login", data={"token": TOKEN, "next": "/console/reps"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/reps"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "x"])
def test_login_never_redirects_off_site(client: TestClient, target: str) -> None:
    response = client.post("/console/login", data={"token": TOKEN, "next": target},
                           follow_redirects=False)
    assert response.headers["location"] == "/"


def test_a_forged_or_expired_cookie_is_no_session() -> None:
    auth = ConsoleAuth("secret", ttl_s=60)
    cookie = auth.issue(now=1000.0)
    assert auth.session(cookie, now=1010.0) is not None
    assert auth.session(cookie, now=2000.0) is None  # expired
    assert ConsoleAuth("other").session(cookie, now=1010.0) is None  # another token
    expires, nonce, signature = cookie.split(".")
    assert auth.session(f"{int(expires) + 999}.{nonce}.{signature}", now=1010.0) is None


@given(st.text(max_size=120))
@example("1.é.é")  # non-ASCII: compare_digest refuses such str, so bytes are compared
def test_no_made_up_cookie_is_a_session(text: str) -> None:
    assert ConsoleAuth("secret").session(text) is None


def test_without_a_token_the_login_page_signs_in_directly(store: Store) -> None:
    with TestClient(console_app(store, token=None)) as open_client:  # type: ignore[arg-type]
        response = open_client.get("/")
        assert response.status_code == 200 and "Live board" in response.text
        assert "Sign out" not in response.text


# -- CSRF ---------------------------------------------------------------------------------
@pytest.mark.parametrize("given_token", [None, "not-the-token"])
def test_writes_without_the_csrf_token_are_refused(client: TestClient, store: Store,
                                                   given_token: str | None) -> None:
    sign_in(client)
    before = _counts(store)
    form = {"capacity": "9", "active": "on"}
    if given_token is not None:
        form["csrf_token"] = given_token
    assert client.post("/console/reps/R0", data=form).status_code == 403
    assert client.post("/console/reps/R0/absences", data={
        "starts_at": "2030-01-01T00:00", "ends_at": "2030-01-02T00:00"}).status_code == 403
    assert client.post("/console/route", data={}).status_code == 403
    assert _rep(store, "R0")["capacity"] == 4
    assert _counts(store) == before


def test_another_sessions_csrf_token_is_refused(client: TestClient, store: Store) -> None:
    theirs = sign_in(client)
    client.cookies.clear()
    sign_in(client)  # a new session: the old token no longer matches
    response = client.post("/console/reps/R0", data={"csrf_token": theirs, "capacity": "9"})
    assert response.status_code == 403
    assert _rep(store, "R0")["capacity"] == 4


# -- read-only pages --------------------------------------------------------------------
def test_read_only_pages_never_write(client: TestClient, store: Store,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    csrf = sign_in(client)
    assert client.post("/console/route", data={"csrf_token": csrf}).status_code == 200
    before = _counts(store)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a read-only page opened a write transaction")

    monkeypatch.setattr(store, "write", refuse)
    monkeypatch.setattr(store, "routing_transaction", refuse)
    pages = ["/", "/?status=assigned&rep=R0&window=24h", "/console/board/rows?status=expired",
             "/console/leads/L00", "/console/reps", "/console/speed?window=30d",
             "/console/speed/speed.svg", "/console/speed/sla.svg", "/console/policy",
             "/console/static/htmx.min.js"]
    for path in pages:
        assert client.get(path).status_code == 200, path
    preview = client.post("/console/policy", data={"csrf_token": csrf,
                                                   "policy": "[fairness]\nband = 0.1\n"})
    assert preview.status_code == 200
    replayed = client.post("/console/policy", data={
        "csrf_token": csrf, "policy": "[fairness]\nband = 0.1\n", "on": "replay",
        "days": "3"})
    assert replayed.status_code == 200 and "leads of the last 3 days" in replayed.text
    assert _counts(store) == before


# -- writes, audited ----------------------------------------------------------------------
def test_editing_capacity_is_in_the_audit_log_with_its_origin(client: TestClient,
                                                              store: Store) -> None:
    csrf = sign_in(client)
    response = client.post("/console/reps/R1", data={
        "csrf_token": csrf, "capacity": "7.5", "capacity_week": "30", "weight": "2",
        "active": "on"}, follow_redirects=False)
    assert response.status_code == 303
    rep = _rep(store, "R1")
    assert (rep["capacity"], rep["capacity_week"], rep["weight"], rep["active"]) == (
        7.5, 30, 2, True)
    with store.read() as conn:
        (entry,) = audit.recent(conn, target="R1")
    assert entry["action"] == "rep.update" and entry["origin"] == "console"
    assert entry["detail"] == {"capacity": 7.5, "capacity_week": 30.0, "weight": 2.0,
                               "active": True}
    assert entry["client"].startswith("testclient")
    assert "rep.update" in client.get("/console/reps").text


def test_unticking_active_deactivates(client: TestClient, store: Store) -> None:
    csrf = sign_in(client)
    client.post("/console/reps/R2", data={"csrf_token": csrf, "capacity": "4"})
    assert _rep(store, "R2")["active"] is False


@pytest.mark.parametrize(("form", "message"), [
    ({"capacity": "-1"}, "capacity: Input should be greater than or equal to 0"),
    ({"capacity": "lots"}, "capacity: Input should be a valid number"),
    ({"capacity": "2", "weight": "0"}, "weight: Input should be greater than or equal to 0.000001"),
])
def test_a_bad_edit_is_shown_next_to_the_rep_and_not_written(
        client: TestClient, store: Store, form: dict[str, str], message: str) -> None:
    csrf = sign_in(client)
    response = client.post("/console/reps/R0", data={"csrf_token": csrf, **form})
    assert response.status_code == 422
    assert message in response.text
    assert _rep(store, "R0")["capacity"] == 4
    with store.read() as conn:
        assert audit.recent(conn) == []


def test_an_absence_is_added_and_audited(client: TestClient, store: Store) -> None:
    csrf = sign_in(client)
    response = client.post("/console/reps/R0/absences", data={
        "csrf_token": csrf, "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-03T09:00"})
    assert response.status_code == 200 and "away 2030-01-01 09:00:00 UTC" in response.text
    with store.read() as conn:
        (entry,) = audit.recent(conn, target="R0")
        assert conn.execute(select(func.count()).select_from(schema.absences)).scalar() == 1
    assert entry["action"] == "rep.absence"
    backwards = client.post("/console/reps/R0/absences", data={
        "csrf_token": csrf, "starts_at": "2030-01-03T09:00", "ends_at": "2030-01-01T09:00"})
    assert backwards.status_code == 422 and "must be after starts_at" in backwards.text


def test_route_now_routes_and_the_board_shows_the_batch(client: TestClient,
                                                        store: Store) -> None:
    csrf = sign_in(client)
    board = client.post("/console/route", data={"csrf_token": csrf})
    assert board.status_code == 200 and 'id="batch-report"' in board.text
    assert "6 pending leads → 6 assigned" in board.text
    with store.read() as conn:
        (entry,) = audit.recent(conn)
    assert entry["action"] == "route.run" and entry["target"].startswith("console-")
    lead = client.get("/console/leads/L03")
    assert lead.status_code == 200 and entry["target"] in lead.text  # its batch, in history
    rows = client.get("/console/board/rows", params={"status": "pending"})
    assert "No leads match." in rows.text
    assert client.get("/console/leads/nope").status_code == 404


# -- policy preview -----------------------------------------------------------------------
def test_policy_errors_are_shown_in_place_naming_the_key(client: TestClient) -> None:
    csrf = sign_in(client)
    response = client.post("/console/policy", data={"csrf_token": csrf,
                                                   "policy": "[fairness]\nbandd = 0.2\n"})
    assert response.status_code == 422
    assert '<code class="key">fairness.bandd</code>: unknown key' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "[fairness]\nbandd = 0.2" in response.text  # the text stays, to be fixed


def test_a_toml_syntax_error_gives_its_line(client: TestClient) -> None:
    csrf = sign_in(client)
    response = client.post("/console/policy", data={
        "csrf_token": csrf, "policy": "objective = 'expected_conversions'\n[fairness\n"})
    assert response.status_code == 422 and "(line 2)" in response.text


def test_preview_compares_policies_on_the_pending_leads(client: TestClient,
                                                        store: Store) -> None:
    csrf = sign_in(client)
    policy = ('[[rules]]\nname = "territory"\nkind = "equals"\nlead = "region"\n'
              'rep = "region"\n')
    response = client.post("/console/policy", files={
        "upload": ("territory.toml", policy.encode(), "text/plain")},
        data={"csrf_token": csrf})
    assert response.status_code == 200, response.text
    assert "model&#39;s estimate" in response.text or "model's estimate" in response.text
    assert "of 6 leads would get a different rep" in response.text
    # three south leads and one south rep with capacity 4: all three go to R2
    loads = dict(_preview_loads(response.text))
    assert loads["R2"][1] == pytest.approx(3.0)
    assert sum(after for _, after in loads.values()) == pytest.approx(6.0)
    with store.read() as conn:  # nothing moved
        assert {lead["status"] for lead in conn.execute(select(schema.leads)).mappings()} == {
            "pending"}


def test_replaying_the_last_days_compares_both_policies_on_the_same_leads(
        client: TestClient) -> None:
    csrf = sign_in(client)
    assert client.post("/console/route", data={"csrf_token": csrf}).status_code == 200
    policy = ('[[rules]]\nname = "territory"\nkind = "equals"\nlead = "region"\n'
              'rep = "region"\n')
    pending = client.post("/console/policy", data={"csrf_token": csrf, "policy": policy})
    assert "No leads are pending" in pending.text  # all six were routed
    response = client.post("/console/policy", data={
        "csrf_token": csrf, "policy": policy, "on": "replay", "days": "1"})
    assert response.status_code == 200, response.text
    assert "with the 6 leads of the last 1 days" in response.text
    loads = dict(_preview_loads(response.text))
    assert loads["R2"][1] == pytest.approx(3.0)  # the three south leads, and only them
    assert loads["R0"][1] + loads["R1"][1] == pytest.approx(3.0)


@pytest.mark.parametrize("days", ["91", "2.5"])
def test_a_bad_replay_window_is_named(client: TestClient, days: str) -> None:
    csrf = sign_in(client)
    response = client.post("/console/policy", data={
        "csrf_token": csrf, "policy": "", "on": "replay", "days": days})
    assert response.status_code == 422
    assert '<code class="key">days</code>: a whole number of days from 1 to 90' in response.text


def _preview_loads(page: str) -> list[tuple[str, tuple[float, float]]]:
    import re

    rows = re.findall(r'<tr><th scope="row">(R\d)</th><td class="num">([\d.]+)</td>'
                      r'<td class="num">([\d.]+)</td>', page)
    return [(rep, (float(a), float(b))) for rep, a, b in rows]


def test_the_console_is_not_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/console")]
    assert CSRF.pattern  # the helper's pattern is what the templates emit
