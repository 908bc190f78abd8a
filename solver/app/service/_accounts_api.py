"""``PUT /accounts`` (replace the store's account list) and ``GET /accounts``.

The body is strict (the contract's accounts columns, unknown fields are 422s naming the
field); the accounts loader then checks ids, domains and parents (422 naming row and
column). Including the router also tells ingest which ``[match]`` policy to follow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from solver.app.service._accounts import (
    ACCOUNT_FIELDS,
    accounts_frame,
    fitted_matcher,
    replace_accounts,
    use_match_policy,
)
from solver.app.service._api_errors import error_responses
from solver.app.service._api_models import AttributeValue, Id
from solver.app.service._batch import BatchSettings
from solver.app.service._store import Store

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Id
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=500)]
    domain: Text = ""
    website: Text = ""
    country: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] = ""
    parent_account_id: Annotated[str, StringConstraints(strip_whitespace=True,
                                                        max_length=200)] = ""
    attributes: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)],
                     AttributeValue] = Field(default_factory=dict, max_length=100)


class AccountsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: list[AccountIn] = Field(max_length=200_000)  # [] clears the list


class AccountsWritten(BaseModel):
    written: int


def accounts_router(store: Store, settings: BatchSettings, writer: Callable[..., None]
                    ) -> APIRouter:
    """``writer``: the app's bearer-token check (the same for every write)."""
    use_match_policy(store, settings.policy.match)
    router = APIRouter()

    @router.put("/accounts", response_model=AccountsWritten, dependencies=[Depends(writer)],
                operation_id="put_accounts",
                responses=error_responses(write=True, body=True))
    def put_accounts(body: AccountsIn) -> AccountsWritten:
        written = replace_accounts(store, _frame(body))
        with store.read() as conn:  # fit now, so the next ingest does not wait for it
            fitted_matcher(store, conn, settings.policy.match.min_confidence)
        return AccountsWritten(written=written)

    @router.get("/accounts", operation_id="get_accounts", responses=error_responses())
    def get_accounts() -> list[dict[str, Any]]:
        with store.read() as conn:
            frame = accounts_frame(conn)
        return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]

    return router


def _frame(body: AccountsIn) -> pd.DataFrame:
    rows = []
    for account in body.accounts:
        row: dict[str, Any] = {k: str(v) for k, v in account.attributes.items()
                               if k not in ACCOUNT_FIELDS}
        row.update(account.model_dump(include=set(ACCOUNT_FIELDS)))
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else list(ACCOUNT_FIELDS))
