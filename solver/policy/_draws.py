"""Seeded uniform draws keyed by identity, not by position.

A draw depends only on its keys (seed, purpose, lead or account id): the same lead gets
the same draw in any row order and in any batch, so a holdout unit keeps its arm for the
whole experiment and a rerun of a batch reproduces every exploration decision.
"""

from __future__ import annotations

import hashlib

_SEPARATOR = "\x1f"


def keyed_uniform(*keys: object) -> float:
    """A uniform number in [0, 1) fixed by ``keys``."""
    text = _SEPARATOR.join(str(key) for key in keys)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64
