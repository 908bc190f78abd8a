"""The ``--rotation-state`` file: read if present, written back whole after a success."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from solver.errors import InputError
from solver.strategies import RotationState, StrategyState


def read_rotation_state(path: Path | None) -> StrategyState | None:
    """The state in ``path``; ``None`` when no path is given or the file does not exist."""
    if path is None or not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", source=str(path)) from None
    return RotationState.from_json(text, source=str(path))


def write_rotation_state(state: StrategyState | None, path: Path) -> Path:
    """Write atomically (temp file in the same folder, then rename)."""
    state = state if state is not None else RotationState()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(state.to_json())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
