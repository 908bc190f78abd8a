"""The ``[match]`` policy section: lead-to-account matching and duplicates at routing."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Match(BaseModel):
    """``min_confidence``: a matched account is used only at or above it.
    ``duplicates``: a repeat of a person already in the batch goes to the first lead's rep
    (``"same_rep"``, its effort added to the first lead's) or is not routed (``"drop"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    duplicates: Literal["same_rep", "drop"] = "same_rep"
