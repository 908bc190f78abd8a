"""OR-Library GAP and linear-assignment instances as ``RoutingProblem``s, with known optima.

Test and benchmark support, not part of the installed package: ``tests/test_orlib.py`` and
``benchmarks/bench_orlib.py`` both import it (the test puts ``benchmarks/`` on ``sys.path``).
The instance files are never copied into the repository; they are read from
``$LEADROUTE_DATA/orlib`` or ``<repo>/../shared/data/orlib`` (see ``data_dir``), whose
``SOURCE.txt`` documents provenance, format, objective sense and the published optima
reproduced below.

Mapping onto the routing problem: GAP agents are reps (capacity = agent capacity), jobs
are leads, every (job, agent) pair is a candidate with effort = resource use. GAP needs every
job assigned; the router's coverage-first rule gives that whenever a full assignment exists.
Maximisation instances pass the profit as the score; minimisation instances (gapa-d, the
LAPs) pass the negated cost, so the router's maximal score is minus the minimal cost.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np

from solver import RoutingProblem

Sense = Literal["max", "min"]

REPO: Final = Path(__file__).resolve().parents[1]

# OR-Library gapinfo, maximisation optima of gap1..gap12 (5 problems each); mirrored in
# SOURCE.txt section (1) and equal to Martinelli's lb = ub (checked by tests/test_orlib.py).
GAP_MAX_OPTIMA: Final[dict[str, tuple[int, ...]]] = {
    "gap1": (336, 327, 339, 341, 326),
    "gap2": (434, 436, 420, 419, 428),
    "gap3": (580, 564, 573, 570, 564),
    "gap4": (656, 644, 673, 647, 664),
    "gap5": (563, 558, 564, 568, 559),
    "gap6": (761, 759, 758, 752, 747),
    "gap7": (942, 949, 968, 945, 951),
    "gap8": (1133, 1134, 1141, 1117, 1127),
    "gap9": (709, 717, 712, 723, 706),
    "gap10": (958, 963, 960, 947, 947),
    "gap11": (1139, 1178, 1195, 1171, 1171),
    "gap12": (1451, 1449, 1433, 1447, 1446),
}

# Chu & Beasley types A-D, minimisation, problems in the order 5x100, 5x200, 10x100,
# 10x200, 20x100, 20x200 (SOURCE.txt section (2)). Type D values for the last four are
# best-known values from the literature, not proven here: ``GAP_MIN_PROVEN`` says which.
GAP_MIN_OPTIMA: Final[dict[str, tuple[int, ...]]] = {
    "gapa": (1698, 3235, 1360, 2623, 1158, 2339),
    "gapb": (1843, 3552, 1407, 2827, 1166, 2339),
    "gapc": (1931, 3456, 1402, 2806, 1243, 2391),
    "gapd": (6353, 12742, 6347, 12430, 6185, 12235),
}
GAP_MIN_PROVEN: Final[dict[str, tuple[bool, ...]]] = {
    "gapa": (True,) * 6,
    "gapb": (True,) * 6,
    "gapc": (True,) * 6,
    "gapd": (True, True, False, False, False, False),
}

GAP_SMALL: Final = tuple(f"gap{i}" for i in range(1, 13))
GAP_LARGE: Final = ("gapa", "gapb", "gapc", "gapd")
ASSIGN_DENSE: Final = tuple(f"assign{n}" for n in range(100, 900, 100))
ASSIGN_SPARSE: Final = ("assignp800", "assignp1500", "assignp3000", "assignp5000")


@dataclass(frozen=True)
class Instance:
    """One optimisation problem with its published optimum in the file's own sense."""

    name: str
    sense: Sense
    problem: RoutingProblem
    optimum: int
    proven: bool = True  # False: best-known value from the literature, not proven optimal

    def value_of(self, router_objective: float) -> float:
        """The router maximises ``score``; convert its objective back to the file's sense."""
        return router_objective if self.sense == "max" else -router_objective


class DataMissing(LookupError):
    """The shared OR-Library data directory is not available on this machine."""


def data_dir() -> Path:
    """``$LEADROUTE_DATA/orlib`` if set, else ``<repo>/../shared/data/orlib``."""
    root = os.environ.get("LEADROUTE_DATA")
    base = Path(root) if root else REPO.parent / "shared" / "data"
    path = base / "orlib"
    if not (path / "gap").is_dir() or not (path / "assign").is_dir():
        raise DataMissing(
            f"OR-Library data not found at {path} (set LEADROUTE_DATA to the folder "
            "holding orlib/gap and orlib/assign)"
        )
    return path


def _numbers(path: Path) -> Iterator[int]:
    for token in path.read_text().split():
        yield int(token)


def _take(tokens: Iterator[int], count: int) -> np.ndarray:
    values = np.fromiter(tokens, dtype=np.int64, count=count)
    return values


def parse_gap(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """OR-Library GAP file: list of (cost m×n, resource m×n, capacity m) per problem."""
    tokens = _numbers(path)
    problems = []
    for _ in range(next(tokens)):
        m, n = next(tokens), next(tokens)
        cost = _take(tokens, m * n).reshape(m, n)
        resource = _take(tokens, m * n).reshape(m, n)
        capacity = _take(tokens, m)
        problems.append((cost, resource, capacity))
    rest = list(tokens)
    if rest:
        raise ValueError(f"{path}: {len(rest)} unexpected trailing numbers")
    return problems


def parse_assign(path: Path) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Dense ``assignNNN`` or sparse ``assignpNNN``: (n, row, col, cost), 0-based."""
    tokens = np.array(path.read_text().split(), dtype=np.int64)
    n = int(tokens[0])
    body = tokens[1:]
    if len(body) == n * n and not path.name.startswith("assignp"):
        rows, cols = np.divmod(np.arange(n * n, dtype=np.int64), n)
        return n, rows, cols, body
    if len(body) % 3:
        raise ValueError(f"{path}: sparse body is not made of 'i j cost' triples")
    triples = body.reshape(-1, 3)
    return n, triples[:, 0] - 1, triples[:, 1] - 1, triples[:, 2]


def assign_optima(folder: Path) -> dict[str, int]:
    """``assignopt_as_mirrored.txt`` minus the three non-OR-Library ``real*`` lines."""
    optima = {}
    for line in (folder / "assign" / "assignopt_as_mirrored.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("assign"):
            optima[parts[0]] = int(parts[1])
    return optima


def gap_problem(cost: np.ndarray, resource: np.ndarray, capacity: np.ndarray,
                sense: Sense) -> RoutingProblem:
    """Jobs become leads, agents become reps; every pair is a candidate."""
    score = cost.T.astype(np.float64)
    return RoutingProblem.from_dense(
        score if sense == "max" else -score,
        capacity.astype(np.float64),
        effort=resource.T.astype(np.float64),
    )


def gap_instances(file: str, folder: Path | None = None) -> list[Instance]:
    """The problems of one GAP file (gap1..gap12 maximise, gapa..gapd minimise)."""
    folder = folder or data_dir()
    sense: Sense = "max" if file in GAP_MAX_OPTIMA else "min"
    optima = GAP_MAX_OPTIMA[file] if sense == "max" else GAP_MIN_OPTIMA[file]
    proven = (True,) * len(optima) if sense == "max" else GAP_MIN_PROVEN[file]
    parsed = parse_gap(folder / "gap" / f"{file}.txt")
    if len(parsed) != len(optima):
        raise ValueError(f"{file}: {len(parsed)} problems, expected {len(optima)}")
    return [
        Instance(
            name=f"{file}-{k + 1} ({cost.shape[0]}x{cost.shape[1]})",
            sense=sense,
            problem=gap_problem(cost, resource, capacity, sense),
            optimum=optima[k],
            proven=proven[k],
        )
        for k, (cost, resource, capacity) in enumerate(parsed)
    ]


def assign_instance(file: str, folder: Path | None = None) -> Instance:
    """A linear assignment problem: n leads, n reps of capacity 1, score = −cost."""
    folder = folder or data_dir()
    n, rows, cols, cost = parse_assign(folder / "assign" / f"{file}.txt")
    ids = np.arange(n).astype(str)
    problem = RoutingProblem.from_pairs(
        lead_ids=ids,
        rep_ids=ids,
        capacity=np.ones(n),
        pair_lead=rows,
        pair_rep=cols,
        pair_score=-cost.astype(np.float64),
    )
    return Instance(file, "min", problem, assign_optima(folder)[file])


def martinelli_bounds(folder: Path | None = None) -> dict[str, tuple[int, int]]:
    """Martinelli's ``name lb ub`` table (HEAD), e.g. ``c0515_1_Max -> (336, 336)``."""
    folder = folder or data_dir()
    bounds = {}
    for line in (folder / "martinelli_bounds_HEAD.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            bounds[parts[0]] = (int(parts[1]), int(parts[2]))
    return bounds


def martinelli_name(file: str, index: int, m: int, n: int) -> str:
    """Martinelli's name of problem ``index`` (0-based) of an OR-Library GAP file."""
    if file in GAP_MAX_OPTIMA:
        return f"c{m:02d}{n:02d}_{index + 1}_Max"
    return f"{file[-1]}{m:02d}{n}_Min"
