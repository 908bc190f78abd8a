"""Helpers shared by the console's TestClient and browser tests: an app over a store with
reps and leads, and a signed-in client."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from solver.app.service import BatchSettings, Store, ingest_leads, load_reps_into_store
from solver.app.service._api import create_app
from solver.policy import parse_policy

TOKEN = "console-test-token"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_app(store: Store, *, token: str | None = TOKEN) -> object:
    import pandas as pd

    settings = BatchSettings(policy=parse_policy({"sla": {"work_within_minutes": 30},
                                                  "fairness": {"band": 0.5}}))
    reps = pd.DataFrame({"rep_id": ["R0", "R1", "R2"], "capacity": [4, 4, 4],
                         "region": ["north", "north", "south"]})
    load_reps_into_store(store, reps)
    leads = pd.DataFrame({"lead_id": [f"L{i:02d}" for i in range(6)],
                          "account_id": [f"A{i % 4}" for i in range(6)],
                          "region": ["north", "south"] * 3})
    ingest_leads(store, leads)
    return create_app(store, settings, api_token=token, deliver_webhooks=False)


def sign_in(client: TestClient, token: str = TOKEN) -> str:
    """Log in through the form; returns the CSRF token of the session."""
    response = client.post("/console/login", data={"token": token, "next": "/"})
    assert response.status_code == 200, response.text
    found = CSRF.search(response.text)
    assert found is not None
    return found.group(1)
