"""The ``leadroute`` console script: one Typer app, one module per command.

Each command module exposes ``register(app)``; adding a command is one line below.
Errors of the LeadrouteError family become a one-line message and exit code 2.
"""

from __future__ import annotations

import sys

import typer

from solver._errors import LeadrouteError
from solver.app.commands import accounts as _accounts
from solver.app.commands import backtest as _backtest
from solver.app.commands import data as _data
from solver.app.commands import demo as _demo
from solver.app.commands import experiment as _experiment
from solver.app.commands import fit as _fit
from solver.app.commands import match as _match
from solver.app.commands import route as _route
from solver.app.commands import sweep as _sweep

app = typer.Typer(
    name="leadroute",
    help="Route sales leads to reps by optimisation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Route sales leads to reps by optimisation."""


for _module in (_demo, _route, _fit, _data, _backtest, _sweep, _experiment):
    _module.register(app)
_match.register(app)  # lead-to-account matching; its libraries load only when it runs

try:  # the service commands need the `service` extra (SQLAlchemy, FastAPI)
    from solver.app.commands import service as _service
except ImportError:  # pragma: no cover - depends on the installed extras
    pass
else:
    _service.register(app)
    _accounts.register(app)  # `accounts load`: the store's known accounts


def main() -> None:
    try:
        app(standalone_mode=True)
    except LeadrouteError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
