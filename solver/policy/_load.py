"""Read a policy file (TOML) into a validated ``Policy``; one-line errors on bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from solver.errors import PolicyError
from solver.policy._model import Policy


def load_policy(source: str | Path) -> Policy:
    path = Path(source)
    if not path.is_file():
        raise PolicyError(f"{path}: policy file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML ({exc})") from None
    return parse_policy(data, source=str(path))


def parse_policy(data: object, *, source: str = "policy") -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise PolicyError(f"{source}: {where}: {message}") from None
