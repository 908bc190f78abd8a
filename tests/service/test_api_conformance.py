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
