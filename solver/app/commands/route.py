"""``leadroute route``: one batch of leads, reps and scores (or a model) to assignments."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import typer
from rich.console import Console

from solver import MICRO_BATCH_GAP_LIMIT, SolveOptions
from solver import route as route_batch
from solver.app._io import Output, check_output, csv_writer, write_outputs
from solver.app._state_io import read_rotation_state
from solver.contract_tables import load_leads, load_reps, load_scores
from solver.errors import InputError
from solver.policy import (
    Policy,
    PolicyInputs,
    PolicyOutcome,
    RepSummary,
    StreamSettings,
    load_overrides,
    load_owners,
    load_policy,
)
from solver.strategies import STRATEGIES, RotationState, StrategyState, strategy_config_keys

if TYPE_CHECKING:
    from solver.app.matching import MatchedBatch

# A micro-batch router answers in seconds: the GAP engine stops at the gap limit
# (benchmarks/bench_microbatch.py); the time limit only caps a batch that cannot prove it.
ROUTE_TIME_LIMIT_S = 10.0
ROUTE_GAP_LIMIT = MICRO_BATCH_GAP_LIMIT


def bound_text(bound: float, gap: float) -> str:
    """``bound B, gap G%`` for a proven bound, else ``bound unproven``."""
    if not math.isfinite(bound):
        return "bound unproven"
    return f"bound {bound:.4f}, gap {gap:.3%}"


def register(app: typer.Typer) -> None:
    @app.command()
    def route(
        leads: Path = typer.Option(..., "--leads", help="Leads CSV (contract: leads)."),
        reps: Path = typer.Option(..., "--reps", help="Reps CSV (contract: reps)."),
        out: Path = typer.Option(..., "--out", help="Where to write the assignments CSV."),
        scores: Path | None = typer.Option(None, "--scores", help="Pair scores CSV."),
        model: Path | None = typer.Option(None, "--model", help="Affinity model file."),
        time_limit: float = typer.Option(
            ROUTE_TIME_LIMIT_S, "--time-limit", min=0.01,
            help="Seconds at most for the optimiser (a micro-batch usually stops earlier, "
                 "at --gap)."),
        gap: float = typer.Option(
            ROUTE_GAP_LIMIT, "--gap", min=0.0, max=0.999,
            help="Stop once the proven relative gap to the bound is this small "
                 "(0.001 = 0.1%; 0: until proven optimal or the time limit)."),
        seed: int = typer.Option(0, "--seed", help="Solver seed (same seed, same output)."),
        quiet: bool = typer.Option(False, "--quiet", help="No summary on stdout."),
        strategy: str = typer.Option(
            "optimal", "--strategy", help=f"Routing strategy: {', '.join(STRATEGIES)}."
        ),
        rotation_state: Path | None = typer.Option(
            None, "--rotation-state",
            help="Rotation state JSON: read if present, written back after success.",
        ),
        policy: Path | None = typer.Option(None, "--policy", help="Routing policy (TOML)."),
        owners: Path | None = typer.Option(
            None, "--owners", help="Account owners CSV: account_id, rep_id[, parent_account_id]."
        ),
        overrides: Path | None = typer.Option(
            None, "--overrides", help="Manual overrides CSV: lead_id, rep_id, action=pin|forbid."
        ),
        summary: Path | None = typer.Option(
            None, "--summary", help="Per-rep summary CSV (load, target, shadow price)."
        ),
        as_of: str | None = typer.Option(
            None, "--as-of", help="Date for ramp-up (default: latest created_at)."
        ),
        partition_by: str | None = typer.Option(
            None, "--partition-by",
            help="Comma-separated columns of leads and reps (e.g. region,team): route each "
                 "partition on its own; refused when the batch does not decompose.",
        ),
        instant: bool = typer.Option(
            False, "--instant",
            help="Replay the leads in arrival order (created_at) through instant routing: "
                 "each lead at once to the best fit net of capacity prices, the prices "
                 "re-estimated every --reprice-every leads from recent arrivals."),
        reprice_every: int = typer.Option(50, "--reprice-every", min=1,
                                          help="With --instant: leads between repricings."),
        accounts: Path | None = typer.Option(
            None, "--accounts", help="Accounts CSV: fill a lead's missing account_id by "
            "lead-to-account matching first (pip install 'leadroute[match]')."),
        min_match_confidence: float | None = typer.Option(
            None, "--min-match-confidence", min=0.0, max=1.0,
            help="Use a matched account only at or above this (default: policy [match])."),
        spark: str | None = typer.Option(
            None, "--spark",
            help="Run the partitions on Spark: local[N] or a master URL (needs --partition-by "
                 "or the policy's partition_by; pip install 'leadroute[spark]', Java 17).",
        ),
    ) -> None:
        """Route a batch of leads to reps; every lead appears once in the output."""
        options = SolveOptions(time_limit_s=time_limit, seed=seed, gap_limit=gap)
        # every output path is checked before any work: a bad one fails in a second
        outputs = {"--out": out, "--summary": summary, "--rotation-state": rotation_state}
        for option, path in outputs.items():
            if path is not None:
                check_output(path, option)
        ruled = load_policy(policy) if policy is not None else Policy()  # read once
        if partition_by is not None or spark is not None or ruled.partition_by:
            from solver.app.partitioned_route import run_from_cli

            run_from_cli(leads=leads, reps=reps, out=out, scores=scores, model=model,
                         options=options, strategy=strategy, policy=ruled, owners=owners,
                         as_of=as_of, partition_by=partition_by, spark=spark, quiet=quiet,
                         unsupported={"--rotation-state": rotation_state,
                                      "--overrides": overrides, "--summary": summary,
                                      "--accounts": accounts})
            return
        if instant and (summary is not None or rotation_state is not None
                        or strategy != "optimal"):
            raise InputError("--instant routes by bid prices: it takes no --summary, "
                             "--rotation-state or --strategy", source="command line")
        state = read_rotation_state(rotation_state)
        setup = PolicySetup(policy=ruled, owners=owners, overrides=overrides, as_of=as_of,
                            instant=StreamSettings(reprice_every=reprice_every)
                            if instant else None,
                            accounts=accounts, min_match_confidence=min_match_confidence)
        outcome, rep_table, state = _route(leads, reps, scores, model, options, strategy,
                                           state, setup)
        write_outputs(_outputs(outcome, out, rep_table, summary, state, rotation_state))
        if not quiet:
            print_summary(Console(), outcome, out)


def _outputs(outcome: PolicyOutcome, out: Path, rep_table: RepSummary,
             summary: Path | None, state: StrategyState | None,
             rotation_state: Path | None) -> list[Output]:
    """Everything ``route`` writes, written together or not at all."""
    outputs = [Output(out, csv_writer(outcome.assignments), "--out")]
    if summary is not None:
        # the shadow prices cost a solve: the summary is computed only when asked for
        outputs.append(Output(summary, csv_writer(rep_table.frame), "--summary"))
    if rotation_state is not None:
        saved = state if state is not None else RotationState()
        outputs.append(Output(rotation_state, lambda handle: handle.write(saved.to_json()),
                              "--rotation-state"))
    return outputs


def _route(
    leads: Path,
    reps: Path,
    scores: Path | None,
    model: Path | None,
    options: SolveOptions,
    strategy: str = "optimal",
    state: StrategyState | None = None,
    setup: PolicySetup | None = None,
) -> tuple[PolicyOutcome, RepSummary, StrategyState | None]:
    if (scores is None) == (model is None):
        raise InputError("give exactly one of --scores or --model", source="command line")
    strategy_config_keys(strategy)  # an unknown name fails before any work
    lead_table, rep_table = load_leads(leads), load_reps(reps)
    every_lead = lead_table["lead_id"]
    setup = setup or PolicySetup()
    matched = setup.matched(lead_table)  # --accounts: account ids filled, duplicates folded
    if matched is not None:
        lead_table = matched.leads
    score_table = None
    if scores is not None:
        score_table = load_scores(scores, lead_ids=every_lead, rep_ids=rep_table["rep_id"])
        if matched is not None:  # folded duplicates leave the batch with their pairs
            score_table = score_table[score_table["lead_id"].isin(lead_table["lead_id"])]
    scorer = None
    if model is not None:
        from solver.app.scoring import model_scorer  # the app layer may import models

        scorer = model_scorer(model, blank_missing_attributes=False, name_model_in_errors=True)
    routed = route_batch(leads=lead_table, reps=rep_table, scores=score_table, scorer=scorer,
                         policy=setup.policy, inputs=setup.inputs(lead_table, rep_table),
                         strategy=strategy, state=state, options=options,
                         instant=setup.instant)
    if matched is not None:
        routed = matched.finish(routed)
    return routed, routed.summary, routed.state


@dataclass(frozen=True, kw_only=True)
class PolicySetup:
    """The policy-related flags of ``route``; no policy = plain optimisation on scores."""

    policy: Policy = field(default_factory=Policy)  # read once by the command
    owners: Path | None = None
    overrides: Path | None = None
    as_of: str | None = None
    instant: StreamSettings | None = None  # replay in arrival order by bid prices
    accounts: Path | None = None
    min_match_confidence: float | None = None

    def matched(self, leads: pd.DataFrame) -> MatchedBatch | None:
        if self.accounts is None:
            return None
        from solver.app.matching import match_for_route  # the `match` extra, checked

        return match_for_route(leads, self.accounts, self.policy.match,
                               self.min_match_confidence)

    def inputs(self, leads: pd.DataFrame, reps: pd.DataFrame) -> PolicyInputs:
        owners = load_owners(self.owners, rep_ids=reps["rep_id"]) if self.owners else {}
        pins: dict[str, str] = {}
        forbidden: set[tuple[str, str]] = set()
        if self.overrides is not None:
            pins, forbidden = load_overrides(
                self.overrides, lead_ids=leads["lead_id"], rep_ids=reps["rep_id"]
            )
        as_of = None
        if self.as_of is not None:
            try:
                as_of = pd.Timestamp(self.as_of)
            except ValueError:
                raise InputError(f"--as-of: not a date: {self.as_of!r}",
                                 source="command line") from None
        return PolicyInputs(owners=owners, pins=pins, forbidden=frozenset(forbidden),
                            as_of=as_of)


def print_summary(console: Console, outcome: PolicyOutcome, out: Path) -> None:
    if outcome.assignments.empty:
        from solver.app.partitioned_route import nothing_routed

        console.print(nothing_routed(out))
        return
    counts = outcome.assignments["status"].value_counts()
    assigned = int(counts.get("assigned", 0))
    console.print(
        f"routed {assigned}/{len(outcome.assignments)} leads "
        f"({', '.join(f'{k}: {v}' for k, v in counts.items())}) "
        f"with {outcome.engine} in {outcome.wall_time_s:.3f}s; "
        f"status {outcome.status.value}, objective {outcome.objective:.4f}, "
        f"{bound_text(outcome.bound, outcome.gap)}"
    )
    if outcome.summary.costs:  # what each soft rule (band, account split) cost
        console.print("objective terms: " + "; ".join(outcome.summary.costs))
    console.print(f"assignments written to {out}")
