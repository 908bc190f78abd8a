"""``leadroute fit``: train the affinity model on history, validate it out of time, save it.

``models`` raises ``InputError`` (its ``DataError``) and ``ModelError`` (``solver.errors``);
this module turns them into the CLI's one-line error and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from models import AffinityModel, ValidationReport, build_metadata, save_model, validate
from models.propensity_weights import DEFAULT_CLIP, MODES, HistoryWeights, Weighting
from models.tables import read_history
from solver.contract_tables import load_reps
from solver.errors import InputError, ModelError


def register(app: typer.Typer) -> None:
    @app.command()
    def fit(
        history: Path = typer.Option(..., "--history", help="History CSV (contract: history)."),
        reps: Path = typer.Option(..., "--reps", help="Reps CSV (contract: reps)."),
        out: Path = typer.Option(..., "--out", help="Where to write the model file."),
        learner: str = typer.Option(
            "logistic", "--learner", help="logistic (the only learner; hgb was retired)."),
        calibration: str = typer.Option("sigmoid", "--calibration",
                                        help="sigmoid, isotonic or none."),
        test_fraction: float = typer.Option(0.2, "--test-fraction", min=0.01, max=0.99,
                                            help="Latest share of history held out."),
        seed: int = typer.Option(0, "--seed", help="Seed of folds and random fallbacks."),
        c: str = typer.Option("cv", "--C",
                              help="Inverse L2 strength of the logistic learner, or 'cv' "
                                   "(default): chosen by cross-validation (within-lead "
                                   "AUC near the best log loss with propensities, else "
                                   "log loss)."),
        rep_shrinkage: float = typer.Option(
            1.0, "--rep-shrinkage", min=1e-6,
            help="Relative penalty on rep-identity terms (> 1 pulls sparse and new reps "
                 "harder toward reps with the same attributes)."),
        blocks: str = typer.Option(
            "auto", "--blocks",
            help="Interaction blocks: 'auto' (default: kept when they lower out-of-fold "
                 "log loss by more than --block-threshold standard errors), 'all' (the "
                 "previous default), 'none', or block names separated by commas, e.g. "
                 "'rep_id × industry,match: region in region'."),
        block_threshold: float = typer.Option(
            1.0, "--block-threshold", min=0.0,
            help="Standard errors of out-of-fold gain a block must clear (--blocks auto)."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress and no table."),
        max_rows: int | None = typer.Option(
            None, "--max-rows", min=1,
            help="Parquet history larger than memory: fit on a seeded uniform sample of "
                 "about this many rows, read in record batches."),
        weights: str = typer.Option(
            "auto", "--weights",
            help=f"Row weights, one of {', '.join(MODES)}: 'auto' (default) weighs rows by "
                 "inverse propensity when every row has one (history logged with "
                 "exploration) and fits unweighted otherwise; 'ipw' requires them; "
                 "'none' never weighs."),
        ipw_clip: float = typer.Option(
            DEFAULT_CLIP, "--ipw-clip", min=1.0,
            help="Largest inverse-propensity weight (20 = propensities floored at 0.05): "
                 "one rarely explored lead must not outweigh hundreds."),
    ) -> None:
        """Fit P(convert | lead, rep) on history; print out-of-time metrics; save."""
        console = Console(stderr=True, quiet=quiet)
        try:
            estimator = AffinityModel(learner=learner, calibration=calibration,
                                      random_state=seed, C=_c_option(c),
                                      rep_shrinkage=rep_shrinkage, blocks=_blocks_option(blocks),
                                      block_threshold=block_threshold)
            estimator._check_params()
            weighting = Weighting(mode=weights, clip=ipw_clip)
            table = _history(history, max_rows, seed, console)
            rep_table = load_reps(reps)
            row_weights = weighting.weights(table, source=str(history))  # type: ignore[arg-type]
            report, model = _fit(console, estimator, table, rep_table, test_fraction, seed,
                                 row_weights)
            save_model(model, out, build_metadata(model, report))
        except (InputError, ModelError, ValueError) as exc:
            # InputError (solver) is a ValueError too; any of them: one line, exit 2
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if not quiet:
            print_metrics(Console(), report)
            Console().print(row_weights.note, markup=False)
            for line in model.describe_fit():
                Console().print(line, markup=False)
            Console().print(f"model written to {out}")


def _c_option(text: str) -> float | None:
    if text.strip().lower() == "cv":
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--C must be a number or 'cv', got {text!r}") from None


def _blocks_option(text: str) -> str | tuple[str, ...]:
    if text.strip() in ("auto", "all", "none"):
        return text.strip()
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _history(path: Path, max_rows: int | None, seed: int, console: Console) -> object:
    if max_rows is None:
        return read_history(path)
    if path.suffix.lower() != ".parquet":
        raise InputError("--max-rows samples a Parquet history; convert the CSV or drop it",
                        source=str(path))
    from models.large_history import sample_parquet

    sample = sample_parquet(path, max_rows, seed=seed)
    console.print(f"fitting on a seeded uniform sample: {len(sample.rows)} of "
                  f"{sample.total_rows} rows (rate {sample.rate:.3g}, seed {seed})")
    return read_history(sample.rows)


def _fit(
    console: Console,
    estimator: AffinityModel,
    history: object,
    reps: object,
    test_fraction: float,
    seed: int,
    row_weights: HistoryWeights,
) -> tuple[ValidationReport, AffinityModel]:
    steps = 9  # three fits (model, lead-only baseline, final) of three stages each
    with Progress(TextColumn("{task.description:40s}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("validating out of time", total=steps)

        def tick(stage: str, step: int, of_steps: int) -> None:
            bar.update(task, advance=1, description=stage)

        report = validate(estimator, history, reps, test_fraction=test_fraction,  # type: ignore[arg-type]
                          random_state=seed, progress=tick, sample_weight=row_weights.weights)
        bar.update(task, description="final fit on all history")
        model = estimator.fit(history, reps, row_weights.weights,  # type: ignore[arg-type]
                              progress=tick)
    return report, model


def print_metrics(console: Console, report: ValidationReport) -> None:
    console.print(f"held out {report.n_test} of {report.n_train + report.n_test} rows, "
                  f"split {report.split}")
    table = Table(title="out-of-sample metrics")
    for column in ("model", "log loss", "Brier", "AUC", "ECE"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for name, m in (("affinity model", report.model), ("lead-only baseline", report.baseline)):
        table.add_row(name, f"{m.log_loss:.4f}", f"{m.brier:.4f}", f"{m.auc:.3f}",
                      f"{m.ece:.3f}")
    table.add_row("constant rate", f"{report.prior_log_loss:.4f}", "", "", "")
    console.print(table)
    routing = report.routing
    if routing is None:
        console.print(f"routing metrics: {report.routing_note}")
    else:
        console.print(
            f"within-lead AUC {routing.within_lead_auc:.3f} (0.5 = no within-lead order); "
            f"routed value (SNIPS) {routing.routed_value:.4f} ± {routing.routed_value_se:.4f} "
            f"vs uniform rep {routing.uniform_value:.4f}, logged {routing.logged_value:.4f} "
            f"({routing.n_agree} held-out rows agree with the log)")
    console.print(report.verdict)
